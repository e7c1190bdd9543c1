"""Augmentations used while training: shifts for the data and DiffAugment, nuisances for the metrics classifier.

Both take a seeded CPU `torch.Generator`, so a run repeats exactly for a seed
(the random draws are made on the CPU and moved to the images' device).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from genimg_edu import validate


def random_shift(x: torch.Tensor, max_shift: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each image (B, C, H, W) by whole pixels in [−max_shift, max_shift], filling with zeros.

    Differentiable in x, so it can also augment a discriminator's inputs (DiffAugment, Zhao et al. 2020).
    """
    if validate.count("max_shift", max_shift) == 0:
        return x  # whatever x is: a GAN step calls this on toy points too
    validate.images("x", x)  # shape and dtype only: this runs on every training batch
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
    validate.images("x", x)  # shape and dtype only: this runs on every training batch
    for name, value in (("max_blur", max_blur), ("max_noise", max_noise), ("gamma_spread", gamma_spread)):
        validate.number(name, value, low=0)
    b = len(x)
    if b == 0:
        return x.clone()
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
