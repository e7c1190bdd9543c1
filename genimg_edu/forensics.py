"""Telling generated images from real ones, and labelling them: the tools of notebook 08.

- `ATTACKS`: what an image meets on its way through the web — JPEG re-encoding, blur, resizing
  down and back (notebook 01's operations) — applied to a batch (N, 1, H, W) in [0, 1].
- `detector_features`: what a detector reads — the log-magnitude Fourier spectrum, where upsampling
  layers and smooth decoders leave their traces (Durall et al. 2020, Frank et al. 2020), and the
  intensity histogram, where scanned and generated pixels differ.
- A watermark meant to be invisible: spread spectrum in the DCT domain (after Cox et al. 1997),
  informed by what the image already contains (the idea of improved spread spectrum, Malvar &
  Florêncio 2003). Each bit of the message is spread over a band of middle frequencies by a secret
  random pattern (the *key*); to read it, correlate the band with each pattern: the sign is the bit.
  Middle frequencies survive blur, resizing and JPEG better than the high ones, which go first, and
  show less than the low ones.

Every function takes one-channel images (N, 1, H, W) with values in [0, 1] and checks its arguments
at the door; notebook 08 prints five of them as the lesson, so those are checked by wrappers (the end
of this file) and print as the bare algorithm.
"""
from __future__ import annotations

import functools
import inspect

import cv2
import numpy as np
import torch
from scipy.fft import dctn, idctn

from genimg_edu import validate
from genimg_edu.preprocess import resize

BAND = (6, 20)  # coefficients (u, v) with BAND[0] <= u + v <= BAND[1]: middle frequencies


def _images(images) -> torch.Tensor:
    return validate.images("images", images, shape=(1, None, None), value_range=(0, 1))


def _bits(bits, n: int) -> None:
    """A message per image: 0/1 as integers or booleans, (N, n_bits)."""
    if not isinstance(bits, torch.Tensor):
        raise TypeError(f"bits must be a torch.Tensor of 0/1 (N, n_bits), got {type(bits).__name__}")
    if bits.is_floating_point() or bits.is_complex():
        raise TypeError(f"bits must be integers or booleans (0/1), got dtype {bits.dtype}")
    if bits.ndim != 2 or len(bits) != n:
        raise ValueError(f"expected images (N, 1, H, W) and bits (N, n_bits), got bits of shape {tuple(bits.shape)} "
                         f"for N = {n} images")
    if bits.numel() and not ((bits == 0) | (bits == 1)).all():
        raise ValueError(f"bits must be 0 or 1, got values from {int(bits.min())} to {int(bits.max())}")


def _band(h: int, w: int) -> torch.Tensor:
    u, v = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return ((u + v >= BAND[0]) & (u + v <= BAND[1])).flatten()  # (H·W,) mask


def patterns(n_bits: int, shape=(28, 28), *, key: int = 0) -> torch.Tensor:
    """The secret: one random pattern per bit over the band's coefficients, (n_bits, band size)."""
    size = int(_band(*shape).sum())
    if not 1 <= n_bits <= size:
        raise ValueError(f"n_bits must be between 1 and the band's {size} coefficients, got {n_bits}")
    g = torch.Generator().manual_seed(key)
    q, _ = torch.linalg.qr(torch.randn(size, n_bits, generator=g, dtype=torch.float64))
    return q.T * size ** 0.5  # orthogonal patterns, each of mean square 1: the bits do not interfere


def _dct(images: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(dctn(images.double().numpy(), axes=(-2, -1), norm="ortho"))


def embed(images: torch.Tensor, bits: torch.Tensor, *, strength: float = 0.04, key: int = 0,
          rounds: int = 4) -> torch.Tensor:
    """Write `bits` (N, n_bits) of 0/1 into images (N, 1, H, W) in [0, 1]; returns 8-bit-exact images in [0, 1].

    Each bit's correlation with its pattern is pushed to at least ±`strength` (a correlation already
    beyond it is left alone: the image keeps what it need not lose). Clipping to [0, 1] and rounding to
    8 bits undo part of that (MNIST's background is exactly 0, so half of any change there is clipped),
    so the correction is repeated `rounds` times on the image as it will be saved.
    """
    if images.ndim != 4 or bits.shape != (len(images), bits.shape[1]):
        raise ValueError(f"expected images (N, 1, H, W) and bits (N, n_bits), got {tuple(images.shape)}, {tuple(bits.shape)}")
    n, _, h, w = images.shape
    p, band = patterns(bits.shape[1], (h, w), key=key), _band(h, w)
    signs = bits.double() * 2 - 1  # (N, n_bits): ±1
    marked = images.double()
    for _ in range(rounds):
        c = _dct(marked).reshape(n, -1)
        now = c[:, band] @ p.T / p.shape[1]  # (N, n_bits): how much of each pattern the image contains now
        short = (strength - signs * now).clamp(min=0)  # how far each correlation is from ±strength, or 0 beyond it
        c[:, band] += (signs * short) @ p  # push each correlation to at least ±strength, no further
        marked = torch.from_numpy(idctn(c.reshape(n, 1, h, w).numpy(), axes=(-2, -1), norm="ortho"))
        marked = (marked.clamp(0, 1) * 255).round() / 255  # what a saved PNG keeps
    return marked.float()


def extract(images: torch.Tensor, n_bits: int, *, key: int = 0) -> torch.Tensor:
    """The bits (N, n_bits) read back from images (N, 1, H, W): the sign of each pattern's correlation."""
    n, _, h, w = images.shape
    band = _dct(images).reshape(n, -1)[:, _band(h, w)]
    return (band @ patterns(n_bits, (h, w), key=key).double().T > 0).long()


def bit_accuracy(images: torch.Tensor, bits: torch.Tensor, *, key: int = 0) -> float:
    """Share of the bits read back correctly."""
    _bits(bits, len(_images(images)))
    return float((extract(images, bits.shape[1], key=key) == bits.long()).double().mean())


def _each(images: torch.Tensor, fn) -> torch.Tensor:
    """Apply `fn` (8-bit H×W array → 8-bit H×W array) to every image of a batch (N, 1, H, W) in [0, 1]."""
    if not len(_images(images)):
        return images.clone()
    u8 = (images.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return torch.from_numpy(np.stack([fn(im[0])[None] for im in u8])).float() / 255


def jpeg(images: torch.Tensor, quality: int = 75) -> torch.Tensor:
    """Encode as JPEG at `quality` (a whole number, 1 to 100) and decode again (OpenCV), as an upload to most
    websites does."""
    quality = validate.count("quality", quality, minimum=1)  # a Python int, as OpenCV wants
    if quality > 100:
        raise ValueError(f"quality must be an integer in [1, 100], got {quality}")
    return _each(images, lambda im: cv2.imdecode(cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, quality])[1],
                                                 cv2.IMREAD_GRAYSCALE))


def blur(images: torch.Tensor, sigma: float = 0.8) -> torch.Tensor:
    """A Gaussian blur of standard deviation `sigma` > 0 pixels."""
    validate.number("sigma", sigma, low=0, low_inclusive=False)
    return _each(images, lambda im: cv2.GaussianBlur(im, (0, 0), sigma))


def down_up(images: torch.Tensor, factor: float = 0.5) -> torch.Tensor:
    """Resize by `factor` in (0, 1] and back to the original size (notebook 01's `resize`), as a thumbnail would."""
    validate.number("factor", factor, low=0, high=1, low_inclusive=False)
    h, w = _images(images).shape[-2:]
    if round(h * factor) < 1 or round(w * factor) < 1:
        raise ValueError(f"factor {factor} shrinks {h}×{w} images to nothing; expected at least 1 pixel a side")
    return _each(images, lambda im: resize(resize(im, (round(h * factor), round(w * factor))), (h, w)))


ATTACKS = {"JPEG (quality 75)": jpeg, "blur (σ = 0.8 px)": blur, "resize ½ and back": down_up}


def spectrum_features(images: torch.Tensor) -> np.ndarray:
    """log(1 + |FFT|) of each image (N, 1, H, W), the half-plane the real FFT keeps, flattened: (N, H·(W/2 + 1))."""
    return np.log1p(np.abs(np.fft.rfft2(images[:, 0].double().numpy()))).reshape(len(images), -1)


def intensity_histogram(images: torch.Tensor, bins: int = 32) -> np.ndarray:
    """The share of each image's pixels in each of `bins` equal intensity bins over [0, 1]: (N, bins).
    Scanned digits are exactly 0 on the background and saturate in the ink; a generator's tanh or
    sigmoid rarely hits either end exactly."""
    x = images.flatten(1).clamp(0, 1).double().numpy()
    index = np.minimum((x * bins).astype(int), bins - 1)
    return np.stack([np.bincount(row, minlength=bins) for row in index]) / x.shape[1]


def detector_features(images: torch.Tensor) -> np.ndarray:
    """What notebook 08's detector reads: the log spectrum and the intensity histogram, side by side."""
    return np.hstack([spectrum_features(images), intensity_histogram(images)])


# --- the door -------------------------------------------------------------------------------------
# Notebook 08 prints the source of the five functions below; they are wrapped rather than edited, so
# that they print as the algorithm alone (inspect.getsource and inspect.signature follow __wrapped__).

def _checked(check):
    """Wrap a function so that `check` first sees its arguments, by name and with their defaults."""
    def wrap(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            check(**bound.arguments)
            return fn(*args, **kwargs)
        return checked
    return wrap


def _check_patterns(n_bits, shape, key):
    validate.count("n_bits", n_bits, minimum=1)
    validate.count("key", key)
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape must be an (H, W) pair, got {shape!r}")
    for side in shape:
        validate.count("shape", side, minimum=1)


def _check_embed(images, bits, strength, key, rounds):
    _bits(bits, len(_images(images)))
    validate.number("strength", strength, low=0)  # 0 writes no mark: the reference point of the widget's slider
    validate.count("key", key)
    validate.count("rounds", rounds, minimum=1)


def _check_extract(images, n_bits, key):
    _images(images)
    validate.count("n_bits", n_bits, minimum=1)
    validate.count("key", key)


def _check_histogram(images, bins):
    _images(images)
    validate.count("bins", bins, minimum=1)


patterns = _checked(_check_patterns)(patterns)
embed = _checked(_check_embed)(embed)
extract = _checked(_check_extract)(extract)
spectrum_features = _checked(_images)(spectrum_features)
intensity_histogram = _checked(_check_histogram)(intensity_histogram)
