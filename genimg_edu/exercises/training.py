"""Exercises for notebook 05 (training): what a checkpoint needs for an exact resume, the NaN guard, and the
weight average (EMA). References: `Step.average` (AveragedModel), `torch.isfinite`."""
import torch

from .core import Exercise, Mistake, register

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

def _ema_net(seed: int) -> torch.nn.Module:
    """A small network with BatchNorm: parameters, floating-point buffers (running statistics) and an integer one
    (the count of batches seen), all different from another seed's."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for t in net.state_dict().values():
            t.copy_(torch.randn(t.shape) if t.is_floating_point() else torch.randint(0, 50, t.shape))
    return net


_DECAY = [0.9, 0.999]


def _ema_reference(average, model, decay):
    """What `Step.average` does at each step (AveragedModel with get_ema_multi_avg_fn, buffers included), written
    out: every floating-point tensor of the state, parameters and running statistics alike, moves towards the
    model's (tests/test_exercises.py compares the two). The integer count of batches, which BatchNorm reads only
    without a momentum, is the model's here; AveragedModel keeps a rounded-down average of it."""
    with torch.no_grad():
        new = model.state_dict()
        for name, avg in average.state_dict().items():
            if avg.is_floating_point():
                avg.mul_(decay).add_(new[name], alpha=1 - decay)
            else:
                avg.copy_(new[name])


def _ema_trial(answer):
    out = []
    for seed, decay in enumerate(_DECAY):
        average, model = _ema_net(2 * seed), _ema_net(2 * seed + 1)
        answer(average, model, decay)
        out += [t.detach().float().clone() for t in [*average.state_dict().values(), *model.state_dict().values()]]
    return out


def _ema_wrong(kind):
    def wrong(average, model, decay):
        with torch.no_grad():
            pairs = list(zip(average.parameters(), model.parameters()))
            if kind != "parameters-only":
                pairs += list(zip(average.buffers(), model.buffers()))
            for avg, new in pairs:
                if kind == "rebind":
                    avg = decay * avg + (1 - decay) * new  # noqa: F841 — a new tensor; the network keeps the old
                elif kind == "model-updated":
                    new.copy_(decay * avg + (1 - decay) * new)
                elif not avg.is_floating_point():
                    avg.copy_(new)
                elif kind == "swapped":
                    avg.copy_((1 - decay) * avg + decay * new)
                else:
                    avg.copy_(decay * avg + (1 - decay) * new)
    return wrong


check_ema_update = register(Exercise(
    name="ema_update", title="Exercise 5.3 · the weight average (EMA) of a whole network, one step",
    reference=_ema_reference,
    trial=_ema_trial,
    describe=lambda i: "a Linear–BatchNorm–Linear network's tensors",
    start="Go through the average's tensors and the model's side by side — the weights, and BatchNorm's running "
          "statistics too — and move each of the average's a little towards the model's, in place — "
          "hint('ema_update') if you are stuck.",
    hints=["one step for one tensor: avg ← decay · avg + (1 − decay) · new, decay close to 1. `average` must change "
           "in place (its tensors are the network's); return nothing.",
           "model.state_dict() holds every tensor by name, parameters and buffers (running_mean, running_var, "
           "num_batches_tracked); the tensors of average.state_dict() are the network's own, so changing them in "
           "place changes the network. Work under torch.no_grad().",
           "num_batches_tracked counts batches (an integer): it cannot be averaged — copy the model's "
           "(t.is_floating_point() tells the two kinds apart). For the others, avg.mul_(decay).add_(new, "
           "alpha=1 - decay) is the step, in place."],
    mistakes={
        "swapped": Mistake(_ema_wrong("swapped"), "the weights are swapped: with decay = 0.999 the average should "
                                                  "keep 99.9 % of itself, not of the new weights."),
        "parameters-only": Mistake(_ema_wrong("parameters-only"),
                                   "the weights are averaged but BatchNorm's running statistics (buffers) are not: "
                                   "the averaged network would normalise with statistics of other weights — "
                                   "average the buffers too (state_dict() holds both)."),
        "rebind": Mistake(_ema_wrong("rebind"), "the average did not change: `avg = decay * avg + …` makes a new "
                                                "tensor and rebinds the name; the network still holds the old one. "
                                                "Change it in place: avg.mul_(…).add_(…) or avg.copy_(…)."),
        "model-updated": Mistake(_ema_wrong("model-updated"), "the model's weights changed and the average's did "
                                                              "not: write into `average`; the model keeps training "
                                                              "on its own weights."),
    }))
