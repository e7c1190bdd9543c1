"""The quality gates of the models issue, measured on the bundled *test* split.

Live gates retrain the notebooks' small models with the notebooks' own settings;
pretrained gates load the shipped checkpoints. Thresholds are the issue's.
"""
import pytest
import torch

from genimg_edu import pretrained, seed_everything
from genimg_edu.data import load_dataset
from genimg_edu.metrics import mnist_quality
from genimg_edu.models import ConvVAE, MNISTClassifier
from genimg_edu.train import train_classifier, train_vae


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist", "train"), load_dataset("mnist", "test")


def _accuracy(model, x, y):
    return float((model.eval().predict_proba(x).argmax(1).cpu() == y).float().mean())


def _test_nelbo(vae, x):
    return float(-vae.eval().elbo(x, samples=10, generator=torch.Generator().manual_seed(0)).mean())


def test_live_cnn_reaches_98_percent(mnist):
    (x, y), (xt, yt) = mnist
    seed_everything(0)
    model = MNISTClassifier(width=32)
    train_classifier(model, x, y, steps=400, batch_size=64, lr=2e-3, shift=1)  # as in notebook 02
    assert _accuracy(model, xt, yt) >= 0.98


def test_live_conv_vae_reaches_108_nats(mnist):
    (x, _), (xt, _) = mnist
    seed_everything(0)
    vae = ConvVAE(width=32, z_dim=32, hidden=256)
    vae.init_output_bias(x.mean(0))
    train_vae(vae, x, steps=1200, batch_size=128, lr=2e-3, shift=1)  # as in notebook 04; its time is a benchmark
    assert _test_nelbo(vae, xt) <= 108


def test_pretrained_cnn_reaches_99_percent(mnist):
    _, (xt, yt) = mnist
    assert _accuracy(pretrained.load("cnn-mnist", device="cpu"), xt, yt) >= 0.99


def test_pretrained_vae_reaches_104_nats(mnist):
    _, (xt, _) = mnist
    assert _test_nelbo(pretrained.load("vae-mnist", device="cpu"), xt) <= 104


@pytest.fixture(scope="module")
def dcgan_report():
    G = pretrained.load("dcgan-mnist", device="cpu")
    return mnist_quality(G.sample(1000, generator=torch.Generator().manual_seed(0)))


@pytest.fixture(scope="module")
def cgan_report():
    G = pretrained.load("cgan-mnist", device="cpu")
    labels = torch.arange(1000) % 10
    return mnist_quality(G.sample(1000, labels=labels, generator=torch.Generator().manual_seed(0)), labels=labels)


def test_pretrained_dcgan_inception_score(dcgan_report):
    assert dcgan_report["is_ratio"] >= 0.85


def test_pretrained_dcgan_does_not_copy(dcgan_report):
    assert dcgan_report["nn_samples"] >= dcgan_report["nn_test"], "samples closer to training digits than test digits"


def test_pretrained_dcgan_frechet_distance(dcgan_report):
    assert dcgan_report["fd_ratio"] <= 3.0


def test_pretrained_cgan_inception_score(cgan_report):
    assert cgan_report["is_ratio"] >= 0.95


def test_pretrained_cgan_labels(cgan_report):
    # 95.3 % for this seed; 94.8-96.9 % over five sampling seeds (mean 95.6 %), so the margin is thin
    assert cgan_report["label_accuracy"] >= 0.95


def test_pretrained_cgan_frechet_distance(cgan_report):
    assert cgan_report["fd_ratio"] <= 3.0


def test_pretrained_cgan_does_not_copy(cgan_report):
    assert cgan_report["nn_samples"] >= cgan_report["nn_test"]
