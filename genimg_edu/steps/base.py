"""What every step shares: the state `fit` checkpoints, the weight average, the sampler and the
dashboard's preview (`Step`); one model minimising one objective (`ObjectiveStep`); the schedule."""
from __future__ import annotations

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from genimg_edu import validate


def _require(ok: bool, name: str, value, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


def _kind(ok: bool, name: str, value, expected: str) -> None:
    if not ok:
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")


def _steps(name: str, value, expected: str, *, minimum: int = 0) -> int:
    """`validate.count`, its message saying what this option means (`expected`)."""
    try:
        return validate.count(name, value, minimum=minimum)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name} must be {expected}, got {value!r} ({type(value).__name__})") from None


def _number(name: str, value, expected: str, ok=lambda v: True) -> float:
    """`validate.number` for which ``ok`` also holds, its message saying `expected`."""
    try:
        v = validate.number(name, value)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name} must be {expected}, got {value!r} ({type(value).__name__})") from None
    _require(ok(v), name, value, expected)
    return value


def _flag(name: str, value) -> bool:
    _kind(isinstance(value, (bool, np.bool_)), name, value, "True or False")
    return bool(value)


def _module(name: str, value) -> torch.nn.Module:
    _kind(isinstance(value, torch.nn.Module), name, value, "a model (torch.nn.Module)")
    return value


def cosine_schedule(opt: torch.optim.Optimizer, *, total: int, warmup: int = 0):
    """Linear warm-up over `warmup` steps, then cosine decay of the learning rate to 0 at step `total`
    (Loshchilov & Hutter 2017) — PyTorch's own `LinearLR` → `CosineAnnealingLR`."""
    _kind(isinstance(opt, torch.optim.Optimizer), "opt", opt, "a torch.optim optimizer")
    _steps("warmup", warmup, "a non-negative number of steps")
    _steps("decay_steps", total, f"a number of steps above warmup={warmup}", minimum=warmup + 1)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup)
    if not warmup:
        return decay
    ramp = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / warmup, total_iters=warmup)
    return torch.optim.lr_scheduler.SequentialLR(opt, [ramp, decay], milestones=[warmup])


class Step:
    """Base class: `modules`, `optimizers` and `schedulers` are dicts of name → object, saved in checkpoints.

    Written once here for every step: the optional exponential moving average of the trained model's
    weights (`average`), the model to sample from (`sampler`), and `preview` — a few images for the
    dashboard, always from the same noise, so the grid shows training, not sampling luck.
    """

    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict
    steps: int = 0  # updates done so far (part of the state, for schedules such as KL warm-up)
    ema = None  # the weight average, when there is one
    trained: str = "model"  # the name in `modules` of the model that samples (a GAN's: "G")
    preview_seed: int = 0
    preview_options: dict = {}  # passed to the sampler's ``sample`` (e.g. a flow model's steps)

    @property
    def device(self) -> torch.device:
        return next(next(iter(self.modules.values())).parameters()).device

    def __call__(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        raise NotImplementedError

    def train(self) -> None:
        for m in self.modules.values():
            m.train()

    def average(self, decay: float | None) -> None:
        """Keep an exponential moving average of the trained model's weights and buffers
        (`torch.optim.swa_utils.AveragedModel`) when `decay` is not None; `sampler` then samples from it."""
        if decay is not None:
            _number("ema_decay", decay, "None or in [0, 1)", lambda v: 0 <= v < 1)
            model = self.modules[self.trained]
            self.ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
            self.modules[f"{self.trained}_ema"] = self.ema

    def update_average(self) -> None:
        if self.ema is not None:
            self.ema.update_parameters(self.modules[self.trained])

    @property
    def sampler(self) -> torch.nn.Module:
        """The model to sample from: the weight average when there is one."""
        return self.ema.module if self.ema is not None else self.modules[self.trained]

    @torch.no_grad()
    def preview(self) -> torch.Tensor | None:
        """16 images from the sampler (every class in turn for a conditional model), or None when it does
        not make images (a classifier, a 2-D toy model)."""
        model = self.sampler
        shape = getattr(model, "image_shape", None) or getattr(model, "data_shape", ())
        if not hasattr(model, "sample") or len(shape) != 3:
            return None
        was_training = model.training
        model.eval()
        n_classes = getattr(model, "n_classes", None)
        labels = torch.arange(16) % n_classes if n_classes else None
        images = model.sample(16, labels=labels, generator=torch.Generator().manual_seed(self.preview_seed),
                              **self.preview_options)
        model.train(was_training)
        return images

    def distribute(self) -> None:
        """Under torchrun: wrap `net`, the module the loss is computed through, in PyTorch's
        `DistributedDataParallel` — it copies rank 0's weights to every process and averages the
        gradients over processes inside ``backward()``. The optimisers keep the same parameters.
        BatchNorm layers still normalise over each process's share of the batch (`nn.SyncBatchNorm`
        on GPUs would use the whole batch); with GroupNorm (the U-Net) it makes no difference."""
        from torch.nn.parallel import DistributedDataParallel

        if not hasattr(self, "net"):
            raise NotImplementedError(f"{type(self).__name__} does not run on several processes "
                                      "(a two-player update needs more than one wrapped network); train it with one")
        if isinstance(self.net, DistributedDataParallel):  # fit called again in the same processes
            return
        ids = [self.device.index] if self.device.type == "cuda" else None
        self.net = DistributedDataParallel(self.net, device_ids=ids)

    def state_dict(self) -> dict:
        return {"steps": self.steps, **{f"module.{k}": m.state_dict() for k, m in self.modules.items()},
                **{f"optimizer.{k}": o.state_dict() for k, o in self.optimizers.items()},
                **{f"scheduler.{k}": s.state_dict() for k, s in self.schedulers.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        for prefix, table in (("module", self.modules), ("optimizer", self.optimizers),
                              ("scheduler", self.schedulers)):
            for k, obj in table.items():
                obj.load_state_dict(state[f"{prefix}.{k}"])


class Objective(torch.nn.Module):
    """A model's objective as a module's forward pass, ``Objective(model, "loss")(*inputs) = model.loss(*inputs)``:
    what `DistributedDataParallel` wraps, since it averages the gradients of a forward pass only."""

    def __init__(self, model: torch.nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, *inputs):
        return getattr(self.model, self.method)(*inputs)


class ObjectiveStep(Step):
    """One model, one objective, one optimiser: ``zero_grad`` → ``loss.backward()`` → ``step``, then the
    learning-rate schedule and the weight average. Subclasses say how a batch becomes the objective's
    inputs (`inputs`) and what the loss is (`loss`); everything else is here.

    ``decay_steps`` (with ``warmup``): a cosine learning-rate schedule (`cosine_schedule`);
    ``ema_decay``: a weight average to sample from (`Step.average`).
    """

    def __init__(self, model, net: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
                 decay_steps: int | None = None, warmup: int = 0, ema_decay: float | None = None,
                 preview_seed: int = 0):
        _module("model", model)
        _steps("warmup", warmup, "a non-negative number of steps")
        if decay_steps is not None:
            _steps("decay_steps", decay_steps, f"None or a number of steps above warmup={warmup}",
                   minimum=warmup + 1)
        _steps("preview_seed", preview_seed, "a non-negative whole number")
        self.net = net  # what the loss runs through (a DistributedDataParallel wrapper under torchrun)
        self.modules = {"model": model}
        self.optimizers = {"opt": optimizer}
        self.schedulers = ({"opt": cosine_schedule(optimizer, total=decay_steps, warmup=warmup)}
                           if decay_steps is not None else {})
        self.preview_seed = preview_seed
        self.average(ema_decay)

    def inputs(self, batch, generator) -> tuple:
        """The objective's inputs for one batch, on the model's device (augmented, drawn, …)."""
        return tuple(t.to(self.device) for t in batch)

    def loss(self, inputs: tuple) -> tuple[torch.Tensor, dict[str, float]]:
        """(the loss to minimise, the losses to record)."""
        loss = self.net(*inputs)
        return loss, {"loss": loss.item()}

    def __call__(self, batch, generator):
        inputs = self.inputs(batch, generator)
        opt = self.optimizers["opt"]
        opt.zero_grad()
        loss, record = self.loss(inputs)
        loss.backward()
        opt.step()
        for s in self.schedulers.values():
            s.step()
        self.update_average()
        self.steps += 1
        return record
