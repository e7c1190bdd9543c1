"""Reading image files as the course's arrays: ``(H, W, 3)`` uint8 RGB, whatever is on disk.

Grayscale, 16-bit, transparency, EXIF orientation, non-ASCII paths, and files that are empty, cut short or not
images at all (a clear `ImageReadError`, never None). Lab 1 has the learner write `decode_image` themselves.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

_FORMATS = "expected PNG, JPEG, BMP, TIFF, WebP or another format OpenCV can decode"


class ImageReadError(ValueError):
    """A file exists but does not hold an image we can decode (empty, truncated, not an image)."""


def _is_truncated(data: bytes) -> bool:
    """True for a PNG without its ``IEND`` chunk or a JPEG with no end marker ``FF D9`` after its first scan.

    Some OpenCV versions decode a cut JPEG with only a warning (missing rows
    come back grey), so we check ourselves. ``FF D9`` cannot occur inside a
    scan (a data byte ``FF`` is stored as ``FF 00``) but can in an EXIF
    thumbnail, so we hop over the header segments by their lengths first.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return b"IEND" not in data
    if not data.startswith(b"\xff\xd8"):
        return False  # other formats: trust the decoder
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF and data[i + 1] != 0xDA:  # 0xDA: start of scan
        i += 1 if data[i + 1] == 0xFF else 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return data.find(b"\xff\xd9", i) == -1


def read_image(path, *, alpha: str = "white") -> np.ndarray:
    """Read any image OpenCV can decode as ``(H, W, 3)`` uint8 RGB; never returns None.

    - grayscale is repeated into three channels;
    - 16-bit images are scaled to 8 bits with rounding (``round(v / 257)``);
      float images are assumed to lie in ``[0, 1]``;
    - transparency: ``alpha="white"`` (default) composites the picture over a
      white background, ``rgb * a + 255 * (1 - a)``, which is what a viewer
      shows; ``alpha="drop"`` discards the alpha channel and keeps the colour
      stored under transparent pixels (often black, sometimes garbage);
    - JPEGs are turned upright according to their EXIF orientation tag.

    Bytes are read by Python and decoded by ``cv2.imdecode``: ``cv2.imread``
    fails on non-ASCII paths (``ça_猫.png``) on Windows. A missing path raises
    `FileNotFoundError`; a directory, empty, truncated or non-image file
    raises `ImageReadError`.
    """
    if alpha not in ("white", "drop"):
        raise ValueError(f"read_image: alpha must be 'white' or 'drop', got {alpha!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"read_image: no such file: {path}")
    if path.is_dir():
        raise ImageReadError(f"read_image: {path} is a directory, not an image file ({_FORMATS})")
    data = path.read_bytes()
    if not data:
        raise ImageReadError(f"read_image: {path} is empty (0 bytes); {_FORMATS}")
    if _is_truncated(data):
        raise ImageReadError(f"read_image: {path} is truncated or corrupt (its end-of-image marker is missing); "
                             "was a download or copy interrupted?")
    return decode_image(data, alpha=alpha, name=str(path))


def decode_image(data: bytes, *, alpha: str = "white", name: str = "the bytes") -> np.ndarray:
    """Decode an image file's bytes as ``(H, W, 3)`` uint8 RGB, as `read_image` does (which also checks the path
    and for a truncated file first); `ImageReadError` naming `name` when they are empty or not an image."""
    if alpha not in ("white", "drop"):
        raise ValueError(f"decode_image: alpha must be 'white' or 'drop', got {alpha!r}")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"decode_image: data must be the bytes of an image file, got {type(data).__name__}")
    if not data:
        raise ImageReadError(f"read_image: {name} is empty (0 bytes); {_FORMATS}")
    flags = cv2.IMREAD_COLOR if data.startswith(b"\xff\xd8") else cv2.IMREAD_UNCHANGED  # COLOR applies EXIF
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)  # None when it cannot decode
    if img is None:
        raise ImageReadError(f"read_image: {name} is not an image OpenCV can decode ({_FORMATS})")
    if img.ndim == 2:
        img = img[:, :, None]  # (H, W, 1)
    scale = np.iinfo(img.dtype).max if np.issubdtype(img.dtype, np.integer) else 1.0
    x = img.astype(np.float32) / np.float32(scale)  # (H, W, C) in [0, 1]
    if x.shape[2] in (2, 4):
        x, a = x[..., :-1], x[..., -1:]  # colour (H, W, C-1), alpha (H, W, 1)
        if alpha == "white":
            x = x * a + (1 - a)
    x = np.repeat(x, 3, axis=2) if x.shape[2] == 1 else x[..., ::-1]  # gray -> RGB, or BGR -> RGB
    return np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
