"""Which cells of a notebook a browser test must run to show its controls.

`needed_cells` keeps a notebook's setup cell, the cells that show a control, and the cells those
depend on (by the names they read), so a test runs seconds of a notebook instead of a minute.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

# The functions of genimg_edu whose call shows a control; a cell calling one is a "widget cell".
# (`fit` shows the training dashboard in a live notebook; tests ask for it by name, see conftest.)
WIDGET_FUNCTIONS = {"preprocessing_playground", "gan_toy_stepper", "interpolation_slider", "class_picker",
                    "latent_explorer", "real_or_generated_quiz", "guidance_explorer", "denoising_slider",
                    "watermark_explorer"}


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell defines, names it reads) — from its syntax tree; IPython's %magics and !shell are skipped."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tree = ast.parse(code)
    defined, read, params = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.arg):
            params.add(node.arg)
    return defined, read - params - defined  # a name a cell both sets and reads is taken as set first


def calls(source: str) -> set[str]:
    """Names of the functions a cell calls directly (``f(...)``)."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    return {n.func.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def widget_cells(nb, targets: set[str] = WIDGET_FUNCTIONS, *, only: int | None = None) -> list[int]:
    """Indices of the code cells that call one of `targets` (only the `only`-th of them, if given: 0, −1)."""
    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and calls(c.source) & targets]
    return found if only is None else found[only:][:1]


def needed_cells(nb, targets: set[str] = WIDGET_FUNCTIONS, *, only: int | None = None) -> list[int]:
    """Indices of the code cells to run so that the `widget_cells` work.

    The first code cell (imports, device, seed) always; the widget cells; and, walking back from
    them, the latest earlier cell that defines each name they read, recursively.
    """
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    names = {i: _names(nb.cells[i].source) for i in code}
    keep = {code[0], *widget_cells(nb, targets, only=only)}
    todo = sorted(keep)
    while todo:
        i = todo.pop()
        wanted = set(names[i][1])
        for j in reversed([j for j in code if j < i]):
            found = names[j][0] & wanted
            if found:
                wanted -= found
                if j not in keep:
                    keep.add(j)
                    todo.append(j)
    return sorted(keep)


def prepare_notebook(src: Path, dest_dir: Path, targets: set[str] = WIDGET_FUNCTIONS, *, only: int | None = None,
                     full: bool = False) -> tuple[Path, list[int]]:
    """Copy `src` into `dest_dir` without outputs (and, unless `full`, with only `needed_cells`).

    Returns the copy's path and the indices of its widget cells.
    """
    nb = nbformat.read(src, as_version=4)
    if not full:
        keep = set(needed_cells(nb, targets, only=only))
        nb.cells = [c for i, c in enumerate(nb.cells) if i in keep]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    dest = dest_dir / src.name
    nbformat.write(nb, dest)
    return dest, widget_cells(nb, targets, only=only)
