"""Notebook 07's controls over a flow model: the guidance explorer and the denoising slider."""
from __future__ import annotations

import numpy as np
import torch

from genimg_edu import validate
from genimg_edu.diffusion import sample_flow
from genimg_edu.runtime import is_live, noise
from genimg_edu.widgets.common import check_numbers, check_sampler, digit_buttons, grid_png, show_static_png


def _label(model, label) -> int:
    """A digit the conditional flow `model` knows: a whole number in [0, n_classes)."""
    label = validate.count("label", label)
    n_classes = getattr(model, "n_classes", None)
    if not n_classes:
        raise ValueError(f"label: the model is unconditional (n_classes={n_classes!r}); it takes no label")
    if label >= n_classes:
        raise ValueError(f"label must be one of the model's labels 0 to {n_classes - 1}, got {label}")
    return label


def guidance_explorer(model, *, n: int = 8, seed: int = 0, label: int = 3, scale: float = 1.5, steps: int = 10,
                      preview_scales=(0.0, 1.0, 1.5, 4.0)):
    """Toggle buttons 0–9 and a guidance-scale slider → `n` samples of a flow model (the same noise each time).

    Classifier-free guidance ``v_∅ + w·(v_y − v_∅)``: w = 0 ignores the label, w = 1 is the plain
    conditional model, w > 1 pushes further from "any digit" towards "this digit". The static preview
    shows one row per scale in `preview_scales` for `label`. Every picture is the model's own `sample`.
    """
    check_sampler("model", model)
    n = validate.count("n", n, minimum=1)
    seed = validate.count("seed", seed)
    label = _label(model, label)
    validate.number("scale", scale)
    steps = validate.count("steps", steps, minimum=1)
    check_numbers("preview_scales", preview_scales)

    def images(label: int, w: float) -> torch.Tensor:
        labels = torch.full((n,), label, dtype=torch.long)
        return model.sample(n, labels=labels, guidance=w, steps=steps,
                            generator=torch.Generator().manual_seed(seed)).cpu()

    if not is_live():
        rows = torch.cat([images(label, w) for w in preview_scales])
        show_static_png(grid_png(rows, nrow=n), f"digit {label}, one row per guidance scale "
                                                + ", ".join(f"{w:g}" for w in preview_scales) + " (top to bottom)")
        return None
    import ipywidgets as W

    buttons = digit_buttons(label)
    slider = W.FloatSlider(scale, min=0.0, max=6.0, step=0.5, description="guidance", continuous_update=False)
    picture = W.Image(value=grid_png(images(label, scale), nrow=n), format="png")

    def update(_=None):
        picture.value = grid_png(images(buttons.value, slider.value), nrow=n)

    buttons.observe(update, names="value")
    slider.observe(update, names="value")
    return W.VBox([W.HBox([buttons, slider]), picture])


def flow_trace(model, n: int, *, labels=None, guidance: float = 1.5, steps: int = 10, generator=None) -> list:
    """The path of ``model.sample(n, labels=…, guidance=…, steps=…, method="euler", generator=…)``:
    `diffusion.sample_flow`'s trace, ``(t, x_t, x̂_0)`` before each step and ``(0, x_0, x_0)`` at the end,
    images in [-1, 1] on the model's device. The last x_0, clamped and mapped to [0, 1], is that sample.
    """
    # `sample` returns only the end of the path, and the slider needs every step, so this calls
    # `sample_flow` itself — with what `sample` gives it: the labels checked (`validate.labels`) and moved to
    # the model's device, the noise drawn on the CPU from `generator` and then moved, and the model's
    # own guided velocity `model.guided`. tests/test_widget_controls.py checks that the path ends on
    # `sample`'s picture; should `sample` ever take a `trace`, this becomes that one call.
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "guided") or not hasattr(model, "data_shape"):
        raise TypeError(f"model must be a flow network (TinyUNet, VelocityMLP), got {validate._type(model)}")
    n = validate.count("n", n)
    validate.number("guidance", guidance)
    steps = validate.count("steps", steps, minimum=1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {validate._type(generator)}")
    dev = next(model.parameters()).device
    if labels is not None:
        labels = validate.labels("labels", labels, n=n, n_classes=model.n_classes).to(dev)
    trace = []
    with torch.no_grad():
        x1 = noise(n, *model.data_shape, generator=generator, device=dev)
        sample_flow(lambda x, t: model.guided(x, t, labels, guidance=guidance), x1, steps=steps,
                    method="euler", generator=generator, trace=trace)
    return trace


def denoising_slider(model, *, n: int = 4, label: int | None = None, seed: int = 0, steps: int = 20,
                     guidance: float = 2.0, preview: int = 6):
    """A slider t from 1 (noise) to 0 (image) → x_t beside the network's current guess of x̂_0 = x_t − t·v.

    The trajectory is computed once (`flow_trace`: the path of the model's `sample` with Euler steps);
    the slider walks along it. The static preview shows `preview` moments of the path: x_t above, x̂_0 below.
    """
    n = validate.count("n", n, minimum=1)
    label = None if label is None else _label(model, label)
    seed = validate.count("seed", seed)
    preview = validate.count("preview", preview, minimum=1)
    labels = None if label is None else torch.full((n,), label, dtype=torch.long)
    trace = flow_trace(model, n, labels=labels, guidance=guidance, steps=steps,
                       generator=torch.Generator().manual_seed(seed))
    pictures = [((x.clamp(-1, 1) + 1) / 2, (x0.clamp(-1, 1) + 1) / 2) for _, x, x0 in trace]  # [0, 1]
    times = [t for t, _, _ in trace]

    def render(i: int) -> bytes:
        return grid_png(torch.cat(pictures[i]), nrow=n, scale=4)

    if not is_live():
        picks = np.linspace(0, len(trace) - 1, preview).round().astype(int)
        rows = [torch.stack([pictures[i][k][j] for i in picks]) for j in range(n) for k in (0, 1)]  # x_t, x̂_0
        show_static_png(grid_png(torch.cat(rows), nrow=preview, scale=2),
                        "left to right t = " + ", ".join(f"{times[i]:.2f}" for i in picks)
                        + "; for each sample x_t above and the network's guess x̂_0 below")
        return None
    import ipywidgets as W

    slider = W.SelectionSlider(options=[(f"{t:.2f}", i) for i, t in enumerate(times)], value=0, description="t",
                               continuous_update=True)
    picture = W.Image(value=render(0), format="png")
    slider.observe(lambda change: setattr(picture, "value", render(change["new"])), names="value")
    caption = W.HTML("top row: x<sub>t</sub> &nbsp; bottom row: the network's guess x̂<sub>0</sub> = x<sub>t</sub> − t·v")
    return W.VBox([slider, caption, picture])
