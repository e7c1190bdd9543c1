"""One training step per model family — what `genimg_edu.train.fit` repeats.

A step object owns its models and optimisers (so `fit` can checkpoint them)
and is called with one batch: ``losses = step(batch, generator)``. Each call
shows its updates explicitly — ``zero_grad`` / ``backward`` / ``step`` — and
returns the batch's losses as plain floats for the history and the dashboard::

    step = VAEStep(ConvVAE(), lr=2e-3)
    history = fit(step, (x_train,), max_seconds=30)

`preview()` returns a few images (or None) for the dashboard's sample grid,
always from the same noise so the grid shows training, not sampling luck.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from genimg_edu import losses
from genimg_edu.train import EMA, random_shift


class Step:
    """Base class: `modules` and `optimizers` are dicts of name → object, saved in checkpoints."""

    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    steps: int = 0  # updates done so far (part of the state, for schedules such as KL warm-up)

    @property
    def device(self) -> torch.device:
        return next(next(iter(self.modules.values())).parameters()).device

    def __call__(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        raise NotImplementedError

    def preview(self) -> torch.Tensor | None:
        return None

    def train(self) -> None:
        for m in self.modules.values():
            m.train()

    def state_dict(self) -> dict:
        return {"steps": self.steps, **{f"module.{k}": m.state_dict() for k, m in self.modules.items()},
                **{f"optimizer.{k}": o.state_dict() for k, o in self.optimizers.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        for k, m in self.modules.items():
            m.load_state_dict(state[f"module.{k}"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state[f"optimizer.{k}"])


class ClassifierStep(Step):
    """Cross-entropy on labelled batches (x, y), AdamW; `shift` translates inputs by up to that many pixels."""

    def __init__(self, model, *, lr: float = 2e-3, weight_decay: float = 5e-4, shift: int = 0):
        self.shift = shift
        self.modules = {"model": model}
        self.optimizers = {"opt": torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)}

    def __call__(self, batch, generator):
        x, y = (t.to(self.device) for t in batch)
        model, opt = self.modules["model"], self.optimizers["opt"]
        opt.zero_grad()
        loss = F.cross_entropy(model(random_shift(x, self.shift, generator=generator)), y)
        loss.backward()
        opt.step()
        self.steps += 1
        return {"loss": loss.item()}


class VAEStep(Step):
    """Minimise the negative ELBO (nats/image) with Adam; returns its two terms as well.

    `optimizer` is any `torch.optim` class (Adam by default, SGD to see why Adam is the default).
    ``kl_warmup=n`` is KL annealing (Bowman et al. 2016): the KL weight grows
    linearly from 0 to `beta` over the first n steps, so the decoder learns to
    use z before the KL term can push q(z|x) onto the prior.
    """

    def __init__(self, model, *, lr: float = 2e-3, beta: float = 1.0, kl_warmup: int = 0, shift: int = 0,
                 optimizer=torch.optim.Adam, preview_seed: int = 0):
        self.beta, self.kl_warmup, self.shift = beta, kl_warmup, shift
        self.modules = {"model": model}
        self.optimizers = {"opt": optimizer(model.parameters(), lr=lr)}  # any torch.optim class
        self._z = torch.randn(16, model.z_dim, generator=torch.Generator().manual_seed(preview_seed))

    def kl_weight(self) -> float:
        return self.beta * min(1.0, self.steps / self.kl_warmup) if self.kl_warmup else self.beta

    def __call__(self, batch, generator):
        x = random_shift(batch[0].to(self.device), self.shift, generator=generator)
        model, opt = self.modules["model"], self.optimizers["opt"]
        opt.zero_grad()
        logits, mu, logvar = model(x)
        rec, kl = losses.bernoulli_nll(logits, x).mean(), losses.gaussian_kl(mu, logvar).mean()
        (rec + self.kl_weight() * kl).backward()
        opt.step()
        self.steps += 1
        return {"loss": (rec + kl).item(), "reconstruction": rec.item(), "kl": kl.item()}

    @torch.no_grad()
    def preview(self):
        model = self.modules["model"]
        was_training = model.training
        model.eval()
        images = model.decode(self._z.to(self.device))
        model.train(was_training)
        return images


class GANStep(Step):
    """(1) update D, (2) update G — with the stabilisers the course compares, each off by default.

    - ``loss``: "minimax", "non-saturating", "hinge" or "wasserstein" (then ``gp`` should be > 0);
    - ``lr_d`` ≠ ``lr_g``: two time-scale updates (TTUR, Heusel et al. 2017);
    - ``betas``: Adam's (β1, β2); DCGAN's β1 = 0.5 damps the oscillation of momentum in a game;
    - ``smoothing``: one-sided label smoothing of D's real targets;
    - ``gp``: weight λ of WGAN-GP's `losses.gradient_penalty`; ``n_critic`` D updates per G update;
    - ``ema_decay``: also keep a weight-averaged generator (`EMA`), used by `preview`;
    - ``shift``: translate real and fake images alike before D (DiffAugment, Zhao et al. 2020).
    Batches are (x,) or (x, y) with x in [0, 1]; with labels, G and D are class-conditional.
    """

    def __init__(self, G, D, *, loss: str = "hinge", lr_g: float = 2e-4, lr_d: float = 2e-4,
                 betas=(0.5, 0.999), smoothing: float = 0.0, gp: float = 0.0, n_critic: int = 1,
                 ema_decay: float | None = None, shift: int = 0, preview_seed: int = 0):
        losses.d_loss(torch.zeros(1), torch.zeros(1), kind=loss, smoothing=smoothing)  # validate early
        self.loss, self.smoothing, self.gp, self.n_critic, self.shift = loss, smoothing, gp, n_critic, shift
        self.G, self.D = G, D
        self.modules = {"G": G, "D": D}
        self.optimizers = {"G": torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas),
                           "D": torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)}
        self.ema = EMA(G, decay=ema_decay) if ema_decay else None
        if self.ema:
            self.modules["G_ema"] = self.ema.model
        self._z = torch.randn(16, G.z_dim, generator=torch.Generator().manual_seed(preview_seed))

    def _D(self, x, y, generator):
        x = random_shift(x, self.shift, generator=generator)
        return self.D(x, y) if y is not None else self.D(x)

    def _G(self, z, y, G=None):
        G = G or self.G
        return G(z, y) if y is not None else G(z)

    def __call__(self, batch, generator):
        real = batch[0].to(self.device) * 2 - 1  # G and D work in [−1, 1]
        y = batch[1].to(self.device) if len(batch) > 1 else None
        for _ in range(self.n_critic):
            # (1) update D: maximise log D(x) + log(1 − D(G(z))) (or the hinge / Wasserstein version)
            z = torch.randn(len(real), self.G.z_dim, generator=generator).to(self.device)
            fake = self._G(z, y)
            self.optimizers["D"].zero_grad()
            loss_d = losses.d_loss(self._D(real, y, generator), self._D(fake.detach(), y, generator),
                                   kind=self.loss, smoothing=self.smoothing)
            if self.gp:
                loss_d = loss_d + self.gp * losses.gradient_penalty(self.D, real, fake, labels=y, generator=generator)
            loss_d.backward()
            self.optimizers["D"].step()
        # (2) update G: fool the freshly updated D
        self.optimizers["G"].zero_grad()
        loss_g = losses.g_loss(self._D(fake, y, generator), kind=self.loss)
        loss_g.backward()
        self.optimizers["G"].step()
        if self.ema:
            self.ema.update(self.G)
        self.steps += 1
        return {"d_loss": loss_d.item(), "g_loss": loss_g.item()}

    @torch.no_grad()
    def preview(self):
        G = self.ema.model if self.ema else self.G
        was_training = G.training
        G.eval()
        labels = torch.arange(len(self._z)) % G.n_classes if getattr(G, "n_classes", None) else None
        z = self._z.to(self.device)
        images = (self._G(z, labels.to(z.device) if labels is not None else None, G) + 1) / 2
        G.train(was_training)
        return images
