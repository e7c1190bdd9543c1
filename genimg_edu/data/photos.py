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

from genimg_edu import validate

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
    from genimg_edu.preprocess import read_image

    if not isinstance(name, str) or name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; name must be one of {sorted(PHOTOS)}")
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
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a folder path (str or os.PathLike), got {type(path).__name__}")
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


def make_zone_plate(size: int = 256) -> np.ndarray:
    """A grey zone plate ``0.5 + 0.5 cos(k r^2)``, ``(size, size, 3)`` uint8: the standard aliasing test image.

    Its local frequency grows linearly with the radius, ``f(r) = k r / pi``
    cycles per pixel; ``k = pi / size`` puts the Nyquist limit (0.5) on the
    inscribed circle. Shrink it and every ring past the new Nyquist limit
    should turn into flat grey; rings that survive there are aliasing.
    """
    size = validate.count("size", size, minimum=1)
    y, x = np.mgrid[:size, :size] - (size - 1) / 2  # (2, size, size) coordinates from the centre
    plate = 0.5 + 0.5 * np.cos(np.pi / size * (x**2 + y**2))
    return np.repeat(np.rint(plate * 255).astype(np.uint8)[..., None], 3, axis=2)  # (size, size, 3)
