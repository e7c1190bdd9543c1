"""Training loops and their parts: batches, shifts, EMA, schedule, budgets, determinism, the toy GAN."""
import copy
import time

import pytest
import torch
from torch import nn

from genimg_edu.data import load_dataset
from genimg_edu.models import DCGANDiscriminator, DCGANGenerator, MLPVAE, MNISTClassifier
from genimg_edu.train import (EMA, ToyGAN, batches, cosine_lr, random_shift, train_classifier, train_gan,
                              train_vae)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _digits(n=32):
    g = _gen(0)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


# --- batches and augmentation ---------------------------------------------------------------------

def test_batches_cover_every_index_once_per_epoch():
    it = batches(12, 4, generator=_gen())
    epochs = [torch.cat([next(it) for _ in range(3)]) for _ in range(3)]
    for epoch in epochs:
        assert sorted(epoch.tolist()) == list(range(12))
    assert not torch.equal(epochs[0], epochs[1]), "each epoch should be a new permutation"
    again = batches(12, 4, generator=_gen())
    assert torch.equal(torch.cat([next(again) for _ in range(3)]), epochs[0])


def test_batches_drop_the_short_last_batch():
    it = batches(10, 3, generator=_gen())
    epoch = [next(it) for _ in range(3)]
    assert all(len(b) == 3 for b in epoch) and len(set(torch.cat(epoch).tolist())) == 9


def test_batches_larger_than_the_data_are_refused():
    with pytest.raises(ValueError, match="batch_size 11.*10"):
        next(batches(10, 11, generator=_gen()))


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


# --- EMA and learning-rate schedule ---------------------------------------------------------------

def test_ema_moves_towards_the_model_by_one_minus_decay():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = EMA(model, decay=0.9)
    start = [p.clone() for p in ema.model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert torch.equal(next(ema.model.parameters()), start[0]), "the average is a copy, not a view"
    model.train()(torch.randn(8, 3))  # changes BatchNorm's running statistics
    ema.update(model)
    for p_ema, p0, p in zip(ema.model.parameters(), start, model.parameters()):
        torch.testing.assert_close(p_ema, p0 + 0.1 * (p - p0))
        assert not p_ema.requires_grad
    torch.testing.assert_close(ema.model[1].running_mean, model[1].running_mean)  # buffers are copied
    assert not ema.model.training


def test_cosine_lr_warms_up_then_decays_to_zero():
    assert cosine_lr(0, 100) == pytest.approx(1.0)
    assert cosine_lr(50, 100) == pytest.approx(0.5)
    assert cosine_lr(100, 100) == pytest.approx(0.0, abs=1e-12)
    assert cosine_lr(150, 100) == pytest.approx(0.0, abs=1e-12)  # stays at 0 past the end
    ramp = [cosine_lr(s, 100, warmup=10) for s in range(10)]
    assert ramp == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert cosine_lr(10, 100, warmup=10) == pytest.approx(1.0)
    assert cosine_lr(55, 100, warmup=10) == pytest.approx(0.5)
    decay = [cosine_lr(s, 100, warmup=10) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(decay, decay[1:])) and decay[-1] == pytest.approx(0.0, abs=1e-12)


# --- training loops -------------------------------------------------------------------------------

def _classifier():
    torch.manual_seed(0)  # dropout draws from the global generator too
    return MNISTClassifier(width=2, hidden=8)


def _vae():
    torch.manual_seed(0)  # so does the reparameterisation's ε
    return MLPVAE(hidden=(8,), z_dim=2)


def _gan(**kw):
    torch.manual_seed(0)
    return DCGANGenerator(z_dim=4, width=2, **kw), DCGANDiscriminator(width=2, **kw)


def test_train_classifier_runs_learns_and_repeats():
    x, y = _digits()
    model = _classifier()
    before = [p.clone() for p in model.parameters()]
    hist = train_classifier(model, x, y, steps=4, batch_size=8, shift=2)
    assert len(hist["loss"]) == 4 and hist["steps"] == 4
    assert all(torch.isfinite(torch.tensor(hist["loss"])))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters())), "the weights should move"
    assert train_classifier(_classifier(), x, y, steps=4, batch_size=8, shift=2)["loss"] == hist["loss"]
    assert train_classifier(_classifier(), x, y, steps=4, batch_size=8, shift=2, seed=1)["loss"] != hist["loss"]


def test_train_classifier_fits_a_tiny_set():
    x, y = _digits(16)
    hist = train_classifier(_classifier(), x, y, steps=60, batch_size=16, lr=1e-2, weight_decay=0)
    assert sum(hist["loss"][-5:]) / 5 < 0.5 * sum(hist["loss"][:5]) / 5


def test_train_vae_runs_and_repeats():
    x, _ = _digits()
    hist = train_vae(_vae(), x, steps=5, batch_size=8, beta=0.5)
    assert len(hist["loss"]) == 5 and hist["steps"] == 5
    assert all(l > 0 for l in hist["loss"])  # a negative ELBO of grey values, in nats per image
    assert train_vae(_vae(), x, steps=5, batch_size=8, beta=0.5)["loss"] == hist["loss"]
    digits, _ = load_dataset("mnist", "train", n=64)  # uniform noise has nothing to learn
    longer = train_vae(_vae(), digits, steps=40, batch_size=16, lr=1e-2)["loss"]
    assert sum(longer[-5:]) < sum(longer[:5]) - 5 * 50, "40 steps should save over 50 nats per image"


@pytest.mark.parametrize("make, train", [
    (_classifier, lambda m, x, y: train_classifier(m, x, y, steps=3, batch_size=8)),
    (_vae, lambda m, x, y: train_vae(m, x, steps=3, batch_size=8)),
], ids=["classifier", "vae"])
def test_the_seed_argument_alone_fixes_the_run(make, train):
    x, y = _digits()
    model = make()
    twin = copy.deepcopy(model)
    torch.manual_seed(1)  # whatever ran in the notebook before this cell
    first = train(model, x, y)["loss"]
    torch.manual_seed(2)
    assert train(twin, x, y)["loss"] == first


@pytest.mark.parametrize("loss", ["hinge", "non-saturating"])
def test_train_gan_runs_and_repeats(loss):
    x, _ = _digits(16)
    G, D = _gan()
    hist, ema = train_gan(G, D, x, steps=3, batch_size=8, loss=loss, shift=1, ema_decay=0.5)
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 3 and hist["steps"] == 3
    assert isinstance(ema, EMA) and not ema.model.training
    p_ema, p = next(ema.model.parameters()), next(G.parameters())
    assert not torch.equal(p_ema, p), "the EMA should lag behind the generator"
    again, _ = train_gan(*_gan(), x, steps=3, batch_size=8, loss=loss, shift=1, ema_decay=0.5)
    assert again == hist


def test_train_conditional_gan_and_its_callback():
    x, y = _digits(16)
    G, D = _gan(n_classes=10)
    calls = []
    hist, ema = train_gan(G, D, x, y, steps=4, batch_size=8, every=2,
                          callback=lambda step, g, e: calls.append((step, g is G, e.model is not G)))
    assert len(hist["g_loss"]) == 4 and calls == [(2, True, True), (4, True, True)]
    assert ema.model.sample(3, labels=torch.tensor([0, 1, 2])).shape == (3, 1, 28, 28)


@pytest.mark.parametrize("run", [
    lambda: train_classifier(_classifier(), *_digits(), batch_size=8),
    lambda: train_vae(_vae(), _digits()[0], batch_size=8),
    lambda: train_gan(*_gan(), _digits()[0], batch_size=8),
])
def test_training_needs_a_budget(run):
    with pytest.raises(ValueError, match="budget"):
        run()


def test_max_seconds_stops_early():
    x, y = _digits()
    start = time.perf_counter()
    hist = train_classifier(_classifier(), x, y, steps=10**6, max_seconds=0.3, batch_size=8)
    assert time.perf_counter() - start < 5
    assert 1 <= len(hist["loss"]) < 10**6 and hist["steps"] == len(hist["loss"])
    assert train_vae(_vae(), x, max_seconds=0.0, batch_size=8)["loss"] == []
    hist, _ = train_gan(*_gan(), x, max_seconds=0.2, batch_size=8)
    assert 1 <= len(hist["d_loss"]) < 1000


# --- the toy GAN ----------------------------------------------------------------------------------

def test_toy_gan_steps_and_measures():
    toy = ToyGAN(hidden=16, batch_size=32)
    toy.step(3)
    assert toy.steps == 3 and len(toy.history["d_loss"]) == len(toy.history["g_loss"]) == 3
    modes, quality = toy.coverage(200)
    assert isinstance(modes, int) and isinstance(quality, float)
    assert 0 <= modes <= 8 and 0.0 <= quality <= 1.0
    assert toy.samples(50).shape == (50, 2)
    again = ToyGAN(hidden=16, batch_size=32)
    again.step(3)
    assert again.history == toy.history, "the same seed should give the same game"
    unpenalised = ToyGAN(hidden=16, batch_size=32, r1=0, g_steps=2)
    unpenalised.step(2)
    assert unpenalised.history["d_loss"] != toy.history["d_loss"][:2]


def test_toy_gan_d_map_is_a_grid_of_probabilities_with_x_along_columns():
    toy = ToyGAN(hidden=16)
    d = toy.d_map(lim=2.0, size=11)
    assert d.shape == (11, 11) and float(d.min()) >= 0 and float(d.max()) <= 1
    toy.D = lambda points: 10 * points[:, 0]  # a critic that only looks at x
    d = toy.d_map(lim=2.0, size=11)
    assert torch.equal(d[0], d[-1]) and d[0, 0] < 0.01 and d[0, -1] > 0.99  # imshow(origin="lower") shows x →
