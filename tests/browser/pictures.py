"""Screenshots as arrays, and how much of a region changed between two of them."""
from __future__ import annotations

import cv2
import numpy as np


def decode_png(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("not a PNG screenshot")
    return img  # (H, W, 3) BGR


def region(element, within) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of `element` in the coordinates of a screenshot of `within`."""
    a, b = element.bounding_box(), within.bounding_box()
    x0, y0 = round(a["x"] - b["x"]), round(a["y"] - b["y"])
    return x0, y0, x0 + round(a["width"]), y0 + round(a["height"])


def changed_fraction(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int] | None = None,
                     *, tolerance: int = 16) -> float:
    """Fraction of pixels in `box` (default: all) that differ by more than `tolerance` in some channel."""
    h, w = min(before.shape[0], after.shape[0]), min(before.shape[1], after.shape[1])
    x0, y0, x1, y1 = box or (0, 0, w, h)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty region {box} in screenshots of {before.shape} and {after.shape}")
    a = before[y0:y1, x0:x1].astype(np.int16)
    b = after[y0:y1, x0:x1].astype(np.int16)
    return float((np.abs(a - b).max(axis=2) > tolerance).mean())
