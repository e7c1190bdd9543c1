"""The gallery of shipped generators (genimg_edu.gallery, scripts/sample_grid.py): what it draws and how."""
import sys
from pathlib import Path

import cv2
import pytest
import torch

from genimg_edu.data import load_dataset
from genimg_edu.gallery import GENERATORS, real_digits, shipped_samples
from genimg_edu.metrics import classifier_outputs

ROOT = Path(__file__).resolve().parents[1]


def test_real_digits_come_in_the_order_zero_to_nine():
    x = real_digits(20)
    test_x, test_y = load_dataset("mnist", "test")
    labels = [int(test_y[(test_x == image).flatten(1).all(1)][0]) for image in x]
    assert labels == [k % 10 for k in range(20)]


def test_each_generator_draws_the_digits_asked_for_as_it_shipped():
    samples = shipped_samples(10, seed=0)
    assert list(samples) == list(GENERATORS)
    for name, x in samples.items():
        assert x.shape == (10, 1, 28, 28) and 0 <= x.min() and x.max() <= 1, name
    for name in ("cgan-mnist", "flow-mnist"):  # asked for 0, 1, …, 9: the instrument reads most of them back
        read = classifier_outputs(samples[name])[1].argmax(1)
        assert (read == torch.arange(10)).sum() >= 8, (name, read.tolist())
    again = shipped_samples(10, seed=0, names=["dcgan-mnist"])["dcgan-mnist"]
    assert torch.equal(again, samples["dcgan-mnist"]), "one seed, the same samples"


@pytest.mark.parametrize("call, error, message", [
    (lambda: shipped_samples(0), ValueError, "n must be"),
    (lambda: shipped_samples(4.0), TypeError, "n must be a whole number"),
    (lambda: shipped_samples(4, seed=-1), ValueError, "seed must be"),
    (lambda: shipped_samples(4, names="dcgan-mnist"), TypeError, "names must be a list of shipped digit generators"),
    (lambda: shipped_samples(4, names=5), TypeError, "names must be a list of shipped digit generators"),
    (lambda: shipped_samples(4, names=[]), ValueError, "names must be a list of shipped digit generators"),
    (lambda: shipped_samples(4, names=["cnn-mnist"]), ValueError, "names must be a list of shipped digit generators"),
    (lambda: real_digits(10_000), ValueError, "n: the test split holds"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_script_writes_a_png(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import sample_grid

    out = sample_grid.main(["--n", "10", "--out", str(tmp_path / "grid.png")])
    image = cv2.imread(str(out))
    assert image is not None and min(image.shape[:2]) > 300  # five blocks of ten digits, stacked
    assert not list(tmp_path.glob(".*.part")), "written atomically: no temporary file left"
