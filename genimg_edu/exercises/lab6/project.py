"""Lab 6, parts 5–6: the leaderboard itself, checked as a unit on three tiny generators, then run on the shipped
generators and three impostors — noise, a collapsed generator and a memoriser — that it must catch."""
from __future__ import annotations

import copy
import functools
import math

import torch

from ...data import load_dataset
from ..core import Exercise, Feedback, Mistake, Project, register, register_project, seeded
from . import reference

TITLE = "Lab 6.6 · your leaderboard, on the shipped generators and three impostors"
KEYS = ("fd", "kid", "precision", "recall", "coverage", "copies")


def impostors(train: torch.Tensor) -> dict:
    """Three generators a good table must expose, each `draw(n)` → (n, 1, 28, 28) in [0, 1]."""
    def noise(n):
        return torch.rand(n, 1, 28, 28, generator=seeded(62))

    def one_digit(n):  # the same training digit, barely varied: a collapsed generator
        return (train[:1] + 0.05 * torch.randn(n, 1, 28, 28, generator=seeded(63))).clamp(0, 1)

    def memoriser(n):  # training digits themselves, faintly noised: a generator that copies
        picked = train[torch.randperm(len(train), generator=seeded(64))[:n]]
        return (picked + 0.01 * torch.randn(picked.shape, generator=seeded(65))).clamp(0, 1)
    return {"noise": noise, "one digit": one_digit, "memoriser": memoriser}


@functools.lru_cache(maxsize=1)
def _trial_inputs():
    from .parts import _classifier

    return _classifier(), load_dataset("mnist", "test")[0]


def _board_trial(answer):
    classifier, x = _trial_inputs()  # one split, three disjoint parts: real, a "generator", a "training set"
    generators = {"test digits": lambda n: x[100:100 + n], **impostors(x[200:400])}
    rows = answer(generators, copy.deepcopy(classifier), x[:40], x[200:400], n=40)  # a copy: the answer may change it
    return [[row["name"] for row in rows], [[float(row[k]) for k in KEYS] for row in rows]]


def _board_wrong(kind):
    def wrong(generators, classifier, real, train, *, n=500, radius=1.5):
        rows = reference.leaderboard(generators, classifier, real, train, n=n, radius=radius)
        if kind == "descending":
            return rows[::-1]
        if kind == "unsorted":
            return sorted(rows, key=lambda row: list(generators).index(row["name"]))
        return sorted(rows, key=lambda row: -row["precision"])  # "by-precision"
    return wrong


check_leaderboard = register(Exercise(
    name="leaderboard", title="Lab 6.5 · the leaderboard",
    reference=reference.leaderboard, trial=_board_trial,
    describe=lambda i: ["the generators' order in your table", "their " + ", ".join(KEYS)][i],
    atol=1e-4, rtol=1e-3,
    start="For each generator: draw n samples, measure them against the real images in your features, and make "
          "one row; then sort the rows, best first — hint('leaderboard') if you are stuck.",
    hints=["the real images' features once, before the loop; each generator's samples = draw(n), their features "
           "with your `features`.",
           "a row: {'name', 'fd': metrics.frechet_distance(real_feats, fake_feats), 'kid': metrics.kid(...)[0], "
           "'precision', 'recall', 'coverage' and 'copies' (yours: copy_share(samples, train, radius))} — features as NumPy "
           "arrays (.numpy()).",
           "sorted(rows, key=lambda row: row['fd']): the smallest Fréchet distance first."],
    mistakes={
        "descending": Mistake(_board_wrong("descending"), "the order is upside down: a *smaller* Fréchet distance is "
                                                          "better, so it comes first."),
        "unsorted": Mistake(_board_wrong("unsorted"), "the rows are in the order the generators were given: sort them "
                                                      "by the Fréchet distance, best first."),
        "by-precision": Mistake(_board_wrong("by-precision"), "ranked by precision, the memoriser (and a collapsed "
                                                              "generator) can win: rank by the Fréchet distance, "
                                                              "which sees quality and variety at once."),
    }))


def _shipped() -> dict:
    from ...pretrained import load

    def drawer(name):
        model = load(name, device="cpu").eval()
        return lambda n: model.sample(n, generator=seeded(66))
    return {name: drawer(name) for name in ("dcgan-mnist", "cgan-mnist", "vae-mnist")}


def _run_lab(*, leaderboard, n: int = 500) -> Feedback:
    from .parts import _classifier

    x_test, _ = load_dataset("mnist", "test")
    x_train, _ = load_dataset("mnist", "train")
    real, train = x_test[:n], x_train[:2000]
    generators = {**_shipped(), **impostors(train)}
    classifier = _classifier()
    rows = leaderboard(generators, classifier, real, train, n=n)
    want = reference.leaderboard(generators, classifier, real, train, n=n)

    def fail(key, message):
        return Feedback("lab6_leaderboard", False, key, f"✗ {TITLE}: {message}", dict(rows=rows))
    names = [row.get("name") if isinstance(row, dict) else None for row in rows] if isinstance(rows, list) else None
    if names is None or sorted(map(str, names)) != sorted(generators):
        return fail("rows", f"expected one row (a dict with 'name') per generator, {sorted(generators)}; got {names}.")
    theirs = {row["name"]: row for row in rows}
    for row in want:
        for k in KEYS:
            if k not in theirs[row["name"]] or not math.isclose(float(theirs[row["name"]][k]), row[k],
                                                                 rel_tol=1e-3, abs_tol=1e-4):
                return fail("values", f"{row['name']}'s {k} is {theirs[row['name']].get(k)}, the reference's "
                                      f"{row[k]:.4g} — your parts' checks say why.")
    if names != [row["name"] for row in want]:
        return fail("order", f"the order {names} is not the ranking by Fréchet distance, "
                             f"{[row['name'] for row in want]}.")
    caught = {"noise": theirs["noise"]["precision"] < 0.05, "one digit": theirs["one digit"]["recall"] < 0.1,
              "memoriser": theirs["memoriser"]["copies"] > 0.9}
    return Feedback("lab6_leaderboard", True, None, f"✓ {TITLE}: ranked {' < '.join(names)} by Fréchet distance, as "
                    f"the reference does. What each column catches: the noise, precision "
                    f"{theirs['noise']['precision']:.2f}; the collapsed generator, recall "
                    f"{theirs['one digit']['recall']:.2f}; the memoriser, ranked "
                    f"{names.index('memoriser') + 1} by FD, only by its copies ({theirs['memoriser']['copies']:.0%}).",
                    dict(rows=rows, caught=caught))


check_lab6_leaderboard = register_project(Project(
    name="lab6_leaderboard", title=TITLE, parts=("leaderboard",), run=_run_lab, seconds=180))


def show_leaderboard(result: Feedback) -> None:
    """The lab's table, as your leaderboard made it."""
    if not result.details:
        print("Nothing to show yet: the check above runs your leaderboard once every part passes its own check.")
        return
    print(f"{'generator':<14}{'FD':>9}{'KID':>9}{'precision':>11}{'recall':>8}{'coverage':>10}{'copies':>8}")
    for row in result.details["rows"]:
        print(f"{row['name']:<14}{row['fd']:9.2f}{row['kid']:9.3f}{row['precision']:11.2f}{row['recall']:8.2f}"
              f"{row['coverage']:10.2f}{row['copies']:8.0%}")
