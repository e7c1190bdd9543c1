"""GAN generators and discriminators: an MLP pair for 2-D toy data, DCGANs for images.

Generators map noise z ~ N(0, I) to data; discriminators return *logits*
(scores before a sigmoid), which every loss in `genimg_edu.losses` expects.

The DCGAN (Radford et al. 2016) upsamples with stride-2 transposed
convolutions, each doubling the size — ``(B, 4w, 7, 7) → (B, 2w, 14, 14) →
(B, 1, 28, 28)`` — with BatchNorm and ReLU in G, LeakyReLU in D, and tanh at G's
output, so G works in [−1, 1]; `sample` maps back to [0, 1]. With
``n_classes`` both become class-conditional: G concatenates a learned label
embedding to z (Mirza & Osindero 2014) and D adds a projection term
``⟨embed(y), h⟩`` to its score (Miyato & Koyama 2018).

``refine=True`` adds a 3×3, stride-1 convolution (same size) after each of G's
upsamplings but the last — for 28×28, a second layer at 14×14 that shapes the
sketch before the final upsampling draws strokes — and after each of D's
downsamplings but the first — for 28×28, one more layer at 7×7 before the score.
It is what lifted the unconditional "dcgan-mnist" from malformed to clean digits
(see scripts/pretrain.py and the README's notes on the recipe).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from genimg_edu import validate
from genimg_edu.runtime import noise


def check_labels(n_classes: int | None, labels, who: str, n: int = 0):
    """Conditional models require labels (n,) of integers in [0, n_classes), returned as int64;
    unconditional ones refuse labels rather than ignore them."""
    if n_classes and labels is None:
        raise ValueError(f"this {who} is class-conditional: pass labels (B,) of int64")
    if not n_classes and labels is not None:
        raise ValueError(f"this {who} is unconditional; labels must be None")
    return validate.labels("labels", labels, n=n, n_classes=n_classes) if n_classes else None


def check_vectors(name: str, t, dim: int) -> None:
    """A forward pass's cheap check of its input: a float tensor (B, dim)."""
    if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.ndim != 2 or t.shape[1] != dim:
        got = f"shape {tuple(t.shape)}, dtype {t.dtype}" if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{name} must be a float tensor of shape (B, {dim}), got {got}")


class MLPGenerator(nn.Module):
    """Toy generator: z (B, z_dim) → points (B, 2). Its `sample` returns points, not images."""

    def __init__(self, *, z_dim: int = 8, hidden: int = 128, out_dim: int = 2, depth: int = 3):
        super().__init__()
        self.z_dim = z_dim
        layers, d = [], z_dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        self.net = nn.Sequential(*layers, nn.Linear(hidden, out_dim))

    n_classes = None

    def forward(self, z, labels=None):
        check_labels(None, labels, "generator")
        check_vectors("z", z, self.z_dim)
        return self.net(z)

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, generator=None) -> torch.Tensor:
        """n points (n, 2) from z ~ N(0, I)."""
        n = validate.count("n", n)
        return self(noise(n, self.z_dim, generator=generator, device=next(self.parameters()).device), labels)


class MLPDiscriminator(nn.Module):
    """Toy discriminator: points (B, 2) → logits (B,)."""

    def __init__(self, *, in_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        layers, d = [], in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.LeakyReLU(0.2)]
            d = hidden
        self.net = nn.Sequential(*layers, nn.Linear(hidden, 1))
        self.in_dim = in_dim

    def forward(self, x, labels=None):
        check_labels(None, labels, "discriminator")
        check_vectors("x", x, self.in_dim)
        return self.net(x).squeeze(1)


def _counts(**sizes) -> None:
    """Constructor sizes are whole numbers >= 1; n_classes may also be None or 0 (unconditional)."""
    for name, value in sizes.items():
        if not (name == "n_classes" and value is None):
            validate.count(name, value, minimum=0 if name == "n_classes" else 1)


def _sizes(image_shape) -> tuple[int, int]:
    if len(tuple(image_shape)) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {image_shape!r}")
    c, h, w = image_shape
    if h != w or h not in (28, 32):
        raise ValueError(f"DCGAN supports 28×28 or 32×32 images, got {tuple(image_shape)}")
    return (7, 2) if h == 28 else (4, 3)  # start size, number of doublings


class DCGANGenerator(nn.Module):
    """z (B, z_dim) [+ labels (B,)] → images (B, C, H, W) in [−1, 1]; `sample` gives [0, 1]."""

    def __init__(self, *, image_shape=(1, 28, 28), z_dim: int = 64, width: int = 64, n_classes: int | None = None,
                 embed_dim: int = 32, batchnorm: bool = True, refine: bool = False):
        super().__init__()
        _counts(z_dim=z_dim, width=width, embed_dim=embed_dim, n_classes=n_classes)
        self.config = dict(image_shape=tuple(image_shape), z_dim=z_dim, width=width, n_classes=n_classes,
                           embed_dim=embed_dim, **({} if batchnorm else {"batchnorm": False}),
                           **({"refine": True} if refine else {}))
        norm = nn.BatchNorm2d if batchnorm else (lambda c: nn.Identity())  # off: for the stability lab
        self.image_shape, self.z_dim, self.n_classes = tuple(image_shape), z_dim, n_classes
        s, n_up = _sizes(image_shape)
        chans = [width * 2**i for i in range(n_up)][::-1]  # 28×28: [2w, w]; 32×32: [4w, 2w, w]
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        d_in = z_dim + (embed_dim if n_classes else 0)
        layers = [nn.Linear(d_in, chans[0] * s * s, bias=False), nn.Unflatten(1, (chans[0], s, s)),
                  norm(chans[0]), nn.ReLU(True)]  # (B, chans[0], s, s)
        for a, b in zip(chans, chans[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=not batchnorm), norm(b), nn.ReLU(True)]  # size ×2
            if refine:
                layers += [nn.Conv2d(b, b, 3, 1, 1, bias=not batchnorm), norm(b), nn.ReLU(True)]  # same size
        layers += [nn.ConvTranspose2d(chans[-1], image_shape[0], 4, 2, 1), nn.Tanh()]  # (B, C, H, W)
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_vectors("z", z, self.z_dim)
        labels = check_labels(self.n_classes, labels, "generator", len(z))
        if self.n_classes:
            z = torch.cat([z, self.embed(labels)], 1)  # (B, z_dim + embed_dim)
        return self.net(z)  # (B, C, H, W) in [-1, 1]

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, generator=None) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1]. Conditional models take `labels` (n,) or draw them uniformly."""
        n, dev = validate.count("n", n), next(self.parameters()).device
        z = noise(n, self.z_dim, generator=generator, device=dev)
        if self.n_classes:
            if labels is None:
                labels = torch.arange(n) % self.n_classes
            labels = validate.labels("labels", labels, n=n, n_classes=self.n_classes).to(dev)
        elif labels is not None:
            raise ValueError("this generator is unconditional; labels must be None")
        return (self(z, labels) + 1) / 2


class DCGANDiscriminator(nn.Module):
    """Images (B, C, H, W) in [−1, 1] [+ labels] → logits (B,). Spectral norm on every layer by default."""

    def __init__(self, *, image_shape=(1, 28, 28), width: int = 64, n_classes: int | None = None,
                 spectral: bool = True, refine: bool = False):
        super().__init__()
        _counts(width=width, n_classes=n_classes)
        self.config = dict(image_shape=tuple(image_shape), width=width, n_classes=n_classes, spectral=spectral,
                           **({"refine": True} if refine else {}))
        s, n_down = _sizes(image_shape)
        sn = spectral_norm if spectral else (lambda m: m)
        layers, c_prev = [], image_shape[0]
        for i in range(n_down):
            c = width * 2**i
            layers += [sn(nn.Conv2d(c_prev, c, 4, 2, 1)), nn.LeakyReLU(0.2, True)]  # size ÷2
            if refine and i > 0:
                layers += [sn(nn.Conv2d(c, c, 3, 1, 1)), nn.LeakyReLU(0.2, True)]  # same size
            c_prev = c
        self.body = nn.Sequential(*layers, nn.Flatten())  # (B, c·s·s)
        self.score = sn(nn.Linear(c_prev * s * s, 1))
        self.embed = sn(nn.Embedding(n_classes, c_prev * s * s)) if n_classes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        validate.images("x", x, shape=self.config["image_shape"])
        labels = check_labels(self.config["n_classes"], labels, "discriminator", len(x))
        h = self.body(x)  # (B, c·s·s)
        out = self.score(h).squeeze(1)  # (B,)
        if self.embed is not None:
            out = out + (self.embed(labels) * h).sum(1)  # projection term
        return out


def sefa_directions(weight: torch.Tensor, k: int) -> torch.Tensor:
    """SeFa (Shen & Zhou 2021): the `k` unit directions n of the latent space that change a linear first
    layer ``h = weight @ z`` the most — the eigenvectors of weightᵀ·weight with the largest eigenvalues, as
    rows (k, z_dim), largest first. Each is defined up to its sign."""
    k = validate.count("k", k, minimum=1)
    if not isinstance(weight, torch.Tensor) or weight.ndim != 2 or k > weight.shape[1]:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"expected a 2-D weight (out, z_dim) and 1 <= k <= z_dim, got {shape} and k={k}")
    w = weight.detach().double()
    _, vectors = torch.linalg.eigh(w.T @ w)  # eigenvalues ascending, eigenvectors as columns
    return vectors[:, -k:].flip(1).T.to(weight.dtype)
