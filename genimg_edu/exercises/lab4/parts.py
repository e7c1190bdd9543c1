"""Lab 4, parts 1–5: a convolutional VAE built by the learner — encoder, decoder, the reparameterised sample,
the negative ELBO and the IWAE bound — each checked as a unit against `reference`, modules with the weights
set by the check (`fixed_weights`), so that the learner's own initialisation does not matter."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..core import Exercise, Mistake, register, seeded
from ..weights import fixed_weights
from ..vae import _ELBO_LOGVAR, _ELBO_MU, _X, _X_LOGITS, _elbo_wrong, _reparam_trial, _reparam_wrong
from . import reference

_DIGITS = torch.rand(3, 1, 28, 28, generator=seeded(20))


def _encoder_trial(answer):
    counts = [sum(p.numel() for p in answer(z_dim=z).parameters()) for z in (2, 4)]
    mu, logvar = fixed_weights(answer(z_dim=4))(_DIGITS.clone())
    return [*counts, mu.detach(), logvar.detach()]


def _encoder_wrong(kind):
    class Wrong(reference.Encoder):
        def __init__(self, z_dim=16):
            super().__init__(z_dim)
            if kind == "no-relu":
                self.net[1] = self.net[3] = nn.Identity()

        def forward(self, x):
            mu, logvar = self.net(x).chunk(2, dim=1)
            return {"swapped": (logvar, mu), "softplus": (mu, F.softplus(logvar))}.get(kind, (mu, logvar))
    return Wrong


check_encoder = register(Exercise(
    name="Encoder", title="Lab 4.1 · the encoder q(z | x)",
    reference=reference.Encoder, trial=_encoder_trial,
    describe=lambda i: ["the parameter count at z_dim = 2", "the parameter count at z_dim = 4",
                        "mu for 3 digits (weights set by the check)", "logvar for them"][i],
    start="Two strided convolutions with ReLUs, then one Linear layer whose output is split in two halves — "
          "the docstring gives each shape; hint('Encoder') if you are stuck.",
    hints=["nn.Conv2d(1, 32, 4, stride=2, padding=1) halves 28 to 14; a second one, 32 → 64 channels, to 7.",
           "one nn.Linear(64 * 7 * 7, 2 * z_dim) gives both halves; .chunk(2, dim=1) splits them: mu first.",
           "logvar is any real number (that is why the encoder outputs log σ², not σ²): no activation on it."],
    mistakes={
        "swapped": Mistake(_encoder_wrong("swapped"), "mu and logvar are swapped: the first half of the Linear's "
                                                      "output is mu, the second logvar."),
        "no-relu": Mistake(_encoder_wrong("no-relu"), "no ReLU after the convolutions: stacked without one, they "
                                                      "are a single linear map."),
        "softplus": Mistake(_encoder_wrong("softplus"), "logvar was made positive: log σ² is negative whenever "
                                                        "σ < 1 — leave it unconstrained, that is why we predict "
                                                        "its logarithm."),
    }))

_Z = torch.randn(3, 4, generator=seeded(21))


def _decoder_trial(answer):
    counts = [sum(p.numel() for p in answer(z_dim=z).parameters()) for z in (2, 4)]
    return [*counts, fixed_weights(answer(z_dim=4))(_Z.clone()).detach()]


def _decoder_wrong(kind):
    class Wrong(reference.Decoder):
        def __init__(self, z_dim=16):
            super().__init__(z_dim)
            if kind == "no-relu":
                self.net[1] = self.net[4] = nn.Identity()

        def forward(self, z):
            logits = self.net(z)
            return {"sigmoid": logits.sigmoid, "tanh": logits.tanh}.get(kind, lambda: logits)()
    return Wrong


check_decoder = register(Exercise(
    name="Decoder", title="Lab 4.2 · the decoder p(x | z)",
    reference=reference.Decoder, trial=_decoder_trial,
    describe=lambda i: ["the parameter count at z_dim = 2", "the parameter count at z_dim = 4",
                        "the logits for 3 latents (weights set by the check)"][i],
    start="The encoder backwards: a Linear layer to 64 × 7 × 7, reshape, and two transposed convolutions that "
          "double the size — hint('Decoder') if you are stuck.",
    hints=["nn.Unflatten(1, (64, 7, 7)) reshapes (B, 3136) to (B, 64, 7, 7) inside an nn.Sequential.",
           "nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1) doubles 7 to 14; a second one, 32 → 1, to 28.",
           "return the logits: the loss applies the sigmoid itself (and more accurately)."],
    mistakes={
        "sigmoid": Mistake(_decoder_wrong("sigmoid"), "you returned probabilities: return the logits — "
                                                      "binary_cross_entropy_with_logits applies the sigmoid itself."),
        "tanh": Mistake(_decoder_wrong("tanh"), "a tanh output (a GAN's habit) squeezes the logits into [−1, 1], "
                                                "so no pixel can be confidently black or white: return the logits."),
        "no-relu": Mistake(_decoder_wrong("no-relu"), "no ReLU between the layers: without it the decoder is one "
                                                      "linear map of z."),
    }))

check_sample_latent = register(Exercise(
    name="sample_latent", title="Lab 4.3 · the reparameterised sample",
    reference=reference.sample_latent, trial=_reparam_trial,
    describe=lambda i: ["z", "the gradient of z.sum() for mu", "the gradient for logvar"][i % 3]
    + f" (input {i // 3 + 1})",
    start="The noise is given: turn it into a sample of N(mu, σ²) that gradients can flow through — "
          "hint('sample_latent') if you are stuck.",
    hints=["a sample of N(μ, σ²) is μ plus σ times a standard normal sample.", "σ = exp(logvar / 2)."],
    mistakes={key: Mistake(_reparam_wrong(key), message) for key, message in {
        "variance": "you scaled ε by the variance exp(logvar); the standard deviation is exp(logvar / 2).",
        "logvar-as-std": "logvar is log σ², not σ: σ = exp(logvar / 2).",
        "detached": "the values are right but no gradient reaches mu and logvar: the sample must stay "
                    "differentiable — that is the whole trick."}.items()}))

check_vae_loss = register(Exercise(
    name="vae_loss", title="Lab 4.4 · the negative ELBO, in nats per image",
    reference=reference.vae_loss,
    trial=lambda answer: [answer(x.clone(), xl.clone(), m.clone(), v.clone())
                          for x, xl, m, v in zip(_X, _X_LOGITS, _ELBO_MU, _ELBO_LOGVAR)],
    describe=lambda i: f"a batch of shape {tuple(_X[i].shape)}",
    start="Two terms for each image — how badly it is reconstructed, how far q(z|x) strays from the prior — "
          "then one number for the batch; hint('vae_loss') if you are stuck.",
    hints=["the reconstruction term is −log p(x|z): a Bernoulli per pixel, i.e. a binary cross-entropy on the "
           "logits, summed over the image's pixels.",
           "the KL of N(μ, σ²) from N(0, 1) has a closed form; sum it over the latent dimensions.",
           "add the two per image, then average over the batch."],
    mistakes={key: Mistake(_elbo_wrong(key), message) for key, message in {
        "pixel-mean": "the reconstruction was averaged over pixels, not summed: the KL then dominates and the "
                      "VAE blurs.",
        "double-sigmoid": "binary_cross_entropy_with_logits applies the sigmoid itself: pass the logits.",
        "batch-sum": "summed over the batch: the loss is the mean over images, so it does not grow with B.",
        "kl-sign": "the KL was subtracted: the negative ELBO adds it.",
        "no-kl": "the KL term is missing: without it nothing keeps q(z|x) near the prior, and samples from "
                 "the prior decode to nothing."}.items()}))

_X_IW = torch.rand(3, 1, 28, 28, generator=seeded(22)).round()
_EPS = [torch.randn(5, 3, 2, generator=seeded(23)), torch.randn(1, 3, 2, generator=seeded(24))]


def _iwae_trial(answer):
    torch.manual_seed(0)
    encoder, decoder = fixed_weights(reference.Encoder(2)), fixed_weights(reference.Decoder(2))
    return [answer(encoder, decoder, _X_IW.clone(), eps.clone()).detach() for eps in _EPS]


def _iwae_wrong(kind):
    def wrong(encoder, decoder, x, eps):
        log_w = reference.log_weights(encoder, decoder, x, eps)
        if kind == "no-prior":
            mu, logvar = encoder(x)
            z = mu + (0.5 * logvar).exp() * eps
            log_w = log_w - torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(2)
        if kind == "mean-log":
            return log_w.mean(0)
        bound = torch.logsumexp(log_w, dim=0) - (0 if kind == "no-log-k" else math.log(eps.shape[0]))
        return bound.mean() if kind == "batch-mean" else bound
    return wrong


check_iwae_bound = register(Exercise(
    name="iwae_bound", title="Lab 4.5 · the importance-weighted bound",
    reference=reference.iwae_bound, trial=_iwae_trial,
    describe=lambda i: f"3 digits with K = {_EPS[i].shape[0]} samples each (weights set by the check)",
    start="For each of the K noise samples: a latent, the three log-densities at it, one log-weight; then "
          "average the weights themselves, not their logs — hint('iwae_bound') if you are stuck.",
    hints=["z_i = μ + σ·eps_i for every i at once: eps is (K, B, z_dim), mu and σ (B, z_dim) broadcast.",
           "log w_i = log p(x | z_i) + log p(z_i) − log q(z_i | x): the decoder on z flattened to (K·B, z_dim); "
           "torch.distributions.Normal(...).log_prob(z).sum(-1) for the two Gaussians.",
           "log (1/K) Σ_i w_i = torch.logsumexp(log_w, dim=0) − log K: one bound per image, shape (B,)."],
    mistakes={key: Mistake(_iwae_wrong(key), message) for key, message in {
        "mean-log": "you averaged the log-weights: that is the ELBO again (for any K). The bound averages the "
                    "weights and then takes the log: logsumexp over the K samples, minus log K.",
        "no-log-k": "the bound is log K too high: log of the *mean* weight is logsumexp(log_w) − log K.",
        "no-prior": "log p(z_i) is missing from the log-weight: w_i = p(x | z_i) p(z_i) / q(z_i | x).",
        "batch-mean": "return one bound per image (B,), not their mean: the check, and the next part, average "
                      "it themselves."}.items()}))
