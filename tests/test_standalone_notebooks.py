"""A notebook opened alone must run: on Colab only the .ipynb and the pip-installed package exist.

The package is installed *non-editably* (`pip install --target`, as Colab's install line installs it)
into a temporary folder, and each notebook that touches files is executed from an empty folder
against that copy: whatever it reads must come from the installed package, not from the repository.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
READS_FILES = ("open(", "read_text", "json.load", "np.load", "torch.load", "imread", "Path(")


def _touches_files(path: Path) -> bool:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return any(marker in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" for marker in READS_FILES)


NOTEBOOKS = [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if _touches_files(p)]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (target / "genimg_edu" / "results" / "stability.json").is_file(), "precomputed results ship in the package"
    return target


def test_the_notebooks_that_touch_files_are_found():
    assert "05_training.ipynb" in NOTEBOOKS  # it plots the precomputed sweep


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_alone_against_the_installed_package(name, installed, tmp_path, monkeypatch, cores):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    check = nbformat.v4.new_code_cell(
        "import genimg_edu, pathlib\n"
        f"assert pathlib.Path(genimg_edu.__file__).is_relative_to({str(installed)!r}), genimg_edu.__file__")
    nb.cells.insert(1, check)
    monkeypatch.setenv("PYTHONPATH", str(installed))
    monkeypatch.setenv("GENIMG_WIDGETS", "static")
    monkeypatch.setenv("GENIMG_THREADS", os.environ.get("GENIMG_THREADS", str(cores)))
    alone = tmp_path / "alone"
    alone.mkdir()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(alone)}}).execute()
