"""Weights a lab's check sets itself, so that a learner's module and its reference compute the same function
whatever either's own initialisation (or spectral norm's random start)."""
from __future__ import annotations

import torch

from .core import seeded


def fixed_weights(module: torch.nn.Module) -> torch.nn.Module:
    """Give every Conv2d, ConvTranspose2d and Linear of `module` (in the order they were registered) weights from
    one fixed generator and zero biases, so that two modules of the same design compute the same function
    whatever their own initialisation: how a lab's check compares a learner's module with its reference."""
    g = seeded(7)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
                fan_in = m.weight[0].numel() if not isinstance(m, torch.nn.ConvTranspose2d) else \
                    m.weight.shape[0] * m.weight[0, 0].numel()
                weight = torch.randn(m.weight.shape, generator=g) / fan_in ** 0.5
                _set_weight(m, weight)
                if m.bias is not None:
                    m.bias.zero_()
    return module


def _set_weight(m: torch.nn.Module, weight: torch.Tensor) -> None:
    """m's weight := `weight`. Under spectral norm (either of PyTorch's two APIs) the raw weight is set, and the
    power iteration's vectors u, v are the exact top singular pair, so that σ and the output no longer depend on
    the random u drawn when the layer was made (or on how many iterations ran)."""
    from torch.nn.utils import parametrize

    if parametrize.is_parametrized(m, "weight"):  # torch.nn.utils.parametrizations.spectral_norm
        m.parametrizations.weight.original.copy_(weight)
        for p in m.parametrizations.weight:
            if hasattr(p, "_u") and hasattr(p, "_v"):
                u, _, vh = torch.linalg.svd(p._reshape_weight_to_matrix(weight), full_matrices=False)
                p._u.copy_(u[:, 0])
                p._v.copy_(vh[0])
    elif hasattr(m, "weight_orig") and hasattr(m, "weight_u"):  # torch.nn.utils.spectral_norm (the older API)
        m.weight_orig.copy_(weight)
        u, _, vh = torch.linalg.svd(weight.flatten(1), full_matrices=False)
        m.weight_u.copy_(u[:, 0])
        m.weight_v.copy_(vh[0])
    else:
        m.weight.copy_(weight)
