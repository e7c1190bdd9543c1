"""Step objects and their parts: augmentation, weight averaging, schedules, options, determinism, the toy GAN."""
import copy

import pytest
import torch
from torch import nn

from genimg_edu import losses, recipes
from genimg_edu.augment import random_shift
from genimg_edu.data import load_dataset
from genimg_edu.data.toy import ring_of_gaussians
from genimg_edu.fit import fit
from genimg_edu.models import (DCGANDiscriminator, DCGANGenerator, MLPGenerator, MLPVAE,
                               MNISTClassifier)
from genimg_edu.steps import ClassifierStep, GANStep, VAEStep, cosine_schedule


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _digits(n=32):
    g = _gen(0)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _quiet(step, data, **kw):
    return fit(step, data, **dict(dict(batch_size=8, reporter=None, log_every=0), **kw))


# --- augmentation ---------------------------------------------------------------------------------

def test_random_shift_zero_is_the_identity():
    x = torch.rand(3, 2, 5, 5)
    assert torch.equal(random_shift(x, 0), x)


def _bright_pixels(b=64, h=20, w=24, row=9, col=11):
    x = torch.zeros(b, 1, h, w)
    x[:, 0, row, col] = 1.0
    return x


def _position(img):
    flat = int(img.flatten().argmax())
    return divmod(flat, img.shape[-1])


def test_random_shift_translates_by_at_most_max_shift():
    x = _bright_pixels()
    out = random_shift(x, 3, generator=_gen())
    assert out.shape == x.shape
    torch.testing.assert_close(out.sum((1, 2, 3)), torch.ones(64))  # content away from the border: mass kept
    moves = set()
    for img_in, img_out in zip(x, out):
        (r0, c0), (r1, c1) = _position(img_in), _position(img_out)
        dy, dx = r1 - r0, c1 - c0
        assert abs(dy) <= 3 and abs(dx) <= 3
        assert torch.equal(img_out, torch.roll(img_in, (dy, dx), dims=(1, 2))), "a shift is a pure translation"
        moves.add((dy, dx))
    assert len(moves) > 10, "shifts should vary from image to image"
    assert torch.equal(out, random_shift(x, 3, generator=_gen())), "a seeded generator gives the same shifts"


def test_random_shift_fills_with_zeros_and_is_differentiable():
    x = torch.ones(16, 3, 10, 10, requires_grad=True)
    out = random_shift(x, 2, generator=_gen(1))
    out.sum().backward()
    # each input pixel that stays in the frame receives gradient 1, the ones pushed out 0
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(x.grad.sum((1, 2, 3)), out.detach().sum((1, 2, 3)))
    kept = out.detach()[:, 0].sum((1, 2))  # (10 − |dy|)(10 − |dx|) per image
    assert kept.min() >= 64 and kept.max() <= 100 and (kept < 100).any()


# --- weight averaging and the learning-rate schedule ----------------------------------------------

def test_the_generator_average_moves_by_one_minus_decay_and_averages_batchnorm_statistics():
    torch.manual_seed(0)
    G, D = DCGANGenerator(z_dim=4, width=2), DCGANDiscriminator(width=2)
    step = GANStep(G, D, ema_decay=0.9)
    x, _ = _digits(16)
    _quiet(step, (x,), max_steps=1)  # the first update copies G
    avg = step.ema.module
    start = [p.clone() for p in avg.parameters()]
    bn_start = avg.net[2].running_mean.clone()
    _quiet(step, (x,), max_steps=1, seed=1)
    for p_avg, p0, p in zip(avg.parameters(), start, G.parameters()):
        torch.testing.assert_close(p_avg, p0 + 0.1 * (p - p0))
        assert not torch.equal(p_avg, p), "the average lags behind the generator"
    torch.testing.assert_close(avg.net[2].running_mean, bn_start + 0.1 * (G.net[2].running_mean - bn_start))


def test_averaged_generator_recomputes_batchnorm_statistics_for_its_own_weights():
    torch.manual_seed(0)
    step = GANStep(DCGANGenerator(z_dim=4, width=2, n_classes=10), DCGANDiscriminator(width=2, n_classes=10),
                   ema_decay=0.5)
    _quiet(step, _digits(16), max_steps=2)
    G = step.averaged_generator(batches=3, batch_size=32)
    assert G is not step.ema.module and not G.training
    bn = G.net[2]
    assert int(bn.num_batches_tracked) == 3 and not torch.equal(bn.running_mean, step.ema.module.net[2].running_mean)
    assert bn.momentum == 0.1, "update_bn puts the momentum back"
    assert G.sample(3, labels=torch.tensor([0, 1, 2])).shape == (3, 1, 28, 28)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = cosine_schedule(opt, total=100, warmup=10)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:10] == pytest.approx([0.1 * (s + 1) * 0 + 0.1 + 0.9 * s / 10 for s in range(10)])
    assert lrs[10] == pytest.approx(1.0)
    assert lrs[55] == pytest.approx(0.5)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and opt.param_groups[0]["lr"] == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="decay_steps"):
        cosine_schedule(opt, total=10, warmup=10)
    with pytest.raises(ValueError, match="warmup"):
        cosine_schedule(opt, total=10, warmup=-1)


# --- the steps through fit ------------------------------------------------------------------------

def _classifier():
    torch.manual_seed(0)
    return MNISTClassifier(width=2, hidden=8)


def _vae():
    torch.manual_seed(0)
    return MLPVAE(hidden=(8,), z_dim=2)


def _gan(**kw):
    torch.manual_seed(0)
    return DCGANGenerator(z_dim=4, width=2, **kw), DCGANDiscriminator(width=2, **kw)


def test_classifier_step_learns_repeats_and_follows_its_schedule():
    x, y = _digits(16)
    step = ClassifierStep(_classifier(), lr=1e-2, weight_decay=0, decay_steps=100, warmup=5)
    hist = _quiet(step, (x, y), max_steps=100, batch_size=16)
    assert sum(hist["loss"][-5:]) / 5 < 0.5 * sum(hist["loss"][:5]) / 5
    assert step.optimizers["opt"].param_groups[0]["lr"] == pytest.approx(0, abs=1e-9), "decayed to 0 at step 100"
    robust = lambda: ClassifierStep(_classifier(), shift=2, robust=True)  # noqa: E731
    first = _quiet(robust(), (x, y), max_steps=5)["loss"]
    assert _quiet(robust(), (x, y), max_steps=5)["loss"] == first
    assert _quiet(ClassifierStep(_classifier(), shift=2), (x, y), max_steps=5)["loss"] != first


def test_vae_step_uses_the_models_terms_and_learns():
    digits, _ = load_dataset("mnist", "train", n=64)
    step = VAEStep(_vae(), lr=1e-2)
    hist = _quiet(step, (digits,), max_steps=40, batch_size=16)
    assert sum(hist["loss"][-5:]) < sum(hist["loss"][:5]) - 5 * 50, "40 steps should save over 50 nats per image"
    for rec, kl, total in zip(hist["reconstruction"], hist["kl"], hist["loss"]):
        assert total == pytest.approx(rec + kl)


@pytest.mark.parametrize("options", [
    dict(loss="hinge", shift=1, ema_decay=0.5),
    dict(loss="non-saturating", smoothing=0.1),
    dict(loss="wasserstein", gp=10.0, n_critic=2),
    dict(loss="non-saturating", r1=1.0),
    dict(loss="hinge", mode_seeking=1.0),
], ids=["hinge-shift-ema", "smoothing", "wgan-gp-n_critic", "r1", "mode_seeking"])
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_every_gan_option_runs_and_repeats(options, conditional):
    x, y = _digits(16)
    data = (x, y) if conditional else (x,)
    kw = dict(n_classes=10) if conditional else {}
    hist = _quiet(GANStep(*_gan(**kw), **options), data, max_steps=3)
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 3
    assert _quiet(GANStep(*_gan(**kw), **options), data, max_steps=3)["d_loss"] == hist["d_loss"]
    plain = _quiet(GANStep(*_gan(**kw), loss=options["loss"]), data, max_steps=3)
    assert plain["d_loss"] != hist["d_loss"] or plain["g_loss"] != hist["g_loss"], "the option should change the run"


def test_n_critic_updates_d_n_times_per_g_update():
    x, _ = _digits(16)
    step = GANStep(*_gan(), n_critic=3)
    _quiet(step, (x,), max_steps=2)
    assert step.optimizers["D"].state[next(step.D.parameters())]["step"] == 6
    assert step.optimizers["G"].state[next(step.G.parameters())]["step"] == 2


def test_g_update_leaves_d_trainable_and_adds_nothing_to_its_gradients():
    x, _ = _digits(16)
    step = GANStep(*_gan())
    opt_d, seen = step.optimizers["D"], {}
    d_step = opt_d.step

    def record(*args, **kwargs):  # D's gradients as its own loss left them
        seen.update({id(p): p.grad.clone() for p in step.D.parameters()})
        return d_step(*args, **kwargs)

    opt_d.step = record
    _quiet(step, (x,), max_steps=1)
    assert all(p.requires_grad for p in step.D.parameters()), "D must be trainable again after G's update"
    assert all(torch.equal(p.grad, seen[id(p)]) for p in step.D.parameters()), "G's update touched D's gradients"


def test_mode_seeking_pairs_labels_and_rewards_different_images():
    step = GANStep(*_gan(n_classes=10), mode_seeking=1.0)
    y = torch.arange(7)
    assert step._fake_labels(y).tolist() == [0, 1, 2, 0, 1, 2, 6]
    z = torch.randn(8, 4)
    same = torch.zeros(8, 1, 28, 28)
    apart = torch.cat([torch.zeros(4, 1, 28, 28), torch.ones(4, 1, 28, 28)])
    assert losses.mode_seeking(same, z) > 1e4 > losses.mode_seeking(apart, z)


@pytest.mark.parametrize("make, bad, message", [
    (lambda: GANStep(*_gan(), n_critic=0), "n_critic", "n_critic must be a whole number >= 1"),
    (lambda: GANStep(*_gan(), ema_decay=1.0), "ema_decay", "ema_decay must be None or in"),
    (lambda: GANStep(*_gan(), shift=-1), "shift", "shift must be"),
    (lambda: GANStep(*_gan(), gp=-1.0), "gp", "gp must be"),
    (lambda: GANStep(*_gan(), loss="lsgan"), "loss", "loss must be one of"),
    (lambda: VAEStep(_vae(), kl_warmup=-5), "kl_warmup", "kl_warmup must be"),
    (lambda: VAEStep(_vae(), decay_steps=100, warmup=-1), "warmup", "warmup must be"),
    (lambda: ClassifierStep(_classifier(), lr=0), "lr", "lr must be positive"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_options_name_the_argument(make, bad, message):
    with pytest.raises(ValueError, match=message) as err:
        make()
    assert str(err.value).startswith(bad) or f" {bad}" in str(err.value), f"the error should name {bad!r}"


def test_the_seed_argument_alone_fixes_the_run():
    x, y = _digits()
    model = _classifier()
    twin = copy.deepcopy(model)
    torch.manual_seed(1)  # whatever ran in the notebook before this cell
    first = _quiet(ClassifierStep(model), (x, y), max_steps=3)["loss"]
    torch.manual_seed(2)
    assert _quiet(ClassifierStep(twin), (x, y), max_steps=3)["loss"] == first


# --- the toy GAN: a GANStep on the ring -----------------------------------------------------------

def test_toy_gan_on_the_ring_covers_the_modes():
    from genimg_edu.data.toy import ring_centres
    from genimg_edu.metrics import mode_coverage

    ring = ring_of_gaussians(4096, std=0.1, generator=_gen())
    step = recipes.toy_gan(seed=0)  # notebook 03's recipe, the one its widget and benchmark use
    _quiet(step, (ring,), max_steps=600, batch_size=recipes.get("toy-gan").batch_size)
    modes, quality = mode_coverage(step.G.sample(2000, generator=_gen(1)), ring_centres(), std=0.1)
    assert modes >= 7 and quality > 0.3, (modes, quality)


def test_unconditional_models_refuse_labels_and_conditional_ones_require_them():
    G, D = _gan()
    with pytest.raises(ValueError, match="unconditional"):
        G(torch.randn(2, 4), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="unconditional"):
        D(torch.zeros(2, 1, 28, 28), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="unconditional"):
        MLPGenerator()(torch.randn(2, 8), torch.tensor([1, 2]))
    Gc, Dc = _gan(n_classes=10)
    with pytest.raises(ValueError, match="class-conditional"):
        Gc(torch.randn(2, 4))
    with pytest.raises(ValueError, match="class-conditional"):
        Dc(torch.zeros(2, 1, 28, 28))
