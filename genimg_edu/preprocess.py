"""Reading, resizing and augmenting images before they reach a network.

Images are NumPy ``(H, W, 3)`` uint8 RGB arrays, 0..255 (grayscale ``(H, W)``
where it makes sense); `read_image` (from `genimg_edu.imagefile`) turns OpenCV's BGR into RGB, so
``img[..., 0]`` is red. Networks want float ``(C, H, W)`` tensors in ``[0, 1]``
or ``[-1, 1]``: `to_tensor` and `to_image` cross that border both ways.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import cv2
import numpy as np
import torch

from genimg_edu import validate
from genimg_edu.imagefile import ImageReadError, decode_image, read_image  # noqa: F401  (their home before)

INTERPOLATIONS = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
                  "area": cv2.INTER_AREA, "lanczos": cv2.INTER_LANCZOS4}
VALUE_RANGES = ((0, 1), (-1, 1))


def _array(img, name: str) -> np.ndarray:
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name}: img must be a NumPy array (H, W[, C]), got {type(img).__name__}; see to_image")
    if img.ndim not in (2, 3) or img.size == 0:
        raise ValueError(f"{name}: img must be (H, W) or (H, W, C), got shape {img.shape}")
    return img


def _size_pair(size, name: str) -> tuple[int, int]:
    """``int`` -> ``(size, size)``; ``(h, w)`` -> itself; both must be positive integers."""
    pair = (size, size) if isinstance(size, Integral) else tuple(size) if isinstance(size, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in pair):
        raise ValueError(f"{name}: size must be a positive int or a (height, width) pair of them, got {size!r}")
    return int(pair[0]), int(pair[1])


def resize(img: np.ndarray, size, *, interpolation: str = "auto", antialias: bool = True,
           keep_aspect: bool = False) -> np.ndarray:
    """Resize to ``size`` = ``(height, width)``, or ``size x size`` for an int.

    With ``keep_aspect=True`` an int sets the *shorter* side (as torchvision
    does) and a ``(h, w)`` box is the largest size that fits inside it.

    ``interpolation="auto"`` takes ``"area"`` when shrinking (each output pixel
    averages the input pixels it covers) and ``"cubic"`` when enlarging.

    Aliasing: shrinking by a factor ``s`` keeps one sample in ``s``, so the
    output can only hold frequencies up to its Nyquist limit, ``0.5 / s``
    cycles per input pixel. Finer patterns do not vanish, they *fold back* as
    false coarse ones (moire on shirts, jagged rings on a zone plate).
    Interpolators that read only a few neighbours (nearest, linear, cubic,
    lanczos) cannot stop this, so with ``antialias=True`` we first blur with a
    Gaussian of ``sigma = (s - 1) / 2`` per axis (scikit-image's choice),
    removing most of what the output cannot hold. ``"area"`` already averages.
    """
    in_h, in_w = _array(img, "resize").shape[:2]
    h, w = _size_pair(size, "resize")
    if keep_aspect:
        r = h / min(in_h, in_w) if isinstance(size, Integral) else min(h / in_h, w / in_w)
        h, w = max(1, round(in_h * r)), max(1, round(in_w * r))
    if interpolation == "auto":
        interpolation = "area" if h < in_h or w < in_w else "cubic"
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: unknown interpolation {interpolation!r}; expected 'auto' or one of "
                         f"{sorted(INTERPOLATIONS)}")
    src = img
    if antialias and interpolation != "area" and (h < in_h or w < in_w):
        sigma_y, sigma_x = max(0.0, (in_h / h - 1) / 2), max(0.0, (in_w / w - 1) / 2)
        k_y, k_x = (cv2.getGaussianKernel(2 * math.ceil(4 * s) + 1, s) if s > 0 else np.ones((1, 1))
                    for s in (sigma_y, sigma_x))  # Gaussian truncated at 4 sigma; no blur along a growing axis
        src = cv2.sepFilter2D(img, -1, k_x, k_y, borderType=cv2.BORDER_REFLECT_101)
    out = cv2.resize(src, (w, h), interpolation=INTERPOLATIONS[interpolation])  # cv2 wants (width, height)
    return out.reshape(out.shape[:2] + img.shape[2:])  # OpenCV drops a trailing channel axis of 1


def center_crop(img: np.ndarray, size) -> np.ndarray:
    """Cut the central ``(h, w)`` window (``size x size`` for an int); it must fit in the image."""
    h, w = _size_pair(size, "center_crop")
    in_h, in_w = _array(img, "center_crop").shape[:2]
    if h > in_h or w > in_w:
        raise ValueError(f"center_crop: size {(h, w)} is larger than the image ({in_h}, {in_w})")
    top, left = (in_h - h) // 2, (in_w - w) // 2
    return img[top:top + h, left:left + w].copy()


def rotate(img: np.ndarray, angle: float, *, expand: bool = False, fill=0) -> np.ndarray:
    """Rotate by ``angle`` degrees, positive = counter-clockwise (the math and OpenCV convention).

    "90 degrees clockwise" is therefore ``rotate(img, -90)``. Multiples of 90
    degrees are exact pixel permutations (`np.rot90`): no interpolation, and
    height and width swap for a quarter turn, whatever ``expand`` says. Other
    angles resample with bilinear interpolation (`cv2.warpAffine`); the
    canvas keeps its size and loses the corners unless ``expand=True``, which
    grows it to ``(w|sin| + h|cos|, w|cos| + h|sin|)`` so nothing is cut.
    ``fill`` (a number or one value per channel) paints the uncovered area.
    """
    _array(img, "rotate"), validate.number("angle", angle)
    if angle % 90 == 0:
        return np.ascontiguousarray(np.rot90(img, k=int(angle // 90) % 4))
    h, w = img.shape[:2]
    cx, cy = (w - 1) / 2, (h - 1) / 2  # centre between the middle pixels
    M = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)  # (2, 3): [R | t]
    if expand:
        cos, sin = abs(M[0, 0]), abs(M[0, 1])
        w, h = math.ceil(w * cos + h * sin - 1e-9), math.ceil(w * sin + h * cos - 1e-9)
        M[:, 2] += ((w - 1) / 2 - cx, (h - 1) / 2 - cy)  # move the centre to the new canvas centre
    fill = (fill,) * 4 if isinstance(fill, Real) else tuple(fill)  # OpenCV reads a bare number as (v, 0, 0, 0)
    out = cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)
    return out.reshape(out.shape[:2] + img.shape[2:])  # (h, w[, C]) even for C = 1


def flip(img: np.ndarray, *, horizontal: bool = True) -> np.ndarray:
    """Mirror left-right (``horizontal=True``) or top-bottom; returns a contiguous copy."""
    return np.ascontiguousarray(_array(img, "flip")[:, ::-1] if horizontal else img[::-1])


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """Multiply every pixel by ``factor >= 0``; uint8 in, uint8 out (rounded, clipped to 0..255)."""
    _array(img, "adjust_brightness"), validate.number("factor", factor, low=0)
    return np.clip(np.rint(img.astype(np.float32) * factor), 0, 255).astype(np.uint8)


def _low_end(value_range, name: str) -> int:
    if not isinstance(value_range, (tuple, list)) or tuple(value_range) not in VALUE_RANGES:
        raise ValueError(f"{name}: value_range must be (0, 1) or (-1, 1), got {value_range!r}")
    return value_range[0]


def normalize(img: np.ndarray, *, value_range=(0, 1)) -> np.ndarray:
    """uint8 0..255 -> float32 in ``[0, 1]`` (``x = v / 255``) or ``[-1, 1]`` (``x = 2 v / 255 - 1``).

    A generator whose last layer is ``tanh`` outputs ``(-1, 1)``: training
    images must live in the same range, and ``[-1, 1]`` is also centred on 0,
    which keeps the first layer's inputs balanced in sign.
    """
    lo = _low_end(value_range, "normalize")
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        raise ValueError(f"normalize: img must be a uint8 array (0..255), got {getattr(img, 'dtype', type(img))}; "
                         "was it normalized already?")
    x = img.astype(np.float32) / 255
    return x * 2 - 1 if lo == -1 else x


def denormalize(x: np.ndarray, *, value_range=(0, 1)) -> np.ndarray:
    """The inverse of `normalize`: float in ``value_range`` -> uint8, rounded and clipped."""
    lo = _low_end(value_range, "denormalize")
    x = np.asarray(x, dtype=np.float32)
    x = (x + 1) / 2 if lo == -1 else x
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def to_tensor(img: np.ndarray, *, value_range=(0, 1)) -> torch.Tensor:
    """``(H, W)``, ``(H, W, C)`` or a batch ``(N, H, W, C)`` of uint8 -> float32 ``(C, H, W)`` / ``(N, C, H, W)``.

    A 3-D array is always read as one ``(H, W, C)`` image, never as a batch.
    """
    if np.ndim(img) not in (2, 3, 4):
        raise ValueError(f"to_tensor: img must be (H, W), (H, W, C) or (N, H, W, C), got shape {np.shape(img)}")
    x = torch.from_numpy(normalize(np.ascontiguousarray(img), value_range=value_range))
    x = x[None] if x.ndim == 2 else x.movedim(-1, -3)  # (1, H, W) or (..., H, W, C) -> (..., C, H, W)
    return x.contiguous()


def to_image(t: torch.Tensor, *, value_range=(0, 1)) -> np.ndarray:
    """float ``(C, H, W)`` / ``(N, C, H, W)`` tensor (any device) -> uint8 ``(H, W, C)`` / ``(N, H, W, C)``.

    One-channel images come back as ``(H, W)`` / ``(N, H, W)``, ready for ``plt.imshow(..., cmap="gray")``.
    """
    t = torch.as_tensor(t).detach().cpu().float()
    if t.ndim not in (3, 4):
        raise ValueError(f"to_image: t must be (C, H, W) or (N, C, H, W), got shape {tuple(t.shape)}")
    t = t.movedim(-3, -1)  # (..., C, H, W) -> (..., H, W, C)
    return denormalize((t[..., 0] if t.shape[-1] == 1 else t).numpy(), value_range=value_range)  # gray: (..., H, W)


@dataclass(frozen=True)
class Augment:
    """How strongly `augment` perturbs an image; every draw is uniform in the stated range."""

    p_flip: float = 0.5  # probability of a left-right mirror
    max_angle: float = 15.0  # rotation in [-max_angle, max_angle] degrees
    scale: tuple[float, float] = (0.9, 1.1)  # zoom factor range (> 1 zooms in)
    max_shift: float = 0.1  # shift in [-max_shift, max_shift] x image width / height
    brightness: tuple[float, float] = (0.8, 1.2)  # brightness factor range

    def __post_init__(self):
        num = lambda *v: all(isinstance(x, Real) and math.isfinite(x) for x in v)  # noqa: E731
        pair = lambda r: np.shape(r) == (2,) and num(*r) and 0 <= r[0] <= r[1]  # noqa: E731
        ok = {"p_flip": num(self.p_flip) and 0 <= self.p_flip <= 1, "scale": pair(self.scale) and self.scale[0] > 0,
              "max_angle": num(self.max_angle) and self.max_angle >= 0, "brightness": pair(self.brightness),
              "max_shift": num(self.max_shift) and self.max_shift >= 0}
        bad = [name for name, good in ok.items() if not good]
        if bad:
            raise ValueError(f"Augment: bad {bad[0]}={getattr(self, bad[0])!r}; expected 0 <= p_flip <= 1, "
                             "non-negative maxima and (lo, hi) ranges with lo <= hi")


def _generator(rng) -> np.random.Generator:
    """An int seed -> a fresh generator; a generator is used (and advanced) as it is."""
    if isinstance(rng, bool) or not (isinstance(rng, np.random.Generator) or isinstance(rng, Integral) and rng >= 0):
        raise ValueError(f"rng must be a non-negative int seed or a np.random.Generator, got {rng!r}")
    return np.random.default_rng(rng)


def augment(img: np.ndarray, config: Augment = Augment(), *, rng) -> np.ndarray:
    """A random flip, rotation + zoom + shift and brightness change; same ``rng`` seed, same result.

    Rotation, zoom and shift form one affine map, so the image is resampled
    once (each resampling blurs a little). The output keeps the input's shape;
    pixels pulled in from outside are mirrored, which looks more natural than
    black corners. All five numbers are drawn on every call.
    """
    if not isinstance(config, Augment):
        raise TypeError(f"augment: config must be an Augment(...), got {type(config).__name__}")
    g = _generator(rng)
    h, w = _array(img, "augment").shape[:2]
    if g.random() < config.p_flip:
        img = flip(img)
    angle, zoom = g.uniform(-config.max_angle, config.max_angle), g.uniform(*config.scale)
    tx, ty = g.uniform(-config.max_shift, config.max_shift, size=2) * (w, h)
    factor = g.uniform(*config.brightness)
    M = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, zoom)  # (2, 3)
    M[:, 2] += (tx, ty)
    out = cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return adjust_brightness(out.reshape(img.shape), factor)


def augment_batch(images, config: Augment = Augment(), *, rng):
    """`augment` each image with its own draws from one generator; an array ``(N, H, W, C)`` gives an array back."""
    g = _generator(rng)
    out = [augment(img, config, rng=g) for img in images]
    return np.stack(out) if isinstance(images, np.ndarray) else out

