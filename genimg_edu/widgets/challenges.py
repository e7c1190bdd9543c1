"""Notebook 08's control: the watermark explorer (how strong a mark, what it costs, what survives)."""
from __future__ import annotations

import numpy as np
import torch

from genimg_edu import validate
from genimg_edu.runtime import is_live
from genimg_edu.widgets.common import check_numbers, grid_png, show_static_png


def watermark_explorer(images, bits, *, strength: float = 0.04, key: int = 0, preview_strengths=(0.01, 0.04, 0.1)):
    """A strength slider → the images watermarked (`forensics.embed`), the change ×3 below them, and how
    well the bits are read back clean and after each of `forensics.ATTACKS`, with the PSNR it costs.
    The static preview shows one row pair per strength in `preview_strengths`."""
    from genimg_edu import forensics

    for name, value in (("images", images), ("bits", bits)):
        if not isinstance(value, (torch.Tensor, np.ndarray, list, tuple)):
            raise TypeError(f"{name} must be a tensor or an array, got {validate._type(value)}")
    validate.number("strength", strength, low=0)
    key = validate.count("key", key)
    check_numbers("preview_strengths", preview_strengths, low=0)
    images = torch.as_tensor(images)
    bits = torch.as_tensor(bits)

    def view(s: float) -> tuple[torch.Tensor, str]:
        marked = forensics.embed(images, bits, strength=s, key=key)
        psnr = 10 * torch.log10(1 / ((marked - images) ** 2).mean()).item()
        read = {"clean": forensics.bit_accuracy(marked, bits, key=key),
                **{name: forensics.bit_accuracy(attack(marked), bits, key=key)
                   for name, attack in forensics.ATTACKS.items()}}
        text = f"strength {s:g}: PSNR {psnr:.1f} dB · bits read back: " + ", ".join(
            f"{name} {acc:.0%}" for name, acc in read.items())
        return torch.cat([marked, (0.5 + 3 * (marked - images)).clamp(0, 1)]), text

    if not is_live():
        rows, lines = zip(*(view(s) for s in preview_strengths))
        show_static_png(grid_png(torch.cat(rows), nrow=len(images)),
                        "for each strength, the marked images above the change ×3 (grey = no change): "
                        + "; ".join(lines))
        return None
    import ipywidgets as W

    slider = W.FloatSlider(strength, min=0.0, max=0.2, step=0.01, description="strength", continuous_update=False)
    rows, text = view(strength)
    picture = W.Image(value=grid_png(rows, nrow=len(images)), format="png")
    readout = W.HTML(text)

    def update(change):
        rows, text = view(change["new"])
        picture.value, readout.value = grid_png(rows, nrow=len(images)), text

    slider.observe(update, names="value")
    return W.VBox([slider, picture, readout])
