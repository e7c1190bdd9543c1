"""Exercises for notebook 02 (convolutional networks): a convolution's output size, its parameter count,
the cross-entropy, and its gradient p − y. References: PyTorch itself (`nn.Conv2d`, `F.cross_entropy`, autograd)."""
import contextlib
import math

import torch
import torch.nn.functional as F

from .core import Exercise, Mistake, pair, register, seeded

# (n, kernel, stride, padding) — chosen so that each catalogued mistake gives a different answer somewhere
_CONVS = [(28, 3, 1, 1), (28, 5, 2, 0), (7, 4, 2, 1), (32, 3, 2, 1), (10, 3, 3, 0)]


def _conv_reference(n, kernel, stride=1, padding=0):
    conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)  # PyTorch is the judge
    return conv(torch.zeros(1, 1, n, n)).shape[-1]


def _conv_wrong(kind):
    def wrong(n, kernel, stride=1, padding=0):
        if kind == "no-plus-one":
            return (n + 2 * padding - kernel) // stride
        if kind == "padding-once":
            return (n + padding - kernel) // stride + 1
        if kind == "no-floor":
            return (n + 2 * padding - kernel) / stride + 1
        if kind == "ceil":
            return math.ceil((n + 2 * padding - kernel) / stride) + 1
        return n + 2 * padding - kernel + 1  # stride ignored
    return wrong


check_conv_output_size = register(Exercise(
    name="conv_output_size", title="Exercise 2.1 · the output size of a convolution",
    reference=_conv_reference,
    trial=lambda answer: [answer(n, k, stride=s, padding=p) for n, k, s, p in _CONVS],
    describe=lambda i: "n={}, kernel={}, stride={}, padding={}".format(*_CONVS[i]),
    hints=["count the positions the kernel can take along one side: the padded side is n + 2·padding long.",
           "with stride 1 a kernel of size k fits (n + 2p − k) + 1 times; a stride s keeps every s-th position.",
           "⌊(n + 2p − k) / s⌋ + 1 — use // for the floor."],
    mistakes={
        "no-plus-one": Mistake(_conv_wrong("no-plus-one"), "off by one: the first position counts too — add 1 "
                                                           "after dividing by the stride."),
        "padding-once": Mistake(_conv_wrong("padding-once"), "padding is added on both sides: n + 2·padding."),
        "no-floor": Mistake(_conv_wrong("no-floor"), "a size is a whole number: a kernel that would hang over the "
                                                     "edge is not applied — divide with //, which rounds down."),
        "ceil": Mistake(_conv_wrong("ceil"), "a kernel that would hang over the edge is not applied: round down "
                                             "(//), not up."),
        "no-stride": Mistake(_conv_wrong("no-stride"), "the stride is missing: with stride s the kernel moves s "
                                                       "pixels at a time — divide by it (rounding down)."),
    }))


def _params_reference():
    return sum(p.numel() for p in torch.nn.Conv2d(3, 16, kernel_size=5).parameters())


check_conv_parameters = register(Exercise(
    name="conv_parameters", title="Exercise 2.2 · predict: the parameters of nn.Conv2d(3, 16, kernel_size=5)",
    reference=_params_reference,
    trial=lambda answer: [answer()],
    describe=lambda i: "nn.Conv2d(3, 16, kernel_size=5)",
    start="Work it out on paper first, then return your number; hint('conv_parameters') if you are stuck.",
    reveal=False,
    hints=["each of the 16 output channels has one 5 × 5 kernel per input channel, and one bias.",
           "weights: 16 · 3 · 5 · 5; biases: 16."],
    mistakes={
        "no-bias": Mistake(lambda: 16 * 3 * 5 * 5, "close: you counted the weights; each output channel also has "
                                                   "a bias (nn.Conv2d has bias=True by default)."),
        "one-input-channel": Mistake(lambda: 16 * 5 * 5 + 16, "a kernel spans every input channel: each output "
                                                              "channel has 3 kernels of 5 × 5, not one."),
        "no-kernel-area": Mistake(lambda: 16 * 3 + 16, "each kernel has 5 × 5 weights, not one."),
    }))

_LOGITS = [torch.randn(8, 10, generator=seeded(0)) * 3, torch.randn(3, 4, generator=seeded(1))]
_LABELS = [torch.randint(0, 10, (8,), generator=seeded(2)), torch.tensor([0, 3, 1])]
_CONFIDENT = torch.randn(4, 10, generator=seeded(3)) * 100  # a confident network's logits: exp(z) overflows float32
_CE_LOGITS, _CE_LABELS = [*_LOGITS, _CONFIDENT], [*_LABELS, torch.tensor([2, 5, 0, 9])]
# what exercise 2.3 asks the learner to compute without: a call to any of these stops the check with a message
_BUILT_INS = [(F, "cross_entropy"), (F, "log_softmax"), (F, "softmax"), (F, "nll_loss"), (torch, "log_softmax"),
              (torch, "softmax"), (torch, "logsumexp"), (torch.Tensor, "log_softmax"), (torch.Tensor, "softmax"),
              (torch.Tensor, "logsumexp"), (torch.special, "log_softmax"), (torch.special, "softmax"),
              (torch.special, "logsumexp")]


class _BuiltIn(RuntimeError):
    pass


@contextlib.contextmanager
def _without_built_ins():
    """PyTorch's softmax family made unavailable for the duration: 2.3 is to write the log-sum-exp oneself."""
    def refuse(name):
        def call(*args, **kwargs):
            raise _BuiltIn(f"{name} does the exercise for you — compute the log-softmax yourself, with the "
                           "log-sum-exp trick (hint('cross_entropy'))")
        return call
    saved = [(owner, name, getattr(owner, name)) for owner, name in _BUILT_INS]
    try:
        for owner, name, _ in saved:
            setattr(owner, name, refuse(name))
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _ce_reference(logits, y):
    return F.cross_entropy(logits, y)


def _stable_trial(answer):
    if answer is _ce_reference:
        return [answer(z.clone(), y.clone()) for z, y in zip(_CE_LOGITS, _CE_LABELS)]
    with _without_built_ins():
        return [answer(z.clone(), y.clone()) for z, y in zip(_CE_LOGITS, _CE_LABELS)]


def _log_softmax(logits, dim=1):  # the stable way, written out (the catalogue cannot call the built-ins either)
    shifted = logits - logits.max(dim=dim, keepdim=True).values
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def _ce_wrong(kind):
    def wrong(logits, y):
        picked = torch.arange(len(y))
        if kind == "overflow":
            return -(logits.exp() / logits.exp().sum(1, keepdim=True)).log()[picked, y].mean()
        if kind == "max-not-added":
            shifted = logits - logits.max(dim=1, keepdim=True).values
            return -(logits - shifted.exp().sum(1, keepdim=True).log())[picked, y].mean()
        if kind == "sum":
            return -_log_softmax(logits)[picked, y].sum()
        if kind == "sign":
            return _log_softmax(logits)[picked, y].mean()
        if kind == "no-normaliser":
            return -logits[picked, y].mean()
        return -_log_softmax(logits, 0)[picked, y].mean()  # softmax over the batch, not the classes
    return wrong


check_cross_entropy = register(Exercise(
    name="cross_entropy", title="Exercise 2.3 · the cross-entropy, from the logits, computed stably",
    reference=_ce_reference,
    trial=_stable_trial,
    describe=lambda i: f"logits of shape {tuple(_CE_LOGITS[i].shape)}" + (" as large as ±300" if i == 2 else ""),
    start="Find each row's largest logit, use it to compute log Σ exp(logits) without overflow, and from that the "
          "log-probabilities; then pick the correct class's — hint('cross_entropy') if you are stuck.",
    hints=["the loss of one image is −log p(correct class), with p = softmax(logits) over the classes (dim=1), so "
           "log p = logits − log Σ_k exp(logits_k).",
           "exp(89) is already infinite in float32. The log-sum-exp trick: with m = the row's largest logit "
           "(logits.max(dim=1, keepdim=True).values), log Σ exp(z_k) = m + log Σ exp(z_k − m), and every z_k − m ≤ 0.",
           "log_p = (logits − m) − (logits − m).exp().sum(dim=1, keepdim=True).log(); pick the correct class with "
           "log_p[torch.arange(B), y], and average over the batch (mean), as F.cross_entropy does by default."],
    mistakes={
        "overflow": Mistake(_ce_wrong("overflow"), "right for small logits, but a confident network's logits (±300 "
                                                   "here) overflow exp: subtract each row's largest logit before "
                                                   "exponentiating (the log-sum-exp trick), then add it back."),
        "max-not-added": Mistake(_ce_wrong("max-not-added"), "you subtracted the largest logit inside the log-sum-"
                                                             "exp but did not take it off the logits: log p = "
                                                             "(z − m) − log Σ exp(z − m)."),
        "sum": Mistake(_ce_wrong("sum"), "the value is B times too large: average over the batch (.mean()), "
                                         "don't sum — F.cross_entropy's default is the mean."),
        "sign": Mistake(_ce_wrong("sign"), "the sign is wrong: the loss is −log p, positive, and falls as p → 1."),
        "no-normaliser": Mistake(_ce_wrong("no-normaliser"), "you used the raw logit of the correct class: subtract "
                                                             "log Σ exp(logits) first, so the other classes count too."),
        "wrong-dim": Mistake(_ce_wrong("wrong-dim"), "the softmax ran over the batch (dim=0): it must run over the "
                                                     "classes, dim=1."),
    }))


_X_LIN = [torch.randn(6, 4, generator=seeded(20)), torch.randn(10, 5, generator=seeded(21))]
_W_LIN = [torch.randn(3, 4, generator=seeded(22)), torch.randn(4, 5, generator=seeded(23))]
_B_LIN = [torch.randn(3, generator=seeded(24)), torch.randn(4, generator=seeded(25))]
_Y_LIN = [torch.tensor([0, 2, 1, 1, 0, 2]), torch.tensor([3, 0, 1, 2, 3, 3, 0, 1, 2, 1])]


def _ce_grad_reference(x, W, b, y):
    W, b = W.clone().requires_grad_(True), b.clone().requires_grad_(True)
    F.cross_entropy(x @ W.T + b, y).backward()  # autograd is the judge of the derivation
    return W.grad, b.grad


def _ce_grad_trial(answer):
    out = []
    for x, W, b, y in zip(_X_LIN, _W_LIN, _B_LIN, _Y_LIN):
        out += pair(answer(x.clone(), W.clone(), b.clone(), y.clone()), "of gradients (dW, db)")
    return out


def _grad_wrong(kind):
    def wrong(x, W, b, y):
        p, one_hot = (x @ W.T + b).softmax(1), F.one_hot(y, W.shape[0]).float()
        right = (p - one_hot) / len(y)
        g = {"sign": (one_hot - p) / len(y), "no-mean": p - one_hot, "no-one-hot": p / len(y)}.get(kind, right)
        if kind == "transposed":
            return x.T @ g, g.sum(0)
        return g.T @ x, g.mean(0) if kind == "db-mean" else g.sum(0)
    return wrong


check_cross_entropy_gradient = register(Exercise(
    name="cross_entropy_gradient", title="Exercise 2.4 · backpropagation through a linear layer, by hand",
    reference=_ce_grad_reference,
    trial=_ce_grad_trial,
    describe=lambda i: (f"{'dW' if i % 2 == 0 else 'db'} for x of shape {tuple(_X_LIN[i // 2].shape)} and "
                        f"W of shape {tuple(_W_LIN[i // 2].shape)}"),
    start="Go forward first (logits, then probabilities), then backward: the loss's gradient with respect to the "
          "logits (section 3 derived it for one image), then what each weight and bias contributed to each logit "
          "— hint('cross_entropy_gradient') if you are stuck.",
    hints=["forward: logits = x @ W.T + b, (B, K); p = softmax over the classes (dim=1). Backward: section 3's "
           "∂loss/∂logits = p − one_hot(y) is for one image; the batch loss is a mean, so divide by B.",
           "the chain rule, logit by logit: logit_k of image i is Σ_d W[k, d] x[i, d] + b[k], so ∂logit_k/∂W[k, d] = "
           "x[i, d] and ∂logit_k/∂b[k] = 1. Sum over the images what each one contributes.",
           "with g = ∂loss/∂logits (B, K): dW = g.T @ x has W's shape (K, D), and db = g.sum(dim=0) has b's (K,)."],
    mistakes={
        "sign": Mistake(_grad_wrong("sign"), "the sign is flipped: ∂loss/∂logits is p − y (a step against it raises "
                                             "the correct class's logit)."),
        "no-mean": Mistake(_grad_wrong("no-mean"), "B times too large: the loss is a mean over the batch, so each "
                                                   "image's gradient is divided by B."),
        "no-one-hot": Mistake(_grad_wrong("no-one-hot"), "the −y term is missing: subtract the one-hot label from "
                                                         "the probabilities."),
        "db-mean": Mistake(_grad_wrong("db-mean"), "dW is right but db is B times too small: the ÷ B of the mean is "
                                                   "already in ∂loss/∂logits, so the bias's gradient *sums* it over "
                                                   "the images (g.sum(dim=0)), it does not average it again."),
        "transposed": Mistake(_grad_wrong("transposed"), "dW has the shape of W.T: a weight's gradient has the "
                                                         "weight's shape (K, D) — g.T @ x, not x.T @ g."),
    }))
