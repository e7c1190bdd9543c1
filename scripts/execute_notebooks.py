"""Execute notebooks in place, top to bottom in one fresh kernel, the way nbval replays them.

    python scripts/execute_notebooks.py notebooks/01_preprocessing.ipynb [...]

Widgets render their static preview (``GENIMG_WIDGETS=static``), as under
nbval, so the stored outputs are the ones the tests compare against. Each
notebook is written atomically; the run time is printed.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genimg_edu.io import atomic_write  # noqa: E402


def execute(path: Path, *, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["GENIMG_WIDGETS"] = "static"
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:  # keep diffs small: no per-cell timestamps
        cell.metadata.pop("execution", None)
    with atomic_write(path, "w") as f:
        nbformat.write(nb, f)
    return seconds


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        print(f"{arg}: executed in {execute(Path(arg)):.1f} s", flush=True)
