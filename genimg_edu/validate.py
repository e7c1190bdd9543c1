"""Validate at the door: check what a learner passes, once, where it enters the package.

Every public function checks its arguments before it computes anything and
raises `TypeError` (wrong kind of thing: a float where a count belongs, a NumPy
array where a tensor belongs) or `ValueError` (right kind, wrong value: a label
of 12 for ten classes, pixels 0..255 where [0, 1] is expected), with a message
that names the argument, shows what it got and says what was expected. Code
behind the door trusts its callers, so training loops pay for cheap shape and
dtype checks only; scans over values (min/max of a batch) stay at the entry
points that are not inner loops.

Each helper returns the cleaned value, so a check reads as an assignment:
``n = validate.count("n", n)``. This module is the bottom layer: it imports
nothing of genimg_edu.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch

TOLERANCE = 1e-3  # how far outside value_range an image may stray (float error, resampling overshoot)


def _type(value) -> str:
    """``int``, ``numpy.ndarray``, ``torch.Tensor``: the type as a learner would write it."""
    t = type(value)
    module = t.__module__.split(".")[0]
    return t.__name__ if module == "builtins" else f"{module}.{t.__name__}"


def count(name: str, value, *, minimum: int = 0) -> int:
    """A whole number (int or NumPy integer; not bool, not float — not even 3.0) ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a whole number (int), got {value!r} ({_type(value)})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _interval(low, high, low_inclusive: bool, high_inclusive: bool) -> str:
    if low is not None and high is not None:
        return f"in {'[' if low_inclusive else '('}{low:g}, {high:g}{']' if high_inclusive else ')'}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {low:g}"
    return f"{'<=' if high_inclusive else '<'} {high:g}"


def number(name: str, value, *, low=None, high=None, low_inclusive: bool = True,
           high_inclusive: bool = True) -> float:
    """A real, finite number (not bool; NaN and ±inf rejected) within the optional bounds."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex() and value.dtype != torch.bool:
        value = value.item()  # a 0-d tensor from a computation is a number too
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({_type(value)})")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}")
    too_low = low is not None and (v < low if low_inclusive else v <= low)
    too_high = high is not None and (v > high if high_inclusive else v >= high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {_interval(low, high, low_inclusive, high_inclusive)}, got {value!r}")
    return v


def labels(name: str, value, *, n: int, n_classes: int) -> torch.Tensor:
    """Class labels: integer dtype (float rejected even when whole), shape exactly (n,), values in
    [0, n_classes). Accepts a tensor (its device is kept), a NumPy array or a list; returns int64."""
    if isinstance(value, torch.Tensor):
        t = value
        is_int = not (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool)
    else:
        a = np.asarray(value) if isinstance(value, (np.ndarray, list, tuple)) else None
        if a is None:
            raise TypeError(f"{name} must be a tensor, array or list of integer labels, got {_type(value)}")
        if a.size == 0 and a.dtype == np.float64:
            a = a.astype(np.int64)  # np.asarray([]) is float
        is_int = np.issubdtype(a.dtype, np.integer)
        t = torch.from_numpy(a.astype(np.int64)) if is_int else None
    if not is_int:
        dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
        raise TypeError(f"{name} must be integers (e.g. int64), got dtype {dtype}")
    if tuple(t.shape) != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {tuple(t.shape)}")
    if n:
        lo, hi = torch.stack(torch.aminmax(t)).tolist()  # one read of the values (one sync on a GPU)
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"{name} must be integers in [0, {n_classes}), got values from {lo} to {hi}")
    return t.long()


def images(name: str, x, *, shape=None, value_range=None) -> torch.Tensor:
    """A float tensor of images (N, C, H, W). `shape` = (C, H, W) must match (an entry None matches
    any size); `value_range` = (lo, hi) scans the values (within `TOLERANCE`) and rejects NaN."""
    if not isinstance(x, torch.Tensor):
        hint = "; use torch.from_numpy / genimg_edu.preprocess.to_tensor" if isinstance(x, np.ndarray) else ""
        raise TypeError(f"{name} must be a torch.Tensor of images (N, C, H, W), got {_type(x)}{hint}")
    if not x.is_floating_point():
        hint = " — divide uint8 pixels by 255" if x.dtype == torch.uint8 else ""
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}{hint}")
    if x.ndim != 4:
        hint = "; add a batch axis with x[None]" if x.ndim == 3 else ""
        raise ValueError(f"{name} must be 4-D images (N, C, H, W), got shape {tuple(x.shape)}{hint}")
    if shape is not None and any(s is not None and s != d for s, d in zip(shape, x.shape[1:])):
        want = ", ".join("?" if s is None else str(s) for s in shape)
        raise ValueError(f"{name} must have shape (N, {want}), got {tuple(x.shape)}")
    if value_range is not None and x.numel():
        lo, hi = (float(v) for v in torch.stack(torch.aminmax(x.detach())).tolist())
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"{name} must be in [{value_range[0]:g}, {value_range[1]:g}], got NaN values")
        a, b = value_range
        if lo < a - TOLERANCE or hi > b + TOLERANCE:
            got = (f"values from {lo:g} to {hi:g}" if lo < a - TOLERANCE and hi > b + TOLERANCE
                   else f"values up to {hi:g}" if hi > b + TOLERANCE else f"values down to {lo:g}")
            hint = (" — divide uint8 pixels by 255" if hi > 2 and b <= 1 else
                    " — map [-1, 1] to [0, 1] with (x + 1) / 2" if (a, b) == (0, 1) and lo >= -1 - TOLERANCE else "")
            raise ValueError(f"{name} must be in [{a:g}, {b:g}], got {got}{hint}")
    return x


def one_of(name: str, value, choices):
    """`value` if it is one of `choices`, else a ValueError listing them."""
    try:
        ok = not isinstance(value, (torch.Tensor, np.ndarray)) and value in choices
    except TypeError:  # an unhashable value
        ok = False
    if not ok:
        raise ValueError(f"unknown {name} {value!r}; expected one of {list(choices)}")
    return value
