"""Lab 7, part 6: the training loop, replayed step by step — the same draws from one generator, in the order the
docstring gives, as `diffusion.FlowMatching.draw` makes them — against `reference.train_flow`."""
from __future__ import annotations

import torch

from ..core import Exercise, Mistake, register, seeded
from . import reference
from .parts import _point_net

# --- 7.6 the training loop -----------------------------------------------------------------------------------


def _train_trial(answer):
    outputs = []
    for n_classes, conditional in ((3, True), (0, False)):
        net = _point_net(n_classes)
        x = torch.randn(30, 2, generator=seeded(78))
        labels = torch.randint(0, 3, (30,), generator=seeded(79)) if conditional else None
        losses = answer(net, x, labels, steps=4, batch_size=5, lr=0.01, p_drop=0.3, seed=3)
        outputs += [[float(v) for v in losses], torch.cat([p.detach().flatten() for p in net.parameters()])]
    return outputs


def _train_wrong(kind):
    def wrong(net, x, labels=None, *, steps, batch_size=256, lr=2e-3, p_drop=0.2, seed=0):
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        g, losses = torch.Generator().manual_seed(seed), []
        fixed = torch.randn((batch_size, *x.shape[1:]), generator=g) if kind == "fixed-noise" else None
        for _ in range(steps):
            if kind == "optimizer-per-step":
                optimizer = torch.optim.Adam(net.parameters(), lr=lr)
            i = torch.randint(len(x), (batch_size,), generator=g)
            eps = fixed if fixed is not None else torch.randn(x[i].shape, generator=g)
            t = torch.rand(batch_size, generator=g)
            y = None
            if labels is not None:  # no dropout: no uniforms drawn either
                y = labels[i] if kind == "no-dropout" else \
                    reference.drop_labels(labels[i], torch.rand(batch_size, generator=g), p_drop, net.n_classes)
            loss = reference.flow_loss(net, x[i], eps, t, y)
            if kind != "no-zero-grad":
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    return wrong


check_train_flow = register(Exercise(
    name="train_flow", title="Lab 7.6 · the training loop",
    reference=reference.train_flow, trial=_train_trial,
    describe=lambda i: ["the losses of 4 steps of batch 5 (with labels)", "the weights after them",
                        "the losses of 4 steps without labels", "the weights after them"][i],
    start="An Adam optimiser and a generator seeded once; then, step after step, a batch, its noise, its times, "
          "its dropped labels, your flow_loss and one update — in the order the docstring gives, so that the "
          "check can replay it. hint('train_flow') if you are stuck.",
    hints=["before the loop: optimizer = torch.optim.Adam(net.parameters(), lr=lr) and "
           "generator = torch.Generator().manual_seed(seed).",
           "each step, from that generator and in this order: i = torch.randint(len(x), (batch_size,), generator=…), "
           "eps = torch.randn(x[i].shape, generator=…), t = torch.rand(batch_size, generator=…), and — only when "
           "labels is not None — u = torch.rand(batch_size, generator=…) for drop_labels(labels[i], u, p_drop, "
           "net.n_classes).",
           "then loss = flow_loss(net, x[i], eps, t, y); optimizer.zero_grad(); loss.backward(); optimizer.step(); "
           "and keep loss.item()."],
    mistakes={
        "no-zero-grad": Mistake(_train_wrong("no-zero-grad"), "each step added its gradient to the last ones: "
                                                              "PyTorch accumulates gradients — call "
                                                              "optimizer.zero_grad() before loss.backward()."),
        "fixed-noise": Mistake(_train_wrong("fixed-noise"), "the noise was drawn once, before the loop: every step "
                                                            "must pair its batch with fresh noise, or the network "
                                                            "learns one fixed set of paths."),
        "no-dropout": Mistake(_train_wrong("no-dropout"), "the labels were never dropped: the network never sees "
                                                          "the 'no class' token, so it cannot give the unconditional "
                                                          "velocity that guidance needs — use your drop_labels."),
        "optimizer-per-step": Mistake(_train_wrong("optimizer-per-step"), "a new optimiser each step forgets Adam's "
                                                                          "running averages: make it once, before "
                                                                          "the loop."),
    }))
