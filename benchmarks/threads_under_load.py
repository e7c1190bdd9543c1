"""How many torch threads should a notebook use when another program keeps one core busy?

    python benchmarks/threads_under_load.py [notebooks/02_cnn.ipynb ...] [--repeats 1]

Each notebook is executed top to bottom (nbclient, static widgets, nothing written)
under every combination of

- the machine **idle**, or **loaded**: a second process spinning on the CPU (a
  browser, a video call, a second kernel), started before and stopped after the run;
- the kernel's threads: **all cores** (GENIMG_THREADS = cores), **cores − 1**, and all
  cores with OpenMP's **passive** wait policy (``OMP_WAIT_POLICY=PASSIVE``: waiting
  threads sleep instead of spinning),

in one run, settings interleaved, so their ratios compare on the same machine at the
same time. Results go to ``benchmarks/threads_under_load.json`` (atomically) with the
machine and its load average before the run; the README's table is written from it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu.io import run_record, write_json  # noqa: E402

RESULTS = ROOT / "benchmarks" / "threads_under_load.json"
EXECUTE = """
import sys, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
t = time.perf_counter()
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
print(time.perf_counter() - t)
"""
SPIN = "while True:\n    pass\n"


def settings(cores: int) -> dict[str, dict[str, str]]:
    """name → environment for the kernel."""
    # genimg_edu sets OMP_WAIT_POLICY=PASSIVE unless the variable exists; an empty value keeps OpenMP's own
    # default (libgomp reads it as unset, after a one-line complaint on the kernel's stderr)
    default = {"OMP_WAIT_POLICY": ""}
    return {f"{cores} threads": {"GENIMG_THREADS": str(cores), **default},
            f"{max(1, cores - 1)} thread{'s' if cores > 2 else ''} (cores − 1)": {"GENIMG_THREADS": str(max(1, cores - 1)),
                                                                             **default},
            f"{cores} threads, OMP_WAIT_POLICY=PASSIVE": {"GENIMG_THREADS": str(cores), "OMP_WAIT_POLICY": "PASSIVE"}}


def run(notebook: Path, env: dict[str, str], *, loaded: bool) -> float:
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if loaded else None
    try:
        full = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        full.update(GENIMG_WIDGETS="static", **env)
        out = subprocess.run([sys.executable, "-c", EXECUTE, str(notebook), str(notebook.parent)], env=full,
                             cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(f"{notebook.name} failed under {env}:\n{out.stderr[-2000:]}")
        return float(out.stdout.strip().splitlines()[-1])
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, default=[ROOT / "notebooks" / "02_cnn.ipynb"])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    record = {**run_record("python benchmarks/threads_under_load.py " + " ".join(str(p) for p in args.notebooks)),
              "seconds": {}}
    for notebook in args.notebooks:
        table = record["seconds"].setdefault(notebook.stem, {})
        for _ in range(args.repeats):
            for loaded in (False, True):
                for name, env in settings(cores).items():
                    key = f"{'loaded' if loaded else 'idle'} · {name}"
                    seconds = run(notebook, env, loaded=loaded)
                    table.setdefault(key, []).append(round(seconds, 1))
                    print(f"{notebook.stem}  {key:<45} {seconds:6.1f} s", flush=True)
                    save(record)  # after every setting: a run stopped part-way keeps what it measured


def save(record: dict) -> None:
    write_json(RESULTS, record)


if __name__ == "__main__":
    main()
