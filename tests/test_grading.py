"""scripts/grade.py on generated submissions: the solutions, the stubs (Chinese edition), every catalogued mistake,
and hostile answers (one raises, one loops, one prints megabytes, one deletes its folder, one ends its process)
— each costs only its own row, and the table says exactly what each answer was."""
import csv
import json
import sys
from pathlib import Path

import pytest

from genimg_edu.exercises import REGISTRY
from genimg_edu.exercises.grading import answers, columns, label, run_student

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import grade  # noqa: E402

SOLVED = {n: source for n, source, _ in answers(ROOT / "solutions")[0] if n}  # exercises and labs
MOST_MISTAKES = max(len(e.mistakes) for e in REGISTRY.values())
EXERCISES = [n for n in columns() if REGISTRY.get(n) and REGISTRY[n].title.startswith("Exercise")]
LAB_PARTS = [n for n in columns() if n in REGISTRY and n not in EXERCISES]
LAB2 = {"conv_block", "Classifier", "train_step", "accuracy", "train", "lab2_training"}
HOSTILE = {
    "conv_output_size": "def conv_output_size(n, kernel, stride=1, padding=0):\n    while True:\n        pass\n",
    "cross_entropy": "print('x' * 10_000_000)\ndef cross_entropy(logits, y):\n    return logits\n",
    "conv_parameters": "import os, shutil\nfor p in os.listdir('.'):\n    shutil.rmtree(p) if os.path.isdir(p) "
                       "else os.remove(p)\ndef conv_parameters():\n    return 16 * 3 * 5 * 5 + 16\n",
    "cross_entropy_gradient": "raise RuntimeError('boom')\n",
}


def notebook(cells: dict[str, str]) -> str:
    """A notebook holding one answer cell per exercise, tagged as the course's are."""
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": f"c{i}", "execution_count": None, "outputs": [], "source": source,
         "metadata": {"tags": ["exercise"], "exercise": name}} for i, (name, source) in enumerate(cells.items())]})


def mistake(name: str, key: str) -> str:
    return f"from genimg_edu.exercises import REGISTRY\n{name} = REGISTRY[{name!r}].mistakes[{key!r}].answer\n"


def expected_mistake(name: str, k: int) -> tuple[str, str] | None:
    """Student `mistakes-k`'s answer to `name` and its expected mark: the k-th catalogued mistake; the right
    answer once, in the first student past the catalogue (among others' mistakes); then nothing."""
    keys = list(REGISTRY[name].mistakes)
    if k < len(keys):
        return mistake(name, keys[k]), f"mistake: {keys[k]}"
    if k > len(keys):
        return None
    if name in LAB_PARTS:  # a lab's parts share a namespace: a right part must not lean on a wrong one there
        return f"from {REGISTRY[name].reference.__module__} import {name}\n", "passed"
    return SOLVED[name], "passed"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades")
    want = {}

    def student(name: str, files: dict[str, str], expected: dict[str, str]):
        (root / name).mkdir()
        for file, text in files.items():
            (root / name / file).write_text(text, encoding="utf-8")
        want[name] = expected

    student("ada", {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "solutions").glob("*.ipynb")},
            {n: "passed" if n in EXERCISES else "not done" for n in columns()})  # no lab handed in
    stubs = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "notebooks" / "zh").glob("0*.ipynb")}
    stubs.update({p.name: p.read_text(encoding="utf-8") for p in (ROOT / "notebooks" / "zh" / "labs").glob("*.ipynb")})
    student("bo", stubs, {n: "not done" for n in columns()})
    # Lab 2 as a whole notebook (its parts share a namespace; its imports are its own cells): every part right
    # but the loop, which returns after the first step — so the last check, which the grader runs with the
    # lab's own settings (not the 40 steps this student typed), names it at once instead of training
    lab = (ROOT / "solutions" / "labs" / "lab2_cnn.ipynb").read_text(encoding="utf-8")
    assert "steps=1000)" in lab and "        losses.append(train_step(model, optimizer, x[i], y[i]))\\n" in lab
    step = "        losses.append(train_step(model, optimizer, x[i], y[i]))\\n"
    lab = lab.replace("steps=1000)", "steps=40)").replace(step, step + "        return losses\\n")
    student("cy", {"my lab.ipynb": lab},
            {n: "mistake: unknown" if n == "train" else "mistake: losses" if n == "lab2_training" else
             "passed" if n in LAB_PARTS and n in LAB2 else "not done" for n in columns()})
    for k in range(MOST_MISTAKES):
        cells = {n: c for n in columns() if n in REGISTRY and (c := expected_mistake(n, k))}
        student(f"mistakes-{k}", {"all.ipynb": notebook({n: c[0] for n, c in cells.items()})},
                {n: cells[n][1] if n in cells else "not done" for n in columns()})
    hostile = {n: HOSTILE.get(n, SOLVED[n]) for n in EXERCISES}
    student("hostile", {"answers.ipynb": notebook(hostile), "broken.ipynb": "{ not json"},
            {n: {"conv_output_size": "error", "cross_entropy": "error", "conv_parameters": "passed",
                 "cross_entropy_gradient": "error"}.get(n, "passed" if n in EXERCISES else "not done")
             for n in columns()})
    names = columns()
    quits = names.index("conv_output_size")
    cells = {n: SOLVED[n] for n in names[:quits + 3]}
    cells["conv_output_size"] = "import os\nos._exit(3)\n"
    student("quits", {"answers.ipynb": notebook(cells)},
            {n: "passed" if i < quits else "error" if i < quits + 3 else "not done" for i, n in enumerate(names)})
    # 20 s an answer: a lab's heavier checks (lab 6's leaderboard: about 3 s alone) beside make test's other
    # processes on a slow machine; the hostile student's endless loop costs exactly that once
    assert grade.main([str(root), "--out", str(out), "--seconds", "20", "--jobs", "2"]) == 0
    return out, want


def test_the_table_says_exactly_what_each_answer_was(graded):
    out, want = graded
    with open(out / "grades.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["student"] for r in rows] == sorted(want)
    for row in rows:
        expected = want[row["student"]]
        got = {n: row[label(n)] for n in columns()}
        assert got == expected, {n: (got[n], expected[n]) for n in columns() if got[n] != expected[n]}
        assert int(row["passed"]) == sum(v == "passed" for v in expected.values())


def test_every_catalogued_mistake_is_named_in_the_table(graded):
    out, _ = graded
    with open(out / "grades.csv", encoding="utf-8") as f:
        named = {(n.split(" ")[-1], v.removeprefix("mistake: ")) for r in csv.DictReader(f) for n, v in r.items()
                 if v.startswith("mistake: ")}
    assert named == {(n, k) for n, e in REGISTRY.items() for k in e.mistakes} | {("lab2_training", "losses"),
                                                                              ("train", "unknown")}  # cy


def test_feedback_says_why_in_the_checks_own_words(graded):
    out, _ = graded
    hostile = (out / "feedback" / "hostile.md").read_text(encoding="utf-8")
    assert "longer than 20 s" in hostile and "RuntimeError: boom" in hostile and "more than 4 MB" in hostile
    assert "broken.ipynb: not a readable notebook" in hostile
    first = REGISTRY["conv_output_size"]
    key = next(iter(first.mistakes))
    assert first.mistakes[key].message in (out / "feedback" / "mistakes-0.md").read_text(encoding="utf-8")
    assert "not done yet" in (out / "feedback" / "bo.md").read_text(encoding="utf-8")
    assert "stopped before this answer was checked" in (out / "feedback" / "quits.md").read_text(encoding="utf-8")


def test_an_answer_that_swallows_the_alarm_is_stopped_by_the_students_own_limit():
    swallow = ("import time\ndef conv_parameters():\n    while True:\n        try:\n            time.sleep(0.2)\n"
               "        except BaseException:\n            pass\n")
    results = run_student({"cross_entropy": SOLVED["cross_entropy"], "conv_parameters": swallow,
                           "conv_output_size": SOLVED["conv_output_size"]}, seconds=1, startup=30)  # a busy machine
    assert results["cross_entropy"]["status"] == "passed"  # what ran before it still counts
    assert results["conv_parameters"]["status"] == "error" and results["conv_output_size"]["status"] == "error"
    assert "stopped before this answer was checked" in results["conv_output_size"]["message"]


@pytest.mark.parametrize("args, message", [
    (["missing-folder"], "does not exist"),
    (["."], "holds no student folders"),
])
def test_bad_arguments_are_named(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        grade.main([*args, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
