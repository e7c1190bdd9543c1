"""GAN and VAE objectives, and the WGAN-GP penalty, against their formulas written out independently.

The one home of the loss formulas; a step or a model is tested in its own file (test_steps.py, test_models.py)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from genimg_edu import losses


def _logits(n, seed):
    return torch.empty(n, dtype=torch.float64).uniform_(-3, 3, generator=torch.Generator().manual_seed(seed))


# --- GAN losses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["minimax", "non-saturating"])
def test_d_loss_is_the_binary_cross_entropy_of_the_minimax_game(kind):
    d_real, d_fake = _logits(64, 0), _logits(64, 1)
    # D maximises E[log σ(d_real)] + E[log(1 − σ(d_fake))]
    expected = -(torch.log(torch.sigmoid(d_real)).mean() + torch.log(1 - torch.sigmoid(d_fake)).mean())
    torch.testing.assert_close(losses.d_loss(d_real, d_fake, kind=kind), expected)


def test_d_loss_hinge():
    d_real, d_fake = _logits(64, 0), _logits(64, 1)
    expected = torch.clamp(1 - d_real, min=0).mean() + torch.clamp(1 + d_fake, min=0).mean()
    torch.testing.assert_close(losses.d_loss(d_real, d_fake, kind="hinge"), expected)
    # a confident, correct D pays nothing
    assert losses.d_loss(torch.full((4,), 2.0), torch.full((4,), -2.0), kind="hinge") == 0


def test_d_loss_wasserstein_is_the_critics_objective_negated():
    d_real, d_fake = _logits(64, 0), _logits(64, 1)
    # the critic maximises E[d_real] − E[d_fake]
    torch.testing.assert_close(losses.d_loss(d_real, d_fake, kind="wasserstein"), -(d_real.mean() - d_fake.mean()))


@pytest.mark.parametrize("kind", ["minimax", "non-saturating"])
@pytest.mark.parametrize("s", [0.0, 0.1, 0.3])
def test_label_smoothing_is_the_cross_entropy_with_target_one_minus_s_for_real_images(kind, s):
    d_real, d_fake = _logits(64, 0), _logits(64, 1)
    p_real, p_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
    target = 1 - s  # one-sided: the fakes keep their target 0
    expected = -(target * p_real.log() + (1 - target) * (1 - p_real).log()).mean() - (1 - p_fake).log().mean()
    torch.testing.assert_close(losses.d_loss(d_real, d_fake, kind=kind, smoothing=s), expected)


@pytest.mark.parametrize("kind", ["hinge", "wasserstein"])
def test_label_smoothing_is_refused_for_losses_without_labels(kind):
    with pytest.raises(ValueError, match=f"label smoothing.*{kind}"):
        losses.d_loss(torch.zeros(2), torch.zeros(2), kind=kind, smoothing=0.1)


@pytest.mark.parametrize("kind, formula", [
    ("minimax", lambda t: torch.log(1 - torch.sigmoid(t)).mean()),
    ("non-saturating", lambda t: -torch.log(torch.sigmoid(t)).mean()),
    ("hinge", lambda t: -t.mean()),
    ("wasserstein", lambda t: -t.mean()),
])
def test_g_loss_matches_its_formula(kind, formula):
    d_fake = _logits(64, 2)
    torch.testing.assert_close(losses.g_loss(d_fake, kind=kind), formula(d_fake))


def test_default_kind_is_non_saturating():
    d_real, d_fake = _logits(8, 0), _logits(8, 1)
    assert losses.g_loss(d_fake) == losses.g_loss(d_fake, kind="non-saturating")
    assert losses.d_loss(d_real, d_fake) == losses.d_loss(d_real, d_fake, kind="non-saturating")


def test_minimax_generator_gradient_vanishes_where_the_non_saturating_one_does_not():
    """The point of §3 of Goodfellow et al.: when D rejects fakes confidently, minimax G learns nothing."""
    grads = {}
    for kind in ("minimax", "non-saturating"):
        d_fake = torch.full((4,), -10.0, requires_grad=True)
        losses.g_loss(d_fake, kind=kind).backward()
        grads[kind] = d_fake.grad.abs().mean().item()
    assert grads["minimax"] < 1e-4 < 0.2 < grads["non-saturating"]


@pytest.mark.parametrize("fn", [lambda k: losses.d_loss(torch.zeros(2), torch.zeros(2), kind=k),
                                lambda k: losses.g_loss(torch.zeros(2), kind=k)])
def test_unknown_gan_loss_is_named(fn):
    with pytest.raises(ValueError, match="'wgan'.*minimax"):
        fn("wgan")


def test_gradient_penalty_of_a_linear_critic_is_its_closed_form():
    """D(x) = w·x has ∇D = w everywhere, so the penalty is (‖w‖ − 1)² whatever the interpolation."""
    w = torch.randn(1, 5, generator=torch.Generator().manual_seed(0))
    D = lambda t, labels=None: t @ w.T  # noqa: E731
    g = torch.Generator().manual_seed(1)
    gp = losses.gradient_penalty(D, torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g))
    torch.testing.assert_close(gp, (w.norm() - 1) ** 2)


def test_gradient_penalty_gradient_matches_finite_differences():
    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    real, fake = torch.randn(6, 3, dtype=torch.double), torch.randn(6, 3, dtype=torch.double)
    weights = dict(D.named_parameters())

    def penalty(w):  # the penalty as a function of D's first weight matrix: a gradient of a gradient
        critic = lambda t, labels=None: torch.func.functional_call(D, {**weights, "0.weight": w}, (t,))  # noqa: E731
        return losses.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))

    assert torch.autograd.gradcheck(penalty, (weights["0.weight"].detach().clone().requires_grad_(True),))


# --- VAE terms ------------------------------------------------------------------------------------

def test_bernoulli_nll_sums_over_pixels():
    g = torch.Generator().manual_seed(0)
    logits, x = torch.randn(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    nll = losses.bernoulli_nll(logits, x)
    assert nll.shape == (5,)
    for i in range(5):
        pixel_mean = F.binary_cross_entropy(torch.sigmoid(logits[i]), x[i])  # mean over the 784 pixels
        torch.testing.assert_close(nll[i], 784 * pixel_mean, rtol=1e-4, atol=1e-3)
    # written out: −Σ [x log σ(l) + (1 − x) log(1 − σ(l))]
    p = torch.sigmoid(logits.double())
    by_hand = -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    torch.testing.assert_close(nll.double(), by_hand, rtol=1e-5, atol=1e-4)


def test_gaussian_kl_is_zero_at_the_prior():
    kl = losses.gaussian_kl(torch.zeros(3, 16), torch.zeros(3, 16))
    assert kl.shape == (3,) and torch.equal(kl, torch.zeros(3))


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(6, 8, generator=g, dtype=torch.float64), torch.randn(6, 8, generator=g,
                                                                                  dtype=torch.float64)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    kl = losses.gaussian_kl(mu, logvar)
    assert kl.shape == (6,) and (kl > 0).all()
    torch.testing.assert_close(kl, expected)


def test_vae_loss_is_the_batch_mean_of_reconstruction_plus_beta_kl():
    g = torch.Generator().manual_seed(1)
    logits, x = torch.randn(4, 1, 8, 8, generator=g), torch.rand(4, 1, 8, 8, generator=g)
    mu, logvar = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    rec, kl = losses.bernoulli_nll(logits, x), losses.gaussian_kl(mu, logvar)
    for beta in (0.0, 1.0, 4.0):
        torch.testing.assert_close(losses.vae_loss(rec, kl, beta=beta), (rec + beta * kl).mean())
    assert losses.vae_loss(rec, kl) == losses.vae_loss(rec, kl, beta=1.0)


def test_bits_per_dim():
    assert losses.bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    assert losses.bits_per_dim(100.0, 784) == pytest.approx(100 / 784 / math.log(2))
    # 8 bits per dimension is the cost of storing a uniform byte
    assert losses.bits_per_dim(3072 * 8 * math.log(2), 3072) == pytest.approx(8.0)
