"""The machinery behind every exercise: run the learner's answer, compare it with the reference, and if
it is wrong, find *which* mistake it is.

An exercise is a function the learner writes. Its check calls the answer on a few fixed inputs (a
*trial*) and compares the outputs with the reference's. A wrong answer is then compared with each entry
of the exercise's catalogue of realistic mistakes — each one written out as the wrong function a learner
would write — and the first whose outputs the answer reproduces names the mistake. So the catalogue is
also the test: every catalogued wrong answer must be rejected with its own message (tests/test_exercises.py).

A stub that still raises ``NotImplementedError`` gets a friendly "not done yet" and the first hint — never a
traceback — which is what the notebooks store, so nbval passes on the learner's version.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

REGISTRY: dict[str, "Exercise"] = {}


@dataclass(frozen=True)
class Feedback:
    """What a check says. `mistake` is None when passed, else "not-done", "error", "shape", "type",
    a catalogue id, or "unknown". Shown in a notebook as its message."""
    exercise: str
    passed: bool
    mistake: str | None
    message: str
    details: dict | None = field(default=None, compare=False)  # what a lab's last check made (model, losses)

    def __repr__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class Mistake:
    """A realistic wrong answer: the function a learner would write, and what to tell them."""
    answer: Callable
    message: str


@dataclass
class Exercise:
    """One exercise: its reference, the trial that runs an answer, its hints and its mistake catalogue.

    `trial(answer)` returns a list of outputs (tensors, arrays, numbers, tuples of those); `describe(i)`
    says in words what input i of the trial was, for the generic "for … you returned …" message;
    `diagnose(outputs)`, where given, names mistakes by a rule (e.g. which item a set lacks).
    """
    name: str
    title: str
    reference: Callable
    trial: Callable
    hints: list[str]
    mistakes: dict[str, Mistake] = field(default_factory=dict)
    describe: Callable[[int], str] = lambda i: f"test input {i + 1}"
    diagnose: Callable | None = None  # outputs -> (mistake id, message) or None, for answers a catalogue can't list
    start: str | None = None  # the "not done yet" advice; by default the first hint (a prediction gets no hint)
    reveal: bool = True  # False for predictions: a wrong guess is not told the answer
    returns: tuple | None = None  # (torch.Tensor or np.ndarray, dtype) when the text names what to return
    atol: float = 1e-5
    rtol: float = 1e-4

    def check(self, answer) -> Feedback:
        if not callable(answer):
            return Feedback(self.name, False, "type", f"✗ {self.title}: pass the function itself, e.g. "
                            f"check_{self.name}({self.name}) — got a {type(answer).__name__}.")
        try:
            got = self.trial(answer)
        except NotImplementedError:
            return Feedback(self.name, False, "not-done",
                            f"✎ {self.title} — not done yet. {self.start or 'Here is where to start: ' + self.hints[0]}\n"
                            f"  (replace the `raise NotImplementedError()` line; hint({self.name!r}) gives more help)")
        except Exception as e:  # the learner's code failed: say where, without a traceback
            return Feedback(self.name, False, "error", f"✗ {self.title}: your function raised "
                            f"{type(e).__name__}: {e}. Run it on a small input to see why; hint({self.name!r}) helps.")
        wrong_kind = self._wrong_kind(got)
        if wrong_kind:
            return Feedback(self.name, False, "type", f"✗ {self.title}: {wrong_kind}")
        want = self.trial(self.reference)
        if self._same(got, want):
            return Feedback(self.name, True, None, f"✓ {self.title}: correct.")
        if not self._same(got, self.trial(answer)):
            return Feedback(self.name, False, "random", f"✗ {self.title}: your function gives a different result each "
                            "time it runs on the same input — it draws its own random numbers; use the noise (or "
                            "inputs) you were given instead.")
        found = self.diagnose(got) if self.diagnose else None
        if found:
            return Feedback(self.name, False, found[0], f"✗ {self.title}: {found[1]}")
        for key, mistake in self.mistakes.items():
            if self._same(got, self.trial(mistake.answer)):
                return Feedback(self.name, False, key, f"✗ {self.title}: {mistake.message}")
        for i, (g, w) in enumerate(zip(got, want)):
            if self._same([g], [w]):
                continue  # only the first input the answer gets wrong is reported
            if _plain(g) is None:
                return Feedback(self.name, False, "none", f"✗ {self.title}: your function returned None — "
                                "did it forget to `return` its result?")
            if _shape(g) != _shape(w):
                return Feedback(self.name, False, "shape", f"✗ {self.title}: for {self.describe(i)} your answer "
                                f"has shape {_shape(g)}, expected {_shape(w)}.")
            if not self.reveal:
                return Feedback(self.name, False, "unknown", f"✗ {self.title}: not quite — you returned {_show(g)}. "
                                f"Think it through again; hint({self.name!r}) helps.")
            return Feedback(self.name, False, "unknown", f"✗ {self.title}: for {self.describe(i)} "
                            f"{_difference(g, w)}. hint({self.name!r}) may help.")
        return Feedback(self.name, False, "unknown", f"✗ {self.title}: not the expected result.")

    def _wrong_kind(self, got: list) -> str | None:
        """What is wrong with the type or dtype of an output, when the exercise names them; else None."""
        if self.returns is None:
            return None
        kind, dtype = self.returns
        tensor = kind is torch.Tensor
        name = str(dtype).replace("torch.", "") if tensor else np.dtype(dtype).name
        wanted = f"a {name} {'tensor' if tensor else 'NumPy array'}"
        for g in got:
            if not isinstance(g, kind):
                found = "a NumPy array" if isinstance(g, np.ndarray) else "a tensor" if isinstance(g, torch.Tensor) \
                    else f"a {type(g).__name__}"
                return f"the text asks for {wanted}; your function returned {found}."
            if g.dtype != dtype:
                convert = ".float()" if tensor else ".astype(np.float32)"
                return (f"the text asks for {wanted}; yours holds {str(g.dtype).replace('torch.', '')} — "
                        f"convert once ({convert}) before the arithmetic.")
        return None

    def _same(self, got: list, want: list) -> bool:
        return len(got) == len(want) and all(_close(g, w, self.atol, self.rtol) for g, w in zip(got, want))


def _plain(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    return x


def _shape(x):
    x = _plain(x)
    if isinstance(x, np.ndarray):
        return tuple(x.shape)
    return () if isinstance(x, (int, float, np.number)) and not isinstance(x, bool) else type(x).__name__


def _difference(got, want) -> str:
    """'you returned …, expected …' — for arrays, where they differ most (a mean says little)."""
    got, want = _plain(got), _plain(want)
    if isinstance(want, np.ndarray) and want.size > 8 and isinstance(got, np.ndarray):
        gap = np.abs(np.asarray(got, dtype=np.float64) - want)
        where = np.unravel_index(np.nanargmax(np.where(np.isnan(gap), np.inf, gap)), gap.shape)
        return (f"your answer differs by up to {gap.max():.4g} — at index {tuple(int(k) for k in where)} it is "
                f"{float(got[where]):.4g}, expected {float(want[where]):.4g}")
    return f"you returned {_show(got)}, expected {_show(want)}"


def _close(got, want, atol: float, rtol: float) -> bool:
    got, want = _plain(got), _plain(want)
    if isinstance(want, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(
            _close(g, w, atol, rtol) for g, w in zip(got, want))
    if isinstance(want, (set, frozenset, str, bool)) or want is None:
        return got == want
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        if not isinstance(got, (np.ndarray, int, float)):
            return False
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        return got.shape == want.shape and bool(np.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True))
    if isinstance(want, (int, float)) and isinstance(got, (int, float, np.number)) and not isinstance(got, bool):
        return math.isclose(float(got), float(want), abs_tol=atol, rel_tol=rtol) or (
            math.isnan(float(got)) and math.isnan(float(want)))
    return got == want


def _show(x) -> str:
    x = _plain(x)
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, threshold=8, edgeitems=2) if x.size <= 8 else \
            f"an array of shape {x.shape} (mean {x.mean():.4g})"
    return repr(x)


def register(exercise: Exercise) -> Callable:
    """Add the exercise to the registry and return its `check_<name>` function."""
    if exercise.name in REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} is defined twice")
    REGISTRY[exercise.name] = exercise

    def check(answer) -> Feedback:
        return exercise.check(answer)
    check.__name__ = check.__qualname__ = f"check_{exercise.name}"
    check.__doc__ = f"Check your answer to '{exercise.title}'; the feedback names the mistake if there is one."
    return check


@dataclass
class Project:
    """A lab's last check: it trains the learner's own parts end to end and judges the result.

    `run(**parts)` gets the learner's functions and classes named in `parts` and returns a Feedback; the
    check returned by `register_project` turns a part that is still a stub into "not done yet". `seconds`:
    how long a grader lets it run (it trains)."""
    name: str
    title: str
    parts: tuple[str, ...]
    run: Callable[..., Feedback]
    seconds: float = 300

    def check(self, *parts, **options) -> Feedback:
        missing = [n for n, p in zip(self.parts, parts) if p is None]
        if len(parts) != len(self.parts) or missing:
            return Feedback(self.name, False, "missing", f"✗ {self.title}: pass your {', '.join(self.parts)}, in that "
                            "order" + (f" ({', '.join(missing)} is not defined yet)" if missing else ""))
        try:
            return self.run(**dict(zip(self.parts, parts)), **options)
        except NotImplementedError:
            return Feedback(self.name, False, "not-done", f"✎ {self.title} — not done yet: finish the parts above "
                            "first (each check above says ✓ when its part is done).")
        except Exception as e:  # the learner's code failed while training: say so, without a traceback
            return Feedback(self.name, False, "error", f"✗ {self.title}: your code raised {type(e).__name__}: {e}. "
                            "Each part passed its own check? Run them again after any change.")


PROJECTS: dict[str, Project] = {}


def register_project(project: Project) -> Callable:
    """Add a lab's last check to `PROJECTS` and return its `check_<name>` function."""
    if project.name in PROJECTS or project.name in REGISTRY:
        raise ValueError(f"check {project.name!r} is defined twice")
    PROJECTS[project.name] = project

    def check(*parts, **options) -> Feedback:
        return project.check(*parts, **options)
    check.__name__ = check.__qualname__ = f"check_{project.name}"
    check.__doc__ = f"Train your parts end to end and judge the result: '{project.title}'."
    return check


@dataclass(frozen=True)
class Hint:
    text: str

    def __repr__(self) -> str:
        return self.text


_shown: dict[str, int] = {}


def hint(name: str, level: int | None = None) -> Hint:
    """The next hint for exercise `name` (each call goes one step further), or hint number `level` (1 = first)."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; expected one of {sorted(REGISTRY)}")
    hints = REGISTRY[name].hints
    if level is None:
        level = min(_shown.get(name, 0) + 1, len(hints))
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, np.integer)):
        raise TypeError(f"level must be a whole number from 1 to {len(hints)} (or None), got {level!r}")
    level = int(level)
    if not 1 <= level <= len(hints):
        raise ValueError(f"level must be between 1 and {len(hints)} for {name!r}, got {level}")
    _shown[name] = level
    more = " (that was the last hint — the solution is in solutions/)" if level == len(hints) else ""
    return Hint(f"Hint {level}/{len(hints)} for {name}: {hints[level - 1]}{more}")


def pair(got, what: str):
    """An answer's two results, or the TypeError that says the text asked for a pair `what`, e.g. "(dW, db)"."""
    if not isinstance(got, tuple) or len(got) != 2:
        raise TypeError(f"return the pair {what}, got {type(got).__name__}")
    return got


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def loss_fell(losses: list[float], *, factor: float, head: int) -> tuple[bool, float, float]:
    """A lab's last check: did training learn? (the mean of the last `head` losses below `factor` × the mean of the
    first `head`, the mean of the first, the mean of the last); `head` at least 1 and at most the run's length."""
    head = max(1, min(head, len(losses)))
    first, last = sum(losses[:head]) / head, sum(losses[-head:]) / head
    return last < factor * first, first, last
