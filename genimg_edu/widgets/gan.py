"""Notebook 03's controls: the toy GAN's picture and stepper, the cGAN's class picker, the latent path."""
from __future__ import annotations

import torch

from genimg_edu import validate
from genimg_edu.runtime import is_live, one_thread
from genimg_edu.widgets.common import (canvas_png, check_function, check_sampler, check_vector, digit_buttons,
                                       figure_png, grid_png, show_static_png)


def toy_gan_figure(step, *, std: float = 0.1, title: str | None = None, ax=None):
    """Real points, generated points and D's belief σ(D(x)) as a heat map — one picture of a toy GAN's game.

    `step` is a `GANStep` on the 2-D ring (`data.toy`) whose Gaussians have standard deviation `std`.
    Draws into `ax` when given (no colour bar), else into a new figure; returns the figure.
    """
    import matplotlib.pyplot as plt

    from genimg_edu.data.toy import ring_centres, ring_of_gaussians
    from genimg_edu.metrics import mode_coverage

    if not all(hasattr(step, part) for part in ("G", "D", "steps")):
        raise TypeError(f"step must be a GANStep (with G, D and steps), got {validate._type(step)}")
    validate.number("std", std, low=0, low_inclusive=False)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {validate._type(title)}")
    if ax is not None and not hasattr(ax, "imshow"):
        raise TypeError(f"ax must be matplotlib axes or None, got {validate._type(ax)}")
    fig = ax.figure if ax is not None else plt.subplots(figsize=(4.2, 4.2))[0]
    new_figure = ax is None
    ax = ax if ax is not None else fig.axes[0]
    axis = torch.linspace(-3, 3, 100)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)  # (100², 2)
    with torch.no_grad():
        belief = torch.sigmoid(step.D(grid.to(step.device))).reshape(100, 100).cpu()
    im = ax.imshow(belief.numpy(), extent=(-3, 3, -3, 3), origin="lower", cmap="cividis", vmin=0, vmax=1)  # colour-blind safe
    real = ring_of_gaussians(500, std=std, generator=torch.Generator().manual_seed(0))
    fake = step.G.sample(2000, generator=torch.Generator().manual_seed(1)).cpu()
    ax.scatter(real[:, 0], real[:, 1], s=3, c="black", label="data")
    ax.scatter(fake[:500, 0], fake[:500, 1], s=6, c="#D55E00", marker="^", label="G(z)")  # Okabe–Ito vermillion, and a shape
    modes, quality = mode_coverage(fake, ring_centres(), std=std)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), xlabel="$x_1$", ylabel="$x_2$",
           title=f"{title + chr(10) if title else ''}step {step.steps}: {modes}/8 modes, {quality:.0%} good")
    ax.legend(loc="upper right", fontsize=7)
    if new_figure:
        fig.colorbar(im, ax=ax, fraction=0.046, label="D(x) = P(real)")
    return fig


def gan_toy_stepper(make_step, data: torch.Tensor, *, steps_per_click: int = 50):
    """GAN Lab in Jupyter: Step / Play / Reset buttons over a toy `GANStep` made by ``make_step()``,
    trained by `fit` on `data` (points (N, 2) of the ring).

    Each step trains D once and G once; the picture shows the data (black),
    the generator's samples (vermillion triangles) and the discriminator's heat map.
    """
    from genimg_edu.recipes import train_toy

    check_function("make_step", make_step)
    if not isinstance(data, torch.Tensor) or not data.is_floating_point() or data.dim() != 2 or data.shape[1] != 2:
        got = tuple(data.shape) if isinstance(data, torch.Tensor) else validate._type(data)
        raise ValueError(f"data must be a float tensor of 2-D points (N, 2), got {got}")
    steps_per_click = validate.count("steps_per_click", steps_per_click, minimum=1)
    toy = make_step()
    if not is_live():
        train_toy(toy, data, steps_per_click)
        show_static_png(figure_png(toy_gan_figure(toy)), f"after {toy.steps} steps")
        return None

    import ipywidgets as W
    from matplotlib.figure import Figure

    picture = W.Image(format="png", layout=W.Layout(width="420px"))
    step_button = W.Button(description=f"Step ×{steps_per_click}", icon="step-forward",
                           tooltip=f"train D and G for {steps_per_click} steps")
    reset_button = W.Button(description="Reset", icon="undo", tooltip="start again from an untrained G and D")
    play = W.Play(value=0, min=0, max=10_000, interval=400, description="play",  # each tick = one click of Step
                  tooltip=f"press Step ×{steps_per_click} every 0.4 s")
    state = {"toy": toy}
    # One figure, redrawn in place: rebuilding it and cropping it tight on every click cost
    # ~130 ms of the 200 ms an update may take (benchmarks/widget_latency.py).
    fig = Figure(figsize=(4.2, 4.2), dpi=100)  # 420 px: drawn 1:1 in the 420 px wide picture
    ax = fig.subplots()
    toy_gan_figure(toy, ax=ax)
    fig.colorbar(ax.images[0], ax=ax, fraction=0.046, label="D(x) = P(real)")
    fig.tight_layout()  # once: the axes keep their place while the title's numbers change

    def redraw():
        ax.clear()
        toy_gan_figure(state["toy"], ax=ax)
        picture.value = canvas_png(fig)

    def on_step(_=None):
        with one_thread():  # tiny layers: see runtime.one_thread (the heat map's 10,000 points through D too)
            train_toy(state["toy"], data, steps_per_click)
            redraw()

    def on_reset(_):
        play.playing = False
        state["toy"] = make_step()
        redraw()

    step_button.on_click(on_step)
    reset_button.on_click(on_reset)
    play.observe(lambda change: on_step(), names="value")
    redraw()
    return W.VBox([W.HBox([step_button, play, reset_button]), picture])


def class_picker(model, *, n: int = 16, seed: int = 0, default: int = 0):
    """Toggle buttons 0–9 → `n` samples of the chosen class from a class-conditional generator."""
    check_sampler("model", model)
    n = validate.count("n", n, minimum=1)
    seed = validate.count("seed", seed)
    default = validate.count("default", default)
    if default >= (getattr(model, "n_classes", None) or 10):
        raise ValueError(f"default must be a class from 0 to {(getattr(model, 'n_classes', None) or 10) - 1}, "
                         f"got {default}")

    def render(label: int) -> bytes:
        labels = torch.full((n,), label, dtype=torch.long)
        return grid_png(model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed)).cpu(), nrow=8)

    if not is_live():
        show_static_png(render(default), f"class {default}")
        return None
    import ipywidgets as W

    buttons = digit_buttons(default)
    picture = W.Image(value=render(default), format="png")
    buttons.observe(lambda change: setattr(picture, "value", render(change["new"])), names="value")
    return W.VBox([buttons, picture])


def interpolation_slider(decode, z_a, z_b, *, steps: int = 9, scale: int = 6):
    """A slider t ∈ [0, 1] → decode((1 − t)·z_a + t·z_b), beside the whole path as a strip."""
    check_function("decode", decode)
    z_a, z_b = check_vector("z_a", z_a)[None], check_vector("z_b", z_b)[None]  # (1, D)
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_b must have as many numbers as z_a ({z_a.shape[1]}), got {z_b.shape[1]}")
    steps = validate.count("steps", steps, minimum=1)
    scale = validate.count("scale", scale, minimum=1)

    def render(t: float) -> bytes:
        with torch.no_grad():
            return grid_png(decode((1 - t) * z_a + t * z_b).cpu(), nrow=1, scale=scale)

    with torch.no_grad():
        ts = torch.linspace(0, 1, steps).reshape(-1, 1)
        strip = grid_png(decode((1 - ts) * z_a + ts * z_b).cpu(), nrow=steps, scale=2)
    if not is_live():
        show_static_png(strip, f"the path from z_a to z_b in {steps} steps")
        return None
    import ipywidgets as W

    slider = W.FloatSlider(0.0, min=0, max=1, step=0.02, description="t", continuous_update=True)
    picture = W.Image(value=render(0.0), format="png")
    slider.observe(lambda change: setattr(picture, "value", render(change["new"])), names="value")
    return W.VBox([W.Image(value=strip, format="png"), W.HBox([slider, picture])])
