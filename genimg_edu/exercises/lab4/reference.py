"""Lab 4's reference: what its solution builds — the parts' checks compare the learner's with these."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Encoder(nn.Module):
    """Digits (B, 1, 28, 28) → (mu, logvar), each (B, z_dim): the Gaussian q(z | x)."""

    def __init__(self, z_dim: int = 16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.ReLU(),   # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),  # (B, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, 2 * z_dim))

    def forward(self, x):
        mu, logvar = self.net(x).chunk(2, dim=1)
        return mu, logvar


class Decoder(nn.Module):
    """Latents (B, z_dim) → logits (B, 1, 28, 28) of p(x | z), one Bernoulli per pixel."""

    def __init__(self, z_dim: int = 16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, 64 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),  # (B, 32, 14, 14)
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1))              # (B, 1, 28, 28)

    def forward(self, z):
        return self.net(z)


def sample_latent(mu, logvar, eps):
    return mu + (0.5 * logvar).exp() * eps


def vae_loss(x, x_logits, mu, logvar):
    rec = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return (rec + kl).mean()


def log_weights(encoder, decoder, x, eps):
    """log p(x, z_i) − log q(z_i | x) for z_i = mu + σ·eps_i: (K, B) for eps (K, B, z_dim)."""
    mu, logvar = encoder(x)
    std = (0.5 * logvar).exp()
    z = mu + std * eps
    logits = decoder(z.flatten(0, 1)).view(*eps.shape[:2], *x.shape[1:])
    log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").flatten(2).sum(2)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(2)
    log_qz = torch.distributions.Normal(mu, std).log_prob(z).sum(2)
    return log_px_z + log_pz - log_qz


def iwae_bound(encoder, decoder, x, eps):
    """The importance-weighted bound log (1/K) Σ_i w_i ≤ log p(x), per image (B,), with eps (K, B, z_dim)."""
    return torch.logsumexp(log_weights(encoder, decoder, x, eps), dim=0) - math.log(eps.shape[0])
