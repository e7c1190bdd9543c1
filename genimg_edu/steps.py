"""One training step per model family — what `genimg_edu.fit.fit` repeats.

A step object owns its models, optimisers and learning-rate schedules (so `fit`
can checkpoint them) and is called with one batch: ``losses = step(batch, generator)``.
Each call shows its updates explicitly — ``zero_grad`` / ``backward`` / ``step`` — and
returns the batch's losses as plain floats for the history and the dashboard::

    step = VAEStep(ConvVAE(), lr=2e-3)
    history = fit(step, (x_train,), max_seconds=30)

These are the updates notebooks 02–04 write out by hand and prove equal
(``torch.equal`` on every weight after the same steps from the same seed); what a
step adds beyond the hand-written loop is off by default. `preview()` returns a
few images (or None) for the dashboard, always from the same noise, so the grid
shows training, not sampling luck.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn

from genimg_edu import losses
from genimg_edu.augment import nuisance, random_shift
from genimg_edu.diffusion import flow_path
from genimg_edu.runtime import noise


def _require(ok: bool, name: str, value, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


def cosine_schedule(opt: torch.optim.Optimizer, *, total: int, warmup: int = 0):
    """Linear warm-up over `warmup` steps, then cosine decay of the learning rate to 0 at step `total`
    (Loshchilov & Hutter 2017) — PyTorch's own `LinearLR` → `CosineAnnealingLR`."""
    _require(isinstance(warmup, int) and warmup >= 0, "warmup", warmup, "a non-negative number of steps")
    _require(isinstance(total, int) and total > warmup, "decay_steps", total, f"a number of steps above warmup={warmup}")
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup)
    if not warmup:
        return decay
    ramp = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / warmup, total_iters=warmup)
    return torch.optim.lr_scheduler.SequentialLR(opt, [ramp, decay], milestones=[warmup])


class Step:
    """Base class: `modules`, `optimizers` and `schedulers` are dicts of name → object, saved in checkpoints."""

    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict
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

    def _schedule(self, opt_name: str, decay_steps: int | None, warmup: int) -> None:
        _require(isinstance(warmup, int) and warmup >= 0, "warmup", warmup, "a non-negative number of steps")
        self.schedulers = ({opt_name: cosine_schedule(self.optimizers[opt_name], total=decay_steps, warmup=warmup)}
                           if decay_steps is not None else {})

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


class ClassifierStep(Step):
    """Cross-entropy ``−log p_θ(y | x)``, mean over the batch (`F.cross_entropy` of the logits), with AdamW.

    Options, each off by default: ``shift`` translates the inputs by up to that many
    pixels; ``robust=True`` also applies `augment.nuisance` (blur, gamma, noise), for
    a classifier used as a measuring instrument; ``decay_steps`` (with ``warmup``) is
    a cosine learning-rate schedule (`cosine_schedule`).
    """

    def __init__(self, model, *, lr: float = 2e-3, weight_decay: float = 5e-4, shift: int = 0,
                 robust: bool = False, decay_steps: int | None = None, warmup: int = 0):
        _require(lr > 0, "lr", lr, "positive")
        _require(isinstance(shift, int) and shift >= 0, "shift", shift, "a non-negative number of pixels")
        self.shift, self.robust = shift, robust
        self.net = model  # what the loss runs through (a DistributedDataParallel wrapper under torchrun)
        self.modules = {"model": model}
        self.optimizers = {"opt": torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)}
        self._schedule("opt", decay_steps, warmup)

    def __call__(self, batch, generator):
        x, y = batch
        x = random_shift(x, self.shift, generator=generator)
        x = nuisance(x, generator=generator) if self.robust else x
        x, y = x.to(self.device), y.to(self.device)
        opt = self.optimizers["opt"]
        opt.zero_grad()
        loss = F.cross_entropy(self.net(x), y)
        loss.backward()
        opt.step()
        for s in self.schedulers.values():
            s.step()
        self.steps += 1
        return {"loss": loss.item()}


class VAEStep(Step):
    """Minimise the negative ELBO ``E_q[−log p(x|z)] + β·KL(q(z|x) ‖ p(z))`` (nats/image, `VAE.loss`'s
    terms and `losses.vae_loss`) with Adam; the history records both terms and their sum at β = 1.

    `optimizer` is any `torch.optim` class (Adam by default, SGD to see why Adam is the default).
    ``kl_warmup=n`` is KL annealing (Bowman et al. 2016): the KL weight grows
    linearly from 0 to `beta` over the first n steps, so the decoder learns to
    use z before the KL term can push q(z|x) onto the prior. ``decay_steps`` /
    ``warmup``: a cosine learning-rate schedule; ``shift``: random translations.
    """

    def __init__(self, model, *, lr: float = 2e-3, beta: float = 1.0, kl_warmup: int = 0, shift: int = 0,
                 optimizer=torch.optim.Adam, decay_steps: int | None = None, warmup: int = 0, preview_seed: int = 0):
        _require(lr > 0, "lr", lr, "positive")
        _require(beta >= 0, "beta", beta, "non-negative")
        _require(isinstance(kl_warmup, int) and kl_warmup >= 0, "kl_warmup", kl_warmup, "a non-negative number of steps")
        _require(isinstance(shift, int) and shift >= 0, "shift", shift, "a non-negative number of pixels")
        self.beta, self.kl_warmup, self.shift = beta, kl_warmup, shift
        self.net = _Terms(model)  # model.terms as a forward pass (what DistributedDataParallel wraps)
        self.modules = {"model": model}
        self.optimizers = {"opt": optimizer(model.parameters(), lr=lr)}  # any torch.optim class
        self._schedule("opt", decay_steps, warmup)
        self._z = noise(16, model.z_dim, generator=torch.Generator().manual_seed(preview_seed))

    def kl_weight(self) -> float:
        return self.beta * min(1.0, self.steps / self.kl_warmup) if self.kl_warmup else self.beta

    def __call__(self, batch, generator):
        x = random_shift(batch[0], self.shift, generator=generator).to(self.device)
        opt = self.optimizers["opt"]
        opt.zero_grad()
        rec, kl = self.net(x)  # model.terms(x): (B,), (B,) nats per image
        loss = losses.vae_loss(rec, kl, beta=self.kl_weight())
        loss.backward()
        opt.step()
        for s in self.schedulers.values():
            s.step()
        self.steps += 1
        rec, kl = rec.mean().item(), kl.mean().item()
        return {"loss": rec + kl, "reconstruction": rec, "kl": kl}

    @torch.no_grad()
    def preview(self):
        model = self.modules["model"]
        was_training = model.training
        model.eval()
        images = model.decode(self._z.to(self.device))
        model.train(was_training)
        return images


class GANStep(Step):
    """(1) update D on real and detached fake images, (2) update G through the freshly updated D.

    With the defaults apart from ``loss`` this is exactly the update notebook 03 writes
    out. The stabilisers the course compares are each off by default:

    - ``loss``: "minimax", "non-saturating", "hinge" or "wasserstein" (then ``gp`` should be > 0);
    - ``lr_d`` ≠ ``lr_g``: two time-scale updates (TTUR, Heusel et al. 2017);
    - ``betas``: Adam's (β1, β2); DCGAN's β1 = 0.5 damps the oscillation of momentum in a game;
    - ``smoothing``: one-sided label smoothing of D's real targets;
    - ``gp``: weight λ of WGAN-GP's `losses.gradient_penalty`; ``r1``: weight γ of `losses.r1_penalty`;
    - ``n_critic``: D updates per G update;
    - ``ema_decay``: also keep an exponential moving average of G's weights and BatchNorm
      statistics (`torch.optim.swa_utils.AveragedModel`), used by `preview` and `averaged_generator`;
    - ``shift``: translate real and fake images alike before D (DiffAugment, Zhao et al. 2020);
    - ``mode_seeking``: weight λ of `losses.mode_seeking` in G's loss (Mao et al. 2019); the
      batch's second half reuses the first half's labels with fresh noise.

    Batches are (x,) or (x, y) with x in [0, 1], mapped to G's and D's [−1, 1] (``rescale=False``
    for data already in G's space, such as the 2-D ring); with labels, G and D are class-conditional.
    """

    def __init__(self, G, D, *, loss: str = "hinge", lr_g: float = 2e-4, lr_d: float = 2e-4,
                 betas=(0.5, 0.999), smoothing: float = 0.0, gp: float = 0.0, r1: float = 0.0, n_critic: int = 1,
                 ema_decay: float | None = None, shift: int = 0, mode_seeking: float = 0.0, rescale: bool = True,
                 preview_seed: int = 0):
        _require(loss in losses.GAN_LOSSES, "loss", loss, f"one of {losses.GAN_LOSSES}")
        losses.d_loss(torch.zeros(1), torch.zeros(1), kind=loss, smoothing=smoothing)  # smoothing fits the loss
        _require(lr_g > 0, "lr_g", lr_g, "positive")
        _require(lr_d > 0, "lr_d", lr_d, "positive")
        _require(isinstance(n_critic, int) and n_critic >= 1, "n_critic", n_critic, "a whole number >= 1")
        _require(ema_decay is None or 0 <= ema_decay < 1, "ema_decay", ema_decay, "None or in [0, 1)")
        _require(isinstance(shift, int) and shift >= 0, "shift", shift, "a non-negative number of pixels")
        for name, value in (("gp", gp), ("r1", r1), ("mode_seeking", mode_seeking)):
            _require(value >= 0, name, value, "a non-negative weight")
        self.loss, self.smoothing, self.gp, self.r1, self.n_critic = loss, smoothing, gp, r1, n_critic
        self.shift, self.mode_seeking, self.rescale = shift, mode_seeking, rescale
        self.G, self.D = G, D
        self.modules = {"G": G, "D": D}
        self.optimizers = {"G": torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas),
                           "D": torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)}
        self.schedulers = {}
        self.ema = None
        if ema_decay is not None:
            self.ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
            self.modules["G_ema"] = self.ema
        self._z = noise(16, G.z_dim, generator=torch.Generator().manual_seed(preview_seed))

    def _D(self, x, y, generator):
        return self.D(random_shift(x, self.shift, generator=generator), y)  # the same augmentation for real and fake

    def _fake_labels(self, y):
        if y is None or not self.mode_seeking:
            return y
        half = len(y) // 2
        return torch.cat([y[:half], y[:half], y[2 * half:]])  # pairs (z₁, y), (z₂, y) for the mode-seeking term

    def __call__(self, batch, generator):
        real = batch[0].to(self.device)
        real = real * 2 - 1 if self.rescale else real  # G and D work in [−1, 1]
        y = batch[1].to(self.device) if len(batch) > 1 else None
        y_fake = self._fake_labels(y)
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        for _ in range(self.n_critic):
            z = noise(len(real), self.G.z_dim, generator=generator, device=self.device)
            fake = self.G(z, y_fake)
            # (1) update D: maximise log D(x) + log(1 − D(G(z))) (or the hinge / Wasserstein version)
            opt_d.zero_grad()
            loss_d = losses.d_loss(self._D(real, y, generator), self._D(fake.detach(), y_fake, generator),
                                   kind=self.loss, smoothing=self.smoothing)
            if self.gp:
                loss_d = loss_d + self.gp * losses.gradient_penalty(self.D, real, fake, labels=y, generator=generator)
            if self.r1:
                loss_d = loss_d + self.r1 * losses.r1_penalty(self.D, real, labels=y)
            loss_d.backward()
            opt_d.step()
        # (2) update G: fool the freshly updated D. D's weights need no gradient here: switching it off
        # changes no number and saves a fifth of a DCGAN step on a CPU.
        opt_g.zero_grad()
        self.D.requires_grad_(False)
        loss_g = losses.g_loss(self._D(fake, y_fake, generator), kind=self.loss)
        if self.mode_seeking:
            loss_g = loss_g + self.mode_seeking * losses.mode_seeking(fake, z)
        loss_g.backward()
        self.D.requires_grad_(True)
        opt_g.step()
        if self.ema:
            self.ema.update_parameters(self.G)
        self.steps += 1
        return {"d_loss": loss_d.item(), "g_loss": loss_g.item()}

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator to sample from: the weight average when there is one."""
        return self.ema.module if self.ema else self.G

    @torch.no_grad()
    def preview(self):
        G = self.sampler
        was_training = G.training
        G.eval()
        labels = torch.arange(len(self._z), device=self.device) % G.n_classes if G.n_classes else None
        images = (G(self._z.to(self.device), labels) + 1) / 2
        G.train(was_training)
        return images

    @torch.no_grad()
    def averaged_generator(self, *, batches: int = 100, batch_size: int = 256, seed: int = 0) -> torch.nn.Module:
        """A copy of `sampler` in eval mode with BatchNorm statistics recomputed for its own weights.

        An averaged generator's running statistics are an average over *other*
        weights; BigGAN's "standing statistics" — `torch.optim.swa_utils.update_bn`
        over `batches` fresh batches of z — fit them to the averaged weights.
        """
        G = copy.deepcopy(self.sampler)
        g = torch.Generator().manual_seed(seed)
        feed = [{"z": noise(batch_size, G.z_dim, generator=g, device=self.device),
                 "labels": torch.randint(0, G.n_classes, (batch_size,), generator=g).to(self.device)
                 if G.n_classes else None} for _ in range(batches)]
        update_bn(feed, _Unpack(G))
        return G.eval()


class _Terms(torch.nn.Module):
    """A VAE's ``terms`` as a module's forward pass: `DistributedDataParallel` averages gradients of forward only."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        return self.vae.terms(x)


class _Unpack(torch.nn.Module):
    """`update_bn` calls ``model(batch)`` with one object: unpack it into the generator's (z, labels)."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, batch):
        return self.G(batch["z"], batch["labels"])


class FlowStep(Step):
    """Flow matching (Lipman et al. 2023; rectified flow, Liu et al. 2023): regress the velocity of the straight
    path from data to noise, ``L = E_{t, x_0, ε} ‖v_θ(x_t, t, y) − (ε − x_0)‖²`` with ``x_t = (1 − t)·x_0 + t·ε``
    (`diffusion.flow_path`), mean over pixels and batch, with Adam.

    - ``t_sampling``: "uniform", or "logit-normal" (t = sigmoid(n), n ~ N(0, 1); Esser et al. 2024), which
      spends the updates on the middle of the path, where the velocity is hardest to guess;
    - ``label_dropout``: with labelled batches (x, y), the share of labels replaced by the "no class" token,
      so one network learns both velocities classifier-free guidance mixes (Ho & Salimans 2022);
    - ``ema_decay``: keep an exponential moving average of the weights (`sampler`), as for the GANs;
    - ``decay_steps`` / ``warmup``: a cosine learning-rate schedule; ``rescale=False`` for data already
      centred (the 2-D ring), otherwise images in [0, 1] are mapped to [−1, 1].
    """

    T_SAMPLING = ("uniform", "logit-normal")

    def __init__(self, model, *, lr: float = 2e-3, t_sampling: str = "logit-normal", label_dropout: float = 0.1,
                 ema_decay: float | None = None, decay_steps: int | None = None, warmup: int = 0,
                 rescale: bool = True, preview_seed: int = 0):
        _require(lr > 0, "lr", lr, "positive")
        _require(t_sampling in self.T_SAMPLING, "t_sampling", t_sampling, f"one of {self.T_SAMPLING}")
        _require(0 <= label_dropout < 1, "label_dropout", label_dropout, "in [0, 1)")
        _require(ema_decay is None or 0 <= ema_decay < 1, "ema_decay", ema_decay, "None or in [0, 1)")
        self.t_sampling, self.label_dropout, self.rescale = t_sampling, label_dropout, rescale
        self.model = self.net = model  # `net`: what the loss runs through (wrapped under torchrun)
        self.modules = {"model": model}
        self.optimizers = {"opt": torch.optim.Adam(model.parameters(), lr=lr)}
        self._schedule("opt", decay_steps, warmup)
        self.ema = None
        if ema_decay is not None:
            self.ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
            self.modules["model_ema"] = self.ema
        self._preview_seed = preview_seed

    def sample_t(self, n: int, generator) -> torch.Tensor:
        u = torch.randn(n, generator=generator) if self.t_sampling == "logit-normal" else torch.rand(n, generator=generator)
        return torch.sigmoid(u) if self.t_sampling == "logit-normal" else u

    def __call__(self, batch, generator):
        x0 = batch[0] * 2 - 1 if self.rescale else batch[0]
        y = batch[1] if len(batch) > 1 else None
        eps, t = noise(*x0.shape, generator=generator), self.sample_t(len(x0), generator)
        if y is not None and self.label_dropout:
            drop = torch.rand(len(y), generator=generator) < self.label_dropout
            y = torch.where(drop, torch.full_like(y, self.model.n_classes), y)  # the "no class" token
        x_t, v = flow_path(x0, eps, t)
        x_t, v, t = x_t.to(self.device), v.to(self.device), t.to(self.device)
        y = y.to(self.device) if y is not None else None
        opt = self.optimizers["opt"]
        opt.zero_grad()
        loss = F.mse_loss(self.net(x_t, t, y), v)
        loss.backward()
        opt.step()
        for s in self.schedulers.values():
            s.step()
        if self.ema:
            self.ema.update_parameters(self.model)
        self.steps += 1
        return {"loss": loss.item()}

    @property
    def sampler(self) -> torch.nn.Module:
        """The network to sample from: the weight average when there is one."""
        return self.ema.module if self.ema else self.model

    @torch.no_grad()
    def preview(self):
        if len(self.model.data_shape) != 3:
            return None
        net = self.sampler
        was_training = net.training
        net.eval()
        labels = torch.arange(16) % net.n_classes if net.n_classes else None
        images = net.sample(16, labels=labels, steps=8, generator=torch.Generator().manual_seed(self._preview_seed))
        net.train(was_training)
        return images
