"""Lab 7, parts 1–6: flow matching built by the learner — the loss, label dropout, the Euler and Heun samplers,
classifier-free guidance and the training loop — each checked as a unit against `reference`, on points (B, 2)
and on images (B, 1, 4, 4), with networks whose weights the check sets itself."""
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

# --- 7.3 and 7.4 the samplers --------------------------------------------------------------------------------

_X1 = [torch.randn(4, 2, generator=seeded(75)), torch.randn(2, 1, 3, 3, generator=seeded(76))]
_STEPS = [3, 5]


def _field(x, t):
    """A velocity that bends with x and changes with t: the checks' stand-in for a trained network."""
    return x * (1 - t) - 0.5 * torch.sin(3 * x) + t


def _sampler_trial(answer):
    outputs = []
    for x1, steps in zip(_X1, _STEPS):
        times = []

        def velocity(x, t):
            times.append(round(float(t), 6))
            return _field(x, t)
        outputs += [answer(velocity, x1.clone(), steps), times]
    return outputs


def _describe_sampler(i):
    return [f"{what} with {_STEPS[i // 2]} steps from noise of shape {tuple(_X1[i // 2].shape)}"
            for what in ("the sample", "the times at which you evaluated the velocity")][i % 2]


def _euler_wrong(kind):
    def wrong(velocity, x1, steps):
        times = torch.linspace(0.0, 1.0, steps + 1) if kind == "forward" else \
            torch.linspace(1.0, 0.0, steps if kind == "one-short" else steps + 1)
        times, x = times.tolist(), x1
        v = velocity(x, times[0]) if kind == "stale" else None
        for t, s in zip(times, times[1:]):
            v = v if kind == "stale" else velocity(x, t)
            x = x - (s - t) * v if kind == "sign" else x + (s - t) * v
        return x
    return wrong


check_euler = register(Exercise(
    name="euler", title="Lab 7.3 · Euler's sampler",
    reference=reference.euler, trial=_sampler_trial, describe=_describe_sampler,
    start="From the noise x1 at t = 1 to the data at t = 0 in equal steps; each step moves x by the step's "
          "length times the velocity at its start — hint('euler') if you are stuck.",
    hints=["torch.linspace(1, 0, steps + 1).tolist() gives the steps + 1 times, from 1 down to 0.",
           "walk the pairs (t, s) of neighbouring times: zip(times, times[1:]).",
           "time decreases, so s − t is negative: x ← x + (s − t)·velocity(x, t)."],
    mistakes={
        "forward": Mistake(_euler_wrong("forward"), "you integrated from t = 0 to 1, towards the noise: start at "
                                                    "t = 1 with the noise x1 and end at t = 0."),
        "sign": Mistake(_euler_wrong("sign"), "each step went the wrong way: time runs from t down to s, so the "
                                              "step is (s − t)·v, a negative time times the velocity."),
        "one-short": Mistake(_euler_wrong("one-short"), "that is one step too few: `steps` steps need steps + 1 "
                                                        "times, from 1 to 0 inclusive."),
        "stale": Mistake(_euler_wrong("stale"), "you evaluated the velocity once and reused it: the field changes "
                                                "with x and t, so ask for it at the start of every step."),
    }))


def _heun_wrong(kind):
    def wrong(velocity, x1, steps):
        times, x = torch.linspace(1.0, 0.0, steps + 1).tolist(), x1
        for t, s in zip(times, times[1:]):
            v = velocity(x, t)
            guess = x + (s - t) * v
            if kind == "euler" or (s == 0 and kind != "last-step-heun"):
                x = guess
            elif kind == "end-slope":
                x = x + (s - t) * velocity(guess, s)
            elif kind == "midpoint":
                x = x + (s - t) * velocity(x + (s - t) / 2 * v, (t + s) / 2)
            else:
                x = x + (s - t) * (v + velocity(guess, s)) / 2
        return x
    return wrong


check_heun = register(Exercise(
    name="heun", title="Lab 7.4 · Heun's sampler",
    reference=reference.heun, trial=_sampler_trial, describe=_describe_sampler,
    start="Euler's step first, as a guess; then the velocity at the guess, and the step again with the average "
          "of the two velocities — hint('heun') if you are stuck.",
    hints=["the times and pairs (t, s) as in Euler's sampler; in each step, v = velocity(x, t) and "
           "guess = x + (s − t)·v.",
           "the corrected step: x ← x + (s − t)·(v + velocity(guess, s)) / 2.",
           "on the last step (s = 0) keep Euler's guess: the correction buys little there, and the course's "
           "sampler saves that evaluation — 2·steps − 1 in all (exercise 7.2)."],
    mistakes={
        "euler": Mistake(_heun_wrong("euler"), "that is Euler's sampler: Heun's corrects each step with the "
                                               "velocity at Euler's guess of its end."),
        "end-slope": Mistake(_heun_wrong("end-slope"), "you stepped with the velocity at the guess alone: Heun's "
                                                       "method averages it with the velocity at the start."),
        "midpoint": Mistake(_heun_wrong("midpoint"), "that is the midpoint method (also second order): Heun's "
                                                     "evaluates at Euler's guess of the step's end, at time s, and "
                                                     "averages the two slopes."),
        "last-step-heun": Mistake(_heun_wrong("last-step-heun"), "close — but on the last step, which ends at "
                                                                 "t = 0, keep Euler's guess: the course's sampler "
                                                                 "(diffusion.sample_flow) does, and saves one "
                                                                 "evaluation."),
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
