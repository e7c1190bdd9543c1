"""The exercises: every solution passes its check, every catalogued mistake is named, the learner's notebooks
hold exactly the stubbed solutions, and every notebook has its objectives, exercises, open task and recap."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genimg_edu import exercises
from genimg_edu.exercises.core import REGISTRY, Exercise, Mistake

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "notebooks").glob("0*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _solutions_script():
    spec = importlib.util.spec_from_file_location("solutions_script", ROOT / "scripts" / "solutions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _exercise_code_cells(path):
    return [c for c in _cells(path) if c["cell_type"] == "code" and "exercise" in c["metadata"].get("tags", [])]


def _run_cell(source: str):
    """Run an exercise cell as the notebook does and return what its last line (the check) displays."""
    *body, last = source.rstrip("\n").splitlines()
    namespace = {}
    exec("\n".join(body), namespace)
    return eval(last, namespace)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_solution_passes_its_check(path):
    cells = _exercise_code_cells(path)
    assert len(cells) >= 3, f"{path.name}: expected at least 3 exercises"
    for cell in cells:
        feedback = _run_cell("".join(cell["source"]))
        assert isinstance(feedback, exercises.Feedback) and feedback.passed, f"{cell['metadata']['exercise']}: {feedback}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_catalogued_mistake_is_named(name):
    exercise = REGISTRY[name]
    assert len(exercise.mistakes) >= 2, f"{name}: the catalogue needs at least two realistic wrong answers"
    messages = set()
    for key, mistake in exercise.mistakes.items():
        feedback = exercise.check(mistake.answer)
        assert not feedback.passed and feedback.mistake == key, f"{name}/{key} was diagnosed as {feedback.mistake}"
        assert mistake.message in feedback.message
        messages.add(mistake.message)
    assert len(messages) == len(exercise.mistakes), f"{name}: two mistakes share a message"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_stub_gets_where_to_start_not_a_traceback(name):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    feedback = REGISTRY[name].check(stub)
    start = REGISTRY[name].start or REGISTRY[name].hints[0]  # a prediction is not given its first hint unasked
    assert feedback.mistake == "not-done" and start in feedback.message
    assert repr(feedback) == feedback.message and not feedback


# Exercises whose first hint states the formula itself: a stub is told where to start, never the hint.
FORMULA_IN_FIRST_HINT = ["gaussian_kl", "reparameterise", "cross_entropy_gradient", "q_sample", "resize_keep_aspect"]


@pytest.mark.parametrize("name", FORMULA_IN_FIRST_HINT)
def test_a_stub_is_not_shown_the_formula(name):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    message = REGISTRY[name].check(stub).message
    assert REGISTRY[name].start and not any(h in message for h in REGISTRY[name].hints)


def test_the_type_and_dtype_named_in_the_text_are_checked():
    import numpy as np

    float64 = exercises.check_to_signed(lambda img: img / 127.5 - 1)  # right values, float64
    assert float64.mistake == "type" and "float32 NumPy array" in float64.message and "float64" in float64.message
    as_array = exercises.check_bgr_to_tensor(lambda img: np.ascontiguousarray(img[..., ::-1]).transpose(2, 0, 1) / 255)
    assert as_array.mistake == "type" and "returned a NumPy array" in as_array.message
    double = exercises.check_bgr_to_tensor(
        lambda img: torch.from_numpy(np.ascontiguousarray(img[..., ::-1])).double().div(255).permute(2, 0, 1))
    assert double.mistake == "type" and "float32 tensor" in double.message


def test_sefa_directions_must_come_largest_first():
    def ascending(weight, k):  # the usual slip: the top k eigenvectors, smallest of them first
        return torch.linalg.eigh(weight.double().T @ weight.double())[1][:, -k:].T
    def flipped_signs(weight, k):  # a sign is free: a direction and its opposite are the same slider
        return -torch.linalg.eigh(weight.double().T @ weight.double())[1][:, -k:].flip(1).T
    assert exercises.check_sefa_directions(ascending).mistake == "ascending"
    assert exercises.check_sefa_directions(flipped_signs).passed


def _answer_lines(source: str) -> int:
    """Lines of code the learner writes: between the solution markers, not blank, not a comment."""
    region = source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
    return sum(1 for line in region.splitlines() if line.strip() and not line.strip().startswith("#"))


def test_at_least_a_third_of_the_exercises_ask_for_an_algorithm_of_five_lines():
    """Issue 23: the exercises raise the level — a third or more ask for a small algorithm, not a line."""
    lines = {c["metadata"]["exercise"]: _answer_lines("".join(c["source"]))
             for path in sorted((ROOT / "solutions").glob("0*.ipynb")) for c in _exercise_code_cells(path)}
    assert set(lines) == {n for n, e in REGISTRY.items() if e.title.startswith("Exercise")}
    algorithms = sorted(n for n, k in lines.items() if k >= 5)
    assert 3 * len(algorithms) >= len(lines), f"{len(algorithms)} of {len(lines)} exercises: {algorithms}"


def test_the_weight_average_written_out_is_the_packages():
    """Exercise 5.3's reference moves every floating-point tensor as `Step.average`'s AveragedModel does."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from genimg_edu.exercises.training import _ema_net, _ema_reference
    model, new = _ema_net(0), _ema_net(1)
    package = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    package.update_parameters(model)  # the first update copies; the second averages
    package.update_parameters(new)
    ours = _ema_net(0)
    _ema_reference(ours, new, 0.9)
    for (name, a), b in zip(ours.state_dict().items(), package.module.state_dict().values()):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, msg=name)


def test_the_course_notebooks_hold_exactly_the_stubbed_solutions():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "solutions.py"), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_strip_gives_nbgraders_stub_at_the_markers_indentation():
    strip = _solutions_script().strip
    source = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\ncheck(f)\n"
    assert strip(source) == "def f(x):\n    '''doc'''\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ncheck(f)\n"
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        strip("def f(x):\n    return x\n")
    with pytest.raises(ValueError, match="unbalanced"):
        strip("### BEGIN SOLUTION\nx = 1\n")


def test_drift_between_notebook_and_solution_is_reported(tmp_path, monkeypatch):
    script = _solutions_script()
    for folder in ("notebooks", "solutions"):
        (tmp_path / folder).mkdir()
    sol = SOLUTIONS[0]
    (tmp_path / "solutions" / sol.name).write_text(sol.read_text(encoding="utf-8"), encoding="utf-8")
    course = json.loads((ROOT / "notebooks" / sol.name).read_text(encoding="utf-8"))
    cell = next(c for c in course["cells"] if "exercise" in c["metadata"].get("tags", []) and c["cell_type"] == "code")
    cell["source"] = ["# edited by hand\n"] + cell["source"]
    (tmp_path / "notebooks" / sol.name).write_text(json.dumps(course), encoding="utf-8")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    problems = script.drift()
    assert len(problems) == 1 and cell["metadata"]["exercise"] in problems[0]


def test_source_notebooks_carry_the_solutions_with_nbgrader_metadata(tmp_path):
    script = _solutions_script()
    written = script.source_notebooks(tmp_path)
    assert len(written) == len(script.pairs())  # the course notebooks and the labs
    cells = [c for c in _cells(written[0]) if c["metadata"].get("exercise") and c["cell_type"] == "code"]
    assert cells and all("### BEGIN SOLUTION" in "".join(c["source"]) for c in cells)
    assert all(c["metadata"]["nbgrader"]["solution"] for c in cells)
    assert [script.strip("".join(c["source"])) for c in cells] == \
        ["".join(c["source"]) for c in _exercise_code_cells(ROOT / "notebooks" / written[0].name)]


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_each_notebook_has_objectives_exercises_an_open_task_and_a_recap(path):
    cells = _cells(path)
    text = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    assert any("## What you will learn" in t or "**You will learn to**" in t for t in text[:2]), "objectives"
    assert any(t.startswith("## What to take away") for t in text), "recap"
    if path.stem == "00_welcome":
        return
    code = _exercise_code_cells(path)
    assert len(code) >= 3, "at least three exercises"
    assert any("open-task" in c["metadata"].get("tags", []) for c in cells), "an open task"
    for cell in code:
        name = cell["metadata"]["exercise"]
        assert f"check_{name}({name})" in "".join(cell["source"]), f"{name}: the cell must end in its check"
        shown = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])
        assert shown.startswith("✎") and "not done yet" in shown, f"{name}: the stored output is the stub's message"


def test_every_check_is_used_by_a_notebook():
    labs = sorted((ROOT / "notebooks" / "labs").glob("*.ipynb"))
    used = {c["metadata"]["exercise"] for path in [*COURSE, *labs] for c in _cells(path)
            if c["cell_type"] == "code" and c["metadata"].get("exercise")}
    assert used == set(REGISTRY) | set(exercises.PROJECTS)


def test_feedback_for_a_crash_a_non_function_an_unknown_answer_and_fresh_noise():
    crash = exercises.check_cross_entropy(lambda logits, y: logits.undefined_attribute)
    assert crash.mistake == "error" and "AttributeError" in crash.message
    assert exercises.check_cross_entropy(3.0).mistake == "type"
    odd = exercises.check_cross_entropy(lambda logits, y: torch.tensor(42.0))
    assert odd.mistake == "unknown" and "expected" in odd.message
    shape = exercises.check_q_sample(lambda x0, a_bar, eps: x0.flatten())
    assert shape.mistake == "shape"
    fresh = exercises.check_reparameterise(lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * torch.randn_like(mu))
    assert fresh.mistake == "random" and "noise" in fresh.message
    nothing = exercises.check_is_bad_loss(lambda loss: None)
    assert not nothing.passed
    one_wrong = exercises.check_conv_output_size(lambda n, k, stride=1, padding=0: 28 if n == 28 and k == 3 else 0)
    assert "n=28, kernel=5" in one_wrong.message, "the first input answered wrongly is the one reported"
    tensor = exercises.check_cross_entropy_gradient(lambda x, W, b, y: (W / 2, b / 2))
    assert "differs by up to" in tensor.message and "at index" in tensor.message


def test_hints_go_one_step_further_each_time_and_stop_at_the_last():
    name = "gaussian_kl"
    n = len(REGISTRY[name].hints)
    seen = [repr(exercises.hint(name, level=1))] + [repr(exercises.hint(name)) for _ in range(n)]
    assert [s.split(" for ")[0] for s in seen] == [f"Hint {k}/{n}" for k in [1, *range(2, n + 1), n]]
    assert "solutions/" in seen[-1]
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.hint("no_such_exercise")
    with pytest.raises(ValueError, match="level"):
        exercises.hint(name, level=n + 1)


def test_an_exercise_name_is_registered_once():
    with pytest.raises(ValueError, match="defined twice"):
        exercises.core.register(Exercise(name="q_sample", title="again", reference=lambda: 1,
                                         trial=lambda a: [a()], hints=["h"], mistakes={"m": Mistake(lambda: 2, "")}))


def test_a_wrong_prediction_is_not_told_the_answer():
    for name, guess in [("conv_parameters", 1000), ("value_at_optimum", -1.0), ("heun_evaluations", 30)]:
        feedback = REGISTRY[name].check(lambda: guess)
        answer = REGISTRY[name].reference()
        assert not feedback.passed and f"{answer:.4g}" not in feedback.message and "hint(" in feedback.message


def test_the_width_rubric_quotes_the_models_own_parameter_counts():
    """solutions/02's rubric for the width open task: the counts it quotes are MNISTClassifier's."""
    from genimg_edu.models import MNISTClassifier

    text = (ROOT / "solutions" / "02_cnn.ipynb").read_text(encoding="utf-8")
    counts = [sum(p.numel() for p in MNISTClassifier(width=w).parameters()) for w in (8, 16, 32)]
    assert "{:,}, {:,} and {:,} for widths 8, 16 and 32".format(*counts) in text
    assert counts[2] / counts[1] < 2.5, "the rubric says parameters about double per doubling of width"


def test_the_teachers_table_of_mistakes_is_the_checks_own():
    """docs/teaching.md lists, per exercise, the mistakes its check names: exactly the catalogue's keys."""
    rows = {}
    for line in (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]  # "\|" is a pipe in a cell
        if len(cells) == 5 and cells[3].startswith("`check_"):
            rows[cells[3].strip("`").removeprefix("check_")] = cells[4].split(", ")
    assert rows == {name.lower(): list(e.mistakes) for name, e in REGISTRY.items()}  # check_classifier: Classifier


def test_a_worked_answer_waits_collapsed_below_its_exercise():
    """The cells that show an exercise's answer (`answer_to` in their metadata) come after the exercise's check
    and are collapsed (`jupyter.source_hidden`: JupyterLab shows a ⋯ bar), and the task says where the answer
    is — in both editions: no answer stands open on screen before it is due."""
    import nbformat

    hidden = set()
    for path in sorted([*(ROOT / "notebooks").glob("0*.ipynb"), *(ROOT / "notebooks" / "zh").glob("0*.ipynb")]):
        cells = nbformat.read(path, as_version=4).cells
        checks = {c.metadata["exercise"]: i for i, c in enumerate(cells)
                  if c.cell_type == "code" and "exercise" in c.metadata.get("tags", [])}
        tasks = {c.metadata["exercise"]: c.source for c in cells
                 if c.cell_type == "markdown" and "exercise" in c.metadata.get("tags", [])}
        for i, cell in enumerate(cells):
            for name in cell.metadata.get("answer_to", []):
                assert checks.get(name, len(cells)) < i, f"{path.name}: the answer to {name} stands before its check"
                assert cell.metadata.get("jupyter", {}).get("source_hidden"), f"{path.name}: the answer to {name} is open"
                assert any("⋯" in tasks[n] for n in cell.metadata["answer_to"]), \
                    f"{path.name}: no task of {cell.metadata['answer_to']} says where the answer is"
                hidden.add((path.parent.name, name))
    answered = {"conv_output_size", "cross_entropy", "cross_entropy_gradient", "discriminator_step", "negative_elbo"}
    assert hidden == {(edition, n) for edition in ("notebooks", "zh") for n in answered}, hidden


@pytest.mark.parametrize("call", ["F.cross_entropy(logits, y)", "torch.nn.CrossEntropyLoss()(logits, y)",
                                  "-logits.log_softmax(1)[torch.arange(len(y)), y].mean()",
                                  "-torch.special.log_softmax(logits, 1)[torch.arange(len(y)), y].mean()",
                                  "-(logits - logits.logsumexp(1, keepdim=True))[torch.arange(len(y)), y].mean()",
                                  "-(logits - torch.special.logsumexp(logits, 1, keepdim=True))[torch.arange(len(y)), y].mean()",
                                  "-logits.softmax(1).log()[torch.arange(len(y)), y].mean()"])
def test_the_stable_cross_entropy_must_be_written_not_called(call):
    """Exercise 2.3 switches PyTorch's softmax family off while the answer runs (and on again afterwards)."""
    import torch
    import torch.nn.functional as F

    from genimg_edu.exercises import check_cross_entropy

    answer = eval(f"lambda logits, y: {call}", {"torch": torch, "F": F})
    feedback = check_cross_entropy(answer)
    assert feedback.mistake == "error" and "does the exercise for you" in feedback.message, feedback
    logits, y = torch.randn(3, 4), torch.tensor([0, 1, 2])
    torch.testing.assert_close(answer(logits, y), F.cross_entropy(logits, y))  # restored
