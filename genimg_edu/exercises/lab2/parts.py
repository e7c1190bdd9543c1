"""Lab 2, parts 1–5: a CNN classifier built by the learner, part by part, then trained live to ≥ 97 % test accuracy.

Each part is checked as a unit against `reference`, on fixed inputs and — for modules — with the
weights set from a fixed generator, so the learner's own initialisation does not matter: shapes, values,
which parameters change, whether gradients were recorded. The last check (`project`) trains them end to end.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...fit import batch_indices
from ..core import Exercise, Mistake, register, seeded
from ..weights import fixed_weights
from .reference import Classifier, accuracy, conv_block, train, train_step

_X_BLOCK = [torch.randn(2, 3, 12, 12, generator=seeded(0)), torch.rand(4, 1, 28, 28, generator=seeded(1))]
_IN_OUT = [(3, 8), (1, 4)]


def _block_trial(answer):
    out = []
    for (c_in, c_out), x in zip(_IN_OUT, _X_BLOCK):
        block = fixed_weights(answer(c_in, c_out))
        out.append(block(x.clone()).detach())
    return out


def _block_wrong(kind):
    def wrong(c_in, c_out):
        conv = nn.Conv2d(c_in, c_out, 3, padding=0 if kind == "no-padding" else 1)
        pool = nn.AvgPool2d(2) if kind == "avg-pool" else nn.MaxPool2d(2)
        layers = {"no-pool": [conv, nn.BatchNorm2d(c_out), nn.ReLU()],
                  "no-relu": [conv, nn.BatchNorm2d(c_out), pool],
                  "relu-first": [conv, nn.ReLU(), nn.BatchNorm2d(c_out), pool],
                  "no-batchnorm": [conv, nn.ReLU(), pool]}.get(kind, [conv, nn.BatchNorm2d(c_out), nn.ReLU(), pool])
        return nn.Sequential(*layers)
    return wrong


check_conv_block = register(Exercise(
    name="conv_block", title="Lab 2.1 · a convolutional block",
    reference=conv_block, trial=_block_trial,
    describe=lambda i: "a batch of shape {} through conv_block{}".format(tuple(_X_BLOCK[i].shape), _IN_OUT[i]),
    start="Stack four layers in an nn.Sequential, in the order the docstring gives; check the shape of a "
          "28 × 28 batch after it — hint('conv_block') if you are stuck.",
    hints=["nn.Conv2d(c_in, c_out, kernel_size=3, padding=1) keeps H × W; nn.MaxPool2d(2) halves it.",
           "BatchNorm2d(c_out) normalises each channel over the batch; put it between the convolution and the ReLU."],
    mistakes={
        "no-padding": Mistake(_block_wrong("no-padding"), "each side lost 2 pixels before the pool: a 3 × 3 kernel "
                                                          "needs padding=1 to keep H × W (28 → 14, not 13)."),
        "no-pool": Mistake(_block_wrong("no-pool"), "the size did not halve: end the block with nn.MaxPool2d(2)."),
        "no-relu": Mistake(_block_wrong("no-relu"), "there are negative outputs: without the ReLU two blocks are "
                                                    "one linear map — put nn.ReLU() after the BatchNorm."),
        "avg-pool": Mistake(_block_wrong("avg-pool"), "an average pool blurs; the lab's block keeps the strongest "
                                                      "response of each 2 × 2 window — nn.MaxPool2d(2)."),
        "relu-first": Mistake(_block_wrong("relu-first"), "the order is convolution, BatchNorm, ReLU: normalising "
                                                          "after the ReLU shifts its zeros below zero again."),
        "no-batchnorm": Mistake(_block_wrong("no-batchnorm"), "the BatchNorm is missing: put nn.BatchNorm2d(c_out) "
                                                              "between the convolution and the ReLU."),
    }))


_X_DIGITS = torch.rand(6, 1, 28, 28, generator=seeded(2))


def _classifier_trial(answer):
    out = []
    for width in (4, 8):
        torch.manual_seed(0)
        model = answer(width=width)
        out.append(sum(p.numel() for p in model.parameters()))
    out.append(fixed_weights(model)(_X_DIGITS.clone()).detach())
    return out


def _classifier_wrong(kind):
    class Wrong(Classifier):
        def __init__(self, width: int = 16):
            super().__init__(width)
            if kind == "same-width":
                self.body[1] = conv_block(width, width)
                self.head[1] = nn.Linear(width * 7 * 7, 128)
            if kind == "no-hidden-relu":
                self.head[2] = nn.Identity()

        def forward(self, x):
            logits = super().forward(x)
            return logits.softmax(1) if kind == "softmax" else logits
    return Wrong


check_classifier = register(Exercise(
    name="Classifier", title="Lab 2.2 · the classifier",
    reference=Classifier, trial=_classifier_trial,
    describe=lambda i: ["the parameter count at width 4", "the parameter count at width 8",
                        "the logits of 6 digits (weights set by the check)"][i],
    start="Fill body with two of your conv_blocks and head with Flatten, Linear, ReLU, Linear; the shapes in the "
          "docstring say each layer's sizes — hint('Classifier') if you are stuck.",
    hints=["after two blocks a 28 × 28 digit is 7 × 7 with 2·width channels: the first Linear takes "
           "2 * width * 7 * 7 inputs.",
           "forward returns the raw scores (logits): F.cross_entropy applies the softmax itself."],
    mistakes={
        "softmax": Mistake(_classifier_wrong("softmax"), "forward returns probabilities (rows sum to 1): return the "
                                                         "logits — F.cross_entropy applies log-softmax itself, and "
                                                         "a second softmax flattens its gradient."),
        "same-width": Mistake(_classifier_wrong("same-width"), "the second block should double the channels: "
                                                               "conv_block(width, 2 * width)."),
        "no-hidden-relu": Mistake(_classifier_wrong("no-hidden-relu"), "the two Linear layers have no ReLU between "
                                                                       "them, so they collapse into one linear map."),
    }))


def _optimiser_trial(answer):
    torch.manual_seed(0)
    model = Classifier(width=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.rand(8, 1, 28, 28, generator=seeded(3)), torch.arange(8) % 10
    losses = [answer(model, optimizer, x[:4], y[:4]), answer(model, optimizer, x[4:], y[4:])]
    return [*(float(v.detach() if isinstance(v, torch.Tensor) else v) for v in losses), torch.cat([p.detach().flatten() for p in model.parameters()]),
            all(isinstance(v, float) for v in losses)]


def _step_wrong(kind):
    def wrong(model, optimizer, x, y):
        if kind != "no-zero-grad":
            optimizer.zero_grad()
        logits = model(x)
        loss = {"sum": lambda: F.cross_entropy(logits, y, reduction="sum"),
                "softmax-input": lambda: F.cross_entropy(logits.softmax(1), y)}.get(kind, lambda: F.cross_entropy(logits, y))()
        loss.backward()
        if kind != "no-step":
            optimizer.step()
        return loss if kind == "tensor" else loss.item()
    return wrong


check_train_step = register(Exercise(
    name="train_step", title="Lab 2.3 · one training step",
    reference=train_step, trial=_optimiser_trial,
    describe=lambda i: ["the first loss", "the second loss", "the weights after two steps",
                        "whether both losses are Python floats"][i],
    start="Four lines and a return, in the order an update needs them; the docstring lists them — "
          "hint('train_step') if you are stuck.",
    hints=["clear the old gradients, compute the loss on the batch, backpropagate, let the optimiser update.",
           "return loss.item(): a Python float, so the list of losses does not keep every batch's graph alive."],
    mistakes={
        "no-zero-grad": Mistake(_step_wrong("no-zero-grad"), "the second step used the sum of both batches' "
                                                             "gradients: call optimizer.zero_grad() first — "
                                                             "PyTorch adds new gradients to the old ones."),
        "no-step": Mistake(_step_wrong("no-step"), "the weights never changed: call optimizer.step() after "
                                                   "loss.backward()."),
        "sum": Mistake(_step_wrong("sum"), "the loss is B times the mean: F.cross_entropy averages by default — "
                                           "leave reduction alone, or the step size grows with the batch."),
        "softmax-input": Mistake(_step_wrong("softmax-input"), "F.cross_entropy takes logits: a softmax before it "
                                                               "is applied twice and the gradients shrink."),
        "tensor": Mistake(_step_wrong("tensor"), "return loss.item(), a float: a tensor keeps the batch's whole "
                                                 "graph alive in your list of losses."),
    }))


class _Probe(Classifier):
    """A small classifier with dropout that notes whether autograd was recording when it ran."""

    def __init__(self):
        super().__init__(width=2)
        self.head.insert(3, nn.Dropout(0.5))
        self.grad_seen = False

    def forward(self, x):
        self.grad_seen |= torch.is_grad_enabled()
        return super().forward(x)


def _accuracy_trial(answer):
    torch.manual_seed(0)
    model = fixed_weights(_Probe())  # in training mode: dropout on, as a model is after its last step
    x, y = torch.rand(300, 1, 28, 28, generator=seeded(4)), torch.randint(0, 10, (300,), generator=seeded(5))
    y[:120] = model.eval()(x[:120]).argmax(1)  # a fair share right, so that mistakes change the number
    model.train()
    model.grad_seen = False
    torch.manual_seed(1)  # the dropout masks, should the answer leave dropout on
    value = answer(model, x, y, batch_size=128)
    return [float(value), model.grad_seen]


def _accuracy_wrong(kind):
    def wrong(model, x, y, batch_size=250):
        if kind != "no-eval":
            model.eval()
        with torch.set_grad_enabled(kind == "no-no-grad"):
            batches = [(model(x[i:i + batch_size]), y[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        if kind == "max-values":  # .max(1) returns (values, indices): the values compared with the labels
            return sum((logits.max(1)[0] == yb).sum().item() for logits, yb in batches) / len(x)
        right = sum((logits.argmax(1) == yb).sum().item() for logits, yb in batches)
        if kind == "batch-count":
            return right / (len(batches) * batch_size)
        return 100 * right / len(x) if kind == "percent" else right / len(x)
    return wrong


check_accuracy = register(Exercise(
    name="accuracy", title="Lab 2.4 · accuracy, measured as it must be",
    reference=accuracy, trial=_accuracy_trial,
    describe=lambda i: ["the accuracy of a model with dropout on 300 digits, in batches of 128",
                        "whether autograd recorded the forward passes"][i],
    start="Switch the model to evaluation, turn off autograd, and count the right answers batch by batch — "
          "hint('accuracy') if you are stuck.",
    hints=["model.eval() turns dropout off and makes BatchNorm use its running averages.",
           "decorate the function with @torch.no_grad() (or use `with torch.no_grad():`): no graph, less memory.",
           "predicted class = logits.argmax(1); count (predicted == y) over all batches, divide by len(x)."],
    mistakes={
        "no-eval": Mistake(_accuracy_wrong("no-eval"), "dropout was still on (and BatchNorm used the batch's own "
                                                       "statistics): call model.eval() before measuring."),
        "no-no-grad": Mistake(_accuracy_wrong("no-no-grad"), "the number is right, but autograd recorded every "
                                                             "forward pass: wrap the loop in torch.no_grad()."),
        "percent": Mistake(_accuracy_wrong("percent"), "return a fraction in [0, 1], not a percentage."),
        "max-values": Mistake(_accuracy_wrong("max-values"), "you compared the largest logit's *value* with the "
                                                             "label: .max(1) returns (values, indices) — the class "
                                                             "is the index, logits.argmax(1)."),
        "batch-count": Mistake(_accuracy_wrong("batch-count"), "the last batch is smaller than batch_size: divide "
                                                               "the count by len(x), not by batches × batch_size."),
    }))


def _train_trial(answer):
    torch.manual_seed(0)
    model = Classifier(width=2)
    x, y = torch.rand(40, 1, 28, 28, generator=seeded(6)), torch.arange(40) % 10
    losses = answer(model, x, y, steps=6, batch_size=8, lr=0.01, seed=3)
    return [[float(v) for v in losses], torch.cat([p.detach().flatten() for p in model.parameters()])]


def _train_wrong(kind):
    def wrong(model, x, y, *, steps, batch_size=64, lr=2e-3, seed=0):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        losses = []
        for k in range(steps):
            if kind == "optimizer-per-step":
                optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            i = batch_indices(len(x), batch_size, seed=seed, step=0 if kind == "same-batch" else k)
            losses.append(train_step(model, optimizer, x[i], y[i]))
        return losses[-1:] if kind == "last-loss" else losses
    return wrong


check_train = register(Exercise(
    name="train", title="Lab 2.5 · the training loop",
    reference=train, trial=_train_trial,
    describe=lambda i: ["the losses of 6 steps of batch 8", "the weights after them"][i],
    start="Make one Adam optimiser, then call your train_step on batch after batch — the batch of step k is "
          "batch_indices(len(x), batch_size, seed=seed, step=k) — hint('train') if you are stuck.",
    hints=["torch.optim.Adam(model.parameters(), lr=lr), made once, before the loop: it keeps running averages.",
           "model.train() before the loop (your accuracy switched it to eval); append each step's loss."],
    mistakes={
        "optimizer-per-step": Mistake(_train_wrong("optimizer-per-step"), "a new Adam each step forgets its running "
                                                                           "averages: make the optimiser once, "
                                                                           "before the loop."),
        "same-batch": Mistake(_train_wrong("same-batch"), "every step saw the same batch: pass step=k, the loop's "
                                                          "counter, to batch_indices."),
        "last-loss": Mistake(_train_wrong("last-loss"), "return the loss of every step (a list as long as steps), "
                                                        "not only the last."),
    }))


