"""Lab 1's reference: what its solution builds — the parts' checks compare the learner's with these. Each part is
the package's own (`imagefile.decode_image`, `preprocess.resize`, `center_crop`, `to_tensor`), which the lab has
the learner write; only the folder reader, which reports its bad files instead of raising, is written out here."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...data import photos
from ...imagefile import decode_image
from ...preprocess import center_crop, resize, to_tensor

IMAGE_SUFFIXES = tuple(sorted(photos.IMAGE_SUFFIXES))  # the package folder reader's, in a fixed order


def decode(data: bytes) -> np.ndarray:
    return decode_image(data)


def square(img: np.ndarray, size: int) -> np.ndarray:
    return center_crop(resize(img, size, keep_aspect=True), size)  # shorter side to size: area down, cubic up


def to_batch(images: list) -> torch.Tensor:
    return to_tensor(np.stack(images), value_range=(-1, 1))  # (N, 3, H, W) in [-1, 1]


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
