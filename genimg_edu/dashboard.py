"""The training dashboard: loss curves and a sample grid, redrawn in place while `fit` runs.

`plot_history` draws the same picture once, from a finished history — the
static version for nbval, scripts and the README.
"""
from __future__ import annotations

import time

import numpy as np


def smooth(values, window: int = 25) -> np.ndarray:
    """Moving average over `window` steps (shorter at the start), so a noisy GAN loss shows its trend."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    i = np.arange(1, len(v) + 1)
    lo = np.maximum(0, i - window)
    return (c[i] - c[lo]) / (i - lo)


def plot_history(history: dict, images=None, *, title: str | None = None, fig=None):
    """Loss curves of a `fit` history (raw, faint; smoothed, bold) and, if given, a grid of images (N, C, H, W)."""
    import matplotlib.pyplot as plt

    from genimg_edu.plot import image_grid

    names = [k for k, v in history.items() if isinstance(v, list) and k != "eval" and v]
    if not names:
        raise ValueError("the history holds no losses to plot (was fit run for at least one step?)")
    fig = fig or plt.figure(figsize=(9 if images is not None else 6, 3.2))
    fig.clear()
    ax = fig.add_subplot(1, 2 if images is not None else 1, 1)
    for name in names:
        steps = np.arange(1, len(history[name]) + 1)
        line, = ax.plot(steps, history[name], alpha=0.25, lw=0.8)
        ax.plot(steps, smooth(history[name]), color=line.get_color(), lw=1.8, label=name)
    ax.set(xlabel="step", ylabel="loss", title=title or f"training, {history.get('steps', len(steps))} steps")
    ax.legend(loc="upper right", fontsize=8)
    if images is not None:
        ax2 = fig.add_subplot(1, 2, 2)
        grid = image_grid(images.detach().cpu(), nrow=int(np.ceil(np.sqrt(len(images)))))  # (H', W', C)
        ax2.imshow(grid.squeeze(2) if grid.shape[2] == 1 else grid, cmap="gray", vmin=0, vmax=1)
        ax2.set(title="samples (fixed noise)", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


class Dashboard:
    """An `ipywidgets.Image` showing `plot_history`, redrawn at most every `min_interval` seconds.

    Drawing a matplotlib figure takes ~100 ms; throttling keeps the dashboard
    from slowing training down (at most ~10 % at the default interval).
    """

    def __init__(self, *, min_interval: float = 1.0):
        import ipywidgets as W
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.min_interval, self.last = min_interval, 0.0
        self.image = W.Image(format="png", layout=W.Layout(max_width="900px"))
        self.fig = plt.figure(figsize=(9, 3.2))
        plt.close(self.fig)  # drawn into the widget only, never shown by the inline backend
        display(W.VBox([W.HTML("<b>Training dashboard</b> (updates while fit runs)"), self.image]))

    def update(self, history: dict, preview=None, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last < self.min_interval:
            return
        import io

        plot_history(history, preview() if preview else None, fig=self.fig)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        self.image.value = buf.getvalue()
        self.last = time.perf_counter()


class LiveReporter:
    """What `fit` shows in a live notebook: a tqdm progress bar with the latest losses, and the `Dashboard`.

    `use_dashboard` makes it `fit`'s default in a notebook a browser shows; pass
    ``reporter=LiveReporter(dashboard=False)`` for the bar alone.
    """

    def __init__(self, *, dashboard: bool = True, min_interval: float = 1.0):
        self.show_board, self.min_interval = dashboard, min_interval
        self.bar = self.board = None

    def start(self, history: dict, max_steps: int | None, step) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=max_steps, initial=history["steps"], unit="step")
        self.board = Dashboard(min_interval=self.min_interval) if self.show_board else None

    def update(self, history: dict, step, losses: dict[str, float]) -> None:
        self.bar.update(1)
        self.bar.set_postfix({name: f"{v:.3f}" for name, v in losses.items()}, refresh=False)
        if self.board is not None:
            self.board.update(history, step.preview)

    def line(self, text: str) -> None:
        self.bar.write(text)

    def close(self, history: dict, step) -> None:
        self.bar.close()
        if self.board is not None:
            self.board.update(history, step.preview, force=True)


def use_dashboard() -> None:
    """From now on, in this kernel, `fit` shows the live dashboard (loss curves, samples, a progress bar)
    when a browser can show it, and log lines otherwise (a terminal, nbval, a test) — its
    default reporter, passed down to `runtime` so that the training loop never imports the user interface."""
    from genimg_edu import runtime

    runtime.set_default_reporter(lambda: LiveReporter() if runtime.is_live() and runtime.in_notebook() else None)
