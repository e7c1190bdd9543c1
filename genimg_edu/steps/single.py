"""The single-objective steps: which objective, which optimiser, which augmentation — the rest is
`ObjectiveStep`'s."""
from __future__ import annotations

import torch

from genimg_edu import losses
from genimg_edu.augment import nuisance, random_shift
from genimg_edu.diffusion import FlowMatching
from genimg_edu.steps.base import Objective, ObjectiveStep, _flag, _kind, _module, _number, _steps

LR = "positive (a finite number)"

class ClassifierStep(ObjectiveStep):
    """Cross-entropy ``−log p_θ(y | x)``, mean over the batch — the model's own ``loss(x, y)`` — with AdamW.

    Options, each off by default: ``shift`` translates the inputs by up to that many
    pixels; ``robust=True`` also applies `augment.nuisance` (blur, gamma, noise), for
    a classifier used as a measuring instrument; ``decay_steps`` (with ``warmup``) is
    a cosine learning-rate schedule (`cosine_schedule`).
    """

    def __init__(self, model, *, lr: float = 2e-3, weight_decay: float = 5e-4, shift: int = 0,
                 robust: bool = False, decay_steps: int | None = None, warmup: int = 0):
        _module("model", model)
        _number("lr", lr, LR, lambda v: v > 0)
        _number("weight_decay", weight_decay, "a non-negative finite number", lambda v: v >= 0)
        _steps("shift", shift, "a non-negative number of pixels")
        _flag("robust", robust)
        self.shift, self.robust = shift, robust
        super().__init__(model, Objective(model, "loss"),
                         torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay),
                         decay_steps=decay_steps, warmup=warmup)

    def inputs(self, batch, generator):
        x, y = batch
        x = random_shift(x, self.shift, generator=generator)
        x = nuisance(x, generator=generator) if self.robust else x
        return x.to(self.device), y.to(self.device)


class VAEStep(ObjectiveStep):
    """Minimise the negative ELBO ``E_q[−log p(x|z)] + β·KL(q(z|x) ‖ p(z))`` (nats/image, the model's
    `terms` and `losses.vae_loss`) with Adam; the history records both terms and their sum at β = 1.

    `optimizer` is any `torch.optim` class (Adam by default, SGD to see why Adam is the default).
    ``kl_warmup=n`` is KL annealing (Bowman et al. 2016): the KL weight grows
    linearly from 0 to `beta` over the first n steps, so the decoder learns to
    use z before the KL term can push q(z|x) onto the prior. ``decay_steps`` /
    ``warmup``: a cosine learning-rate schedule; ``shift``: random translations.
    """

    def __init__(self, model, *, lr: float = 2e-3, beta: float = 1.0, kl_warmup: int = 0, shift: int = 0,
                 optimizer=torch.optim.Adam, decay_steps: int | None = None, warmup: int = 0, preview_seed: int = 0):
        _module("model", model)
        _number("lr", lr, LR, lambda v: v > 0)
        _number("beta", beta, "non-negative (a finite number)", lambda v: v >= 0)
        _steps("kl_warmup", kl_warmup, "a non-negative number of steps")
        _steps("shift", shift, "a non-negative number of pixels")
        _kind(isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer), "optimizer", optimizer,
              "a torch.optim optimizer class such as torch.optim.Adam (the class, not an instance)")
        self.beta, self.kl_warmup, self.shift = beta, kl_warmup, shift
        super().__init__(model, Objective(model, "terms"), optimizer(model.parameters(), lr=lr),
                         decay_steps=decay_steps, warmup=warmup, preview_seed=preview_seed)

    def kl_weight(self) -> float:
        return self.beta * min(1.0, self.steps / self.kl_warmup) if self.kl_warmup else self.beta

    def inputs(self, batch, generator):
        return (random_shift(batch[0], self.shift, generator=generator).to(self.device),)

    def loss(self, inputs):
        rec, kl = self.net(*inputs)  # model.terms(x): (B,), (B,) nats per image
        loss = losses.vae_loss(rec, kl, beta=self.kl_weight())
        rec, kl = rec.mean().item(), kl.mean().item()
        return loss, {"loss": rec + kl, "reconstruction": rec, "kl": kl}


class FlowStep(ObjectiveStep):
    """Flow matching with Adam: `diffusion.FlowMatching` around the velocity network `model` owns the path,
    the loss ``mean ‖v_θ(x_t, t, y) − (ε − x_0)‖²`` and label dropout; this step draws, updates and averages.

    - ``t_sampling`` ("uniform" or "logit-normal"), ``label_dropout``, ``rescale``: `FlowMatching`'s options;
    - ``ema_decay``: keep an exponential moving average of the weights (`sampler`), as for the GANs;
    - ``decay_steps`` / ``warmup``: a cosine learning-rate schedule.
    """

    def __init__(self, model, *, lr: float = 2e-3, t_sampling: str = "logit-normal", label_dropout: float = 0.1,
                 ema_decay: float | None = None, decay_steps: int | None = None, warmup: int = 0,
                 rescale: bool = True, preview_seed: int = 0):
        _module("model", model)
        _number("lr", lr, LR, lambda v: v > 0)
        self.flow = FlowMatching(model, t_sampling=t_sampling, label_dropout=label_dropout, rescale=rescale)
        self.model = model
        self.preview_options = {"steps": 8}
        super().__init__(model, self.flow, torch.optim.Adam(model.parameters(), lr=lr), decay_steps=decay_steps,
                         warmup=warmup, ema_decay=ema_decay, preview_seed=preview_seed)

    def inputs(self, batch, generator):
        x_t, t, y, v = self.flow.draw(batch, generator)
        return x_t.to(self.device), t.to(self.device), None if y is None else y.to(self.device), v.to(self.device)
