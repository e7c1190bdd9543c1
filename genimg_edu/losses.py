"""Objectives of the course, each with the formula it implements and its reduction.

GAN losses take the discriminator's *logits* (pre-sigmoid scores), written
``d_real = D(x)`` and ``d_fake = D(G(z))``; ``σ`` is the sigmoid, so
``log D(x)`` in the papers is ``log σ(d_real)``. Every GAN loss is a mean over
the batch.

VAE terms are **summed over pixels and latent dimensions and averaged over the
batch**: the result is in nats per image, the number the ELBO is about. (A
mean over pixels instead divides the reconstruction term by 784 and silently
turns the model into a β-VAE with β = 784 — the most common VAE bug.)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from genimg_edu import validate

GAN_LOSSES = ("minimax", "non-saturating", "hinge", "wasserstein")


def d_loss(d_real: torch.Tensor, d_fake: torch.Tensor, *, kind: str = "non-saturating",
           smoothing: float = 0.0) -> torch.Tensor:
    """Discriminator loss (to minimise), mean over the batch.

    minimax / non-saturating (Goodfellow et al. 2014, eq. 1): the discriminator
    maximises ``E[log σ(d_real)] + E[log(1 − σ(d_fake))]``, i.e. minimises
    ``E[softplus(−d_real)] + E[softplus(d_fake)]`` (as ``−log σ(t) = softplus(−t)`` and
    ``−log(1 − σ(t)) = softplus(t)``): the binary cross-entropy with labels 1 for real
    and 0 for fake. One-sided label smoothing (Salimans et al. 2016, §3.4) uses the
    target ``1 − s`` for real images, which adds ``s · E[d_real]`` (the cross-entropy
    with target t is ``softplus(−d) + (1 − t)·d``).

    hinge (Lim & Ye 2017; Miyato et al. 2018): ``E[max(0, 1 − d_real)] + E[max(0, 1 + d_fake)]``.

    wasserstein (Arjovsky et al. 2017): the critic maximises ``E[d_real] − E[d_fake]``, so it
    minimises ``E[d_fake] − E[d_real]``; it needs a Lipschitz constraint such as `gradient_penalty`.
    """
    _check(kind, d_real=d_real, d_fake=d_fake)
    smoothing = validate.number("smoothing", smoothing, low=0, high=1, high_inclusive=False)
    if smoothing and kind not in ("minimax", "non-saturating"):
        raise ValueError(f"label smoothing applies to the cross-entropy losses, not {kind!r}")
    if kind == "hinge":
        return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
    if kind == "wasserstein":
        return d_fake.mean() - d_real.mean()
    loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    return loss + smoothing * d_real.mean() if smoothing else loss


def g_loss(d_fake: torch.Tensor, *, kind: str = "non-saturating") -> torch.Tensor:
    """Generator loss (to minimise), mean over the batch.

    minimax (saturating): ``E[log(1 − σ(d_fake))]`` — the original game. When D
    confidently rejects fakes (σ(d_fake) ≈ 0) its gradient vanishes.

    non-saturating (Goodfellow et al. 2014, §3): ``−E[log σ(d_fake)]`` — same
    fixed point, strong gradients exactly when G is losing.

    hinge and wasserstein: ``−E[d_fake]``.
    """
    _check(kind, d_fake=d_fake)
    if kind == "minimax":
        return -F.softplus(d_fake).mean()  # log(1 − σ(t)) = −softplus(t)
    if kind in ("hinge", "wasserstein"):
        return -d_fake.mean()
    return F.softplus(-d_fake).mean()  # −log σ(t) = softplus(−t)


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, *, labels=None, generator=None) -> torch.Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017, eq. 3): ``E_x̂[(‖∇_x̂ D(x̂)‖₂ − 1)²]``, mean over the batch.

    ``x̂ = ε·real + (1 − ε)·fake`` with one ε ~ U[0, 1] per image: points on
    straight lines between real and fake images, where the optimal critic has
    gradient norm 1. ``create_graph=True`` lets the penalty's own gradient
    reach D's weights (a gradient of a gradient). Weight it by λ = 10 in the critic's loss.
    """
    _same_shape(real=real, fake=fake)
    eps = torch.rand(len(real), *[1] * (real.dim() - 1), generator=generator, dtype=real.dtype).to(real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat, labels).sum(), x_hat, create_graph=True)  # (B, ...): each input's gradient
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def r1_penalty(D, real: torch.Tensor, *, labels=None) -> torch.Tensor:
    """R1 (Mescheder et al. 2018, eq. 9): ``½ E_data[‖∇_x D(x)‖²]``, mean over the batch.

    It pushes D's gradient to zero *on the data*, so D cannot grow a steep cliff
    there and the game settles instead of circling. Weight it by γ in D's loss.
    """
    _floats(real=real)
    x = real.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x, labels).sum(), x, create_graph=True)  # (B, ...)
    return 0.5 * grad.pow(2).flatten(1).sum(1).mean()


def mode_seeking(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mode-seeking term (Mao et al. 2019, eq. 3) for G to minimise: ``1 / (mean|G(z₁) − G(z₂)| / mean|z₁ − z₂|)``.

    The batch's first and second halves are pairs (z₁, z₂) with the same labels; a
    generator that maps different z to the same image pays a large ratio — the cure
    for a conditional generator that ignores its noise.
    """
    _floats(fake=fake, z=z)
    if len(fake) != len(z) or len(z) < 2:
        raise ValueError(f"fake and z must hold the same number (>= 2) of samples, got {len(fake)} and {len(z)}")
    half = len(z) // 2
    ratio = (fake[:half] - fake[half:2 * half]).abs().mean() / (z[:half] - z[half:2 * half]).abs().mean()
    return 1 / (ratio + 1e-5)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reconstruction term ``−log p(x | z)`` per image, in nats: (B,).

    Bernoulli decoder with probabilities ``σ(logits)`` on grey values x ∈ [0, 1]
    (the continuous relaxation used by the PyTorch VAE example):
    ``−Σ_pixels [x log σ(l) + (1 − x) log(1 − σ(l))]``. **Sum over pixels**, one value per image.
    Checks that x lies in [0, 1] (one read of its values): pixels 0..255 would give nonsense, not an error.
    """
    _same_shape(logits=logits, x=x)
    if x.numel():
        validate.images("x", x.reshape(len(x), 1, 1, -1), value_range=(0, 1))  # any shape (B, ...)
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(μ, σ²) ‖ N(0, I))`` per image, in nats: (B,).

    Kingma & Welling 2014, Appendix B:
    ``KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)``. **Sum over latent dimensions.**
    """
    _same_shape(mu=mu, logvar=logvar)
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


def vae_loss(rec: torch.Tensor, kl: torch.Tensor, *, beta: float = 1.0) -> torch.Tensor:
    """Negative ELBO (β = 1) or the β-VAE objective, **mean over the batch** of per-image sums (nats/image).

    ``L = E_q[−log p(x|z)] + β · KL(q(z|x) ‖ p(z))`` from the per-image terms
    `rec` = `bernoulli_nll` (B,) and `kl` = `gaussian_kl` (B,) — what `VAE.terms` returns.
    """
    _same_shape(rec=rec, kl=kl)
    beta = validate.number("beta", beta, low=0)
    return (rec + beta * kl).mean()


def bits_per_dim(nats_per_image: float, dims: int) -> float:
    """Convert nats per image to bits per dimension: ``nats / (dims · ln 2)``."""
    nats_per_image, dims = validate.number("nats_per_image", nats_per_image), validate.count("dims", dims, minimum=1)
    return nats_per_image / (dims * math.log(2))


def _check(kind: str, **scores) -> None:
    validate.one_of("kind", kind, GAN_LOSSES)
    _floats(**scores)


def _floats(**tensors) -> list[tuple[int, ...]]:
    """The cheap check at a loss's door: each argument is a floating-point tensor. Returns their shapes."""
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            got = f"dtype {t.dtype}" if isinstance(t, torch.Tensor) else type(t).__name__
            raise TypeError(f"{name} must be a floating-point torch.Tensor, got {got}")
    return [tuple(t.shape) for t in tensors.values()]


def _same_shape(**tensors) -> None:
    """Floating-point tensors, all of one shape."""
    shapes = _floats(**tensors)
    if len(set(shapes)) > 1:
        raise ValueError(f"{' and '.join(tensors)} must have the same shape, got {' and '.join(map(str, shapes))}")
