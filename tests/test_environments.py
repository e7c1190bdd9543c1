"""pyproject.toml, environment.yml and binder/requirements.txt must agree on the dependencies.

environment.yml is the conda development environment: it names everything pyproject.toml does, test tools
included. Binder is what learners run and nothing more: the package's dependencies and the `lab` extra
(JupyterLab and the kernel), without the `test` tools (a larger image, a slower start, for nobody's use) and
without the `browser` extra (its pod has no Chromium, and learners there use the controls instead of testing them).
"""
import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"pytorch": "torch"}
NOT_DEPENDENCIES = {"python", "pip"}
ON_BINDER = {"lab"}  # the extras Binder installs beside the dependencies


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec.strip(), maxsplit=1)[0].lower()


def pyproject_names(*, extras: set[str] | None = None) -> set[str]:
    """The dependencies' names and those of `extras` (all extras when None)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra, deps in project["optional-dependencies"].items():
        if extras is None or extra in extras:
            specs += [d for d in deps if not d.startswith("genimg-edu")]
    return {_name(s) for s in specs}


def environment_yml_names() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)", line.split("#")[0])
        if m and m.group(1) not in NOT_DEPENDENCIES and not line.strip().startswith("- -"):
            names.add(CONDA_TO_PIP.get(_name(m.group(1)), _name(m.group(1))))
    return names


def binder_names() -> set[str]:
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    return {_name(s) for s in (l.split("#")[0] for l in lines) if s.strip() and not s.strip().startswith("-")}


def test_pyproject_lists_the_design_dependencies():
    assert {"torch", "numpy", "matplotlib", "opencv-python-headless", "ipywidgets",
            "jupyterlab", "ipykernel", "nbval", "pytest", "nbformat", "nbclient"} <= pyproject_names()


def test_environment_yml_matches_pyproject():
    assert environment_yml_names() == pyproject_names()


def test_binder_holds_what_learners_run():
    missing = pyproject_names(extras=ON_BINDER) - binder_names()
    assert not missing, f"binder/requirements.txt lacks {sorted(missing)} (pyproject's dependencies or `lab` extra)"


def test_binder_leaves_out_the_test_tools():
    not_for_learners = pyproject_names() - pyproject_names(extras=ON_BINDER)
    assert not_for_learners >= {"pytest", "nbval"}, "the test tools are in an extra that Binder does not install"
    assert not binder_names() & not_for_learners, (
        f"binder/requirements.txt carries {sorted(binder_names() & not_for_learners)}, which only the tests use")
    unknown = binder_names() - pyproject_names()
    assert not unknown, f"binder/requirements.txt names {sorted(unknown)}, which pyproject.toml does not"


def test_browser_extra_is_in_dev_and_not_on_binder():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {_name(d) for d in extras["browser"]} == {"playwright"}
    assert "browser" in extras["dev"][0], "make test installs .[dev], which must bring the browser tests' driver"
    assert "playwright" not in binder_names()


def test_binder_uses_the_cpu_build_of_torch():
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "+cpu" in text and "whl/cpu" in text, "Binder must install PyTorch's CPU wheel (no CUDA in 2 GB)"


def test_environment_yml_uses_cpu_pytorch():
    assert re.search(r"pytorch.*=cpu", (ROOT / "environment.yml").read_text())


def test_binder_start_gives_one_thread_and_starts_jupyter():
    start = ROOT / "binder" / "start"
    text = start.read_text()
    assert start.stat().st_mode & 0o111, "repo2docker runs binder/start only if it is executable"
    for var in ("GENIMG_THREADS=1", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1"):
        assert re.search(rf"^export .*\b{var}\b", text, re.M), f"binder/start must export {var}"
    assert text.rstrip().endswith('exec "$@"'), "binder/start must hand over to the command it wraps"


def test_jupyterlab_asks_no_news_question_in_the_course_environment():
    """make install (and Binder's postBuild) put binder/overrides.json where JupyterLab reads its defaults, so
    neither `make lab` nor a Binder visitor is asked "get notified about Jupyter news?" at every start (the
    browser tests check that no such prompt appears)."""
    import sys

    wanted = json.loads((ROOT / "binder" / "overrides.json").read_text(encoding="utf-8"))
    assert wanted["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.is_file() and json.loads(installed.read_text(encoding="utf-8")) == wanted, \
        f"{installed} is missing or differs from binder/overrides.json: run make install"
