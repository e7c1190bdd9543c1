"""Notebook 04's control (08 uses it too): sliders over a latent code and the image it decodes to."""
from __future__ import annotations

import torch

from genimg_edu import validate
from genimg_edu.runtime import is_live
from genimg_edu.widgets.common import check_function, check_vector, grid_png, show_static_png


def latent_explorer(decode, z0, *, names=None, lim: float = 3.0, scale: int = 6):
    """Sliders over latent dimensions → the decoded image. ``decode(z (1, D)) → (1, C, H, W)`` in [0, 1]."""
    check_function("decode", decode)
    z0 = check_vector("z0", z0)
    if names is not None and (not isinstance(names, (list, tuple)) or len(names) != len(z0)
                              or not all(isinstance(s, str) for s in names)):
        raise ValueError(f"names must be None or {len(z0)} strings, one per latent dimension, got {names!r}")
    validate.number("lim", lim, low=0, low_inclusive=False)
    scale = validate.count("scale", scale, minimum=1)
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
