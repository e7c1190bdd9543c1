"""Photos for the preprocessing lessons, and a learner's own folder of images.

Bundled photos come from packages the course already installs, so nothing is
downloaded:

- ``"china"`` and ``"flower"``: scikit-learn's sample images (427×640 JPEG),
  CC BY 2.0, by Flickr users danielbuechele and vultilion.
- ``"zoneplate"``: a generated test pattern of rings whose frequency grows
  with the radius — the standard way to see aliasing.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

PHOTOS = {
    "china": "a temple in China (scikit-learn sample image, CC BY 2.0, danielbuechele on Flickr)",
    "flower": "a flower (scikit-learn sample image, CC BY 2.0, vultilion on Flickr)",
    "zoneplate": "a 512×512 zone plate, cos(k·r²): fine rings that alias when shrunk carelessly",
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


class FolderReadError(ValueError):
    """Some files in an image folder could not be read; `.errors` maps each file to its reason."""

    def __init__(self, folder, errors: dict[str, str]):
        self.errors = errors
        lines = "\n".join(f"  {name}: {why}" for name, why in errors.items())
        super().__init__(f"{len(errors)} file(s) in {folder} could not be read as images:\n{lines}")


def load_photo(name: str) -> np.ndarray:
    """A bundled photo as an RGB uint8 array (H, W, 3)."""
    from genimg_edu.preprocess import make_zone_plate, read_image

    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; expected one of {sorted(PHOTOS)}")
    if name == "zoneplate":
        return make_zone_plate(512)
    import sklearn.datasets

    return read_image(Path(sklearn.datasets.__file__).parent / "images" / f"{name}.jpg")


def load_image_folder(path: str | os.PathLike, *, size: int | tuple[int, int] = 64, on_error: str = "raise"):
    """Read every image file in a folder, resized to `size`, as ``(images, names)``.

    images : float32 tensor (N, 3, H, W) in [0, 1]; names : the file names, sorted.

    Files whose suffix is not an image type are ignored. Files that look like
    images but cannot be decoded are never skipped silently: with
    ``on_error="raise"`` (default) a `FolderReadError` lists every one of them;
    with ``on_error="warn"`` a warning lists them and the readable ones are returned.
    """
    import warnings

    from genimg_edu.preprocess import ImageReadError, _size_pair, read_image, resize, to_tensor

    if on_error not in ("raise", "warn"):
        raise ValueError(f"on_error must be 'raise' or 'warn', got {on_error!r}")
    _size_pair(size, "load_image_folder")  # a bad size is the caller's error, not the files'
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist or is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    images, names, errors = [], [], {}
    for file in files:
        try:
            img = read_image(file)
        except (OSError, ImageReadError) as exc:
            errors[file.name] = str(exc)
            continue
        images.append(resize(img, size))
        names.append(file.name)
    if errors:
        err = FolderReadError(folder, errors)
        if on_error == "raise":
            raise err
        warnings.warn(str(err), stacklevel=2)
    if not images:
        raise FileNotFoundError(f"no readable images in {folder} (looked for {sorted(IMAGE_SUFFIXES)})")
    return to_tensor(np.stack(images)), names  # (N, 3, H, W)


