"""A notebook opened alone must run: on Colab only the .ipynb and the pip-installed package exist.

nbval (`make test`) replays every notebook inside the repository, from its folder and against the editable
install, so it cannot see the two ways a notebook breaks when it is opened alone. This file checks both
without running a notebook a second time:

1. Nothing a notebook reads comes from the repository: no string in its code names a file or folder kept
   beside it (nbval's working folder) or climbs out of it with `..`. A notebook reads what the package ships
   (`pretrained.load`, `pretrained.result`, `files("genimg_edu")`, `load_dataset`) or what it wrote itself.
2. What the package ships is there when it is installed *non-editably* (`pip install --target`, as Colab's
   install line installs it): every file the repository keeps inside genimg_edu/, and, from an empty folder
   against that copy, the checkpoints, the precomputed results and the bundled digits load.
"""
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("notebooks/zh/*.ipynb"))


def _git_files(*paths: str) -> list[PurePosixPath]:
    """Files git tracks, or would (untracked but not ignored), under `paths`; the test skips outside a clone."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *paths],
                             cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"needs a git clone of the repository ({err})")
    return [PurePosixPath(line) for line in out.splitlines() if (ROOT / line).is_file()]


def repository_paths(notebook: Path, sources: list[str], kept: set[PurePosixPath]) -> list[str]:
    """The strings in the code `sources` of `notebook` that name a path of the repository (one of `kept`,
    relative to ROOT) from the notebook's folder, or that climb out of it with `..`."""
    found = []
    for source in sources:
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%")))
        for node in ast.walk(ast.parse(code)):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if text in ("", ".") or "\n" in text or len(text) > 200:
                continue
            if ".." in PurePosixPath(text.replace("\\", "/")).parts:
                found.append(text)
                continue
            try:
                where = PurePosixPath((notebook.parent / text).resolve().relative_to(ROOT).as_posix())
            except (ValueError, OSError):
                continue
            if where in kept:
                found.append(text)
    return found


def _code(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def kept() -> set[PurePosixPath]:
    """Every file of the repository and every folder above one."""
    files = _git_files()
    return set(files) | {parent for f in files for parent in f.parents}


def test_the_repository_path_check_finds_what_it_should(kept):
    notebook = ROOT / "notebooks" / "05_training.ipynb"
    wrong = ['sweep = json.loads(Path("../genimg_edu/results/stability.json").read_text())',
             'cfg = open("sanitize.cfg").read()',
             "%matplotlib inline\nother = json.load(open('03_gan.ipynb'))"]
    right = ['sweep = pretrained.result("stability")',
             'runs = Path("runs")',
             'results = files("genimg_edu") / "results"\nsaved = np.load(results / "flow_samples.npz")']
    assert repository_paths(notebook, wrong, kept) == [
        "../genimg_edu/results/stability.json", "sanitize.cfg", "03_gan.ipynb"]
    assert repository_paths(notebook, right, kept) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def test_notebook_reads_nothing_from_the_repository(notebook, kept):
    found = repository_paths(notebook, _code(notebook), kept)
    assert not found, (f"{notebook.relative_to(ROOT)} reads {found} from the repository; opened alone (Colab) it "
                       "has only the installed package: ship the file in genimg_edu/ and read it through the package")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package pip-installed from a copy of the repository's files, as a fresh clone holds them (an
    install from ROOT itself would reuse ROOT/build/, whose stale files hide a file the build left out)."""
    clone, target = tmp_path_factory.mktemp("clone"), tmp_path_factory.mktemp("site")
    for f in _git_files():
        (clone / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, clone / f)
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(clone)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return target


def test_the_installed_package_ships_every_file_the_repository_keeps_in_it(installed):
    missing = [f.as_posix() for f in _git_files("genimg_edu") if not (installed / f).is_file()]
    assert not missing, f"pip install leaves out {missing}: add them to [tool.setuptools.package-data] in pyproject.toml"


def test_the_shipped_files_load_from_an_empty_folder(installed, tmp_path):
    script = f"""
import pathlib
import genimg_edu
assert pathlib.Path(genimg_edu.__file__).is_relative_to({str(installed)!r}), genimg_edu.__file__
import numpy as np
from genimg_edu import pretrained
from genimg_edu.data import load_dataset
for name in pretrained.NAMES:
    pretrained.load(name, device="cpu")
results = sorted(pretrained.RESULTS_DIR.iterdir())
for path in results:
    if path.suffix == ".json":
        pretrained.result(path.stem)
    else:
        np.load(path)
x, y = load_dataset("mnist", "test")
print(len(pretrained.NAMES), "checkpoints,", len(results), "results,", len(x), "test digits")
"""
    alone = tmp_path / "alone"
    alone.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed), "GENIMG_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", script], cwd=alone, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
