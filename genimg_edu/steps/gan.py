"""The two-player step: (1) update D, (2) update G — notebook 03's round of the game, with the
stabilisers notebook 05 compares as options."""
from __future__ import annotations

import copy

import torch
from torch.optim.swa_utils import update_bn

from genimg_edu import losses
from genimg_edu.augment import random_shift
from genimg_edu.runtime import noise
from genimg_edu.steps.base import Step, _flag, _kind, _module, _number, _require, _steps

def discriminator_step(D, opt_d, real, fake, *, kind: str = "non-saturating", smoothing: float = 0.0,
                       labels=(None, None), penalty=None) -> torch.Tensor:
    """(1) of a GAN round: one step of D on real images and *detached* fakes; returns D's loss.

    ``opt_d.zero_grad()`` first (PyTorch adds gradients up), ``fake.detach()`` so that D's backward pass
    stops at the images and leaves G alone, then ``backward`` and ``step``. `D` scores images (and their
    `labels`, (real's, fake's), for a conditional game); `penalty()`, when given, adds a term on D
    (WGAN-GP, R1). Exercise 3.3 asks for exactly this with the defaults.
    """
    y_real, y_fake = labels
    opt_d.zero_grad()
    d_real = D(real) if y_real is None else D(real, y_real)
    d_fake = D(fake.detach()) if y_fake is None else D(fake.detach(), y_fake)
    loss_d = losses.d_loss(d_real, d_fake, kind=kind, smoothing=smoothing)
    if penalty is not None:
        loss_d = loss_d + penalty()
    loss_d.backward()
    opt_d.step()
    return loss_d


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
        _module("G", G)
        _module("D", D)
        _kind(isinstance(getattr(G, "z_dim", None), int), "G", G, "a generator with a z_dim (e.g. DCGANGenerator)")
        _require(isinstance(loss, str) and loss in losses.GAN_LOSSES, "loss", loss, f"one of {losses.GAN_LOSSES}")
        losses.d_loss(torch.zeros(1), torch.zeros(1), kind=loss, smoothing=smoothing)  # smoothing fits the loss
        _number("lr_g", lr_g, "positive (a finite number)", lambda v: v > 0)
        _number("lr_d", lr_d, "positive (a finite number)", lambda v: v > 0)
        _kind(isinstance(betas, (tuple, list)) and len(betas) == 2, "betas", betas, "a pair (beta1, beta2)")
        for i, b in enumerate(betas):
            _number(f"betas[{i}]", b, "in [0, 1) (Adam's betas)", lambda v: 0 <= v < 1)
        _steps("n_critic", n_critic, "a whole number >= 1", minimum=1)
        _steps("shift", shift, "a non-negative number of pixels")
        for name, value in (("gp", gp), ("r1", r1), ("mode_seeking", mode_seeking)):
            _number(name, value, "a non-negative weight (a finite number)", lambda v: v >= 0)
        _flag("rescale", rescale)
        _steps("preview_seed", preview_seed, "a non-negative whole number")
        self.loss, self.smoothing, self.gp, self.r1, self.n_critic = loss, smoothing, gp, r1, n_critic
        self.shift, self.mode_seeking, self.rescale = shift, mode_seeking, rescale
        self.G, self.D = G, D
        self.modules = {"G": G, "D": D}
        self.optimizers = {"G": torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas),
                           "D": torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)}
        self.schedulers = {}
        self.trained, self.preview_seed = "G", preview_seed
        self.average(ema_decay)

    def _D(self, x, y, generator):
        return self.D(random_shift(x, self.shift, generator=generator), y)  # the same augmentation for real and fake

    def _penalty(self, real, fake, y, generator):
        """D's regularisers, as one term for `discriminator_step` (None when both are off)."""
        if not (self.gp or self.r1):
            return None

        def penalty():
            term = 0.0
            if self.gp:
                term = term + self.gp * losses.gradient_penalty(self.D, real, fake, labels=y, generator=generator)
            if self.r1:
                term = term + self.r1 * losses.r1_penalty(self.D, real, labels=y)
            return term
        return penalty

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
            loss_d = discriminator_step(lambda x, labels=None: self._D(x, labels, generator), opt_d, real, fake,
                                        kind=self.loss, smoothing=self.smoothing, labels=(y, y_fake),
                                        penalty=self._penalty(real, fake, y, generator))
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
        self.update_average()
        self.steps += 1
        return {"d_loss": loss_d.item(), "g_loss": loss_g.item()}

    @torch.no_grad()
    def averaged_generator(self, *, batches: int = 100, batch_size: int = 256, seed: int = 0) -> torch.nn.Module:
        """A copy of `sampler` in eval mode with BatchNorm statistics recomputed for its own weights.

        An averaged generator's running statistics are an average over *other*
        weights; BigGAN's "standing statistics" — `torch.optim.swa_utils.update_bn`
        over `batches` fresh batches of z — fit them to the averaged weights.
        """
        batches = _steps("batches", batches, "a whole number >= 1", minimum=1)
        batch_size = _steps("batch_size", batch_size, "a whole number >= 1", minimum=1)
        seed = _steps("seed", seed, "a non-negative whole number")
        G = copy.deepcopy(self.sampler)
        g = torch.Generator().manual_seed(seed)
        feed = [{"z": noise(batch_size, G.z_dim, generator=g, device=self.device),
                 "labels": torch.randint(0, G.n_classes, (batch_size,), generator=g).to(self.device)
                 if G.n_classes else None} for _ in range(batches)]
        update_bn(feed, _Unpack(G))
        return G.eval()


class _Unpack(torch.nn.Module):
    """`update_bn` calls ``model(batch)`` with one object: unpack it into the generator's (z, labels)."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, batch):
        return self.G(batch["z"], batch["labels"])
