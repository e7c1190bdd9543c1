"""Lab 3, parts 5–6: one round of the game and the training loop with a weight average, checked on two tiny
players whose gradients the check watches: which player each backward pass reaches, stale gradients left
over from a previous round, what the loop feeds each round and what the average keeps."""
from __future__ import annotations

import copy

import torch
from torch import nn

from ...fit import batch_indices
from ..core import Exercise, Mistake, register, seeded
from . import reference

# --- 3.5 one round of the game -----------------------------------------------------------------------------


class _TinyG(nn.Module):
    """A generator small enough to watch: noise (B, 4) → 'images' (B, 6)."""

    def __init__(self):
        super().__init__()
        self.z_dim, self.net = 4, nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class _TinyD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 1)

    def forward(self, x):
        return self.net(x).squeeze(1)


_BACKWARD_TWICE = "backward through G's graph twice"


def _round_trial(answer):
    """Run the learner's round on tiny G and D with stale gradients left on both; report the losses (and whether
    they are floats), both players' weights after it, and how many backward passes reached G."""
    torch.manual_seed(0)
    G, D = _TinyG(), _TinyD()
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    for p in [*G.parameters(), *D.parameters()]:
        p.grad = torch.ones_like(p)  # left over from the previous round
    reached_g = []
    G.net[0].weight.register_hook(lambda grad: reached_g.append(1))
    real, z = torch.rand(8, 6, generator=seeded(34)) * 2 - 1, torch.randn(8, 4, generator=seeded(35))
    try:
        losses = answer(G, D, opt_g, opt_d, real.clone(), z.clone())
    except RuntimeError as e:
        if "backward through the graph a second time" in str(e):
            return [_BACKWARD_TWICE]
        raise
    if not isinstance(losses, (tuple, list)) or len(losses) != 2:
        raise ValueError(f"it returned {type(losses).__name__}: return the two losses, (loss_d, loss_g)")
    weights = [torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (D, G)]
    values = [float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for v in losses]
    return [values, [isinstance(v, float) for v in losses], *weights, len(reached_g)]


def _round_wrong(kind):
    def wrong(G, D, opt_g, opt_d, real, z):
        def d_step(fake):
            if kind != "no-zero-grad":
                opt_d.zero_grad()
            f = fake if kind in ("no-detach", "no-detach-twice") else fake.detach()
            d_fake = D(f).detach() if kind == "detached-score" else D(f)
            loss = reference.d_loss(D(real), d_fake)
            loss.backward()
            opt_d.step()
            return loss

        def g_step(fake):
            if kind != "no-zero-grad-g":
                opt_g.zero_grad()
            loss = reference.g_loss(D(fake.detach() if kind == "g-detached" else fake))
            loss.backward()
            opt_g.step()
            return loss

        fake = G(z)
        loss_d = d_step(fake)
        loss_g = g_step(G(z) if kind == "no-detach" else fake)  # no-detach: fresh fakes, so no error shows it
        return (loss_d, loss_g) if kind == "tensors" else (loss_d.item(), loss_g.item())
    return wrong


check_gan_round = register(Exercise(
    name="gan_round", title="Lab 3.5 · one round of the game",
    reference=reference.gan_round, trial=_round_trial,
    describe=lambda i: ["the two losses", "whether they are floats", "D's weights after the round",
                        "G's weights after it", "how many backward passes reached G"][i],
    start="Two steps, each four lines: (1) D's, on real images and the fakes cut off from G; (2) G's, through the "
          "D just updated — hint('gan_round') if you are stuck.",
    hints=["make the fakes once: fake = G(z). For D's step, D(fake.detach()): its backward pass must stop at the "
           "images and leave G alone.",
           "each step: clear its own player's old gradients (opt.zero_grad()), compute the loss, backward, "
           "opt.step(). Use your d_loss and g_loss.",
           "G's step scores the same fakes, not detached this time: g_loss(D(fake)). Return "
           "(loss_d.item(), loss_g.item())."],
    mistakes={
        "no-detach-twice": Mistake(_round_wrong("no-detach-twice"),
                                   "PyTorch refused to go backward through G twice: D's step did not detach the fakes, "
                                   "so its backward pass ran through G (and freed G's graph) — use D(fake.detach())."),
        "no-detach": Mistake(_round_wrong("no-detach"), "D's backward pass reached G: the fakes were not detached in "
                                                        "D's step. G's update came out right only because G's step "
                                                        "cleared the stray gradient first — use D(fake.detach())."),
        "detached-score": Mistake(_round_wrong("detached-score"), "you detached D's score of the fakes, not the fakes "
                                                                  "themselves: D then learns nothing from them. "
                                                                  "Detach the images: D(fake.detach())."),
        "g-detached": Mistake(_round_wrong("g-detached"), "G did not move: its step scored detached fakes, so no "
                                                          "gradient could reach it — G's step uses D(fake)."),
        "no-zero-grad": Mistake(_round_wrong("no-zero-grad"), "D's step used last round's gradient too: PyTorch adds "
                                                              "gradients up — call opt_d.zero_grad() first."),
        "no-zero-grad-g": Mistake(_round_wrong("no-zero-grad-g"), "G's step used a stale gradient too: call "
                                                                  "opt_g.zero_grad() before G's backward pass."),
        "tensors": Mistake(_round_wrong("tensors"), "return the losses as numbers, (loss_d.item(), loss_g.item()): "
                                                    "tensors keep each round's graph alive in your history."),
    }))

# --- 3.6 the training loop ---------------------------------------------------------------------------------


def _train_trial(answer):
    torch.manual_seed(0)
    G, D = _TinyG(), _TinyD()
    x = torch.rand(30, 6, generator=seeded(36))
    out = answer(G, D, x, steps=4, batch_size=5, lr=0.01, decay=0.8, seed=3)
    if not isinstance(out, tuple) or len(out) != 2 or not isinstance(out[1], nn.Module) or out[1] is G:
        raise ValueError("return (history, G_avg): the list of what gan_round returned, and the averaged copy of G")
    history, G_avg = out
    weights = lambda m: torch.cat([t.detach().flatten().float() for t in [*m.parameters(), *m.buffers()]])  # noqa: E731
    return [[[float(v) for v in pair] for pair in history], weights(D), weights(G), weights(G_avg)]


def _train_wrong(kind):
    def wrong(G, D, x, *, steps, batch_size=64, lr=2e-3, decay=0.99, seed=0):
        betas = (0.9, 0.999) if kind == "default-betas" else (0.5, 0.999)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
        G_avg = copy.deepcopy(G)
        G.train(), D.train()
        noise = seeded(seed)
        once = torch.randn(batch_size, G.z_dim, generator=noise) if kind == "same-noise" else None
        history = []
        for k in range(steps):
            if kind == "optimizer-per-step":
                opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
                opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
            real = x[batch_indices(len(x), batch_size, seed=seed, step=k)]
            z = once if once is not None else torch.randn(batch_size, G.z_dim, generator=noise)
            history.append(reference.gan_round(G, D, opt_g, opt_d, real if kind == "no-rescale" else real * 2 - 1, z))
            with torch.no_grad():
                for avg, p in zip(G_avg.parameters(), G.parameters()):
                    avg.lerp_(p, decay if kind == "ema-swapped" else 1 - decay)
                if kind != "ema-no-buffers":
                    for avg, b in zip(G_avg.buffers(), G.buffers()):
                        avg.copy_(b)
        return history, G_avg
    return wrong


check_train_gan = register(Exercise(
    name="train_gan", title="Lab 3.6 · the training loop, with a weight average",
    reference=reference.train_gan, trial=_train_trial,
    describe=lambda i: ["the losses of 4 rounds of batch 5", "D's weights after them", "G's weights after them",
                        "the averaged G's weights and BatchNorm statistics"][i],
    start="Two Adam optimisers and a copy of G to average into, made once; then, round after round, a batch of "
          "real images rescaled to G's range, fresh noise, your gan_round, and one step of the average — "
          "hint('train_gan') if you are stuck.",
    hints=["torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999)), and one for D: DCGAN's β1 = 0.5 damps "
           "the momentum that makes a game oscillate. G_avg = copy.deepcopy(G).",
           "the batch of round k is x[batch_indices(len(x), batch_size, seed=seed, step=k)], mapped from [0, 1] to "
           "[−1, 1]; the noise, torch.randn(batch_size, G.z_dim, generator=noise) from one generator seeded once "
           "before the loop.",
           "after each round, under torch.no_grad(): avg.lerp_(p, 1 − decay) for each pair of parameters (notebook "
           "05's weight average), and copy G's buffers (BatchNorm's running statistics) into G_avg's."],
    mistakes={
        "no-rescale": Mistake(_train_wrong("no-rescale"), "the real digits stayed in [0, 1] while G's tanh draws in "
                                                          "[−1, 1]: D tells them apart by brightness alone. Map them: "
                                                          "x * 2 − 1."),
        "same-noise": Mistake(_train_wrong("same-noise"), "every round used the same noise: G learns to draw one "
                                                          "batch of images. Draw fresh noise each round."),
        "optimizer-per-step": Mistake(_train_wrong("optimizer-per-step"), "new optimisers each round forget Adam's "
                                                                          "running averages: make both once, before "
                                                                          "the loop."),
        "default-betas": Mistake(_train_wrong("default-betas"), "Adam's default β1 = 0.9 lets momentum carry each "
                                                                "player past the other's move (notebook 05's sweep): "
                                                                "betas=(0.5, 0.999)."),
        "ema-swapped": Mistake(_train_wrong("ema-swapped"), "the average moved almost all the way to G each round: "
                                                            "avg.lerp_(p, w) moves it a share w towards p, and that "
                                                            "share is 1 − decay (0.01), not decay."),
        "ema-no-buffers": Mistake(_train_wrong("ema-no-buffers"), "G_avg's BatchNorm statistics stayed where they "
                                                                  "started, so in eval mode it normalises with the "
                                                                  "wrong means: copy G's buffers into G_avg too."),
    }))
