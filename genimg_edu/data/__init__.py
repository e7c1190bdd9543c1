"""Datasets of the course, all offline by default.

``load_dataset(name, split)`` returns ``(images, labels)``: images a float32
tensor N×C×H×W in [0, 1], labels an int64 tensor — or, for ``"shapes"``, a dict
of factor tensors. Everything a notebook uses is bundled or generated:

==================  =======================================================
``"mnist"``         10,000 real MNIST digits shipped in the package (1.6 MB),
                    split 8,000 train / 1,000 val / 1,000 test, stratified and fixed.
``"digits"``        scikit-learn's 1,797 8×8 digits (1,500 train / 297 test).
``"shapes"``        procedural RGB shapes with known factors (any n, seeded).
``"mnist-full"``    the original 70,000 MNIST digits — optional download.
``"fashion-mnist"`` Zalando's 70,000 clothing images — optional download.
==================  =======================================================

Three splits, three jobs: models learn from ``train``; every choice between
settings (a recipe, a threshold, a number of steps) is made on ``val``; ``test``
is only measured, so its figures are not flattered by the choices.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import torch

from genimg_edu import validate
from genimg_edu.data.idx import read_idx
from genimg_edu.data.photos import PHOTOS, FolderReadError, load_image_folder, load_photo
from genimg_edu.data.shapes import SHAPE_NAMES, make_shapes

FILES_DIR = Path(__file__).with_name("files")
# name -> (file, sha256); rebuilt byte-for-byte by scripts/make_mnist.py
BUNDLED_FILES = {
    "images": ("mnist10k-images-idx3-ubyte.gz", "2bf620f5c98d6c4d1e48884ac682e809f7d29917d54654717eb7c0ead7364cf3"),
    "labels": ("mnist10k-labels-idx1-ubyte.gz", "d1df95f6750605df9df3a1e579915f5c77a53cb7e496e2e040b597a3363f8692"),
    "test": ("mnist10k-test-idx1-ubyte.gz", "65bcc554f28e696a723d327ffb09af60fe7009df5e667e7dc1f645b9a793c992"),
}
SPLITS = ("train", "val", "test", "all")
VAL_SIZE = 1_000  # mnist: taken from the 9,000 non-test digits, stratified, fixed (`_mnist_val`)
DATASETS = {
    "mnist": "10,000 real MNIST digits, 1×28×28 grey, bundled; 8,000 train / 1,000 val / 1,000 test",
    "digits": "scikit-learn's 8×8 handwritten digits, 1×8×8 grey, bundled; 1,500 train / 297 test",
    "shapes": "procedural coloured shapes, 3×32×32 or 3×64×64, with factor labels; generated",
    "mnist-full": "original MNIST, 60,000 train / 10,000 test, 1×28×28; optional download",
    "fashion-mnist": "Zalando's Fashion-MNIST, 60,000 train / 10,000 test, 1×28×28; optional download",
}

__all__ = ["DATASETS", "FolderReadError", "PHOTOS", "SHAPE_NAMES", "load_dataset", "load_image_folder",
           "load_photo", "make_shapes"]


def load_dataset(name: str, split: str = "train", *, n: int | None = None, seed: int = 0,
                 size: int = 32, download: bool = False):
    """Load a course dataset as ``(images, labels)``.

    Parameters
    ----------
    name : one of `DATASETS`.
    split : ``"train"``, ``"val"``, ``"test"`` or ``"all"``. ``"val"`` exists for
        ``"mnist"`` (1,000 digits held out of the training digits) and ``"shapes"``.
    n : keep only the first `n` images (all when None). For ``"shapes"``, how
        many to draw (default 10,000 train / 1,000 test).
    seed, size : for ``"shapes"`` only (size 32 or 64); train and test come
        from independent random streams of the same seed.
    download : for the optional full datasets: fetch missing files (else a
        ``FileNotFoundError`` says how).

    Returns
    -------
    images : float32 tensor (N, C, H, W) in [0, 1]
    labels : int64 tensor (N,), or a dict of factor tensors for ``"shapes"``
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; name must be one of {sorted(DATASETS)}")
    validate.one_of("split", split, SPLITS)
    if n is not None:
        n = validate.count("n", n, minimum=1)
    seed = validate.count("seed", seed)
    if name == "shapes":
        count = n or (11_000 if split == "all" else 10_000 if split == "train" else 1_000)
        return _shapes_split(split, count, seed=seed, size=size)
    if split == "val" and name != "mnist":
        raise ValueError(f"dataset {name!r} has no 'val' split; it exists for 'mnist' and 'shapes'")

    if name == "mnist":
        images, labels, is_test = _bundled_mnist()
    elif name == "digits":
        images, labels, is_test = _sklearn_digits()
    else:
        from genimg_edu.data.download import fetch_idx_dataset

        if split == "all":
            parts = [fetch_idx_dataset(name, s, download=download) for s in ("train", "test")]
            images, labels = (np.concatenate(p) for p in zip(*parts))
        else:
            images, labels = fetch_idx_dataset(name, split, download=download)
        is_test = None
    if is_test is not None and split != "all":
        keep = is_test == (split == "test")
        if name == "mnist" and split != "test":
            keep &= _mnist_val() == (split == "val")
        images, labels = images[keep], labels[keep]
    if n is not None:
        images, labels = images[:n], labels[:n]
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255 if images.dtype == np.uint8 else 1)
    return x.unsqueeze(1), torch.from_numpy(labels.astype(np.int64))  # (N, 1, H, W), (N,)


def verify_bundled() -> None:
    """Check the bundled MNIST files against their recorded SHA-256; raise naming any that differ."""
    for key, (fname, expected) in BUNDLED_FILES.items():
        path = FILES_DIR / fname
        if not path.is_file():
            raise FileNotFoundError(f"bundled data file {path} is missing; reinstall genimg-edu "
                                    "or rebuild it with scripts/make_mnist.py")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise ValueError(f"bundled data file {path} is corrupt: sha256 {actual}, expected {expected}; "
                             "reinstall genimg-edu or rebuild it with scripts/make_mnist.py")


@functools.lru_cache(maxsize=1)
def _bundled_mnist():
    verify_bundled()
    images, labels, is_test = (read_idx(FILES_DIR / BUNDLED_FILES[k][0]) for k in ("images", "labels", "test"))
    return images, labels, is_test.astype(bool)


@functools.lru_cache(maxsize=1)
def _mnist_val() -> np.ndarray:
    """A boolean mask over the 10,000 bundled digits: the 1,000 val digits, a stratified draw (seed 0) from
    the 9,000 non-test digits. tests/test_data.py pins it by a hash, so it never moves."""
    from sklearn.model_selection import train_test_split

    _, labels, is_test = _bundled_mnist()
    pool = np.flatnonzero(~is_test)
    _, val = train_test_split(pool, test_size=VAL_SIZE, stratify=labels[pool], random_state=0)
    mask = np.zeros(len(labels), dtype=bool)
    mask[val] = True
    return mask


@functools.lru_cache(maxsize=1)
def _sklearn_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)  # values 0..16 -> [0, 1]
    is_test = np.zeros(len(images), dtype=bool)
    _, test_idx = train_test_split(np.arange(len(images)), test_size=297, stratify=bunch.target, random_state=0)
    is_test[test_idx] = True
    return images, bunch.target, is_test


def _shapes_split(split: str, n: int, *, seed: int, size: int):
    if split == "all":
        parts = [_shapes_split(s, c, seed=seed, size=size) for s, c in (("train", n - n // 11), ("test", n // 11))]
        images = torch.cat([p[0] for p in parts])
        return images, {k: torch.cat([p[1][k] for p in parts]) for k in parts[0][1]}
    stream = {"train": 0, "test": 1, "val": 2}[split]
    return make_shapes(n, size=size, seed=(seed, stream))
