"""Lab 7's reference: what its solution builds — the parts' checks compare the learner's with these. Each is the
package's own: the loss and the draws of `diffusion.FlowMatching`, the samplers of `diffusion.sample_flow`."""
from __future__ import annotations

import torch

from ... import diffusion


def flow_loss(net, x0, eps, t, labels=None):
    """FlowMatching's loss: ``mean ‖net(x_t, t, labels) − (ε − x_0)‖²`` on the straight path."""
    x_t, v = diffusion.flow_path(x0, eps, t)
    return diffusion.FlowMatching(net, rescale=False)(x_t, t, labels, v)


def drop_labels(labels, u, p, null):
    return torch.where(u < p, torch.full_like(labels, null), labels)


def euler(velocity, x1, steps):
    return diffusion.sample_flow(velocity, x1, steps=steps, method="euler")


def heun(velocity, x1, steps):
    return diffusion.sample_flow(velocity, x1, steps=steps, method="heun")


def cfg_velocity(net, x, t, labels, w):
    return diffusion.FlowMatching(net).velocity(x, t, labels, guidance=w)


def train_flow(net, x, labels=None, *, steps: int, batch_size: int = 256, lr: float = 2e-3, p_drop: float = 0.2,
               seed: int = 0) -> list[float]:
    """`steps` updates of `net` by Adam on the flow-matching loss; the list of losses. Each step draws, from one
    generator seeded once: a batch of indices, the noise, the times, and (with labels) the dropout's uniforms —
    FlowMatching's `draw`, uniform times, on data already centred."""
    flow = diffusion.FlowMatching(net, t_sampling="uniform", label_dropout=p_drop, rescale=False)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    generator, losses = torch.Generator().manual_seed(seed), []
    for _ in range(steps):
        i = torch.randint(len(x), (batch_size,), generator=generator)
        loss = flow(*flow.draw((x[i],) if labels is None else (x[i], labels[i]), generator=generator))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
