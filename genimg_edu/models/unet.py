"""Flow-matching networks: a velocity MLP for 2-D toy data and a tiny U-Net for 28×28 digits.

Both predict the velocity ``v_θ(x_t, t, y) ≈ ε − x_0`` of the straight path
``x_t = (1 − t)·x_0 + t·ε`` (t = 0: data, t = 1: noise; see `genimg_edu.diffusion`).
Labels are optional: index ``n_classes`` is the "no class" token, used when
``labels=None`` and, during training, for the dropped labels that teach the same
network the unconditional velocity classifier-free guidance needs (Ho & Salimans 2022).

The U-Net (Ronneberger et al. 2015, as used by DDPM, Ho et al. 2020) goes
``28 → 14 → 7`` and back, each level a residual block that adds the time and
class embedding; the skips carry the fine detail across; self-attention only at 7×7.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genimg_edu import validate
from genimg_edu.diffusion import FlowMatching


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of t ∈ [0, 1] (B,) → (B, dim), as the Transformer's positions (scaled by 1000)."""
    freqs = torch.exp(-math.log(10_000) * torch.arange(dim // 2, device=t.device) / (dim // 2))
    angles = 1000 * t[:, None] * freqs[None]  # (B, dim/2)
    return torch.cat([angles.sin(), angles.cos()], 1)


class _Conditioned(nn.Module):
    """Shared by both networks: the time + class embedding, and the sampler of `diffusion.FlowMatching`."""

    def check(self, x, t, labels) -> None:
        """The door of ``forward(x, t, labels)``: x (B, *data_shape) floats, t in [0, 1] — a number or a tensor of
        shape () or (B,) — and labels None or integers (B,) in [0, n_classes] (n_classes = "no class").
        Shapes and dtypes, and one read of t's and the labels' extremes (one sync on a GPU)."""
        if len(self.data_shape) == 3:
            validate.images("x", x, shape=self.data_shape)
        elif not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"x must be a floating-point torch.Tensor (B, {self.data_shape[0]}), got "
                            f"{f'dtype {x.dtype}' if isinstance(x, torch.Tensor) else validate._type(x)}")
        elif x.dim() != 2 or x.shape[1] != self.data_shape[0]:
            raise ValueError(f"x must have shape (B, {self.data_shape[0]}), got {tuple(x.shape)}")
        batch, extremes = len(x), []
        if isinstance(t, torch.Tensor):
            if t.is_complex() or t.dtype == torch.bool:
                raise TypeError(f"t must be real times in [0, 1], got dtype {t.dtype}")
            if tuple(t.shape) not in ((), (batch,)):
                raise ValueError(f"t must be a number or a tensor of shape () or ({batch},), got {tuple(t.shape)}")
            if t.numel():
                extremes += torch.aminmax(t.detach())
        else:
            validate.number("t", t, low=0, high=1)
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex() \
                    or labels.dtype == torch.bool:
                got = f"dtype {labels.dtype}" if isinstance(labels, torch.Tensor) else validate._type(labels)
                raise TypeError(f"labels must be a tensor of integers (e.g. int64) or None, got {got}")
            if tuple(labels.shape) != (batch,):
                raise ValueError(f"labels must be ({batch},) ints in [0, {self.n_classes}] ({self.n_classes} = "
                                 f"no class), got shape {tuple(labels.shape)}")
            if batch:
                extremes += torch.aminmax(labels)
        if extremes:
            values = torch.stack([e.to(x.device, torch.float64) for e in extremes]).tolist()  # one read
            if isinstance(t, torch.Tensor) and t.numel():
                (lo, hi), values = values[:2], values[2:]
                if not (0 <= lo and hi <= 1):
                    raise ValueError(f"t must be times in [0, 1], got values from {lo:g} to {hi:g}")
            if values and (values[0] < 0 or values[1] > self.n_classes):
                raise ValueError(f"labels must be ({batch},) ints in [0, {self.n_classes}] ({self.n_classes} = "
                                 f"no class), got values from {values[0]:g} to {values[1]:g}")

    def embed(self, t, labels, batch: int) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float32, device=self.label_embedding.weight.device).expand(batch)
        if labels is None:
            labels = torch.full((batch,), self.n_classes, dtype=torch.long, device=t.device)  # "no class"
        return self.time_mlp(time_embedding(t, self.emb_dim)) + self.label_embedding(labels)  # (B, emb)

    def guided(self, x, t, labels=None, *, guidance: float = 1.0) -> torch.Tensor:
        """Classifier-free guidance: ``v_∅ + w·(v_y − v_∅)`` (w = 1: conditional, 0: unconditional);
        `diffusion.FlowMatching.velocity` around this network."""
        return FlowMatching(self).velocity(x, t, labels, guidance=guidance)

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, generator=None, steps: int = 10, guidance: float = 1.5,
               method: str = "heun") -> torch.Tensor:
        """n samples from noise by integrating the learned flow from t = 1 to 0 (`diffusion.FlowMatching.sample`
        around this network). Images come back as (n, 1, 28, 28) in [0, 1], points as (n, 2). ``labels=None``:
        unconditional."""
        return FlowMatching(self).sample(n, labels=labels, generator=generator, steps=steps, guidance=guidance,
                                         method=method)


class VelocityMLP(_Conditioned):
    """Toy velocity field: (x (B, dim), t) → (B, dim), for points such as the ring of notebook 03."""

    def __init__(self, *, dim: int = 2, hidden: int = 128, emb_dim: int = 32, n_classes: int = 0):
        super().__init__()
        self.config = dict(dim=dim, hidden=hidden, emb_dim=emb_dim, n_classes=n_classes)
        self.data_shape, self.emb_dim, self.n_classes = (dim,), emb_dim, n_classes
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU())
        self.label_embedding = nn.Embedding(n_classes + 1, emb_dim)
        self.net = nn.Sequential(nn.Linear(dim + emb_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x, t, labels=None):
        self.check(x, t, labels)
        return self.net(torch.cat([x, self.embed(t, labels, len(x))], 1))


class ResBlock(nn.Module):
    """GroupNorm → SiLU → 3×3 conv, plus the embedding (a per-channel shift), twice; a residual connection."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(e)[:, :, None, None]  # (B, c_out, H, W)
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class Attention(nn.Module):
    """Self-attention over the 7×7 positions (49 tokens), residual."""

    def __init__(self, c: int, heads: int = 4):
        super().__init__()
        self.norm, self.attn = nn.GroupNorm(8, c), nn.MultiheadAttention(c, heads, batch_first=True)

    def forward(self, x):
        B, C, H, W = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)  # (B, H·W, C)
        return x + self.attn(h, h, h, need_weights=False)[0].transpose(1, 2).reshape(B, C, H, W)


class TinyUNet(_Conditioned):
    """v_θ(x_t, t, y): (B, 1, 28, 28) in [−1, 1], t (B,) or a number, labels (B,) or None → (B, 1, 28, 28)."""

    def __init__(self, *, image_shape=(1, 28, 28), width: int = 32, emb_dim: int = 128, n_classes: int = 10):
        super().__init__()
        self.config = dict(image_shape=tuple(image_shape), width=width, emb_dim=emb_dim, n_classes=n_classes)
        self.data_shape, self.emb_dim, self.n_classes = tuple(image_shape), emb_dim, n_classes
        c, w2 = image_shape[0], 2 * width
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label_embedding = nn.Embedding(n_classes + 1, emb_dim)  # the last row: "no class"
        self.stem = nn.Conv2d(c, width, 3, padding=1)
        self.down1, self.pool1 = ResBlock(width, width, emb_dim), nn.Conv2d(width, width, 3, 2, 1)  # 28 → 14
        self.down2, self.pool2 = ResBlock(width, w2, emb_dim), nn.Conv2d(w2, w2, 3, 2, 1)  # 14 → 7
        self.mid1, self.attn, self.mid2 = ResBlock(w2, w2, emb_dim), Attention(w2), ResBlock(w2, w2, emb_dim)
        self.lift2, self.up2 = nn.Conv2d(w2, w2, 3, padding=1), ResBlock(2 * w2, w2, emb_dim)  # 7 → 14
        self.lift1, self.up1 = nn.Conv2d(w2, width, 3, padding=1), ResBlock(2 * width, width, emb_dim)  # 14 → 28
        self.out = nn.Sequential(nn.GroupNorm(8, width), nn.SiLU(), nn.Conv2d(width, c, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)  # start as v = 0: training begins from a calm field
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, x, t, labels=None):
        self.check(x, t, labels)
        e = self.embed(t, labels, len(x))  # (B, emb)
        s1 = self.down1(self.stem(x), e)  # (B, w, 28, 28)
        s2 = self.down2(self.pool1(s1), e)  # (B, 2w, 14, 14)
        h = self.mid2(self.attn(self.mid1(self.pool2(s2), e)), e)  # (B, 2w, 7, 7)
        h = self.up2(torch.cat([F.interpolate(self.lift2(h), scale_factor=2), s2], 1), e)  # (B, 2w, 14, 14)
        h = self.up1(torch.cat([F.interpolate(self.lift1(h), scale_factor=2), s1], 1), e)  # (B, w, 28, 28)
        return self.out(h)
