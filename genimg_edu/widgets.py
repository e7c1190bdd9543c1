"""Interactive controls for the notebooks (ipywidgets).

Every control here works in two modes:

- **live** (JupyterLab, Notebook, Colab, VS Code): sliders and buttons that
  update a picture in place;
- **static** (no browser attached — nbval, ``jupyter nbconvert --execute``):
  the picture for the default settings and one line saying how to get the
  controls. Stored notebook outputs therefore stay identical between runs.

The mode is ``GENIMG_WIDGETS=live|static``; by default it is live, except under
pytest (nbval), where nothing could ever move a slider.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

INTERPOLATIONS = ("auto", "nearest", "linear", "cubic", "area", "lanczos")


def is_live() -> bool:
    """True when controls can be used, i.e. not under nbval or ``GENIMG_WIDGETS=static``."""
    mode = os.environ.get("GENIMG_WIDGETS", "auto").strip().lower()
    if mode not in ("auto", "live", "static"):
        raise ValueError(f"GENIMG_WIDGETS={mode!r} is not understood; expected live, static or auto")
    if mode == "auto":
        return "PYTEST_CURRENT_TEST" not in os.environ
    return mode == "live"


def png_bytes(img: np.ndarray) -> bytes:
    """Encode an RGB (or grey) uint8 image as PNG bytes, for `ipywidgets.Image`."""
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError(f"could not encode an image of shape {img.shape} and dtype {img.dtype} as PNG")
    return buf.tobytes()


def _show_static(img: np.ndarray, caption: str):
    from IPython.display import Image, Markdown, display

    display(Image(data=png_bytes(img)))
    display(Markdown(f"*Static preview — {caption}. Run this notebook in JupyterLab to use the controls.*"))


def preprocess_settings(img: np.ndarray, *, size: int = 256, angle: float = 0.0, interpolation: str = "auto",
                        antialias: bool = True, flip: str = "none", brightness: float = 1.0) -> np.ndarray:
    """The playground's pipeline: resize (keep aspect, shorter side = `size`) → rotate → flip → brightness."""
    from genimg_edu import preprocess as pp

    if flip not in ("none", "horizontal", "vertical"):
        raise ValueError(f"flip must be 'none', 'horizontal' or 'vertical', got {flip!r}")
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
    if not is_live():
        out = preprocess_settings(img, **settings)
        _show_static(out, ", ".join(f"{k}={v}" for k, v in settings.items()) + f" → {out.shape[1]}×{out.shape[0]}")
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
