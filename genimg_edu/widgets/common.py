"""What every control shares: pictures as PNG bytes, the static preview, and the digit buttons.

A control draws its picture as PNG bytes (`png_bytes`, `figure_png`, `canvas_png`, `grid_png`); in
live mode the bytes go into an `ipywidgets.Image`, in static mode `show_static_png` displays them
with one line of caption (see `genimg_edu.widgets`).
"""
from __future__ import annotations

import cv2
import numpy as np


def png_bytes(img: np.ndarray) -> bytes:
    """Encode an RGB (H, W, 3) or grey (H, W) uint8 image as PNG bytes, for `ipywidgets.Image`."""
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError(f"could not encode an image of shape {img.shape} and dtype {img.dtype} as PNG")
    return buf.tobytes()


def figure_png(fig) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so it is not shown a second time)."""
    import io

    import matplotlib.pyplot as plt

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

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return png_bytes(np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3]))  # (H, W, 3)


def grid_png(images, *, nrow: int, scale: int = 3) -> bytes:
    """A grid of images (N, C, H, W) in [0, 1] as PNG bytes, `nrow` to a row (`plot.image_grid`),
    enlarged `scale`× with nearest neighbours so that each pixel stays a sharp square."""
    from genimg_edu.plot import image_grid

    grid = (image_grid(images, nrow=nrow) * 255).round().astype(np.uint8)
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return png_bytes(grid)


def show_static_png(png: bytes, caption: str) -> None:
    """The static preview: display the picture `png`, then one italic line — "Static preview —
    `caption`." — saying how to get the controls. Nothing else, so stored notebook outputs replay."""
    from IPython.display import Image, Markdown, display

    display(Image(data=png))
    display(Markdown(f"*Static preview — {caption}. Run this notebook in JupyterLab to use the controls.*"))


def digit_buttons(value: int):
    """Toggle buttons 0–9 described "digit", for the controls over a class-conditional model."""
    import ipywidgets as W

    return W.ToggleButtons(options=list(range(10)), value=value, description="digit", style={"button_width": "32px"})
