"""Lab 1's reference: what its solution builds — the parts' checks compare the learner's with these. The decoding
is the package's own `imagefile.decode_image`; the rest is written out as the lab asks for it."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ...imagefile import decode_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def decode(data: bytes) -> np.ndarray:
    return decode_image(data)


def square(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    r = size / min(h, w)  # the shorter side becomes `size`
    new_h, new_w = max(1, round(h * r)), max(1, round(w * r))
    shrinking = new_h < h or new_w < w
    img = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return img[top:top + size, left:left + size]


def to_batch(images: list) -> torch.Tensor:
    x = torch.from_numpy(np.stack(images)).float() / 255  # (N, H, W, 3) in [0, 1]
    return (x * 2 - 1).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W) in [-1, 1]


def load_folder(folder, size: int = 64):
    images, names, errors = [], [], {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            img = decode(path.read_bytes())
        except ValueError as e:
            errors[path.name] = str(e)
            continue
        images.append(square(img, size))
        names.append(path.name)
    return to_batch(images), names, errors
