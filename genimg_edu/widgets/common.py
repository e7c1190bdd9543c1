"""What every control shares: pictures as PNG bytes, the static preview, and the digit buttons.

A control draws its picture as PNG bytes (`png_bytes`, `figure_png`, `canvas_png`, `grid_png`); in
live mode the bytes go into an `ipywidgets.Image`, in static mode `show_static_png` displays them
with one line of caption (see `genimg_edu.widgets`).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from genimg_edu import validate


def check_function(name: str, f) -> None:
    if not callable(f):
        raise TypeError(f"{name} must be a function, got {validate._type(f)}")


def check_sampler(name: str, model) -> None:
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"{name} must be a model with a sample(n, labels=…, generator=…) method, "
                        f"got {validate._type(model)}")


def check_vector(name: str, z) -> torch.Tensor:
    """A latent code: a tensor, array or list of finite numbers, flattened to float32 (D,) with D >= 1."""
    if not isinstance(z, (torch.Tensor, np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a latent code (a tensor, array or list of numbers), got {validate._type(z)}")
    try:
        v = torch.as_tensor(z, dtype=torch.float32).flatten()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a latent code of numbers, got {z!r}") from None
    if not len(v) or not bool(torch.isfinite(v).all()):
        raise ValueError(f"{name} must be a non-empty code of finite numbers, got {v.tolist()[:8]}")
    return v


def check_numbers(name: str, values, *, low=None) -> tuple:
    """A non-empty sequence of finite numbers (each >= low when given)."""
    if not isinstance(values, (list, tuple)) or not values:
        raise TypeError(f"{name} must be a non-empty list or tuple of numbers, got {values!r}")
    return tuple(validate.number(f"{name}[{i}]", v, low=low) for i, v in enumerate(values))


def png_bytes(img: np.ndarray) -> bytes:
    """Encode an RGB (H, W, 3) or grey (H, W) uint8 image as PNG bytes, for `ipywidgets.Image`."""
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        got = f"dtype {img.dtype}" if isinstance(img, np.ndarray) else validate._type(img)
        raise TypeError(f"img must be a uint8 NumPy image (H, W) or (H, W, 3), got {got}")
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)) or not img.size:
        raise ValueError(f"img must be a uint8 image (H, W) or (H, W, 3), got shape {img.shape}")
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError(f"could not encode an image of shape {img.shape} and dtype {img.dtype} as PNG")
    return buf.tobytes()


def figure_png(fig) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so it is not shown a second time)."""
    import io

    import matplotlib.pyplot as plt

    if not callable(getattr(fig, "savefig", None)):
        raise TypeError(f"fig must be a matplotlib figure, got {validate._type(fig)}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def canvas_png(fig) -> bytes:
    """Draw a figure made with `matplotlib.figure.Figure` (not pyplot) and encode it as PNG bytes.

    About half the time of `figure_png`: one draw instead of two (no tight bounding box), and
    OpenCV's PNG encoder. For controls that redraw the same figure on every update.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {validate._type(fig)}")
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return png_bytes(np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3]))  # (H, W, 3)


def grid_png(images, *, nrow: int, scale: int = 3) -> bytes:
    """A grid of images (N, C, H, W) in [0, 1] as PNG bytes, `nrow` to a row (`plot.image_grid`),
    enlarged `scale`× with nearest neighbours so that each pixel stays a sharp square."""
    from genimg_edu.plot import image_grid

    validate.images("images", images)
    nrow = validate.count("nrow", nrow, minimum=1)
    scale = validate.count("scale", scale, minimum=1)
    grid = (image_grid(images, nrow=nrow) * 255).round().astype(np.uint8)
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return png_bytes(grid)


def show_static_png(png: bytes, caption: str) -> None:
    """The static preview: display the picture `png`, then one italic line — "Static preview —
    `caption`." — saying how to get the controls. Nothing else, so stored notebook outputs replay."""
    from IPython.display import Image, Markdown, display

    if not isinstance(png, bytes):
        raise TypeError(f"png must be PNG bytes (e.g. from grid_png), got {validate._type(png)}")
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a string, got {validate._type(caption)}")
    display(Image(data=png))
    display(Markdown(f"*Static preview — {caption}. Run this notebook in JupyterLab to use the controls.*"))


def digit_buttons(value: int):
    """Toggle buttons 0–9 described "digit", for the controls over a class-conditional model."""
    import ipywidgets as W

    value = validate.count("value", value)
    if value > 9:
        raise ValueError(f"value must be a digit from 0 to 9, got {value}")
    return W.ToggleButtons(options=list(range(10)), value=value, description="digit", style={"button_width": "32px"})
