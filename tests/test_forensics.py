"""Notebook 08's forensics: the attacks, the spectrum features and the watermark."""
import pytest
import torch

from genimg_edu import forensics
from genimg_edu.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist", "test")[0][:64]


def bits_for(n, k=8, seed=0):
    return torch.randint(0, 2, (n, k), generator=torch.Generator().manual_seed(seed))


def test_patterns_are_orthogonal_and_seeded_by_the_key():
    p = forensics.patterns(8)
    assert torch.allclose(p @ p.T / p.shape[1], torch.eye(8, dtype=p.dtype), atol=1e-9)
    assert torch.equal(p, forensics.patterns(8, key=0)) and not torch.equal(p, forensics.patterns(8, key=1))
    with pytest.raises(ValueError, match="n_bits must be between 1 and the band's 210 coefficients"):
        forensics.patterns(211)


def test_watermark_reads_back_and_only_with_its_key(digits):
    bits = bits_for(len(digits))
    marked = forensics.embed(digits, bits, strength=0.04)
    assert marked.min() >= 0 and marked.max() <= 1 and torch.equal(marked, (marked * 255).round() / 255)
    assert forensics.bit_accuracy(marked, bits) == 1.0  # the repeated correction survives clipping and rounding
    assert 0.3 < forensics.bit_accuracy(digits, bits) < 0.7  # unmarked: chance
    assert forensics.bit_accuracy(marked, bits, key=1) < 0.7  # the wrong key reads noise


def test_stronger_marks_cost_more_and_survive_more(digits):
    bits = bits_for(len(digits))
    weak, strong = (forensics.embed(digits, bits, strength=s) for s in (0.01, 0.08))
    assert ((weak - digits) ** 2).mean() < ((strong - digits) ** 2).mean()
    read = {name: [forensics.bit_accuracy(attack(x), bits) for x in (weak, strong)]
            for name, attack in forensics.ATTACKS.items()}
    assert all(s >= w for w, s in read.values()) and read["blur (σ = 0.8 px)"][1] > read["blur (σ = 0.8 px)"][0] + 0.2, read


def test_embed_names_bad_shapes(digits):
    with pytest.raises(ValueError, match=r"expected images \(N, 1, H, W\) and bits \(N, n_bits\)"):
        forensics.embed(digits, bits_for(3))


def test_attacks_keep_shape_and_range_and_change_the_image(digits):
    for name, attack in forensics.ATTACKS.items():
        out = attack(digits)
        assert out.shape == digits.shape and out.min() >= 0 and out.max() <= 1, name
        assert 0 < (out - digits).abs().mean() < 0.1, name
    assert (forensics.jpeg(digits, 10) - digits).abs().mean() > (forensics.jpeg(digits, 95) - digits).abs().mean()


def test_spectrum_features_shape_and_shift_invariance(digits):
    f = forensics.spectrum_features(digits)
    assert f.shape == (64, 28 * 15)
    shifted = torch.roll(digits, shifts=(3, -2), dims=(2, 3))  # |FFT| ignores circular shifts
    assert abs(forensics.spectrum_features(shifted) - f).max() < 1e-9


def test_intensity_histogram_counts_shares_and_detector_features_stack(digits):
    h = forensics.intensity_histogram(digits)
    assert h.shape == (64, 32) and abs(h.sum(1) - 1).max() < 1e-12
    assert (h[:, 0] > 0.5).all()  # MNIST is mostly exact-zero background
    assert forensics.intensity_histogram(torch.ones(1, 1, 4, 4))[0, -1] == 1.0  # 1.0 falls in the last bin
    assert forensics.detector_features(digits).shape == (64, 28 * 15 + 32)
