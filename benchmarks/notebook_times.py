"""Wall time and peak memory of each notebook under nbval, recorded to JSON.

    python benchmarks/notebook_times.py [notebooks/01_preprocessing.ipynb ...] [--threads N]
    python benchmarks/notebook_times.py --cores 1     # as on Binder: 1 CPU, live widgets

Each notebook is replayed by ``pytest --nbval`` exactly as ``make test`` does,
in its own process, so the peak resident memory of that process tree (kernel
included) is measured by the operating system (``getrusage(RUSAGE_CHILDREN)``,
Linux/macOS). Results are merged into ``benchmarks/notebook_times.json``
(written atomically), keyed by notebook, with the machine they were measured on.
Budgets (issue 3): each notebook ≤ 60 s and ≤ 1.5 GB peak RSS on 2 cores.
With the default thread setting, the README's notebook table is updated too.

``--cores N`` measures what a Binder user gets (1 CPU, 1–2 GB): the process and the kernel are
pinned to the first N cores (``sched_setaffinity``, like ``taskset -c 0``) with N torch/OpenMP
threads, and each notebook is executed top to bottom by nbclient with live widgets, as in
JupyterLab — in memory, so the committed notebook is never written. Results go under
``cores=N``; the budget there is 1 GB, what every Binder federation member guarantees (issue 24).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu.io import atomic_write, write_json  # noqa: E402

RESULTS = ROOT / "benchmarks" / "notebook_times.json"
BUDGET_SECONDS, BUDGET_MB = 60, 1536
BINDER_MB = 1024  # mybinder.org's federation members guarantee between about 0.45 and 1 GB (2 GB at most): issue 24

# Run in a child process pinned to the first N cores: execute one notebook with nbclient, print JSON.
EXECUTE = """
import json, os, resource, sys, time
import nbformat
from nbclient import NotebookClient
cores, path = int(sys.argv[1]), sys.argv[2]
os.sched_setaffinity(0, set(range(cores)))  # the kernel inherits it
nb = nbformat.read(path, as_version=4)
t = time.perf_counter()
error = None
try:
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()
except Exception as e:  # a failing cell: report it, keep the measurement
    error = f"{type(e).__name__}: {str(e)[-500:]}"
seconds = time.perf_counter() - t
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel, after it has exited
text = " ".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
print(json.dumps({"seconds": seconds, "maxrss_kb": kb, "error": error, "text": text[-20000:]}))
"""


def measure(notebook: Path, *, threads: int | None) -> dict:
    """Replay one notebook under nbval in a child process; return seconds, peak MB and the outcome."""
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'rc': rc, 'seconds': time.perf_counter() - t, 'maxrss_kb': kb}))\n"
    )
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
           "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"), str(notebook)]
    env = dict(os.environ, GENIMG_WIDGETS="static")
    if threads:
        env.update(GENIMG_THREADS=str(threads), OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", code, *cmd], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"measuring {notebook} failed:\n{out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    rss_mb = r["maxrss_kb"] / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    return {"seconds": round(r["seconds"], 1), "peak_rss_mb": round(rss_mb), "passed": r["rc"] == 0}


def measure_live(notebook: Path, *, cores: int, output: bool = False) -> dict:
    """Execute one notebook with live widgets on `cores` cores, never writing it; seconds, peak MB, outcome
    (and, with `output`, the text its cells printed, under "output")."""
    if not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--cores needs os.sched_setaffinity (Linux)")
    env = dict(os.environ, GENIMG_WIDGETS="live", GENIMG_THREADS=str(cores), OMP_NUM_THREADS=str(cores),
               MKL_NUM_THREADS=str(cores), OPENBLAS_NUM_THREADS=str(cores))
    env.pop("PYTEST_CURRENT_TEST", None)
    out = subprocess.run([sys.executable, "-c", EXECUTE, str(cores), str(notebook)], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"measuring {notebook} failed:\n{out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    result = {"seconds": round(r["seconds"], 1), "peak_rss_mb": round(r["maxrss_kb"] / 1024),
              "passed": r["error"] is None}
    if r["error"]:
        result["error"] = r["error"]
    if output:
        result["output"] = r["text"]
    return result


def update_readme(timings: dict) -> None:
    """Write each measured time (minutes) into the last column of the notebook table of both READMEs (English
    and Chinese: tests/test_readme_zh.py holds them equal)."""
    for readme in (ROOT / "README.md", ROOT / "README.zh-CN.md"):
        lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines):
            cells = line.split("|")
            if len(cells) == 6 and cells[1].strip().isdigit():
                stem = next((k for k in timings if k.startswith(cells[1].strip() + "_")), None)
                if stem:
                    r = timings[stem]
                    cells[4] = f" {r['seconds'] / 60:.1f} ({r['seconds']:.0f} s, {r['peak_rss_mb']} MB) "
                    lines[i] = "|".join(cells)
        with atomic_write(readme, "w") as f:
            f.write("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--threads", type=int, help="limit torch/OpenMP threads (e.g. 1 to mimic Binder)")
    parser.add_argument("--cores", type=int, help="pin to this many cores and run with live widgets (1: Binder)")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}"
    key = f"cores={args.cores}" if args.cores else f"threads={args.threads}" if args.threads else "default"
    budget_mb = BINDER_MB if args.cores else BUDGET_MB
    for nb in notebooks:
        load = os.getloadavg()[0]
        r = measure_live(nb, cores=args.cores) if args.cores else measure(nb, threads=args.threads)
        r.update(machine=machine, date=time.strftime("%Y-%m-%d"))
        if args.cores:
            r["how"] = (f"nbclient, live widgets, pinned to {args.cores} core(s), {args.cores} thread(s); "
                        "peak RSS of the kernel process")
            r["load_average_1min_before"] = round(load, 2)  # others' work on the machine slows the wall time
        results.setdefault(key, {})[nb.stem] = r
        fast_enough = args.cores or r["seconds"] <= BUDGET_SECONDS  # Binder sets no time limit; 2 cores do
        flag = "" if fast_enough and r["peak_rss_mb"] <= budget_mb else "  OVER BUDGET"
        print(f"{nb.stem:<22} {r['seconds']:6.1f} s {r['peak_rss_mb']:6d} MB  {'passed' if r['passed'] else 'FAILED'}{flag}",
              flush=True)
        write_json(RESULTS, results)
    if key == "default":
        update_readme(results[key])


if __name__ == "__main__":
    main()
