"""Exercises for notebook 03 (GANs): the value of the game at its optimum, the discriminator's loss from
logits, and the discriminator's step with its `detach`. References: `losses.d_loss` and the update of `GANStep`."""
import math

import torch
import torch.nn.functional as F

from .. import losses
from ..steps.gan import discriminator_step
from .core import Exercise, Mistake, register, seeded

check_value_at_optimum = register(Exercise(
    name="value_at_optimum", title="Exercise 3.1 · predict: the value of the game when p_g = p_data",
    reference=lambda: -math.log(4),
    trial=lambda answer: [answer()],
    describe=lambda i: "V(D*, G) with p_g = p_data",
    atol=5e-3, rtol=0,
    start="Predict it first — on paper — then return your number; hint('value_at_optimum') if you are stuck.",
    reveal=False,
    hints=["when p_g = p_data the optimal discriminator D*(x) = p_data / (p_data + p_g) is ½ everywhere.",
           "V = E_data[log D*(x)] + E_g[log(1 − D*(x))]: two terms, each log ½."],
    mistakes={
        "zero": Mistake(lambda: 0.0, "not 0: D* = ½ everywhere, so each of the two terms is log ½ — a negative "
                                     "number."),
        "one-term": Mistake(lambda: -math.log(2), "that is one term: both the real and the generated expectation "
                                                  "contribute log ½."),
        "sign": Mistake(lambda: math.log(4), "the sign is wrong: logs of probabilities below 1 are negative."),
    }))

_D_REAL = [torch.randn(16, generator=seeded(0)) * 2, torch.tensor([3.0, -1.0, 0.5])]
_D_FAKE = [torch.randn(16, generator=seeded(1)) * 2 - 1, torch.tensor([-2.0, 0.0, 4.0, 1.0])]


def _d_loss_wrong(kind):
    def wrong(d_real, d_fake):
        if kind == "swapped":
            return F.softplus(d_real).mean() + F.softplus(-d_fake).mean()
        if kind == "sigmoid-twice":
            bce = F.binary_cross_entropy_with_logits
            return bce(d_real.sigmoid(), torch.ones_like(d_real)) + bce(d_fake.sigmoid(), torch.zeros_like(d_fake))
        if kind == "sum":
            return F.softplus(-d_real).sum() + F.softplus(d_fake).sum()
        if kind == "averaged":  # also what one mean over torch.cat([d_real, d_fake]) gives for equal batches
            return (F.softplus(-d_real).mean() + F.softplus(d_fake).mean()) / 2
        if kind == "one-mean":
            return torch.cat([F.softplus(-d_real), F.softplus(d_fake)]).mean()
        return F.softplus(-d_real).mean() + F.softplus(-d_fake).mean()  # fake scored as real: G's loss
    return wrong


check_discriminator_loss = register(Exercise(
    name="discriminator_loss", title="Exercise 3.2 · the discriminator's loss, from logits",
    reference=lambda d_real, d_fake: losses.d_loss(d_real, d_fake, kind="non-saturating"),
    trial=lambda answer: [answer(r.clone(), f.clone()) for r, f in zip(_D_REAL, _D_FAKE)],
    describe=lambda i: f"d_real of shape {tuple(_D_REAL[i].shape)}, d_fake of shape {tuple(_D_FAKE[i].shape)}",
    hints=["D wants σ(d_real) → 1 and σ(d_fake) → 0: the binary cross-entropy with labels 1 and 0.",
           "−log σ(t) = softplus(−t) and −log(1 − σ(t)) = softplus(t): the task above spells them out.",
           "F.softplus(-d_real).mean() + F.softplus(d_fake).mean() — each averaged over its own batch."],
    mistakes={
        "swapped": Mistake(_d_loss_wrong("swapped"), "the labels are swapped: real images are labelled 1 "
                                                     "(softplus(−d_real)), generated ones 0 (softplus(d_fake))."),
        "sigmoid-twice": Mistake(_d_loss_wrong("sigmoid-twice"),
                                 "the scores went through a sigmoid twice: binary_cross_entropy_with_logits expects "
                                 "logits — pass d_real and d_fake as they are."),
        "sum": Mistake(_d_loss_wrong("sum"), "summed, not averaged: the loss is a mean over the batch, so it does "
                                             "not grow with the batch size."),
        "averaged": Mistake(_d_loss_wrong("averaged"), "half the loss: the two terms are added, not averaged — "
                                                       "−E[log D(x)] − E[log(1 − D(G(z)))], as the derivation has it."),
        "one-mean": Mistake(_d_loss_wrong("one-mean"), "one mean over both batches together weighs them by their "
                                                       "sizes and halves the loss: average each term over its own "
                                                       "batch, then add."),
        "fake-as-real": Mistake(_d_loss_wrong("fake-as-real"), "generated images are scored as if real: that is the "
                                                               "generator's loss — the discriminator wants "
                                                               "softplus(d_fake)."),
    }))


def _step_trial(answer):
    """Run the learner's D step on a tiny G and D; report the loss, D after the step, and G's gradient."""
    torch.manual_seed(0)
    G, D = torch.nn.Linear(4, 6), torch.nn.Linear(6, 1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    for p in D.parameters():
        p.grad = torch.ones_like(p)  # a stale gradient left over from the previous round
    real = torch.randn(8, 6, generator=seeded(3))
    fake = G(torch.randn(8, 4, generator=seeded(4)))  # still attached to G's graph, as in a GAN round
    loss = answer(D, opt_d, real, fake)
    if loss is None:
        raise ValueError("it returned None — return the loss as a number (loss.item())")
    g_grad = G.weight.grad if G.weight.grad is not None else torch.zeros_like(G.weight)
    return [float(torch.as_tensor(loss).detach()), D.weight.detach().clone(), D.bias.detach().clone(), g_grad]


def _step_wrong(kind):
    def wrong(D, opt_d, real, fake):
        if kind != "no-zero-grad":
            opt_d.zero_grad()
        f = fake if kind == "no-detach" else fake.detach()
        if kind == "hinge":
            loss = F.relu(1 - D(real)).mean() + F.relu(1 + D(f)).mean()
        else:
            loss = F.softplus(-D(real)).mean() + F.softplus(D(f)).mean()
        loss.backward()
        if kind != "no-step":
            opt_d.step()
        return loss.item()
    return wrong


check_discriminator_step = register(Exercise(
    name="discriminator_step", title="Exercise 3.3 · the discriminator's step, (1) of a GAN round",
    reference=lambda D, opt_d, real, fake: discriminator_step(D, opt_d, real, fake).item(),  # GANStep's (1)
    trial=_step_trial,
    describe=lambda i: ["the loss", "D's weight after the step", "D's bias after the step",
                        "G's gradient"][i],
    hints=["four lines: clear D's old gradients, compute the loss on real and fake, backward, step.",
           "the fakes came from G: `fake.detach()` cuts the graph, so D's backward pass stops at the images.",
           "opt_d.zero_grad(); loss = softplus(−D(real)).mean() + softplus(D(fake.detach())).mean(); "
           "loss.backward(); opt_d.step(); return loss.item()"],
    mistakes={
        "no-detach": Mistake(_step_wrong("no-detach"), "D was updated correctly, but G now has gradients: the "
                                                       "fakes were not detached, so D's loss flowed back into G — "
                                                       "use fake.detach()."),
        "no-zero-grad": Mistake(_step_wrong("no-zero-grad"), "the step used last round's gradient too: PyTorch adds "
                                                             "gradients up — call opt_d.zero_grad() first."),
        "hinge": Mistake(_step_wrong("hinge"), "that is the hinge loss; this step uses the loss of exercise 3.2, the "
                                               "cross-entropy softplus(−D(real)) + softplus(D(fake))."),
        "no-step": Mistake(_step_wrong("no-step"), "D did not change: after loss.backward(), opt_d.step() applies "
                                                   "the gradient."),
    }))
