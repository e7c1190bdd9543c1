"""Diffusion and flow matching: the forward process, the conversions between what a network can
predict, and the samplers — the math of notebook 07, one function per equation.

Every process here is a **Gaussian path** ``x_t = a_t·x_0 + σ_t·ε`` with ε ~ N(0, I):

- DDPM (Ho et al. 2020): discrete t = 1 … T, ``a_t = √ᾱ_t``, ``σ_t = √(1 − ᾱ_t)``,
  ``ᾱ_t = ∏_{s≤t} (1 − β_s)``, reached step by step by ``q(x_t | x_{t−1}) = N(√(1−β_t)·x_{t−1}, β_t·I)``;
- flow matching / rectified flow (Lipman et al. 2023; Liu et al. 2023): continuous t ∈ [0, 1],
  ``a_t = 1 − t``, ``σ_t = t`` — a straight line from the data (t = 0) to the noise (t = 1) — whose
  velocity ``v = dx_t/dt = ε − x_0`` is what the network learns.

Given x_t, predicting one of ε, x_0 or v determines the other two (`to_x0_eps`). Sampling runs
the path backwards: along the probability-flow ODE ``dx/dt = v`` (Euler, Heun) or by
DDPM's ancestral steps, which draw from the Gaussian posterior q(x_s | x_t, x_0) with the
predicted x_0 (``method="stochastic"``).

`FlowMatching` puts the objective and the sampler around a plain velocity network, as
`GaussianDiffusion` sits around its `Unet` in lucidrains' denoising-diffusion-pytorch:
``loss = flow(x_t, t, y, v)`` after ``flow.draw(batch, generator)``, and ``flow.sample(n)``.
"""
from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from genimg_edu import validate
from genimg_edu.runtime import noise

METHODS = ("euler", "heun", "stochastic")
T_SAMPLING = ("uniform", "logit-normal")


def _tensor(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        what = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else validate._type(x)
        raise TypeError(f"{name} must be a floating-point torch.Tensor, got {what}")
    return x


def _same_shape(*named) -> None:
    """Each (name, tensor) a float tensor, all of the first one's shape."""
    (first, x), *others = named
    _tensor(first, x)
    for name, y in others:
        _tensor(name, y)
        if y.shape != x.shape:
            raise ValueError(f"{name} must have the shape of {first}, {tuple(x.shape)}, got {tuple(y.shape)}")


def _times(name: str, t, batch: int, *, number: bool) -> None:
    """Times in [0, 1]: a tensor of shape (batch,) — or, where `number`, also a number or a 0-d tensor."""
    if number and not isinstance(t, torch.Tensor):
        validate.number(name, t, low=0, high=1)
        return
    shapes = [(batch,), ()] if number else [(batch,)]
    if not isinstance(t, torch.Tensor) or t.is_complex() or t.dtype == torch.bool or tuple(t.shape) not in shapes:
        got = f"shape {tuple(t.shape)}, dtype {t.dtype}" if isinstance(t, torch.Tensor) else validate._type(t)
        want = f"a number or a real tensor of shape () or ({batch},)" if number else f"a real tensor of shape ({batch},)"
        raise (ValueError if isinstance(t, torch.Tensor) and not t.is_complex() and t.dtype != torch.bool
               else TypeError)(f"{name} must be {want}, got {got}")
    if t.numel():
        lo, hi = torch.stack(torch.aminmax(t.detach())).tolist()
        if not (0 <= lo and hi <= 1):
            raise ValueError(f"{name} must be times in [0, 1], got values from {lo:g} to {hi:g}")


def linear_betas(T: int = 1000, *, beta_1: float = 1e-4, beta_T: float = 0.02) -> torch.Tensor:
    """DDPM's schedule: β_t rising linearly from `beta_1` to `beta_T` over T steps (index t − 1);
    ``0 < beta_1 <= beta_T < 1``."""
    T = validate.count("T", T, minimum=1)
    validate.number("beta_1", beta_1, low=0, high=1, low_inclusive=False, high_inclusive=False)
    validate.number("beta_T", beta_T, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if beta_T < beta_1:
        raise ValueError(f"beta_T must be >= beta_1 (a rising schedule), got beta_1={beta_1!r}, beta_T={beta_T!r}")
    return torch.linspace(beta_1, beta_T, T, dtype=torch.float64)


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """ᾱ_t = ∏_{s ≤ t} (1 − β_s): the signal left after t steps, index t − 1. `betas`: (T,) in [0, 1)."""
    _tensor("betas", betas)
    if betas.dim() != 1:
        raise ValueError(f"betas must be a 1-D schedule (T,), got shape {tuple(betas.shape)}")
    if betas.numel() and not bool(((betas >= 0) & (betas < 1)).all()):
        raise ValueError(f"betas must be in [0, 1), got values from {float(betas.min()):g} to {float(betas.max()):g}")
    return torch.cumprod(1 - betas, 0)


def q_step(x_prev: torch.Tensor, beta: float, *, generator=None) -> torch.Tensor:
    """One forward step: x_t ~ q(x_t | x_{t−1}) = N(√(1 − β_t)·x_{t−1}, β_t·I), β_t = `beta` in [0, 1)."""
    _tensor("x_prev", x_prev)
    validate.number("beta", beta, low=0, high=1, high_inclusive=False)
    return (1 - beta) ** 0.5 * x_prev + beta ** 0.5 * noise(*x_prev.shape, generator=generator).to(x_prev)


def q_sample(x0: torch.Tensor, a_bar: float, eps: torch.Tensor) -> torch.Tensor:
    """The closed form that skips the steps: x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε ~ q(x_t | x_0), ᾱ_t = `a_bar` in (0, 1]
    and ε = `eps` of x_0's shape."""
    _same_shape(("x0", x0), ("eps", eps))
    validate.number("a_bar", a_bar, low=0, high=1, low_inclusive=False)
    return a_bar ** 0.5 * x0 + (1 - a_bar) ** 0.5 * eps


def snr(a: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio a_t² / σ_t² of a Gaussian path (DDPM: ᾱ/(1 − ᾱ); flow: (1 − t)²/t²)."""
    return a ** 2 / sigma ** 2


def flow_path(x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_t, v): the point ``(1 − t)·x_0 + t·ε`` of the straight path and its velocity ``ε − x_0``.
    t has shape (B,), values in [0, 1], and broadcasts over the remaining dimensions."""
    _same_shape(("x0", x0), ("eps", eps))
    _times("t", t, len(x0) if x0.dim() else 0, number=False)
    t = t.reshape(-1, *[1] * (x0.dim() - 1))
    return (1 - t) * x0 + t * eps, eps - x0


def to_x0_eps(x_t: torch.Tensor, v: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor]:
    """From the velocity back to the two other predictions: ``x_0 = x_t − t·v``, ``ε = x_t + (1 − t)·v``.
    `t` in [0, 1]: a number, or a tensor of shape () or (B,)."""
    _same_shape(("x_t", x_t), ("v", v))
    _times("t", t, len(x_t) if x_t.dim() else 0, number=True)
    t = torch.as_tensor(t, dtype=x_t.dtype, device=x_t.device)
    t = t.reshape(-1, *[1] * (x_t.dim() - 1)) if t.dim() else t
    return x_t - t * v, x_t + (1 - t) * v


def posterior(x_t, x0, *, a_t, s_t, a_s, s_s) -> tuple[torch.Tensor, float]:
    """q(x_s | x_t, x_0) for s < t on a Gaussian path: (mean, variance).

    With ``x_t = (a_t/a_s)·x_s + σ_{t|s}·ξ``, ``σ²_{t|s} = σ_t² − (a_t/a_s)²·σ_s²``, Bayes' rule gives
    ``mean = (a_t/a_s)·σ_s²/σ_t²·x_t + a_s·σ²_{t|s}/σ_t²·x_0``, ``variance = σ²_{t|s}·σ_s²/σ_t²``
    (DDPM's eq. 7 when a = √ᾱ, σ = √(1 − ᾱ)). Needs ``σ_t > 0``, ``a_s > 0`` and s before t (σ²_{t|s} ≥ 0).
    """
    _same_shape(("x_t", x_t), ("x0", x0))
    at, st = validate.number("a_t", a_t, low=0), validate.number("s_t", s_t, low=0, low_inclusive=False)
    as_, ss = validate.number("a_s", a_s, low=0, low_inclusive=False), validate.number("s_s", s_s, low=0)
    if st ** 2 - (at / as_) ** 2 * ss ** 2 < -1e-12:
        raise ValueError(f"s_s must belong to a time s before t: s_t² − (a_t/a_s)²·s_s² must be >= 0, got "
                         f"a_t={at:g}, s_t={st:g}, a_s={as_:g}, s_s={ss:g}")
    ratio = a_t / a_s
    var_ts = s_t ** 2 - ratio ** 2 * s_s ** 2
    mean = ratio * s_s ** 2 / s_t ** 2 * x_t + a_s * var_ts / s_t ** 2 * x0
    return mean, var_ts * s_s ** 2 / s_t ** 2


@torch.no_grad()
def sample_flow(velocity, x1: torch.Tensor, *, steps: int = 20, method: str = "heun", generator=None,
                t_end: float = 0.0, trace: list | None = None) -> torch.Tensor:
    """Run the flow from noise x1 (t = 1) to `t_end` (0: data) in `steps` equal steps.

    ``velocity(x, t)`` returns v at the float time t. "euler": ``x ← x + (s − t)·v(x, t)`` (one
    network evaluation per step); "heun": Euler's guess, then the average of the slopes at both ends
    (two per step, one at the last step); "stochastic": DDPM-style ancestral steps ``x_s ~ q(x_s | x_t, x̂_0)``
    with the predicted x̂_0, fresh noise from `generator` at every step (one per step).
    `trace`, a list, receives ``(t, x_t, x̂_0)`` before each step — the network's current guess of the
    image — and ``(t_end, x, x)`` at the end.
    """
    if not callable(velocity):
        raise TypeError(f"velocity must be a function velocity(x, t) -> v, got {type(velocity).__name__}")
    _tensor("x1", x1)
    validate.one_of("method", method, METHODS)
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    steps = int(steps)
    t_end = validate.number("t_end", t_end, low=0, high=1, high_inclusive=False)
    if trace is not None and not isinstance(trace, list):
        raise TypeError(f"trace must be a list (or None), got {type(trace).__name__}")
    times = torch.linspace(1.0, t_end, steps + 1).tolist()
    x = x1
    for t, s in zip(times, times[1:]):
        v = velocity(x, t)
        if trace is not None:
            trace.append((t, x, to_x0_eps(x, v, t)[0]))
        if method == "euler" or (method == "heun" and s == 0):
            x = x + (s - t) * v
        elif method == "heun":
            guess = x + (s - t) * v
            x = x + (s - t) * (v + velocity(guess, s)) / 2
        else:
            x0, _ = to_x0_eps(x, v, t)
            if s == 0:
                x = x0
                continue
            mean, var = posterior(x, x0, a_t=1 - t, s_t=t, a_s=1 - s, s_s=s)
            x = mean + var ** 0.5 * noise(*x.shape, generator=generator).to(x)
    if trace is not None:
        trace.append((t_end, x, x))
    return x


def evaluations(steps: int, method: str) -> int:
    """Network evaluations (NFE) that `sample_flow` spends (guidance doubles the batch, not the count)."""
    steps = validate.count("steps", steps, minimum=1)
    validate.one_of("method", method, METHODS)
    return 2 * steps - 1 if method == "heun" else steps


class FlowMatching(nn.Module):
    """Flow matching (Lipman et al. 2023; rectified flow, Liu et al. 2023) around a velocity network
    ``net(x_t, t, labels) → v``: the path, the loss, label dropout and the sampler, in one place.

    The loss regresses the straight path's velocity, ``L = E_{t, x_0, ε} ‖v_θ(x_t, t, y) − (ε − x_0)‖²``
    with ``x_t = (1 − t)·x_0 + t·ε`` (`flow_path`), mean over pixels and batch.

    - ``t_sampling``: "uniform", or "logit-normal" (t = sigmoid(n), n ~ N(0, 1); Esser et al. 2024), which
      spends the updates on the middle of the path, where the velocity is hardest to guess;
    - ``label_dropout``: with labels, the share replaced by the network's "no class" token (index
      ``net.n_classes``), so one network learns both velocities classifier-free guidance mixes
      (Ho & Salimans 2022);
    - ``rescale``: images in [0, 1] are mapped to the path's [−1, 1] (False for data already centred).
    """

    def __init__(self, net: nn.Module, *, t_sampling: str = "logit-normal", label_dropout: float = 0.1,
                 rescale: bool = True):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be a velocity network (torch.nn.Module), got {validate._type(net)}")
        if not isinstance(t_sampling, str) or t_sampling not in T_SAMPLING:
            raise ValueError(f"t_sampling must be one of {T_SAMPLING}, got {t_sampling!r}")
        validate.number("label_dropout", label_dropout, low=0, high=1, high_inclusive=False)
        if not isinstance(rescale, bool):
            raise TypeError(f"rescale must be True or False, got {rescale!r}")
        self.net, self.t_sampling, self.label_dropout, self.rescale = net, t_sampling, label_dropout, rescale

    def sample_t(self, n: int, generator=None) -> torch.Tensor:
        """n times t ∈ (0, 1) from `t_sampling`."""
        n = validate.count("n", n)
        if self.t_sampling == "logit-normal":
            return torch.sigmoid(torch.randn(n, generator=generator))
        return torch.rand(n, generator=generator)

    def draw(self, batch: tuple, generator=None) -> tuple:
        """The random part of one training example per item, on the CPU from `generator`:
        (x_t, t, labels or None, the target velocity v = ε − x_0) for a batch (x,) or (x, y)."""
        if not isinstance(batch, (tuple, list)) or len(batch) not in (1, 2):
            raise TypeError(f"batch must be a tuple (x,) or (x, y), got {validate._type(batch)}"
                            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
        _tensor("batch[0]", batch[0])
        if len(batch) > 1 and (not isinstance(batch[1], torch.Tensor) or batch[1].shape != (len(batch[0]),)):
            got = tuple(batch[1].shape) if isinstance(batch[1], torch.Tensor) else validate._type(batch[1])
            raise ValueError(f"batch[1] must be labels ({len(batch[0])},) beside the images, got {got}")
        x0 = batch[0] * 2 - 1 if self.rescale else batch[0]
        y = batch[1] if len(batch) > 1 else None
        eps, t = noise(*x0.shape, generator=generator), self.sample_t(len(x0), generator)
        if y is not None and self.label_dropout:
            drop = torch.rand(len(y), generator=generator) < self.label_dropout
            y = torch.where(drop, torch.full_like(y, self.net.n_classes), y)  # the "no class" token
        x_t, v = flow_path(x0, eps, t)
        return x_t, t, y, v

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, labels, v: torch.Tensor) -> torch.Tensor:
        """The loss of one drawn batch: ``mean ‖v_θ(x_t, t, y) − v‖²``."""
        _same_shape(("x_t", x_t), ("v", v))
        return F.mse_loss(self.net(x_t, t, labels), v)

    def velocity(self, x, t, labels=None, *, guidance: float = 1.0) -> torch.Tensor:
        """The velocity the sampler follows; with labels, classifier-free guidance
        ``v_∅ + w·(v_y − v_∅)`` (w = 1: conditional, 0: unconditional), both in one batch."""
        validate.number("guidance", guidance)
        if labels is None or guidance == 1.0:
            return self.net(x, t, labels)
        both = self.net(torch.cat([x, x]), t, torch.cat([labels, torch.full_like(labels, self.net.n_classes)]))
        v_cond, v_uncond = both.chunk(2)
        return v_uncond + guidance * (v_cond - v_uncond)

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, generator=None, steps: int = 10, guidance: float = 1.5,
               method: str = "heun") -> torch.Tensor:
        """n samples from noise by integrating the learned flow from t = 1 to 0 (`sample_flow`).
        Images come back as (n, C, H, W) in [0, 1], points as (n, dim). ``labels=None``: unconditional."""
        from genimg_edu import validate

        n = validate.count("n", n)
        guidance = validate.number("guidance", guidance)
        dev = next(self.net.parameters()).device
        if labels is not None:
            if not self.net.n_classes:
                raise ValueError("labels: this flow model is unconditional; labels must be None")
            labels = validate.labels("labels", labels, n=n, n_classes=self.net.n_classes).to(dev)
        x1 = noise(n, *self.net.data_shape, generator=generator, device=dev)
        x0 = sample_flow(lambda x, t: self.velocity(x, t, labels, guidance=guidance), x1, steps=steps,
                         method=method, generator=generator)
        return (x0.clamp(-1, 1) + 1) / 2 if len(self.net.data_shape) == 3 else x0
