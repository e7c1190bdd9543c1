"""A procedural dataset of coloured shapes whose generating factors are known.

Every image is one shape on a black background, drawn with OpenCV from five
independent factors — the ground truth that a disentangling model such as the
β-VAE should recover:

==========  =============================================  =========
factor      values                                         dtype
==========  =============================================  =========
shape       0 square, 1 circle, 2 triangle, 3 star           int64
scale       size relative to the image, uniform [0.5, 1]    float32
rotation    radians, uniform over the shape's symmetry      float32
            period (square π/2, triangle 2π/3, star 2π/5),
            so different values mean different pictures
x, y        centre, as a fraction of the width/height       float32
color       index into `COLORS` (6 saturated hues)          int64
==========  =============================================  =========

Drawing at 4× resolution and shrinking with area averaging gives smooth edges.
10,000 images of 32×32 take about a second.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from genimg_edu import validate

SHAPE_NAMES = ("square", "circle", "triangle", "star")
COLORS = np.array([(255, 64, 64), (64, 200, 64), (64, 96, 255),
                   (255, 210, 40), (230, 64, 230), (40, 220, 230)], dtype=np.uint8)  # RGB
SYMMETRY = np.array([np.pi / 2, 2 * np.pi / 48, 2 * np.pi / 3, 2 * np.pi / 5])  # rotation period of each shape
SUPERSAMPLE = 4
_SUBPIXEL_BITS = 4  # cv2.fillPoly works in fixed point with this many fractional bits


def _outline(shape: int, radius: float, angle: float) -> np.ndarray:
    """Vertices (K, 2) of a shape centred on the origin."""
    if shape == 0:
        t = np.pi / 4 + np.arange(4) * np.pi / 2
        r = np.full(4, radius)
    elif shape == 1:
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        r = np.full(48, radius * 0.85)
    elif shape == 2:
        t = np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        r = np.full(3, radius)
    else:
        t = np.pi / 2 + np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, radius, radius * 0.45)
    t = t + angle
    return np.stack([r * np.cos(t), -r * np.sin(t)], axis=1)  # y axis points down in images


def make_shapes(n: int, *, size: int = 32, seed=0):
    """Draw `n` shapes; returns ``(images, factors)``.

    images : float32 tensor (n, 3, size, size) in [0, 1]
    factors : dict of tensors (n,) — ``shape``, ``scale``, ``rotation``, ``x``, ``y``, ``color``

    The same `seed` (an int or a tuple of ints) always gives the same images.
    """
    if validate.count("size", size) not in (32, 64):
        raise ValueError(f"size must be 32 or 64, got {size!r}")
    n = validate.count("n", n, minimum=1)
    for part in seed if isinstance(seed, tuple) else (seed,):
        validate.count("seed", part)
    rng = np.random.default_rng(seed)
    factors = {
        "shape": rng.integers(0, len(SHAPE_NAMES), n),
        "scale": rng.uniform(0.5, 1.0, n),
        "rotation": rng.uniform(0, 1, n),  # a fraction of the symmetry period, scaled below
        "x": rng.uniform(0.3, 0.7, n),
        "y": rng.uniform(0.3, 0.7, n),
        "color": rng.integers(0, len(COLORS), n),
    }
    factors["rotation"] = factors["rotation"] * SYMMETRY[factors["shape"]]
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big, 3), dtype=np.uint8)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        canvas[:] = 0
        radius = factors["scale"][i] * 0.3 * big
        centre = np.array([factors["x"][i], factors["y"][i]]) * big
        points = _outline(int(factors["shape"][i]), radius, factors["rotation"][i]) + centre
        fixed = np.round(points * (1 << _SUBPIXEL_BITS)).astype(np.int32)
        cv2.fillPoly(canvas, [fixed], COLORS[factors["color"][i]].tolist(), lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        images[i] = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255)  # (n, 3, size, size)
    labels = {k: torch.from_numpy(v.astype(np.int64 if v.dtype.kind == "i" else np.float32))
              for k, v in factors.items()}
    return x, labels
