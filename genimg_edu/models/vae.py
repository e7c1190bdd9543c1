"""Variational autoencoders: a Gaussian encoder q(z|x), a Bernoulli decoder p(x|z), prior p(z) = N(0, I).

Both models share one interface (`VAE`): ``encode(x) → (mu, logvar)``,
``decode(z) → x_hat`` (pixel probabilities in [0, 1]), ``terms(x)`` (the
ELBO's two terms per image), ``loss(x)`` (the negative ELBO to minimise, nats
per image, from those terms by `losses.vae_loss`), ``elbo(x)`` (per-image ELBO, nats)
and ``iwae(x, k)`` (the importance-weighted bound of Burda et al. 2016).
The reconstruction term is a Bernoulli likelihood on grey values in [0, 1],
the convention of the PyTorch VAE example, so figures compare.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from genimg_edu import validate
from genimg_edu.losses import bernoulli_nll, gaussian_kl, vae_loss
from genimg_edu.runtime import noise


class VAE(nn.Module):
    """Base class: subclasses set ``self.encoder`` (x → (B, 2·z_dim)) and ``self.decoder`` (z → logits)."""

    z_dim: int
    image_shape: tuple[int, int, int]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x): ``mu`` and ``logvar``, each (B, z_dim), for images x (B, *image_shape)."""
        validate.images("x", x, shape=self.image_shape)  # shape and dtype only: cheap enough for training
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)  # keeps exp(logvar) finite early in training

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, C, H, W)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities x_hat = σ(decoder(z)) in [0, 1], (B, C, H, W), for z (B, z_dim)."""
        if not isinstance(z, torch.Tensor) or not z.is_floating_point() or z.ndim != 2 or z.shape[1] != self.z_dim:
            got = f"shape {tuple(z.shape)}, dtype {z.dtype}" if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must be a float tensor of shape (B, {self.z_dim}), got {got}")
        return torch.sigmoid(self.decoder(z))

    @staticmethod
    def reparameterize(mu, logvar, *, generator=None):
        """z = μ + σ ⊙ ε with ε ~ N(0, I): a sample that gradients flow through (Kingma & Welling 2014, §2.4)."""
        eps = noise(*mu.shape, generator=generator, device=mu.device)  # drawn on the CPU: the same on any device
        return mu + (0.5 * logvar).exp() * eps

    def forward(self, x, *, generator=None):
        """(logits, mu, logvar) for one posterior sample per image."""
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar, generator=generator)), mu, logvar

    def terms(self, x: torch.Tensor, *, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The negative ELBO's two terms per image, each (B,) in nats, for one posterior sample z ~ q(z|x):

        ``rec = −log p(x | z)`` (`losses.bernoulli_nll`, summed over pixels) and
        ``kl = KL(q(z|x) ‖ N(0, I))`` (`losses.gaussian_kl`, summed over latent dimensions).
        x must lie in [0, 1]: `bernoulli_nll` checks it, so a training step reads the batch's values once.
        """
        logits, mu, logvar = self(x, generator=generator)
        return bernoulli_nll(logits, x), gaussian_kl(mu, logvar)

    def loss(self, x: torch.Tensor, *, beta: float = 1.0) -> torch.Tensor:
        """``−ELBO = E_q[−log p(x|z)] + β · KL(q(z|x) ‖ p(z))`` (β = 1; β ≠ 1 is the β-VAE objective),
        per-image sums averaged over the batch, in nats per image (`losses.vae_loss` of `terms`)."""
        return vae_loss(*self.terms(x), beta=beta)

    @torch.no_grad()
    def elbo(self, x: torch.Tensor, *, samples: int = 1, generator=None) -> torch.Tensor:
        """Per-image ELBO in nats, (B,): ``E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))``.

        The KL is analytic; the reconstruction term averages `samples`
        posterior draws (an unbiased estimate with less variance, same expectation).
        """
        samples = validate.count("samples", samples, minimum=1)
        mu, logvar = self.encode(validate.images("x", x, value_range=(0, 1)))
        rec = torch.stack([bernoulli_nll(self.decode_logits(self.reparameterize(mu, logvar, generator=generator)), x)
                           for _ in range(samples)]).mean(0)
        return -(rec + gaussian_kl(mu, logvar))

    @torch.no_grad()
    def iwae(self, x: torch.Tensor, k: int = 50, *, generator=None) -> torch.Tensor:
        """Importance-weighted bound ``log (1/k) Σ_i p(x, z_i) / q(z_i | x)`` per image, (B,), in nats.

        k = 1 is the ELBO; the bound tightens towards log p(x) as k grows (Burda et al. 2016, Thm. 1).
        """
        k = validate.count("k", k, minimum=1)
        mu, logvar = self.encode(validate.images("x", x, value_range=(0, 1)))
        std = (0.5 * logvar).exp()
        log_w = []
        for _ in range(k):
            z = self.reparameterize(mu, logvar, generator=generator)
            log_q = _log_normal(z, mu, std)
            log_p = _log_normal(z, torch.zeros_like(z), torch.ones_like(z)) - bernoulli_nll(self.decode_logits(z), x)
            log_w.append(log_p - log_q)
        return torch.logsumexp(torch.stack(log_w), 0) - math.log(k)

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, generator=None) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1]: z ~ N(0, I), decoded to pixel probabilities (the mean image)."""
        if labels is not None:
            raise ValueError("this VAE is unconditional; labels must be None")
        n = validate.count("n", n)
        return self.decode(noise(n, self.z_dim, generator=generator, device=next(self.parameters()).device))

    def init_output_bias(self, mean_image: torch.Tensor) -> None:
        """Start the decoder at the data's mean image: bias = logit(mean). Saves the first epoch of training."""
        if not isinstance(mean_image, torch.Tensor) or tuple(mean_image.shape) != self.image_shape:
            got = tuple(mean_image.shape) if isinstance(mean_image, torch.Tensor) else type(mean_image).__name__
            raise ValueError(f"mean_image must be a tensor of shape {self.image_shape} (C, H, W), got {got}")
        last = [m for m in self.decoder.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d))][-1]
        # a linear layer has one bias per pixel; a convolution one per channel (its mean brightness)
        p = mean_image.flatten() if isinstance(last, nn.Linear) else mean_image.mean((1, 2))
        with torch.no_grad():
            last.bias.copy_(torch.logit(p.clamp(1e-3, 1 - 1e-3)))


def _log_normal(z, mu, std):
    return (-0.5 * ((z - mu) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(1)


class MLPVAE(VAE):
    """Fully connected VAE: (B, C, H, W) → hidden layers → z → hidden layers → logits (B, C, H, W)."""

    def __init__(self, *, image_shape=(1, 28, 28), hidden=(512, 256), z_dim: int = 32):
        super().__init__()
        self.config = dict(image_shape=tuple(image_shape), hidden=tuple(hidden), z_dim=z_dim)
        self.image_shape, self.z_dim = tuple(image_shape), z_dim
        d = math.prod(image_shape)
        enc, dec = [nn.Flatten()], []
        for a, b in zip((d,) + tuple(hidden), hidden):
            enc += [nn.Linear(a, b), nn.SiLU()]
        for a, b in zip((z_dim,) + tuple(hidden[::-1]), hidden[::-1]):
            dec += [nn.Linear(a, b), nn.SiLU()]
        self.encoder = nn.Sequential(*enc, nn.Linear(hidden[-1], 2 * z_dim))  # (B, 2·z)
        self.decoder = nn.Sequential(*dec, nn.Linear(hidden[0], d), nn.Unflatten(1, self.image_shape))


class ConvVAE(VAE):
    """Convolutional VAE for 28×28, 32×32 or 64×64 images.

    Encoder: stride-2 4×4 convolutions halve the size until it is 7 or 8
    ((B, C, 28, 28) → (B, w, 14, 14) → (B, 2w, 7, 7)), then a linear layer to
    (μ, log σ²). The decoder mirrors it with transposed convolutions.
    """

    def __init__(self, *, image_shape=(1, 28, 28), width: int = 32, z_dim: int = 16, hidden: int = 256):
        super().__init__()
        c, h, w = image_shape
        if h != w or h not in (28, 32, 64):
            raise ValueError(f"ConvVAE supports square 28, 32 or 64 pixel images, got {tuple(image_shape)}")
        self.config = dict(image_shape=tuple(image_shape), width=width, z_dim=z_dim, hidden=hidden)
        self.image_shape, self.z_dim = tuple(image_shape), z_dim
        n_down = 3 if h == 64 else 2
        chans = [c] + [width * 2**i for i in range(n_down)]
        s = h // 2**n_down  # 7 or 8
        enc = []
        for a, b in zip(chans, chans[1:]):
            enc += [nn.Conv2d(a, b, 4, 2, 1), nn.SiLU()]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(chans[-1] * s * s, hidden), nn.SiLU(),
                                     nn.Linear(hidden, 2 * z_dim))
        dec = [nn.Linear(z_dim, hidden), nn.SiLU(), nn.Linear(hidden, chans[-1] * s * s), nn.SiLU(),
               nn.Unflatten(1, (chans[-1], s, s))]  # (B, w·2^(n−1), s, s)
        for a, b in zip(chans[::-1][:-1], chans[::-1][1:-1]):
            dec += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.SiLU()]  # doubles the size
        self.decoder = nn.Sequential(*dec, nn.ConvTranspose2d(chans[1], c, 4, 2, 1))  # (B, C, H, W) logits
