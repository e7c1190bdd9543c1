"""Lab 3, parts 1–4: the players of a DCGAN built by the learner — generator, discriminator and their hinge
losses — each checked as a unit against `reference`: modules with the weights set by the check
(`fixed_weights`, spectral norm included), losses on fixed scores. The game itself (parts 5–6) is in `game`."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..core import Exercise, Mistake, register, seeded
from ..weights import fixed_weights
from . import reference

# --- 3.1 the generator -------------------------------------------------------------------------------------

_Z = torch.randn(6, 8, generator=seeded(30))


def _generator_trial(answer):
    model = answer(z_dim=8, width=4)
    counts = [sum(p.numel() for p in answer(z_dim=8, width=w).parameters()) for w in (4, 8)]
    return [getattr(model, "z_dim", None), *counts, fixed_weights(model)(_Z.clone()).detach()]


def _generator_wrong(kind):
    class Wrong(reference.Generator):
        def __init__(self, z_dim=64, width=32):
            super().__init__(z_dim, width)
            net = list(self.net)
            if kind == "bias-before-bn":
                net[0] = nn.Linear(z_dim, 2 * width * 7 * 7)
                net[4] = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)
            if kind == "no-batchnorm":
                net[2] = net[5] = nn.Identity()
            net[-1] = {"sigmoid": nn.Sigmoid(), "no-tanh": nn.Identity()}.get(kind, net[-1])
            self.net = nn.Sequential(*net)
    return Wrong


def _generator_diagnose(outputs):
    if outputs[0] is None:
        return "no-z-dim", ("keep the noise size as an attribute — self.z_dim = z_dim in __init__: the training "
                            "loop reads G.z_dim to draw noise of the right size.")
    return None


check_generator = register(Exercise(
    name="Generator", title="Lab 3.1 · the generator",
    reference=reference.Generator, trial=_generator_trial, diagnose=_generator_diagnose,
    describe=lambda i: ["G.z_dim", "the parameter count at width 4", "the parameter count at width 8",
                        "the images for 6 noise vectors (weights set by the check)"][i],
    start="Notebook 04's decoder again, with three differences the docstring names: BatchNorm after the first two "
          "layers, no bias right before a BatchNorm, and a tanh at the end — hint('Generator') if you are stuck.",
    hints=["nn.Linear(z_dim, 2 * width * 7 * 7, bias=False), then nn.Unflatten(1, (2 * width, 7, 7)), "
           "nn.BatchNorm2d(2 * width), nn.ReLU().",
           "nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False) doubles 7 to 14; BatchNorm, "
           "ReLU; a second one, width → 1 channel (with its bias), to 28.",
           "end with nn.Tanh(): the images live in [−1, 1], as the real ones will once the loop rescales them."],
    mistakes={
        "sigmoid": Mistake(_generator_wrong("sigmoid"), "a sigmoid gives images in [0, 1], but D compares them with "
                                                        "real digits rescaled to [−1, 1]: end with nn.Tanh()."),
        "no-tanh": Mistake(_generator_wrong("no-tanh"), "the output is unbounded: end with nn.Tanh(), so that images "
                                                        "lie in [−1, 1] like the real ones D sees."),
        "no-batchnorm": Mistake(_generator_wrong("no-batchnorm"), "the BatchNorms are missing: DCGAN's generator "
                                                                  "normalises after each layer but the last, which "
                                                                  "keeps its updates from drifting in scale."),
        "bias-before-bn": Mistake(_generator_wrong("bias-before-bn"), "a bias right before a BatchNorm is subtracted "
                                                                      "again at once (BatchNorm removes the mean): "
                                                                      "bias=False on the layers that feed one."),
    }))

# --- 3.2 the discriminator ---------------------------------------------------------------------------------

_IMAGES = torch.rand(5, 1, 28, 28, generator=seeded(31)) * 2 - 1


def _discriminator_trial(answer):
    counts = [sum(p.numel() for p in answer(width=w).parameters()) for w in (4, 8)]
    return [*counts, fixed_weights(answer(width=4))(_IMAGES.clone()).detach()]


def _discriminator_wrong(kind):
    class Wrong(nn.Module):
        def __init__(self, width=32):
            super().__init__()
            sn = (lambda m: m) if kind == "no-spectral-norm" else spectral_norm
            act = nn.ReLU if kind == "relu" else (lambda: nn.LeakyReLU(0.2))
            self.net = nn.Sequential(
                sn(nn.Conv2d(1, width, 4, stride=2, padding=1)), act(),
                sn(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)), act(),
                nn.Flatten(), sn(nn.Linear(2 * width * 7 * 7, 1)))

        def forward(self, x):
            out = self.net(x)
            return {"sigmoid": out.sigmoid().squeeze(1), "no-squeeze": out}.get(kind, out.squeeze(1))
    return Wrong


check_discriminator = register(Exercise(
    name="Discriminator", title="Lab 3.2 · the discriminator",
    reference=reference.Discriminator, trial=_discriminator_trial,
    describe=lambda i: ["the parameter count at width 4", "the parameter count at width 8",
                        "the scores of 5 images (weights set by the check)"][i],
    start="Lab 2's classifier, turned into a critic: two strided convolutions with leaky ReLUs, one Linear layer "
          "to a single score, every layer wrapped in spectral_norm — hint('Discriminator') if you are stuck.",
    hints=["spectral_norm(nn.Conv2d(1, width, 4, stride=2, padding=1)) halves 28 to 14; nn.LeakyReLU(0.2) after it.",
           "a second one, width → 2 · width channels, halves 14 to 7; then nn.Flatten() and "
           "spectral_norm(nn.Linear(2 * width * 7 * 7, 1)).",
           "the Linear layer gives (B, 1): return .squeeze(1), one score per image, and no sigmoid — the hinge loss "
           "takes the raw score."],
    mistakes={
        "sigmoid": Mistake(_discriminator_wrong("sigmoid"), "you returned probabilities: the hinge loss takes the raw "
                                                            "score (a logit) — no sigmoid at the end."),
        "relu": Mistake(_discriminator_wrong("relu"), "a plain ReLU gives no gradient for negative inputs; DCGAN's "
                                                      "discriminator uses nn.LeakyReLU(0.2), so G always gets one."),
        "no-spectral-norm": Mistake(_discriminator_wrong("no-spectral-norm"),
                                    "the scores are too large: wrap every layer in spectral_norm(...), which divides "
                                    "its weight by its largest singular value and keeps D from growing steep."),
        "no-squeeze": Mistake(_discriminator_wrong("no-squeeze"), "the scores have shape (B, 1): return "
                                                                  ".squeeze(1), one number per image (B,)."),
    }))

# --- 3.3 and 3.4 the hinge losses --------------------------------------------------------------------------

_D_REAL = [torch.randn(16, generator=seeded(32)) * 2, torch.tensor([3.0, -1.0, 0.5, 0.9])]
_D_FAKE = [torch.randn(16, generator=seeded(33)) * 2 - 1, torch.tensor([-2.0, 0.0, 4.0, -0.5, 1.5, -1.2])]


def _d_loss_wrong(kind):
    def wrong(d_real, d_fake):
        real, fake = {"no-relu": (-d_real, d_fake), "swapped": (F.relu(1 + d_real), F.relu(1 - d_fake)),
                      "no-margin": (F.relu(-d_real), F.relu(d_fake)),
                      "bce": (F.softplus(-d_real), F.softplus(d_fake))}.get(kind, (F.relu(1 - d_real), F.relu(1 + d_fake)))
        if kind == "one-mean":
            return torch.cat([real, fake]).mean()
        return real.sum() + fake.sum() if kind == "sum" else real.mean() + fake.mean()
    return wrong


check_d_loss = register(Exercise(
    name="d_loss", title="Lab 3.3 · the discriminator's hinge loss",
    reference=reference.d_loss,
    trial=lambda answer: [answer(r.clone(), f.clone()) for r, f in zip(_D_REAL, _D_FAKE)],
    describe=lambda i: f"d_real of shape {tuple(_D_REAL[i].shape)}, d_fake of shape {tuple(_D_FAKE[i].shape)}",
    start="D wants real scores above +1 and fake scores below −1, and pays only for the scores on the wrong side "
          "of its margin — hint('d_loss') if you are stuck.",
    hints=["a real image costs max(0, 1 − d_real): nothing once its score is above 1.",
           "a fake costs max(0, 1 + d_fake): nothing once its score is below −1. F.relu is max(0, ·).",
           "average each term over its own batch, then add the two."],
    mistakes={
        "no-relu": Mistake(_d_loss_wrong("no-relu"), "without the max(0, ·) this is the Wasserstein critic's loss: "
                                                     "D would push its scores without bound. Clip each term with "
                                                     "F.relu."),
        "swapped": Mistake(_d_loss_wrong("swapped"), "the signs are swapped: real scores should end above +1 "
                                                     "(relu(1 − d_real)), fake ones below −1 (relu(1 + d_fake))."),
        "no-margin": Mistake(_d_loss_wrong("no-margin"), "the margin of 1 is missing: relu(1 − d_real) keeps pushing "
                                                         "a real score until it passes 1, not merely 0."),
        "bce": Mistake(_d_loss_wrong("bce"), "that is the cross-entropy of exercise 3.2; this lab's GAN uses the hinge "
                                             "loss, relu(1 − d_real) and relu(1 + d_fake)."),
        "one-mean": Mistake(_d_loss_wrong("one-mean"), "one mean over both batches weighs them by their sizes and "
                                                       "halves the loss: average each term over its own batch, "
                                                       "then add."),
        "sum": Mistake(_d_loss_wrong("sum"), "summed, not averaged: the loss is a mean over the batch, so it does not "
                                             "grow with the batch size."),
    }))


def _g_loss_wrong(kind):
    return {"hinge": lambda d_fake: F.relu(1 - d_fake).mean(), "sign": lambda d_fake: d_fake.mean(),
            "sum": lambda d_fake: -d_fake.sum(), "bce": lambda d_fake: F.softplus(-d_fake).mean()}[kind]


check_g_loss = register(Exercise(
    name="g_loss", title="Lab 3.4 · the generator's loss",
    reference=reference.g_loss,
    trial=lambda answer: [answer(f.clone()) for f in _D_FAKE],
    describe=lambda i: f"d_fake of shape {tuple(_D_FAKE[i].shape)}",
    start="G wants D to score its images high — as high as it can, with no margin to stop at — hint('g_loss') if "
          "you are stuck.",
    hints=["the generator's side of the hinge game has no max(0, ·): it minimises −D(G(z)).",
           "one number: the mean over the batch."],
    mistakes={
        "hinge": Mistake(_g_loss_wrong("hinge"), "G's loss has no margin: with relu(1 − d_fake) G stops learning "
                                                 "from any fake D already scores above 1. Minimise −d_fake.mean()."),
        "sign": Mistake(_g_loss_wrong("sign"), "the sign is wrong: that pushes D's score of the fakes down, which is "
                                               "D's aim, not G's."),
        "sum": Mistake(_g_loss_wrong("sum"), "summed, not averaged: take the mean over the batch."),
        "bce": Mistake(_g_loss_wrong("bce"), "that is the non-saturating loss of notebook 03; beside the hinge loss "
                                             "for D, G's loss is −d_fake.mean()."),
    }))
