"""Notebook 01's control: the preprocessing playground over a photo."""
from __future__ import annotations

import numpy as np

from genimg_edu import preprocess as pp
from genimg_edu import validate
from genimg_edu.runtime import is_live
from genimg_edu.widgets.common import png_bytes, show_static_png

INTERPOLATIONS = ("auto", *pp.INTERPOLATIONS)  # the dropdown offers what resize accepts


def preprocess_settings(img: np.ndarray, *, size: int = 256, angle: float = 0.0, interpolation: str = "auto",
                        antialias: bool = True, flip: str = "none", brightness: float = 1.0) -> np.ndarray:
    """The playground's pipeline: resize (keep aspect, shorter side = `size`) → rotate → flip → brightness."""
    if flip not in ("none", "horizontal", "vertical"):
        raise ValueError(f"flip must be 'none', 'horizontal' or 'vertical', got {flip!r}")
    if not isinstance(antialias, (bool, np.bool_)):
        raise TypeError(f"antialias must be True or False, got {antialias!r}")
    validate.number("angle", angle)
    validate.number("brightness", brightness, low=0)
    out = pp.resize(img, size, interpolation=interpolation, antialias=antialias, keep_aspect=True)
    if angle:
        out = pp.rotate(out, angle, expand=True)
    if flip != "none":
        out = pp.flip(out, horizontal=flip == "horizontal")
    return pp.adjust_brightness(out, brightness) if brightness != 1.0 else out


def preprocessing_playground(img: np.ndarray, **defaults):
    """Sliders for size, angle, interpolation, anti-aliasing, flip and brightness over `img`.

    Returns the ipywidgets layout in live mode; in static mode displays the
    result for `defaults` and returns None.
    """
    settings = dict(size=128, angle=0.0, interpolation="auto", antialias=True, flip="none", brightness=1.0)
    unknown = set(defaults) - set(settings)
    if unknown:
        raise ValueError(f"unknown playground settings {sorted(unknown)}; expected some of {sorted(settings)}")
    settings.update(defaults)
    preview = preprocess_settings(img, **settings)  # the settings' door, and the static picture
    if not is_live():
        out = preview
        show_static_png(png_bytes(out), ", ".join(f"{k}={v}" for k, v in settings.items())
                        + f" → {out.shape[1]}×{out.shape[0]}")
        return None

    import ipywidgets as W

    style = {"description_width": "90px"}
    controls = {
        "size": W.IntSlider(settings["size"], min=16, max=512, step=8, description="size (px)", style=style),
        "angle": W.FloatSlider(settings["angle"], min=-180, max=180, step=5, description="angle (°)", style=style),
        "interpolation": W.Dropdown(options=INTERPOLATIONS, value=settings["interpolation"],
                                    description="interpolation", style=style),
        "antialias": W.Checkbox(settings["antialias"], description="anti-alias when shrinking"),
        "flip": W.ToggleButtons(options=("none", "horizontal", "vertical"), value=settings["flip"],
                                description="flip", style=style),
        "brightness": W.FloatSlider(settings["brightness"], min=0.2, max=2.0, step=0.1,
                                    description="brightness", style=style),
    }
    for c in controls.values():
        if hasattr(c, "continuous_update"):
            c.continuous_update = False  # recompute when the slider is released, not on every pixel of drag
    picture = W.Image(format="png", layout=W.Layout(max_width="520px"))
    info = W.Label()

    def update(_=None):
        out = preprocess_settings(img, **{k: c.value for k, c in controls.items()})
        picture.value = png_bytes(out)
        info.value = f"output {out.shape[1]}×{out.shape[0]} px"

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return W.HBox([W.VBox(list(controls.values()) + [info]), picture])
