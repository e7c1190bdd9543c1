"""Lab 2's reference: what its solution builds — the parts' checks compare the learner's with these."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...fit import batch_indices


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """(B, c_in, H, W) → (B, c_out, H/2, W/2): a 3×3 convolution (padding 1), BatchNorm, ReLU, a 2×2 max pool."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


class Classifier(nn.Module):
    """(B, 1, 28, 28) → logits (B, 10): two blocks (width, then 2·width channels), a 128-unit hidden layer."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.body = nn.Sequential(conv_block(1, width), conv_block(width, 2 * width))  # (B, 2w, 7, 7)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.head(self.body(x))


def train_step(model, optimizer, x, y) -> float:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def accuracy(model, x, y, batch_size: int = 250) -> float:
    model.eval()
    correct = sum((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
                  for i in range(0, len(x), batch_size))
    return correct / len(x)


def train(model, x, y, *, steps: int, batch_size: int = 64, lr: float = 2e-3, seed: int = 0) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for k in range(steps):
        i = batch_indices(len(x), batch_size, seed=seed, step=k)
        losses.append(train_step(model, optimizer, x[i], y[i]))
    return losses


