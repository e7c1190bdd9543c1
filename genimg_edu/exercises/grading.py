"""Grade a class: every check on every submitted notebook, one student at a time in a sandboxed process.

    grades = grade_class("submissions/", "grades/")   # what scripts/grade.py runs

A submission is a folder per student holding their notebooks (any names, either edition: an answer is found
by its cell's ``metadata.exercise``, which both editions keep). Each student's answers run in a Python process
of their own (`sandbox`), in a temporary copy of nothing but the answers, with a time limit per answer, one for
the whole student, and a cap on what may be printed or written — so an answer that raises, loops forever,
prints megabytes, deletes files in its folder or kills its process costs only its own student's row.

It writes ``grades.csv`` (a row per student, a column per exercise: ``passed``, ``mistake: <id>``, ``not done``
or ``error``, and a count passed) and ``feedback/<student>.md`` (each exercise's message, as the notebook's
check would have said it). A student's answers are code from outside: the sandbox keeps a mistake from
spoiling others' rows, it is not a security boundary against a deliberate attack — run it as a user that
owns nothing else, or in a container, as you would any untrusted code.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..io import atomic_write
from .core import PROJECTS, REGISTRY

STATUSES = ("passed", "mistake", "not done", "error")
OUTPUT_LIMIT = 4 * 2**20  # bytes a student's answers may print or write to a file


def columns() -> list[str]:
    """Every exercise, then every lab part, in course order (``Exercise 2.1`` before ``2.2`` before ``10.1``)."""
    return sorted([*REGISTRY, *PROJECTS], key=lambda name: _number(name) or (2, 10**6, 0))


def _title(name: str) -> str:
    return (REGISTRY.get(name) or PROJECTS[name]).title


def _number(name: str) -> tuple[int, int, int] | None:
    found = re.match(r"(Exercise|Lab) (\d+)\.(\d+)", _title(name))
    return (found[1] == "Lab", int(found[2]), int(found[3])) if found else None


def label(name: str) -> str:
    """A column of grades.csv: ``2.1 conv_output_size`` for an exercise, ``lab 2.1 conv_block`` for a lab part."""
    number = _number(name)
    return f"{'lab ' if number[0] else ''}{number[1]}.{number[2]} {name}" if number else name


def _is_lab(name: str | None) -> bool:
    number = _number(name) if name in REGISTRY or name in PROJECTS else None
    return bool(number and number[0])


def answers(folder: Path) -> tuple[list[tuple[str | None, str, bool]], list[str]]:
    """The cells to run from every notebook in `folder`, in order, and notes on what was odd there.

    A cell is ``(exercise or None, source, shared)``: an exercise's answer cell runs on its own; a lab's
    notebook runs whole, every code cell in order in one namespace (``shared``), its ungraded cells (the
    imports, the data) with ``None`` for a name. An exercise answered in two notebooks counts from the
    later file, by name; an unreadable notebook is noted."""
    found, graded, notes = [], set(), []
    for path in sorted(folder.rglob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            cells = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
            notes.append(f"{path.name}: not a readable notebook ({type(e).__name__}); its answers were not graded")
            continue
        names = [c.get("metadata", {}).get("exercise") if isinstance(c.get("metadata"), dict) else None
                 for c in cells]
        names = [n if n in REGISTRY or n in PROJECTS else None for n in names]
        lab = any(_is_lab(n) for n in names)
        for name, cell in zip(names, cells):
            if name is None and not lab:
                continue
            if name in graded:
                notes.append(f"{name} is answered in more than one notebook; the one in {path.name} counts")
            graded.add(name)
            source = cell.get("source", "")
            found.append((name, "".join(source) if isinstance(source, list) else str(source), lab))
    return found, notes


def run_student(cells, *, seconds: float = 30, startup: float = 60) -> dict[str, dict]:
    """Run `cells` (as `answers` gives them, or ``{exercise: source}``) in a sandboxed process; {exercise: result}.

    The process may take `startup` seconds to start (Python, torch) and `seconds` per cell (a lab's last check,
    which trains, its own longer limit); an answer that ends the process, or keeps it past that budget, leaves
    itself and the rest of its cells as errors."""
    if isinstance(cells, dict):
        cells = [(name, source, _is_lab(name)) for name, source in cells.items()]
    names = [name for name, _, _ in cells if name is not None]
    if not names:
        return {}
    budget = startup + sum(max(seconds, PROJECTS[n].seconds) if n in PROJECTS else seconds for n, _, _ in cells)
    results, reader, writer = {}, *os.pipe()
    with tempfile.TemporaryDirectory(prefix="genimg-grade-") as home:
        env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "GENIMG_THREADS": "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "GENIMG_GRADE_FD": str(writer), "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1"}
        child = subprocess.Popen([sys.executable, "-m", "genimg_edu.exercises.sandbox"], cwd=home, env=env,
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 pass_fds=(writer,), start_new_session=True)  # killed as a group
        os.close(writer)
        try:
            child.stdin.write(json.dumps({"cells": list(cells), "seconds": seconds,
                                          "cpu_seconds": int(budget), "output_bytes": OUTPUT_LIMIT}).encode())
            child.stdin.close()
        except BrokenPipeError:
            pass
        stream, deadline = os.fdopen(reader, "rb"), time.monotonic() + budget
        with stream:
            while time.monotonic() < deadline:
                line = _readline(stream, deadline)
                if line is None:
                    break
                try:
                    result = json.loads(line)
                    if result["name"] in names and result["status"] in STATUSES:
                        results[result["name"]] = result
                except (ValueError, KeyError, TypeError):
                    continue  # not one of the sandbox's lines: an answer wrote into the channel
        _stop(child)
    stopped = "the run stopped before this answer was checked (an earlier answer ended the process or used up " \
              f"the {budget:g} s limit)"
    return {name: results.get(name, {"name": name, "status": "error", "mistake": "stopped", "message": stopped})
            for name in names}


def _readline(stream, deadline: float) -> bytes | None:
    """The next line from the sandbox's channel, or None at its end or at the deadline."""
    import select

    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            return None
        chunk = stream.readline(65536)
        if not chunk:
            return None
        line += chunk
        if len(line) > 65536:
            return None
    return line


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # the answers may have started processes of their own
        except ProcessLookupError:
            pass
    child.wait()


def cell_text(result: dict | None) -> str:
    """A result as the CSV shows it."""
    if result is None:
        return "not done"
    return f"mistake: {result['mistake']}" if result["status"] == "mistake" else result["status"]


def feedback_markdown(student: str, results: dict[str, dict], notes: list[str]) -> str:
    passed = sum(r["status"] == "passed" for r in results.values())
    lines = [f"# Feedback for {student}", "", f"{passed} of {len(columns())} exercises passed.", ""]
    lines += [f"- note: {n}" for n in notes] + ([""] if notes else [])
    for name in columns():
        r, title = results.get(name), _title(name)
        if r is None:
            lines.append(f"- ✎ **{title}**: not handed in.")
        elif r["status"] == "passed":
            lines.append(f"- ✓ **{title}**")
        else:  # the check's own words, without the title it repeats
            message = re.sub(rf"^[✗✎] {re.escape(title)}:?\s*(— )?", "", r["message"].strip())
            lines.append(f"- {'✎' if r['status'] == 'not done' else '✗'} **{title}** — {cell_text(r)}: {message}")
    return "\n".join(lines) + "\n"


def grade_class(submissions: str | os.PathLike, out: str | os.PathLike, *, seconds: float = 30,
                jobs: int = 1) -> dict[str, dict[str, dict]]:
    """Grade every student folder in `submissions`; write grades.csv and feedback/ into `out`."""
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions folder {submissions} does not exist; expected a folder with one "
                                "folder per student, each holding that student's notebooks")
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise ValueError(f"{submissions} holds no student folders; expected one folder per student "
                         "(e.g. submissions/ada/02_cnn.ipynb)")
    if not (isinstance(jobs, int) and jobs >= 1) or not seconds > 0:
        raise ValueError(f"jobs must be a whole number ≥ 1 and seconds > 0, got jobs={jobs!r}, seconds={seconds!r}")
    found = {s.name: answers(s) for s in students}
    with ThreadPoolExecutor(jobs) as pool:
        runs = dict(zip(found, pool.map(lambda s: run_student(found[s][0], seconds=seconds), found)))
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["student", *map(label, columns()), "passed"])
    for student, results in runs.items():
        writer.writerow([student, *(cell_text(results.get(n)) for n in columns()),
                         sum(r["status"] == "passed" for r in results.values())])
        with atomic_write(out / "feedback" / f"{student}.md", "w") as f:
            f.write(feedback_markdown(student, results, found[student][1]))
    with atomic_write(out / "grades.csv", "w") as f:
        f.write(table.getvalue())
    return runs
