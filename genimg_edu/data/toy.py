"""2-D toy data for GANs: a ring of Gaussians, small enough to see every sample and every mode."""
from __future__ import annotations

import math

import torch

from genimg_edu import validate


def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The centres (modes, 2) of the ring's Gaussians, evenly spaced on a circle."""
    modes, radius = validate.count("modes", modes, minimum=1), validate.number("radius", radius, low=0)
    angles = torch.arange(modes) * 2 * math.pi / modes
    return radius * torch.stack([angles.cos(), angles.sin()], 1)


def ring_of_gaussians(n: int, *, modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """n points (n, 2) from an equal mixture of `modes` Gaussians N(centre, std² I) on a circle."""
    n, modes = validate.count("n", n, minimum=1), validate.count("modes", modes, minimum=1)
    std = validate.number("std", std, low=0, low_inclusive=False)
    which = torch.randint(0, modes, (n,), generator=generator)
    return ring_centres(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)
