"""2-D toy data for GANs: a ring of Gaussians, small enough to see every sample and every mode."""
from __future__ import annotations

import math

import torch


def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The centres (modes, 2) of the ring's Gaussians, evenly spaced on a circle."""
    angles = torch.arange(modes) * 2 * math.pi / modes
    return radius * torch.stack([angles.cos(), angles.sin()], 1)


def ring_of_gaussians(n: int, *, modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """n points (n, 2) from an equal mixture of `modes` Gaussians N(centre, std² I) on a circle."""
    if n < 1 or modes < 1 or std <= 0:
        raise ValueError(f"need n >= 1, modes >= 1 and std > 0, got n={n}, modes={modes}, std={std}")
    which = torch.randint(0, modes, (n,), generator=generator)
    return ring_centres(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)
