"""Exercises for notebook 05 (training): what a checkpoint needs for an exact resume, the NaN guard, and the
weight average (EMA). References: `torch.optim.swa_utils.get_ema_avg_fn`, `torch.isfinite`."""
import torch
from torch.optim.swa_utils import get_ema_avg_fn

from .core import Exercise, Mistake, register, seeded

CHOICES = {"model", "optimizer", "step", "rng", "dataset", "loss_curve"}
_NEEDED = {"model", "optimizer", "step", "rng"}
_WHY_NEEDED = {
    "model": "the weights themselves are missing.",
    "optimizer": "without the optimizer's state, Adam restarts its two running averages per weight, so the first "
                 "updates after resuming are not the ones an uninterrupted run makes.",
    "step": "the loop must know where it stopped: the budget, the learning-rate schedule and the batch order "
            "depend on the step.",
    "rng": "without the random generators' state, the noise drawn after resuming (z for a GAN, ε for a VAE, "
           "shifts, dropout) differs from an uninterrupted run's.",
}
_WHY_NOT = {"dataset": "the dataset is on disk and does not change — a checkpoint need not carry it.",
            "loss_curve": "the loss curve is nice for plots (fit keeps it), yet the weights do not depend on it."}


def _resume_check(got):
    answer = got[0]
    if not isinstance(answer, (set, frozenset)):
        return "choices", f"return a set of names from {sorted(CHOICES)}, e.g. {{'model', 'step'}}."
    if not answer <= CHOICES:
        return "choices", (f"{sorted(answer - CHOICES)} is not one of the choices {sorted(CHOICES)}.")
    missing, extra = sorted(_NEEDED - answer), sorted(answer - _NEEDED)
    if missing:
        return f"missing-{missing[0]}", "not yet: " + " Also, ".join(_WHY_NEEDED[m] for m in missing)
    if extra:
        return f"extra-{extra[0]}", "everything needed is there, but " + " ".join(_WHY_NOT[e] for e in extra)
    return None


check_resume_needs = register(Exercise(
    name="resume_needs", title="Exercise 5.1 · predict: what an exact resume needs",
    reference=lambda: set(_NEEDED),
    trial=lambda answer: [set(a) if isinstance(a := answer(), (list, tuple)) else a],
    describe=lambda i: "your set",
    start="Predict it first, then return your set; hint('resume_needs') if you are stuck.",
    reveal=False,
    diagnose=_resume_check,
    hints=["resuming exactly means the next update is the one the uninterrupted run would have made: same "
           "weights, same update rule state, same data and noise.",
           "Adam is not stateless; and the noise (z, ε, shifts, dropout) comes from generators whose state advances "
           "with every draw."],
    mistakes={
        "missing-optimizer": Mistake(lambda: {"model", "step", "rng"}, "not yet: " + _WHY_NEEDED["optimizer"]),
        "missing-rng": Mistake(lambda: {"model", "optimizer", "step"}, "not yet: " + _WHY_NEEDED["rng"]),
        "extra-dataset": Mistake(lambda: _NEEDED | {"dataset"}, "everything needed is there, but "
                                 + _WHY_NOT["dataset"]),
    }))

_LOSSES = [torch.tensor(float("nan")), torch.tensor(float("inf")), torch.tensor(float("-inf")), torch.tensor(2.5),
           torch.tensor(0.0), torch.tensor(-1e30)]


def _guard_wrong(kind):
    def wrong(loss):
        if kind == "eq-nan":
            return bool(loss == float("nan"))  # NaN is not equal to anything, itself included
        if kind == "nan-only":
            return bool(torch.isnan(loss))
        return bool(loss > 1e6)
    return wrong


check_is_bad_loss = register(Exercise(
    name="is_bad_loss", title="Exercise 5.2 · the NaN guard",
    reference=lambda loss: not bool(torch.isfinite(loss)),
    trial=lambda answer: [bool(answer(loss.clone())) for loss in _LOSSES],
    describe=lambda i: f"loss = {_LOSSES[i].item()}",
    hints=["a loss is bad when it is NaN or ±infinite: one more step would spread it into every weight.",
           "torch.isfinite(loss) is False for NaN, inf and −inf."],
    mistakes={
        "eq-nan": Mistake(_guard_wrong("eq-nan"), "`loss == float('nan')` is always False: NaN is not equal to "
                                                  "anything, not even itself — use torch.isfinite (or isnan)."),
        "nan-only": Mistake(_guard_wrong("nan-only"), "NaN is caught, but an infinite loss is just as bad (the next "
                                                      "step makes the weights NaN) — torch.isfinite catches both."),
        "threshold": Mistake(_guard_wrong("threshold"), "a large loss is not broken, and a NaN compares False with "
                                                        "everything: test torch.isfinite(loss) instead of a size."),
    }))

_AVG = [torch.randn(3, 4, generator=seeded(0)), torch.randn(5, generator=seeded(1))]
_NEW = [torch.randn(3, 4, generator=seeded(2)), torch.randn(5, generator=seeded(3))]
_DECAY = [0.9, 0.999]


def _ema_wrong(kind):
    def wrong(avg, new, decay):
        return {"swapped": (1 - decay) * avg + decay * new, "no-complement": decay * avg + new,
                "mean": (avg + new) / 2}[kind]
    return wrong


check_ema_update = register(Exercise(
    name="ema_update", title="Exercise 5.3 · one step of the weight average (EMA)",
    reference=lambda avg, new, decay: get_ema_avg_fn(decay)(avg, new, None),
    trial=lambda answer: [answer(a.clone(), n.clone(), d) for a, n, d in zip(_AVG, _NEW, _DECAY)],
    describe=lambda i: f"tensors of shape {tuple(_AVG[i].shape)} with decay={_DECAY[i]}",
    hints=["the average keeps most of itself and takes a little of the new weights: decay is close to 1.",
           "avg_new = decay · avg + (1 − decay) · new — the two weights add up to 1."],
    mistakes={
        "swapped": Mistake(_ema_wrong("swapped"), "the weights are swapped: with decay = 0.999 the average should "
                                                  "keep 99.9 % of itself, not of the new weights."),
        "no-complement": Mistake(_ema_wrong("no-complement"), "the two weights must add up to 1: multiply the new "
                                                              "weights by (1 − decay)."),
        "mean": Mistake(_ema_wrong("mean"), "that is a plain mean of two: an exponential average uses decay."),
    }))
