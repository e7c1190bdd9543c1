"""Exercises for notebook 04 (VAEs): the Gaussian KL, the reparameterised sample, and the negative ELBO
with its reductions. References: `losses.gaussian_kl`, `losses.bernoulli_nll`, `losses.vae_loss`."""
import torch
import torch.nn.functional as F

from .. import losses
from .core import Exercise, Mistake, register, seeded

_MU = [torch.randn(5, 3, generator=seeded(0)), torch.randn(2, 8, generator=seeded(1)) * 2]
_LOGVAR = [torch.randn(5, 3, generator=seeded(2)), torch.randn(2, 8, generator=seeded(3)) - 1]


def _kl_wrong(kind):
    def wrong(mu, logvar):
        var = logvar.exp()
        if kind == "reverse":  # KL(N(0, I) ‖ q)
            return 0.5 * ((1 + mu ** 2) / var - 1 + logvar).sum(1)
        terms = mu ** 2 + var - 1 - logvar
        return {"sign": -0.5 * terms.sum(1), "no-half": terms.sum(1), "mean-dims": 0.5 * terms.mean(1),
                "std-as-var": 0.5 * (mu ** 2 + (0.5 * logvar).exp() - 1 - logvar).sum(1)}[kind]
    return wrong


check_gaussian_kl = register(Exercise(
    name="gaussian_kl", title="Exercise 4.1 · the KL term in closed form",
    reference=losses.gaussian_kl,
    trial=lambda answer: [answer(m.clone(), v.clone()) for m, v in zip(_MU, _LOGVAR)],
    describe=lambda i: f"mu and logvar of shape {tuple(_MU[i].shape)}",
    start="Work out KL(q ‖ p) for one latent dimension on paper from the two Gaussians' densities, then sum over "
          "the dimensions — hint('gaussian_kl') if you are stuck.",
    hints=["per latent dimension, KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − log σ²); σ² = exp(logvar).",
           "sum over the latent dimensions (dim=1): one value per image, shape (B,)."],
    mistakes={
        "sign": Mistake(_kl_wrong("sign"), "the KL came out negative: a KL divergence is never below 0 — check the "
                                           "sign in front of ½."),
        "no-half": Mistake(_kl_wrong("no-half"), "twice too large: the closed form has a factor ½."),
        "mean-dims": Mistake(_kl_wrong("mean-dims"), "averaged over the latent dimensions: the KL of independent "
                                                     "dimensions is their sum — .sum(1)."),
        "reverse": Mistake(_kl_wrong("reverse"), "that is KL(p ‖ q), the other direction: the ELBO needs "
                                                 "KL(q(z|x) ‖ p(z)), the encoder's Gaussian first."),
        "std-as-var": Mistake(_kl_wrong("std-as-var"), "σ² is exp(logvar), not exp(logvar / 2) (that is σ)."),
    }))


def _reparam_trial(answer):
    out = []
    for mu, logvar in zip(_MU, _LOGVAR):
        mu, logvar = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
        eps = torch.randn(mu.shape, generator=seeded(7))
        z = answer(mu, logvar, eps)
        z.sum().backward() if z.requires_grad else None
        out += [z, *(p.grad if p.grad is not None else torch.zeros_like(p) for p in (mu, logvar))]
    return out


def _reparam_wrong(kind):
    def wrong(mu, logvar, eps):
        if kind == "variance":
            return mu + logvar.exp() * eps
        if kind == "logvar-as-std":
            return mu + logvar * eps
        return (mu + (0.5 * logvar).exp() * eps).detach()  # the sample no longer depends on mu, logvar
    return wrong


check_reparameterise = register(Exercise(
    name="reparameterise", title="Exercise 4.2 · the reparameterised sample",
    reference=lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * eps,
    trial=_reparam_trial,
    describe=lambda i: ["z", "the gradient of z.sum() for mu", "the gradient for logvar"][i % 3]
    + f" (input {i // 3 + 1})",
    start="Write z as a function of mu, logvar and the noise eps you are given — no random draw of your own — "
          "so that gradients can flow back into mu and logvar; hint('reparameterise') if you are stuck.",
    hints=["z = μ + σ·ε with ε ~ N(0, I) given: the randomness sits in ε, so gradients reach μ and σ.",
           "σ = exp(logvar / 2)."],
    mistakes={
        "variance": Mistake(_reparam_wrong("variance"), "you scaled ε by the variance exp(logvar); the standard "
                                                        "deviation is exp(logvar / 2)."),
        "logvar-as-std": Mistake(_reparam_wrong("logvar-as-std"), "logvar is log σ², not σ: σ = exp(logvar / 2)."),
        "detached": Mistake(_reparam_wrong("detached"), "the values are right but no gradient reaches mu and logvar: "
                                                        "don't detach, or sample with torch.no_grad — the point of "
                                                        "the trick is that z stays differentiable."),
    }))

_X = [torch.rand(4, 1, 6, 6, generator=seeded(8)), torch.rand(2, 1, 5, 5, generator=seeded(9)).round()]
_X_LOGITS = [torch.randn(4, 1, 6, 6, generator=seeded(10)) * 2, torch.randn(2, 1, 5, 5, generator=seeded(11))]
_ELBO_MU, _ELBO_LOGVAR = [_MU[0][:4], _MU[1]], [_LOGVAR[0][:4], _LOGVAR[1]]


def _elbo_reference(x, x_logits, mu, logvar):
    return losses.vae_loss(losses.bernoulli_nll(x_logits, x), losses.gaussian_kl(mu, logvar))


def _elbo_wrong(kind):
    def wrong(x, x_logits, mu, logvar):
        kl = losses.gaussian_kl(mu, logvar)
        if kind == "pixel-mean":
            rec = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).mean(1)
        elif kind == "mse":
            rec = (x_logits.sigmoid() - x).pow(2).flatten(1).sum(1)
        elif kind == "double-sigmoid":
            rec = F.binary_cross_entropy_with_logits(x_logits.sigmoid(), x, reduction="none").flatten(1).sum(1)
        elif kind == "no-kl":
            rec, kl = losses.bernoulli_nll(x_logits, x), 0 * kl
        else:
            rec = losses.bernoulli_nll(x_logits, x)
            if kind == "batch-sum":
                return (rec + kl).sum()
            kl = -kl if kind == "kl-sign" else _kl_wrong("mean-dims")(mu, logvar)
        return (rec + kl).mean()
    return wrong


check_negative_elbo = register(Exercise(
    name="negative_elbo", title="Exercise 4.3 · the negative ELBO, with its reductions",
    reference=_elbo_reference,
    trial=lambda answer: [answer(x.clone(), xl.clone(), m.clone(), v.clone())
                          for x, xl, m, v in zip(_X, _X_LOGITS, _ELBO_MU, _ELBO_LOGVAR)],
    describe=lambda i: f"a batch of shape {tuple(_X[i].shape)}",
    hints=["two terms per image: the reconstruction −log p(x|z) (Bernoulli: the binary cross-entropy on the "
           "decoder's logits) and the KL of exercise 4.1.",
           "the reconstruction is a *sum* over pixels (a log-likelihood of the whole image), then both terms "
           "are averaged over the batch.",
           "F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').flatten(1).sum(1), plus the KL, "
           ".mean()"],
    mistakes={
        "pixel-mean": Mistake(_elbo_wrong("pixel-mean"), "the reconstruction was averaged over pixels: that divides "
                                                         "it by the number of pixels, so the KL dominates and the "
                                                         "VAE blurs — sum over pixels, average over the batch."),
        "mse": Mistake(_elbo_wrong("mse"), "a squared error is a Gaussian log-likelihood (up to constants), not the "
                                           "Bernoulli one this decoder models: use the binary cross-entropy on the "
                                           "logits."),
        "double-sigmoid": Mistake(_elbo_wrong("double-sigmoid"), "binary_cross_entropy_with_logits applies the "
                                                                 "sigmoid itself: pass the logits, not "
                                                                 "x_logits.sigmoid()."),
        "batch-sum": Mistake(_elbo_wrong("batch-sum"), "summed over the batch: the loss is the *mean* over images of "
                                                       "each image's nats, so it does not grow with the batch size."),
        "kl-sign": Mistake(_elbo_wrong("kl-sign"), "the KL was subtracted: the negative ELBO *adds* the KL (a penalty "
                                                   "for straying from the prior)."),
        "kl-mean-dims": Mistake(_elbo_wrong("kl-mean-dims"), "the KL was averaged over latent dimensions: like the "
                                                             "reconstruction, it is a sum — over dimensions."),
        "no-kl": Mistake(_elbo_wrong("no-kl"), "the KL term is missing: without it this is an autoencoder's loss, "
                                               "and the latent space has no reason to look like N(0, I)."),
    }))
