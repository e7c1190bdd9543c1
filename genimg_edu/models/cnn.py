"""A small convolutional classifier for 28×28 digits — and the course's feature extractor.

Two blocks of two 3×3 convolutions (with BatchNorm and ReLU) and a 2×2 max
pool, then a 128-unit hidden layer and 10 logits::

    (B, 1, 28, 28) → (B, w, 14, 14) → (B, 2w, 7, 7) → (B, 128) features → (B, 10) logits

`features(x)` returns the 128-d penultimate activations: notebooks 03, 05 and
06 measure generated digits in this space (a Fréchet distance in a domain
classifier's features, the MNIST analogue of FID's Inception features).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genimg_edu import validate


def _check(x) -> torch.Tensor:
    """Images (B, 1, 28, 28): a float tensor of that shape (cheap; the values are not scanned)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        validate.images("x", x)  # its TypeError: not a tensor, or not floating point
    if x.dim() != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"x must be images of shape (B, 1, 28, 28), got {tuple(x.shape)}")
    return x


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class MNISTClassifier(nn.Module):
    """Digit classifier: images (B, 1, 28, 28) in [0, 1] → logits (B, 10).

    `width` sets the channels of the first block (the second has twice as
    many); `dropout` applies before the last layer.
    """

    def __init__(self, *, width: int = 32, hidden: int = 128, dropout: float = 0.3):
        super().__init__()
        self.config = dict(width=width, hidden=hidden, dropout=dropout)
        self.body = nn.Sequential(_block(1, width), _block(width, 2 * width))  # (B, 2w, 7, 7)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 7 * 7, hidden), nn.ReLU(inplace=True))
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (B, hidden) for images (B, 1, 28, 28) in [0, 1]."""
        return self.head(self.body(_check(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))  # (B, 10) logits

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy ``−(1/B) Σ_i log p_θ(y_i | x_i)`` with ``p_θ = softmax(logits)``: mean over the batch.

        x: images (B, 1, 28, 28) in [0, 1]; y: their digits (B,), integers in [0, 10).
        """
        x = _check(x)
        y = validate.labels("y", y, n=len(x), n_classes=10)
        return F.cross_entropy(self(x), y.to(x.device))

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, *, batch_size: int = 500) -> torch.Tensor:
        """Class probabilities (B, 10), computed in batches without gradients."""
        x, batch_size = _check(x), validate.count("batch_size", batch_size, minimum=1)
        dev = next(self.parameters()).device
        return torch.cat([self(x[i:i + batch_size].to(dev)).softmax(1)
                          for i in range(0, max(len(x), 1), batch_size)])  # one (empty) batch when x is empty
