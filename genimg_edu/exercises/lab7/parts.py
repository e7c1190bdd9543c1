"""Lab 7, parts 1, 2 and 5: the flow-matching loss, label dropout and classifier-free guidance, each checked as a
unit against `reference`, on points (B, 2) and on images (B, 1, 4, 4), through networks whose weights the check
sets itself. The samplers (parts 3 and 4) are in `samplers`, the loop (part 6) in `loop`."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...models import VelocityMLP
from ..core import Exercise, Mistake, register, seeded
from ..weights import fixed_weights
from . import reference


def _point_net(n_classes: int = 3) -> VelocityMLP:
    torch.manual_seed(0)  # the label embedding, which fixed_weights leaves alone
    return fixed_weights(VelocityMLP(dim=2, hidden=8, emb_dim=4, n_classes=n_classes))


class _ImageNet(nn.Module):
    """A velocity 'network' for images (B, 1, 4, 4): one convolution, scaled by the time (B,) per image."""

    def __init__(self):
        super().__init__()
        self.conv = fixed_weights(nn.Conv2d(1, 1, 3, padding=1))

    def forward(self, x, t, labels=None):
        return self.conv(x) * (1 + torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1, 1, 1))


def _gradient(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() if p.grad is not None else torch.zeros(p.numel()) for p in module.parameters()])


# --- 7.1 the loss --------------------------------------------------------------------------------------------

_P0, _PEPS = torch.randn(5, 2, generator=seeded(70)), torch.randn(5, 2, generator=seeded(71))
_PT, _PLABELS = torch.rand(5, generator=seeded(72)), torch.tensor([0, 1, 2, 3, 1])  # 3: "no class"
_I0, _IEPS = torch.rand(3, 1, 4, 4, generator=seeded(73)) * 2 - 1, torch.randn(3, 1, 4, 4, generator=seeded(74))
_IT = torch.tensor([0.1, 0.5, 0.9])


def _loss_trial(answer):
    outputs = []
    for net, x0, eps, t, labels in ((_point_net(), _P0, _PEPS, _PT, _PLABELS), (_ImageNet(), _I0, _IEPS, _IT, None)):
        loss = answer(net, x0.clone(), eps.clone(), t.clone(), None if labels is None else labels.clone())
        loss.backward()
        outputs += [loss.detach(), _gradient(net)]
    return outputs


def _loss_wrong(kind):
    def wrong(net, x0, eps, t, labels=None):
        s = t.reshape(-1, *[1] * (x0.dim() - 1))
        x_t = s * x0 + (1 - s) * eps if kind == "reversed-path" else (1 - s) * x0 + s * eps
        target = x0 - eps if kind == "reversed-target" else eps - x0
        pred = net(x_t, t, None if kind == "no-labels" else labels)
        if kind == "sum":
            return (pred - target).pow(2).flatten(1).sum(1).mean()
        return F.mse_loss(pred, target)
    return wrong


check_flow_loss = register(Exercise(
    name="flow_loss", title="Lab 7.1 · the flow-matching loss",
    reference=reference.flow_loss, trial=_loss_trial,
    describe=lambda i: ["the loss on 5 points (a network with weights set by the check)", "its gradient",
                        "the loss on 3 images of 1 × 4 × 4", "its gradient"][i],
    start="Three steps: the point of the straight path at time t, the velocity of that path, and how far the "
          "network's guess is from it — hint('flow_loss') if you are stuck.",
    hints=["x_t = (1 − t)·x0 + t·eps: t = 0 is the data, t = 1 the noise. t has one number per item, shape (B,): "
           "reshape it to (B, 1, …, 1) — t.reshape(-1, *[1] * (x0.dim() - 1)) — so it multiplies each item whole, "
           "for points and images alike.",
           "along that path dx_t/dt = eps − x0, the same at every t: that is the target velocity.",
           "the network sees (x_t, t, labels) — t as given, shape (B,) — and the loss is the mean squared error, "
           "F.mse_loss(prediction, target)."],
    mistakes={
        "reversed-target": Mistake(_loss_wrong("reversed-target"), "the target points the wrong way: x_t moves from "
                                                                   "x0 (t = 0) to eps (t = 1), so dx_t/dt = eps − x0."),
        "reversed-path": Mistake(_loss_wrong("reversed-path"), "the path runs backwards: at t = 0 it must be the data "
                                                               "x0 and at t = 1 the noise — x_t = (1 − t)·x0 + t·eps."),
        "sum": Mistake(_loss_wrong("sum"), "you summed over each item's numbers: the loss is the mean over all of them "
                                           "(F.mse_loss), so that the learning rate does not depend on the image size."),
        "no-labels": Mistake(_loss_wrong("no-labels"), "the labels never reached the network: pass them on, "
                                                       "net(x_t, t, labels) — without them guidance has nothing to "
                                                       "amplify."),
    }))

# --- 7.2 label dropout ---------------------------------------------------------------------------------------

_LABELS = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
_U = torch.tensor([0.05, 0.5, 0.15, 0.9, 0.01, 0.3, 0.7, 0.19])
_DROPS = [0.2, 0.5]


def _drop_trial(answer):
    outputs = []
    for p in _DROPS:
        labels = _LABELS.clone()
        outputs += [answer(labels, _U.clone(), p, 10), labels]
    return outputs


def _drop_wrong(kind):
    def wrong(labels, u, p, null):
        if kind == "in-place":
            labels[u < p] = null
            return labels
        return torch.where(u >= p if kind == "inverted" else u < p,
                           torch.full_like(labels, 0 if kind == "zero" else null), labels)
    return wrong


check_drop_labels = register(Exercise(
    name="drop_labels", title="Lab 7.2 · label dropout",
    reference=reference.drop_labels, trial=_drop_trial,
    describe=lambda i: ["the labels returned, p = 0.2", "your input labels afterwards, p = 0.2",
                        "the labels returned, p = 0.5", "your input labels afterwards, p = 0.5"][i],
    returns=(torch.Tensor, torch.int64),
    start="Where the uniform number u is below p, the label becomes the 'no class' token null; elsewhere it stays — "
          "hint('drop_labels') if you are stuck.",
    hints=["torch.where(condition, a, b) picks from a where the condition holds and from b elsewhere.",
           "torch.full_like(labels, null) is a tensor of nulls with the labels' shape and dtype.",
           "return a new tensor: the caller's labels must not change."],
    mistakes={
        "inverted": Mistake(_drop_wrong("inverted"), "you dropped the labels where u ≥ p — a share 1 − p of them: "
                                                     "drop where u < p, a share p."),
        "zero": Mistake(_drop_wrong("zero"), "the dropped labels became 0, which is a real digit: the 'no class' "
                                             "token is null (the index after the last class)."),
        "in-place": Mistake(_drop_wrong("in-place"), "the result is right, but you changed the labels you were "
                                                     "given: the caller's data lost its labels too. Build a new "
                                                     "tensor (torch.where)."),
    }))

# --- 7.5 classifier-free guidance ----------------------------------------------------------------------------

_GX, _GT = torch.randn(4, 2, generator=seeded(77)), 0.7
_GLABELS = torch.tensor([0, 1, 2, 0])
_WS = [1.5, 0.0, 3.0]


def _cfg_trial(answer):
    net, outputs = _point_net(), []
    for w in _WS:
        labels = _GLABELS.clone()
        outputs += [answer(net, _GX.clone(), _GT, labels, w).detach()]
    return outputs + [labels]


def _cfg_wrong(kind):
    def wrong(net, x, t, labels, w):
        null = torch.zeros_like(labels) if kind == "zero-null" else torch.full_like(labels, net.n_classes)
        v_cond, v_uncond = net(x, t, labels), net(x, t, null)
        return {"other-convention": v_cond + w * (v_cond - v_uncond), "swapped": v_cond + w * (v_uncond - v_cond),
                "no-difference": v_uncond + w * v_cond}.get(kind, v_uncond + w * (v_cond - v_uncond))
    return wrong


check_cfg_velocity = register(Exercise(
    name="cfg_velocity", title="Lab 7.5 · classifier-free guidance, with a network",
    reference=reference.cfg_velocity, trial=_cfg_trial,
    describe=lambda i: [f"the velocity at w = {w}" for w in _WS][i] if i < len(_WS) else "your input labels afterwards",
    start="Ask the network twice — once with the labels, once with the 'no class' token — and mix the two "
          "answers with the weight w — hint('cfg_velocity') if you are stuck.",
    hints=["the 'no class' token is the index after the last class: net.n_classes. "
           "torch.full_like(labels, net.n_classes) makes one per item.",
           "v_cond = net(x, t, labels), v_uncond = net(x, t, the tokens).",
           "the course's convention (exercise 7.4): v_uncond + w·(v_cond − v_uncond) — w = 0 ignores the label, "
           "w = 1 is the plain conditional model, w > 1 exaggerates."],
    mistakes={
        "other-convention": Mistake(_cfg_wrong("other-convention"), "that is the other convention, v_cond + "
                                                                    "w·(v_cond − v_uncond), where w = 0 is plain "
                                                                    "conditional; the course's w = 1 is: "
                                                                    "v_uncond + w·(v_cond − v_uncond)."),
        "zero-null": Mistake(_cfg_wrong("zero-null"), "your 'unconditional' velocity asked for the digit 0: the "
                                                      "'no class' token is net.n_classes, the index the network "
                                                      "learned from dropped labels."),
        "swapped": Mistake(_cfg_wrong("swapped"), "the roles are swapped: start from v_uncond and move towards "
                                                  "(and past) v_cond."),
        "no-difference": Mistake(_cfg_wrong("no-difference"), "guidance moves along the difference v_cond − v_uncond: "
                                                              "at w = 1 the result must be v_cond."),
    }))
