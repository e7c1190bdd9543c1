"""The course's models: shapes, ranges, conditioning errors, seeded sampling, and the VAE bounds."""
import pytest
import torch
from torch import nn

from genimg_edu.data import load_dataset
from genimg_edu.losses import bernoulli_nll, gaussian_kl
from genimg_edu.models import (ConvVAE, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, MLPVAE,
                               MNISTClassifier)
from genimg_edu.fit import fit
from genimg_edu.steps import VAEStep


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _assert_images(t, shape):
    t = t.detach()
    assert t.shape == shape and t.dtype == torch.float32
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0


def _assert_seeded_sampling(model, n, shape, **kw):
    a, b = model.sample(n, generator=_gen(3), **kw), model.sample(n, generator=_gen(3), **kw)
    _assert_images(a, (n, *shape))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, model.sample(n, generator=_gen(4), **kw)), "another seed should give other samples"


# --- classifier -----------------------------------------------------------------------------------

def test_classifier_logits_features_and_probabilities():
    torch.manual_seed(0)
    clf = MNISTClassifier(width=4).eval()
    x = torch.rand(7, 1, 28, 28, generator=_gen())
    assert clf(x).shape == (7, 10)
    assert clf.features(x).shape == (7, 128)
    proba = clf.predict_proba(x, batch_size=3)  # three batches, the last one short
    assert proba.shape == (7, 10) and (proba >= 0).all()
    torch.testing.assert_close(proba.sum(1), torch.ones(7))
    torch.testing.assert_close(proba, clf(x).softmax(1))


@pytest.mark.parametrize("shape", [(2, 28, 28), (2, 3, 28, 28), (2, 1, 32, 32)])
def test_classifier_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        MNISTClassifier(width=2, hidden=8)(torch.zeros(shape))


# --- GANs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("image_shape", [(1, 28, 28), (3, 32, 32)])
def test_dcgan_shapes_and_ranges(image_shape):
    torch.manual_seed(0)
    G = DCGANGenerator(image_shape=image_shape, z_dim=8, width=4)
    D = DCGANDiscriminator(image_shape=image_shape, width=4)
    with torch.no_grad():
        out = G(torch.randn(5, 8))
    assert out.shape == (5, *image_shape) and float(out.abs().max()) <= 1.0  # tanh range
    assert D(out).shape == (5,)
    _assert_seeded_sampling(G.eval(), 6, image_shape)


@pytest.mark.parametrize("image_shape", [(1, 28, 28), (3, 32, 32)])
def test_conditional_dcgan(image_shape):
    torch.manual_seed(0)
    G = DCGANGenerator(image_shape=image_shape, z_dim=8, width=4, n_classes=10, embed_dim=4).eval()
    D = DCGANDiscriminator(image_shape=image_shape, width=4, n_classes=10)
    labels = torch.tensor([0, 1, 2, 9])
    z = torch.randn(4, 8)
    x = G(z, labels)
    assert x.shape == (4, *image_shape) and D(x, labels).shape == (4,)
    assert not torch.equal(G(z, labels), G(z, labels.flip(0))), "the label should change the image"
    assert not torch.equal(D(x, labels), D(x, labels.flip(0))), "the label should change the score"
    with pytest.raises(ValueError, match="class-conditional"):
        G(z)
    with pytest.raises(ValueError, match="class-conditional"):
        D(x)
    _assert_seeded_sampling(G, 4, image_shape, labels=labels)
    _assert_seeded_sampling(G, 12, image_shape)  # labels drawn by the model
    with pytest.raises(ValueError, match=r"\(4,\)"):
        G.sample(4, labels=torch.tensor([1, 2]))


def test_unconditional_generator_refuses_labels():
    G = DCGANGenerator(z_dim=4, width=2)
    with pytest.raises(ValueError, match="unconditional"):
        G.sample(2, labels=torch.tensor([0, 1]))


@pytest.mark.parametrize("image_shape", [(1, 64, 64), (1, 28, 32), (3, 16, 16)])
def test_dcgan_rejects_other_sizes(image_shape):
    with pytest.raises(ValueError, match="28×28 or 32×32"):
        DCGANGenerator(image_shape=image_shape)
    with pytest.raises(ValueError, match="28×28 or 32×32"):
        DCGANDiscriminator(image_shape=image_shape)


def test_dcgan_discriminator_without_spectral_norm_has_plain_weights():
    D = DCGANDiscriminator(width=2, spectral=False)
    assert not any("parametrizations" in name for name, _ in D.named_parameters())
    assert any("parametrizations" in name for name, _ in DCGANDiscriminator(width=2).named_parameters())


def test_mlp_gan_shapes_and_seeded_sampling():
    torch.manual_seed(0)
    G, D = MLPGenerator(z_dim=3, hidden=8), MLPDiscriminator(hidden=8)
    assert G(torch.randn(5, 3)).shape == (5, 2)
    pts = G.sample(9, generator=_gen(1))
    assert pts.shape == (9, 2) and D(pts).shape == (9,)
    torch.testing.assert_close(pts, G.sample(9, generator=_gen(1)), rtol=0, atol=0)
    assert not torch.equal(pts, G.sample(9, generator=_gen(2)))


# --- VAEs -----------------------------------------------------------------------------------------

VAES = {
    "mlp-28": lambda: MLPVAE(image_shape=(1, 28, 28), hidden=(16, 8), z_dim=3),
    "conv-28": lambda: ConvVAE(image_shape=(1, 28, 28), width=4, z_dim=3, hidden=16),
    "conv-32-rgb": lambda: ConvVAE(image_shape=(3, 32, 32), width=4, z_dim=3, hidden=16),
    "conv-64-rgb": lambda: ConvVAE(image_shape=(3, 64, 64), width=4, z_dim=3, hidden=16),
}


@pytest.mark.parametrize("name", VAES)
def test_vae_shapes_ranges_and_bounds(name):
    torch.manual_seed(0)
    vae = VAES[name]()
    x = torch.rand(4, *vae.image_shape, generator=_gen())
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (4, 3)
    _assert_images(vae.decode(mu), (4, *vae.image_shape))
    loss = vae.loss(x)
    assert loss.shape == () and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in vae.parameters()), "every weight should get a gradient"
    elbo = vae.elbo(x, generator=_gen(1))
    assert elbo.shape == (4,) and (elbo < 0).all()  # log p(x) of grey values under a Bernoulli is negative
    assert vae.iwae(x, k=2, generator=_gen(1)).shape == (4,)
    _assert_seeded_sampling(vae, 3, vae.image_shape)
    with pytest.raises(ValueError, match="unconditional"):
        vae.sample(2, labels=torch.tensor([0, 1]))


@pytest.mark.parametrize("image_shape", [(1, 30, 30), (3, 32, 64), (1, 16, 16)])
def test_conv_vae_rejects_other_sizes(image_shape):
    with pytest.raises(ValueError, match="28, 32 or 64"):
        ConvVAE(image_shape=image_shape)


def test_loss_is_the_negative_elbo_and_elbo_is_written_out():
    torch.manual_seed(0)
    vae = VAES["conv-28"]()
    x = torch.rand(6, 1, 28, 28, generator=_gen())
    torch.manual_seed(5)
    loss = vae.loss(x)
    torch.manual_seed(5)  # the same posterior draw
    torch.testing.assert_close(loss, -vae.elbo(x).mean())
    # ELBO = −(−log p(x|z)) − KL, with z = μ + σ ε
    mu, logvar = vae.encode(x)
    z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=_gen(2))
    expected = -(bernoulli_nll(vae.decode_logits(z), x) + gaussian_kl(mu, logvar))
    torch.testing.assert_close(vae.elbo(x, generator=_gen(2)), expected)
    # β weighs the KL only
    for beta in (0.0, 2.0):
        torch.manual_seed(5)
        logits, mu, logvar = vae(x)
        by_hand = (bernoulli_nll(logits, x) + beta * gaussian_kl(mu, logvar)).mean()
        torch.manual_seed(5)  # the same posterior draw
        torch.testing.assert_close(vae.loss(x, beta=beta), by_hand)


def test_iwae_with_one_sample_is_the_elbo_in_expectation():
    torch.manual_seed(0)
    vae = MLPVAE(image_shape=(1, 8, 8), hidden=(16,), z_dim=2)
    x = torch.rand(64, 1, 8, 8, generator=_gen())
    g = _gen(1)
    iwae_1 = torch.stack([vae.iwae(x, k=1, generator=g) for _ in range(300)]).mean()
    elbo = vae.elbo(x, samples=300, generator=g).mean()
    # Monte Carlo standard error ≈ 0.007 nats here; a missing log p(z) or log q term costs nats
    assert abs(float(iwae_1 - elbo)) < 0.05


@pytest.mark.parametrize("name", ["mlp-28", "conv-28"])
def test_iwae_bound_is_above_the_elbo_after_a_little_training(name):
    """Burda et al. (2016), Thm. 1: E[IWAE_k] ≥ E[IWAE_1] = ELBO; the gap opens once q(z|x) is not the prior."""
    x, _ = load_dataset("mnist", "test", n=256)
    torch.manual_seed(0)
    vae = VAES[name]()
    fit(VAEStep(vae, lr=5e-3), (x,), max_steps=30, batch_size=64, log_every=0)
    elbo = vae.elbo(x[:128], samples=50, generator=_gen(1)).mean()
    iwae_50 = vae.iwae(x[:128], k=50, generator=_gen(1)).mean()
    assert iwae_50 > elbo + 5, f"IWAE-50 {iwae_50:.1f} should be well above the ELBO {elbo:.1f} nats"
    assert iwae_50 < 0


def test_init_output_bias_starts_the_mlp_decoder_at_the_mean_image():
    torch.manual_seed(0)
    vae = VAES["mlp-28"]()
    last = vae.decoder[-2]
    assert isinstance(last, nn.Linear)
    with torch.no_grad():
        last.weight.zero_()
    mean = torch.rand(1, 28, 28, generator=_gen())
    mean[0, 0, :4] = torch.tensor([0.0, 1.0, 1e-5, 0.5])  # extremes are clamped to stay finite
    vae.init_output_bias(mean)
    out = vae.decode(torch.randn(5, 3))
    torch.testing.assert_close(out, mean.clamp(1e-3, 1 - 1e-3).expand(5, 1, 28, 28), rtol=0, atol=1e-5)


def test_init_output_bias_starts_the_conv_decoder_at_the_mean_intensity():
    """A conv layer's bias is one number per channel; the best one under a Bernoulli likelihood is logit(mean)."""
    torch.manual_seed(0)
    vae = VAES["conv-32-rgb"]()
    with torch.no_grad():
        vae.decoder[-1].weight.zero_()
    mean = torch.rand(3, 32, 32, generator=_gen()) ** 3  # dark, mostly
    vae.init_output_bias(mean)
    out = vae.decode(torch.randn(2, 3))
    torch.testing.assert_close(out, mean.mean((1, 2))[None, :, None, None].expand(2, 3, 32, 32), rtol=0, atol=1e-4)


def test_dcgan_generator_without_batchnorm():
    from genimg_edu.models import DCGANGenerator

    G = DCGANGenerator(width=8, batchnorm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in G.modules())
    assert G.sample(3).shape == (3, 1, 28, 28) and G.config["batchnorm"] is False
    assert "batchnorm" not in DCGANGenerator(width=8).config  # shipped checkpoints' configs are unchanged


@pytest.mark.parametrize("image_shape", [(1, 28, 28), (3, 32, 32)])
def test_refined_dcgan_adds_one_same_size_convolution_per_inner_resolution(image_shape):
    from genimg_edu.models import DCGANDiscriminator, DCGANGenerator

    G, D = DCGANGenerator(image_shape=image_shape, width=8, refine=True), DCGANDiscriminator(image_shape=image_shape,
                                                                                           width=8, refine=True)
    n_inner = 1 if image_shape[1] == 28 else 2  # 28×28: G at 14×14, D at 7×7; 32×32: G at 8, 16, D at 8, 4
    same_size = lambda m: [c for c in m.modules() if isinstance(c, torch.nn.Conv2d) and c.stride == (1, 1)]
    assert len(same_size(G)) == len(same_size(D)) == n_inner
    assert len(same_size(DCGANGenerator(image_shape=image_shape, width=8))) == 0
    x = G.sample(5, generator=_gen())
    assert x.shape == (5, *image_shape) and 0 <= x.min() and x.max() <= 1
    assert D(x * 2 - 1).shape == (5,)
    assert G.config["refine"] is True and D.config["refine"] is True
    assert "refine" not in DCGANGenerator(width=8).config  # configs of checkpoints without it are unchanged
    rebuilt = DCGANGenerator(**G.config)
    rebuilt.load_state_dict(G.state_dict())  # the config rebuilds the same layers, as pretrained.load does


def test_sefa_directions_are_the_top_eigenvectors_and_check_their_input():
    from genimg_edu.models.gan import sefa_directions

    weight = torch.diag(torch.tensor([1.0, 3.0, 2.0]))  # ‖W n‖ is largest along axis 1, then axis 2
    d = sefa_directions(torch.cat([weight, torch.zeros(2, 3)]), 2)
    assert d.shape == (2, 3) and torch.allclose(d.abs(), torch.tensor([[0.0, 1, 0], [0, 0, 1]]), atol=1e-6)
    with pytest.raises(ValueError, match=r"expected a 2-D weight \(out, z_dim\) and 1 <= k <= z_dim"):
        sefa_directions(weight, 4)
