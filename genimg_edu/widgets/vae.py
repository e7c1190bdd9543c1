"""Notebook 04's control (08 uses it too): sliders over a latent code and the image it decodes to."""
from __future__ import annotations

import torch

from genimg_edu.runtime import is_live
from genimg_edu.widgets.common import grid_png, show_static_png


def latent_explorer(decode, z0, *, names=None, lim: float = 3.0, scale: int = 6):
    """Sliders over latent dimensions → the decoded image. ``decode(z (1, D)) → (1, C, H, W)`` in [0, 1]."""
    z0 = torch.as_tensor(z0, dtype=torch.float32).flatten()
    names = names or [f"z[{i}]" for i in range(len(z0))]

    def render(values) -> bytes:
        with torch.no_grad():
            return grid_png(decode(torch.tensor([values], dtype=torch.float32)).cpu(), nrow=1, scale=scale)

    if not is_live():
        show_static_png(render(z0.tolist()), "z = " + ", ".join(f"{v:.2f}" for v in z0.tolist()))
        return None
    import ipywidgets as W

    sliders = [W.FloatSlider(float(v), min=-lim, max=lim, step=0.05, description=name, continuous_update=True)
               for v, name in zip(z0.tolist(), names)]
    picture = W.Image(value=render(z0.tolist()), format="png")
    for s in sliders:
        s.observe(lambda change: setattr(picture, "value", render([s.value for s in sliders])), names="value")
    return W.HBox([W.VBox(sliders), picture])
