"""Lab 3's reference: what its solution builds — the parts' checks compare the learner's with these."""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ... import losses
from ...fit import batch_indices
from ...steps.gan import discriminator_step


class Generator(nn.Module):
    """Noise (B, z_dim) → images (B, 1, 28, 28) in [−1, 1]: a DCGAN generator (Radford et al. 2016)."""

    def __init__(self, z_dim: int = 64, width: int = 32):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.Linear(z_dim, 2 * width * 7 * 7, bias=False), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.BatchNorm2d(2 * width), nn.ReLU(),                                                # (B, 2w, 7, 7)
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),                                                    # (B, w, 14, 14)
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh())                     # (B, 1, 28, 28)

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """Images (B, 1, 28, 28) in [−1, 1] → one score (a logit) per image, (B,); spectral norm on every layer."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(1, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),          # (B, w, 14, 14)
            spectral_norm(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # (B, 2w, 7, 7)
            nn.Flatten(), spectral_norm(nn.Linear(2 * width * 7 * 7, 1)))                           # (B, 1)

    def forward(self, x):
        return self.net(x).squeeze(1)


def d_loss(d_real, d_fake):
    return losses.d_loss(d_real, d_fake, kind="hinge")


def g_loss(d_fake):
    return losses.g_loss(d_fake, kind="hinge")


def gan_round(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    loss_d = discriminator_step(D, opt_d, real, fake, kind="hinge")  # (1) D's step, on detached fakes: GANStep's
    opt_g.zero_grad()  # (2) G's step, through the D just updated
    loss_g = g_loss(D(fake))
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def train_gan(G, D, x, *, steps: int, batch_size: int = 64, lr: float = 2e-3, decay: float = 0.99,
              seed: int = 0) -> tuple[list, nn.Module]:
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    G_avg = copy.deepcopy(G)  # the weight average: what we sample from
    G.train(), D.train()
    noise = torch.Generator().manual_seed(seed)
    history = []
    for k in range(steps):
        real = x[batch_indices(len(x), batch_size, seed=seed, step=k)] * 2 - 1  # [0, 1] → G's [−1, 1]
        z = torch.randn(batch_size, G.z_dim, generator=noise)
        history.append(gan_round(G, D, opt_g, opt_d, real, z))
        with torch.no_grad():
            for avg, p in zip(G_avg.parameters(), G.parameters()):
                avg.lerp_(p, 1 - decay)  # avg ← decay · avg + (1 − decay) · p
            for avg, b in zip(G_avg.buffers(), G.buffers()):
                avg.copy_(b)  # BatchNorm's running statistics: G's own
    return history, G_avg
