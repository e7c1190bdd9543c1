"""Pictures for the notebooks: image grids with titles, sized to read on a laptop."""
from __future__ import annotations

import numpy as np
import torch


# Okabe & Ito (2008): eight colours that stay distinct under every common form of colour blindness
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", "-", "--", "-.", ":"]  # a second cue: lines differ in style, not only colour


def use_course_style(*, figure_format: str = "png") -> None:
    """Small, legible figures (and light notebooks): 90 dpi, no top/right spines, titles in bold; lines and
    categories in the Okabe–Ito colours, each line also in its own style; maps in viridis, images in grey.

    ``figure_format="jpeg"`` stores inline figures as JPEG: a notebook full of
    photos stays a few hundred kB instead of megabytes (plots stay crisper as PNG).
    """
    import matplotlib as mpl
    from cycler import cycler

    if figure_format not in ("png", "jpeg"):
        raise ValueError(f"figure_format must be 'png' or 'jpeg', got {figure_format!r}")
    mpl.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "axes.spines.top": False,
                         "axes.spines.right": False, "axes.titleweight": "bold", "image.cmap": "gray",
                         "axes.prop_cycle": cycler(color=OKABE_ITO) + cycler(linestyle=LINESTYLES)})
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # not in a Jupyter kernel
        return
    set_matplotlib_formats(figure_format, **({"pil_kwargs": {"quality": 85}} if figure_format == "jpeg" else {}))


def image_grid(images, *, nrow: int = 8, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile images (N, C, H, W) in [0, 1] (tensor or array) into one (H', W', C) float array.

    `nrow` images per row; a `pad`-pixel border of `pad_value` between them.
    """
    x = images.detach().float().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if x.ndim != 4:
        raise ValueError(f"image_grid expects images of shape (N, C, H, W), got {x.shape}")
    n, c, h, w = x.shape
    ncol = min(nrow, n)
    rows = -(-n // ncol)  # ceil
    grid = np.full((c, rows * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, ncol)
        grid[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + k * (w + pad): pad + k * (w + pad) + w] = x[i]
    return np.clip(grid.transpose(1, 2, 0), 0, 1)  # (H', W', C)


def show_images(images, *, nrow: int = 8, title: str | None = None, ax=None, scale: float = 0.9):
    """Show a grid of images (N, C, H, W) in [0, 1]; grey images use a grey colour map. Returns the axes."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, nrow=nrow)
    if ax is None:
        height, width = grid.shape[:2]
        _, ax = plt.subplots(figsize=(scale * width / 30 + 0.5, scale * height / 30 + 0.5))
    ax.imshow(grid[..., 0] if grid.shape[2] == 1 else grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
