"""The exercises' two versions, kept in step: the solutions in ``solutions/`` and the learner's stubs in ``notebooks/``.

An exercise is a pair of cells tagged ``exercise`` with ``metadata.exercise`` = its name: the task (Markdown)
and the code. In ``solutions/`` the code holds its answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
— nbgrader's markers. The learner's version is exactly what ``nbgrader generate_assignment`` makes of it: each
region replaced by ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the marker's indentation.

    python scripts/solutions.py check                 # notebooks/ holds exactly the stubs of solutions/ (CI runs it)
    python scripts/solutions.py source --out source/  # course notebooks with the answers in, nbgrader's "source"

To turn the course into graded assignments: put the ``source`` notebooks in an nbgrader course's
``source/<assignment>/`` folder and run ``nbgrader generate_assignment <assignment>``; the released notebooks
are the ones in ``notebooks/``. nbgrader is not a dependency of the course.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*(\n|\Z)", re.M | re.S)
STUB = "# YOUR CODE HERE\n{indent}raise NotImplementedError()\n"


def strip(source: str) -> str:
    """The learner's version of a solution cell: each marked region becomes nbgrader's code stub."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError("a solution cell without a '### BEGIN SOLUTION' region")
    out = REGION.sub(lambda m: m.group(1) + STUB.format(indent=m.group(1)), source)
    if "### BEGIN SOLUTION" in out or "### END SOLUTION" in out:
        raise ValueError(f"unbalanced solution markers in:\n{source}")
    return out


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"{path}: not a readable notebook ({err})") from err


def exercises(nb: dict, path: Path) -> dict[str, dict[str, dict]]:
    """``{name: {"markdown": cell, "code": cell}}`` for the cells tagged ``exercise``."""
    found: dict[str, dict[str, dict]] = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        if "exercise" not in meta.get("tags", []):
            continue
        name = meta.get("exercise")
        if not name:
            raise SystemExit(f"{path}: a cell tagged 'exercise' has no metadata.exercise name")
        kind = cell["cell_type"]
        if kind in found.setdefault(name, {}):
            raise SystemExit(f"{path}: exercise {name!r} has two {kind} cells")
        found[name][kind] = cell
    return found


def source_of(cell: dict) -> str:
    return "".join(cell["source"])


def pairs() -> list[tuple[Path, Path]]:
    """(course notebook, its solutions notebook) for every solutions notebook, the labs' included."""
    out = []
    for sol in sorted([*(ROOT / "solutions").glob("*.ipynb"), *(ROOT / "solutions").glob("labs/*.ipynb")]):
        course = ROOT / "notebooks" / sol.relative_to(ROOT / "solutions")
        if not course.exists():
            raise SystemExit(f"{sol}: no course notebook {course.relative_to(ROOT)} to match")
        out.append((course, sol))
    return out


def drift() -> list[str]:
    """Every way notebooks/ and solutions/ disagree; empty when they are in step."""
    problems = []
    for course, sol in pairs():
        mine, theirs = exercises(read(course), course), exercises(read(sol), sol)
        for name in sorted(set(mine) | set(theirs)):
            if name not in mine or name not in theirs:
                where = course if name not in mine else sol
                problems.append(f"{where.relative_to(ROOT)}: exercise {name!r} is missing")
                continue
            for kind in ("markdown", "code"):
                if kind not in mine[name] or kind not in theirs[name]:
                    problems.append(f"{course.name}: exercise {name!r} lacks its {kind} cell on one side")
                    continue
                want = source_of(theirs[name][kind])
                want = strip(want) if kind == "code" else want
                if source_of(mine[name][kind]) != want:
                    problems.append(f"{course.relative_to(ROOT)}: the {kind} of exercise {name!r} differs from "
                                    f"{sol.relative_to(ROOT)}" + (" with its solution stripped" if kind == "code" else ""))
    return problems


def source_notebooks(out: Path) -> list[Path]:
    """Write each course notebook with its exercise cells replaced by the solutions (nbgrader metadata added)."""
    from genimg_edu.io import atomic_write  # here, not at the top: `check` compares JSON and needs no torch

    written = []
    for course, sol in pairs():
        nb, answers = read(course), exercises(read(sol), sol)
        for i, cell in enumerate(nb["cells"]):
            name = cell.get("metadata", {}).get("exercise")
            if name and cell["cell_type"] == "code" and name in answers:
                cell = copy.deepcopy(answers[name]["code"])
                cell["outputs"], cell["execution_count"] = [], None
                cell["metadata"]["nbgrader"] = {"grade": False, "grade_id": name, "locked": False,
                                                "schema_version": 3, "solution": True, "task": False}
                nb["cells"][i] = cell
        dest = out / course.relative_to(ROOT / "notebooks")
        with atomic_write(dest, "w") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")
        written.append(dest)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="fail if notebooks/ is not exactly the stubbed solutions/")
    src = sub.add_parser("source", help="write the course notebooks with the solutions filled in")
    src.add_argument("--out", type=Path, required=True, help="folder for the source notebooks (created)")
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = drift()
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(pairs())} notebooks: " + ("in step" if not problems else f"{len(problems)} differences"))
        return 1 if problems else 0
    for path in source_notebooks(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
