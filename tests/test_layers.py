"""The package's layers point one way (STYLE.md §17): no import cycles, and training never imports the UI.

Every `import` in every module counts, including the ones inside functions
(deferred imports still tie modules together).
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genimg_edu"
UI = {"genimg_edu.widgets", "genimg_edu.dashboard", "genimg_edu.quiz"}
TRAINING = ["genimg_edu.fit", "genimg_edu.steps", "genimg_edu.losses", "genimg_edu.augment", "genimg_edu.models"]


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


@pytest.mark.parametrize("module", TRAINING)
def test_training_never_imports_the_user_interface(module):
    graph = _graph()
    names = [m for m in graph if m == module or m.startswith(module + ".")]
    assert names, f"no module {module}"
    for name in names:
        direct = graph[name] & UI
        assert not direct, f"{name} imports {direct}"
        # what it pulls in when imported (module-level imports) must not reach the UI either
        assert not _reachable(_graph(deferred=False), name) & UI, f"{name} reaches the UI when imported"


def test_metrics_holds_metrics_only():
    """The evaluation protocol (instruments, split, reference) lives in `evaluation`, not in `metrics`."""
    assert "genimg_edu.data" not in _graph()["genimg_edu.metrics"]
    assert "genimg_edu.metrics" in _graph()["genimg_edu.evaluation"]
