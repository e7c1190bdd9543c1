"""The package's layers point one way (STYLE.md §17): no import cycles, and nothing below the user
interface imports it — not at module level, and not inside a function either.

Every `import` in every module counts, including the ones inside functions: a deferred import
still ties the modules together, it only moves the moment the tie is made. So a path from
training, measuring or the runtime to the UI through any chain of imports, deferred or not, fails.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genimg_edu"
# the user interface: every module of the widgets package (the package itself included), the dashboard, the quiz
UI = ({"genimg_edu.widgets"} | {f"genimg_edu.widgets.{p.stem}" for p in (PACKAGE / "widgets").glob("*.py")
                                if p.stem != "__init__"}
      | {"genimg_edu.dashboard", "genimg_edu.quiz"})
MAX_LINES = 300  # STYLE.md §1: no module past ~300 lines
# Modules already over MAX_LINES, with their line count when this list was written; each should be split
# (and leave this list), and none may grow. Anything else past MAX_LINES fails.
TOO_LONG: dict[str, int] = {}  # modules allowed past MAX_LINES, with their length when allowed
BELOW_THE_UI = ["genimg_edu.runtime", "genimg_edu.validate", "genimg_edu.io", "genimg_edu.data", "genimg_edu.imagefile",
                "genimg_edu.preprocess",
                "genimg_edu.augment", "genimg_edu.losses", "genimg_edu.models", "genimg_edu.diffusion",
                "genimg_edu.steps", "genimg_edu.distributed", "genimg_edu.fit", "genimg_edu.recipes",
                "genimg_edu.pretrained", "genimg_edu.metrics", "genimg_edu.evaluation", "genimg_edu.forensics",
                "genimg_edu.gallery"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph(*, deferred: bool = True) -> dict[str, set[str]]:
    """module → the package modules it imports (at module level only, unless `deferred`)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = ast.walk(tree) if deferred else tree.body
        targets = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("genimg_edu"):
                for alias in node.names:  # `from genimg_edu import losses` imports the module genimg_edu.losses
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("genimg_edu")}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_cycles():
    graph = _graph()
    # the package's __init__ re-exports runtime; importing a sub-module through it is not a cycle
    graph = {m: {t for t in ts if t != "genimg_edu"} for m, ts in graph.items()}
    cycles = sorted(m for m in graph if m in _reachable(graph, m))
    assert not cycles, f"modules on an import cycle: {cycles}"


@pytest.mark.parametrize("module", BELOW_THE_UI)
def test_nothing_below_the_user_interface_reaches_it(module):
    graph = _graph()  # deferred imports included
    names = [m for m in graph if m == module or m.startswith(module + ".")]
    assert names, f"no module {module}"
    for name in names:
        reached = _reachable(graph, name) & UI
        assert not reached, f"{name} reaches the user interface {sorted(reached)} through its imports"


def test_the_ui_covers_every_module_of_the_widgets_package():
    widgets = {_module_name(p) for p in (PACKAGE / "widgets").rglob("*.py")}
    assert len(widgets) > 1 and widgets <= UI, f"not counted as user interface: {sorted(widgets - UI)}"


def test_no_module_is_past_300_lines():
    lengths = {p.relative_to(PACKAGE.parent).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
               for p in PACKAGE.rglob("*.py")}
    too_long = {path: n for path, n in lengths.items() if n > TOO_LONG.get(path, MAX_LINES)}
    assert not too_long, f"modules past {MAX_LINES} lines (or grown past their allowance in TOO_LONG): {too_long}"
    assert not any(path.startswith("genimg_edu/widgets/") for path in TOO_LONG), "the widgets package has no allowance"


def test_a_deferred_import_of_the_ui_is_caught(tmp_path, monkeypatch):
    """The check above sees an import inside a function, as `runtime.default_reporter` once had."""
    package = tmp_path / "genimg_edu"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "dashboard.py").write_text("X = 1\n")
    (package / "fit.py").write_text("from genimg_edu import runtime\n")
    (package / "runtime.py").write_text("def reporter():\n    from genimg_edu.dashboard import X\n    return X\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", package)
    graph = _graph()
    assert "genimg_edu.dashboard" in _reachable(graph, "genimg_edu.fit")
    assert "genimg_edu.dashboard" not in _reachable(_graph(deferred=False), "genimg_edu.fit")


def test_metrics_holds_metrics_only():
    """The evaluation protocol (instruments, split, reference) lives in `evaluation`, not in `metrics`."""
    assert "genimg_edu.data" not in _graph()["genimg_edu.metrics"]
    assert "genimg_edu.metrics" in _graph()["genimg_edu.evaluation"]
