"""Each lab's time and memory, as a learner runs it: the solution executed top to bottom, live training included.

    python benchmarks/lab_times.py                 # every lab in solutions/labs/, on 2 cores and on 1 (Binder)
    python benchmarks/lab_times.py --cores 2       # one setting

The solution notebook (every part written, the last check's live training run) is executed by nbclient in
a child process pinned to N cores with N threads, as `notebook_times.py --cores` does, and never written.
Merged into benchmarks/lab_times.json (atomically, headed by `io.run_record`): the whole lab's seconds, its
peak memory (the kernel's resident set), and the live training's seconds as the last check reports them.
Budgets (issue 23): the live training ≤ 3 minutes and the whole lab ≤ 1 GB, on 2 cores of the slower machines.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from genimg_edu.io import run_record, write_json  # noqa: E402
from notebook_times import measure_live  # noqa: E402

RESULTS = ROOT / "benchmarks" / "lab_times.json"
BUDGET_TRAINING_SECONDS, BUDGET_MB = 180, 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labs", nargs="*", type=Path, help="solution notebooks (default: solutions/labs/*)")
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 1], help="core counts to measure on")
    args = parser.parse_args()
    labs = args.labs or sorted((ROOT / "solutions" / "labs").glob("*.ipynb"))
    earlier = json.loads(RESULTS.read_text(encoding="utf-8"))["labs"] if RESULTS.exists() else {}
    result = {**run_record("python benchmarks/lab_times.py"), "budgets": {
        "live_training_seconds": BUDGET_TRAINING_SECONDS, "peak_rss_mb": BUDGET_MB}, "labs": earlier}
    for lab in labs:
        for cores in args.cores:
            r = measure_live(lab, cores=cores, output=True)  # the whole lab, pinned to `cores`, its peak memory
            found = re.findall(r"after [\d,]+ (?:steps|rounds) \((\d+) s\)", r.pop("output"))  # the last checks' reports
            r["live_training_seconds"] = sum(map(float, found)) if found else None  # lab 7 trains twice
            r["within_budget"] = bool(r["passed"] and r["peak_rss_mb"] <= BUDGET_MB  # lab 1 trains nothing
                                      and (r["live_training_seconds"] or 0) <= BUDGET_TRAINING_SECONDS)
            r["date"] = result["date"]  # a lab measured alone keeps the others' earlier rows
            result["labs"].setdefault(lab.stem, {})[f"cores={cores}"] = r
            print(f"{lab.stem:<12} {cores} core(s): {r['seconds']:6.1f} s in all, live training "
                  f"{r['live_training_seconds']} s, {r['peak_rss_mb']:5d} MB, "
                  f"{'within budget' if r['within_budget'] else 'OVER BUDGET or FAILED'}", flush=True)
    write_json(RESULTS, result)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
