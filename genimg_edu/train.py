"""Short, explicit training loops for the course's three model families.

Each loop shows its steps (``zero_grad`` / ``backward`` / ``step``), runs for a
fixed number of ``steps`` (reproducible for a seed) or until ``max_seconds``
have passed, whichever comes first, and returns a history of its losses. The
same functions train the live models in the notebooks and the shipped
checkpoints (`scripts/pretrain.py`), only for longer.

`fit` (from `genimg_edu.fit`, re-exported here) is the general loop: any model
family through a step object (`genimg_edu.steps`), with time budgets,
checkpoints that resume exactly, a NaN guard and a live dashboard.
"""
from __future__ import annotations

import contextlib
import copy
import math
import time

import torch
import torch.nn.functional as F

from genimg_edu import losses


def batches(n: int, batch_size: int, *, generator: torch.Generator):
    """Endless shuffled mini-batch indices: every epoch a new permutation of range(n)."""
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} is larger than the data ({n})")
    while True:
        perm = torch.randperm(n, generator=generator)
        for i in range(0, n - batch_size + 1, batch_size):
            yield perm[i:i + batch_size]


def random_shift(x: torch.Tensor, max_shift: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each image (B, C, H, W) by whole pixels in [−max_shift, max_shift], filling with zeros.

    Differentiable in x, so it can also augment a discriminator's inputs (DiffAugment, Zhao et al. 2020).
    """
    if max_shift == 0:
        return x
    b, _, h, w = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (2, b), generator=generator).to(x.device)
    padded = F.pad(x, [max_shift] * 4)  # (B, C, H + 2m, W + 2m)
    rows = (torch.arange(h, device=x.device) + max_shift - shifts[0, :, None])  # (B, H)
    cols = (torch.arange(w, device=x.device) + max_shift - shifts[1, :, None])  # (B, W)
    idx = torch.arange(b, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (B, C, H, W)


def nuisance(x: torch.Tensor, *, generator: torch.Generator | None = None, max_blur: float = 1.2,
             max_noise: float = 0.1, gamma_spread: float = 0.3) -> torch.Tensor:
    """Random changes that should not alter what a digit *is*: blur, stroke contrast (gamma), pixel noise.

    Each image (B, 1, H, W) in [0, 1] gets a Gaussian blur with σ ~ U[0, max_blur] (none below 0.3),
    a gamma ``x^γ`` with log γ ~ N(0, gamma_spread²), and, with probability 1/2, noise N(0, σ_n²) with
    σ_n ~ U[0, max_noise]. Training the metrics classifier with them makes its features — and so the
    Fréchet distance measured in them — respond to what digits look like, not to imperceptible texture.
    """
    b = len(x)
    sigma = torch.rand(b, generator=generator) * max_blur
    r = torch.arange(-3, 4, dtype=x.dtype)
    k = torch.exp(-r**2 / (2 * sigma.clamp(min=0.3)[:, None] ** 2))  # (B, 7) one kernel per image
    k = torch.where((sigma >= 0.3)[:, None], k / k.sum(1, keepdim=True), (r == 0).to(x.dtype))
    kernels = (k[:, :, None] * k[:, None, :]).unsqueeze(1).to(x.device)  # (B, 1, 7, 7)
    out = F.conv2d(x.transpose(0, 1), kernels, padding=3, groups=b).transpose(0, 1)  # each image its own kernel
    gamma = torch.exp(torch.randn(b, 1, 1, 1, generator=generator) * gamma_spread).to(x.device)
    out = out.clamp(0, 1) ** gamma
    noisy = (torch.rand(b, 1, 1, 1, generator=generator) < 0.5).to(x.device)
    noise = torch.randn(x.shape, generator=generator).to(x.device) * torch.rand(b, 1, 1, 1, generator=generator).to(x.device)
    return (out + noisy * max_noise * noise).clamp(0, 1)


class EMA:
    """An exponential moving average of a model's weights, θ_ema ← d·θ_ema + (1 − d)·θ.

    Averaging a GAN generator's weights over the last few thousand steps
    smooths out the oscillation of the adversarial game (Yazıcı et al. 2019);
    BatchNorm statistics are copied, not averaged.
    """

    def __init__(self, model: torch.nn.Module, *, decay: float = 0.999):
        self.model, self.decay = copy.deepcopy(model).eval().requires_grad_(False), decay

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for p_ema, p in zip(self.model.parameters(), model.parameters()):
            p_ema.lerp_(p, 1 - self.decay)
        for b_ema, b in zip(self.model.buffers(), model.buffers()):
            b_ema.copy_(b)


@torch.no_grad()
def standing_stats(G, *, batches: int = 100, batch_size: int = 256, seed: int = 0) -> None:
    """Recompute a generator's BatchNorm statistics for its *current* weights (BigGAN's "standing stats").

    An `EMA` generator averages weights but copies the running BatchNorm
    statistics of the live generator, which belong to other weights; the
    mismatch shows as too-bright, too-thick strokes. Averaging the batch
    statistics of `batches` fresh batches of z fixes it. G is left in eval mode.
    """
    g = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    norms = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    G.train()
    for _ in range(batches):
        z = torch.randn(batch_size, G.z_dim, generator=g).to(device)
        labels = torch.randint(0, G.n_classes, (batch_size,), generator=g).to(device) if G.n_classes else None
        G(z, labels) if labels is not None else G(z)
    for m in norms:
        m.momentum = 0.1
    G.eval()


def cosine_lr(step: int, total: int, *, warmup: int = 0) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay from 1 to 0 over `total` steps."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


@contextlib.contextmanager
def seeded(seed: int, device):
    """Fork the global RNG and seed it: dropout and sampling noise inside a loop depend on `seed` alone,
    and the caller's random state is left as it was."""
    with torch.random.fork_rng(devices=[device] if torch.device(device).type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def _budget(steps, max_seconds):
    if steps is None and max_seconds is None:
        raise ValueError("give a budget: steps=… and/or max_seconds=…")
    start = time.perf_counter()
    return lambda step: (steps is not None and step >= steps) or (
        max_seconds is not None and time.perf_counter() - start >= max_seconds)


def _minimise(model, opt, n, batch_loss, *, steps, max_seconds, batch_size, warmup, seed, device):
    """The loop shared by `train_classifier` and `train_vae`: shuffled batches, one optimiser step each,
    a cosine learning rate over `steps`. ``batch_loss(idx, g)`` returns the loss of the batch `idx`."""
    g = torch.Generator().manual_seed(seed)
    total = steps or 10_000
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine_lr(s, total, warmup=min(warmup, total // 10)))
    done, history = _budget(steps, max_seconds), {"loss": []}
    model.train()
    with seeded(seed, device):
        for step, idx in enumerate(batches(n, batch_size, generator=g)):
            if done(step):
                break
            opt.zero_grad()
            loss = batch_loss(idx, g)
            loss.backward()
            opt.step()
            sched.step()
            history["loss"].append(loss.item())
    history["steps"] = step
    return history


def train_classifier(model, x, y, *, steps=None, max_seconds=None, batch_size=128, lr=2e-3, shift=0,
                     robust=False, weight_decay=5e-4, seed=0, device=None):
    """Cross-entropy training with AdamW and a cosine schedule over `steps`. Returns {"loss": [...], "steps"}.

    `shift` randomly translates each batch by up to that many pixels; ``robust=True`` also applies
    `nuisance` (blur, gamma, noise), for a classifier used as a measuring instrument.
    """
    device = device or next(model.parameters()).device

    def batch_loss(idx, g):
        xb = random_shift(x[idx], shift, generator=g)
        xb = (nuisance(xb, generator=g) if robust else xb).to(device)
        return F.cross_entropy(model(xb), y[idx].to(device))

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    return _minimise(model, opt, len(x), batch_loss, steps=steps, max_seconds=max_seconds, batch_size=batch_size,
                     warmup=100, seed=seed, device=device)


def train_vae(model, x, *, steps=None, max_seconds=None, batch_size=128, lr=2e-3, beta=1.0, shift=0, seed=0,
              device=None):
    """Minimise the negative ELBO (nats/image; β-weighted KL for a β-VAE) with Adam and a cosine schedule.

    Returns {"loss": [...], "steps"}.
    """
    device = device or next(model.parameters()).device

    def batch_loss(idx, g):
        return model.loss(random_shift(x[idx], shift, generator=g).to(device), beta=beta)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return _minimise(model, opt, len(x), batch_loss, steps=steps, max_seconds=max_seconds, batch_size=batch_size,
                     warmup=200, seed=seed, device=device)


def train_gan(G, D, x, labels=None, *, steps=None, max_seconds=None, batch_size=64, loss="hinge", lr_g=2e-4,
              lr_d=2e-4, betas=(0.5, 0.999), ema_decay=0.999, shift=0, mode_seeking=0.0, seed=0, callback=None,
              every=500):
    """Alternate D and G updates; images `x` in [0, 1] are mapped to [−1, 1].

    ``mode_seeking=λ > 0`` adds the mode-seeking term of Mao et al. (2019) to G's loss: the batch's
    second half reuses the first half's labels with fresh noise, and G pays
    ``λ / (mean|G(z₁, y) − G(z₂, y)| / mean|z₁ − z₂|)`` — it is rewarded for making different z
    give different images, the cure for a conditional generator that ignores its noise.

    Returns (history, ema) where `ema.model` is the weight-averaged generator.
    ``callback(step, G, ema)`` runs every `every` steps (evaluation, snapshots).
    """
    device = next(G.parameters()).device
    g = torch.Generator().manual_seed(seed)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
    ema = EMA(G, decay=ema_decay)
    done, history = _budget(steps, max_seconds), {"d_loss": [], "g_loss": []}
    aug = lambda t: random_shift(t, shift, generator=g)  # the same augmentation for real and fake (DiffAugment)
    for step, idx in enumerate(batches(len(x), batch_size, generator=g)):
        if done(step):
            break
        real = (x[idx] * 2 - 1).to(device)
        y = labels[idx].to(device) if labels is not None else None
        z = torch.randn(batch_size, G.z_dim, generator=g).to(device)
        half, y_fake = batch_size // 2, y
        if mode_seeking and y is not None:
            y_fake = torch.cat([y[:half], y[:half], y[2 * half:]])  # pairs (z₁, y), (z₂, y) for the mode-seeking term
        # (1) update D: maximise log D(x) + log(1 − D(G(z))) (or the hinge version)
        fake = G(z, y_fake) if y is not None else G(z)
        opt_d.zero_grad()
        d_real = D(aug(real), y) if y is not None else D(aug(real))
        d_fake = D(aug(fake.detach()), y_fake) if y is not None else D(aug(fake.detach()))
        loss_d = losses.d_loss(d_real, d_fake, kind=loss)
        loss_d.backward()
        opt_d.step()
        # (2) update G: fool the freshly updated D
        opt_g.zero_grad()
        d_fake = D(aug(fake), y_fake) if y is not None else D(aug(fake))
        loss_g = losses.g_loss(d_fake, kind=loss)
        if mode_seeking:
            ratio = (fake[:half] - fake[half:2 * half]).abs().mean() / (z[:half] - z[half:2 * half]).abs().mean()
            loss_g = loss_g + mode_seeking / (ratio + 1e-5)
        loss_g.backward()
        opt_g.step()
        ema.update(G)
        history["d_loss"].append(loss_d.item())
        history["g_loss"].append(loss_g.item())
        if callback and (step + 1) % every == 0:
            callback(step + 1, G, ema)
    history["steps"] = step
    return history, ema


class ToyGAN:
    """A GAN on the 2-D ring of Gaussians that trains a few steps at a time — for plots and the step widget.

    Non-saturating loss, Adam(β = (0, 0.9)), and an R1 gradient penalty
    ``(γ/2) E_data ‖∇_x D(x)‖²`` on the discriminator (Mescheder et al. 2018),
    which keeps this small game from oscillating. ``r1=0`` switches it off.
    """

    def __init__(self, *, hidden: int = 64, lr: float = 1e-3, r1: float = 0.1, std: float = 0.1,
                 batch_size: int = 256, g_steps: int = 1, seed: int = 0):
        from genimg_edu.models import MLPDiscriminator, MLPGenerator

        self.std, self.r1, self.batch_size, self.g_steps, self.steps = std, r1, batch_size, g_steps, 0
        self.gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.G, self.D = MLPGenerator(hidden=hidden), MLPDiscriminator(hidden=hidden)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.0, 0.9))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.0, 0.9))
        self.history = {"d_loss": [], "g_loss": []}

    def step(self, n: int = 1) -> None:
        """n rounds of (1) one D update, (2) `g_steps` G updates."""
        from genimg_edu.data.toy import ring_of_gaussians

        for _ in range(n):
            real = ring_of_gaussians(self.batch_size, std=self.std, generator=self.gen).requires_grad_(self.r1 > 0)
            z = torch.randn(self.batch_size, self.G.z_dim, generator=self.gen)
            # (1) update D: real → 1, fake → 0, plus the R1 penalty on real points
            self.opt_d.zero_grad()
            d_real = self.D(real)
            loss_d = losses.d_loss(d_real, self.D(self.G(z).detach()))
            if self.r1 > 0:
                grad, = torch.autograd.grad(d_real.sum(), real, create_graph=True)  # (B, 2)
                loss_d = loss_d + self.r1 / 2 * grad.pow(2).sum(1).mean()
            loss_d.backward()
            self.opt_d.step()
            # (2) update G: make D call its points real
            for _ in range(self.g_steps):
                z = torch.randn(self.batch_size, self.G.z_dim, generator=self.gen)
                self.opt_g.zero_grad()
                loss_g = losses.g_loss(self.D(self.G(z)))
                loss_g.backward()
                self.opt_g.step()
            self.history["d_loss"].append(loss_d.item())
            self.history["g_loss"].append(loss_g.item())
            self.steps += 1

    @torch.no_grad()
    def samples(self, n: int = 1000, *, seed: int = 1) -> torch.Tensor:
        return self.G.sample(n, generator=torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def d_map(self, lim: float = 3.0, size: int = 100) -> torch.Tensor:
        """D's probability that a point is real, σ(D(x)), on a size×size grid over [−lim, lim]²."""
        axis = torch.linspace(-lim, lim, size)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)  # (size², 2)
        return torch.sigmoid(self.D(grid)).reshape(size, size)

    def coverage(self, n: int = 2000) -> tuple[int, float]:
        """(modes covered of 8, fraction of high-quality samples), see `metrics.mode_coverage`."""
        from genimg_edu.data.toy import ring_centres
        from genimg_edu.metrics import mode_coverage

        return mode_coverage(self.samples(n), ring_centres(), std=self.std)


from genimg_edu.fit import fit  # noqa: E402  (the general loop; the functions above are its short forms)
