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

import cv2
import numpy as np
import torch

from genimg_edu import preprocess as pp
from genimg_edu.runtime import is_live

INTERPOLATIONS = ("auto", *pp.INTERPOLATIONS)  # the dropdown offers what resize accepts


def png_bytes(img: np.ndarray) -> bytes:
    """Encode an RGB (or grey) uint8 image as PNG bytes, for `ipywidgets.Image`."""
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError(f"could not encode an image of shape {img.shape} and dtype {img.dtype} as PNG")
    return buf.tobytes()


def preprocess_settings(img: np.ndarray, *, size: int = 256, angle: float = 0.0, interpolation: str = "auto",
                        antialias: bool = True, flip: str = "none", brightness: float = 1.0) -> np.ndarray:
    """The playground's pipeline: resize (keep aspect, shorter side = `size`) → rotate → flip → brightness."""
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
        _show_static_png(png_bytes(out), ", ".join(f"{k}={v}" for k, v in settings.items())
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


def _grid_png(images, *, nrow: int, scale: int = 3) -> bytes:
    """A grid of images (N, C, H, W) in [0, 1] as PNG bytes, enlarged `scale`× with nearest neighbours."""
    from genimg_edu.plot import image_grid

    grid = (image_grid(images, nrow=nrow) * 255).round().astype(np.uint8)
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return png_bytes(grid)


def _show_static_png(png: bytes, caption: str):
    from IPython.display import Image, Markdown, display

    display(Image(data=png))
    display(Markdown(f"*Static preview — {caption}. Run this notebook in JupyterLab to use the controls.*"))


def toy_gan_figure(step, *, std: float = 0.1, title: str | None = None, ax=None):
    """Real points, generated points and D's belief σ(D(x)) as a heat map — one picture of a toy GAN's game.

    `step` is a `GANStep` on the 2-D ring (`data.toy`) whose Gaussians have standard deviation `std`.
    Draws into `ax` when given (no colour bar), else into a new figure; returns the figure.
    """
    import matplotlib.pyplot as plt

    from genimg_edu.data.toy import ring_centres, ring_of_gaussians
    from genimg_edu.metrics import mode_coverage

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

    toy = make_step()
    if not is_live():
        train_toy(toy, data, steps_per_click)
        _show_static_png(figure_png(toy_gan_figure(toy)), f"after {toy.steps} steps")
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
        # One thread: these 64-unit layers gain ~10 % from a second one, but on a busy CPU two threads
        # waiting on each other turned a 160 ms click into seconds (benchmarks/widget_latency.py).
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            train_toy(state["toy"], data, steps_per_click)
            redraw()
        finally:
            torch.set_num_threads(before)

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
    def render(label: int) -> bytes:
        labels = torch.full((n,), label, dtype=torch.long)
        return _grid_png(model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed)).cpu(), nrow=8)

    if not is_live():
        _show_static_png(render(default), f"class {default}")
        return None
    import ipywidgets as W

    buttons = W.ToggleButtons(options=list(range(10)), value=default, description="digit",
                              style={"button_width": "32px"})
    picture = W.Image(value=render(default), format="png")
    buttons.observe(lambda change: setattr(picture, "value", render(change["new"])), names="value")
    return W.VBox([buttons, picture])


def latent_explorer(decode, z0, *, names=None, lim: float = 3.0, scale: int = 6):
    """Sliders over latent dimensions → the decoded image. ``decode(z (1, D)) → (1, C, H, W)`` in [0, 1]."""
    z0 = torch.as_tensor(z0, dtype=torch.float32).flatten()
    names = names or [f"z[{i}]" for i in range(len(z0))]

    def render(values) -> bytes:
        with torch.no_grad():
            return _grid_png(decode(torch.tensor([values], dtype=torch.float32)).cpu(), nrow=1, scale=scale)

    if not is_live():
        _show_static_png(render(z0.tolist()), "z = " + ", ".join(f"{v:.2f}" for v in z0.tolist()))
        return None
    import ipywidgets as W

    sliders = [W.FloatSlider(float(v), min=-lim, max=lim, step=0.05, description=name, continuous_update=True)
               for v, name in zip(z0.tolist(), names)]
    picture = W.Image(value=render(z0.tolist()), format="png")
    for s in sliders:
        s.observe(lambda change: setattr(picture, "value", render([s.value for s in sliders])), names="value")
    return W.HBox([W.VBox(sliders), picture])


def interpolation_slider(decode, z_a, z_b, *, steps: int = 9, scale: int = 6):
    """A slider t ∈ [0, 1] → decode((1 − t)·z_a + t·z_b), beside the whole path as a strip."""
    z_a, z_b = (torch.as_tensor(z, dtype=torch.float32).reshape(1, -1) for z in (z_a, z_b))

    def render(t: float) -> bytes:
        with torch.no_grad():
            return _grid_png(decode((1 - t) * z_a + t * z_b).cpu(), nrow=1, scale=scale)

    with torch.no_grad():
        ts = torch.linspace(0, 1, steps).reshape(-1, 1)
        strip = _grid_png(decode((1 - ts) * z_a + ts * z_b).cpu(), nrow=steps, scale=2)
    if not is_live():
        _show_static_png(strip, f"the path from z_a to z_b in {steps} steps")
        return None
    import ipywidgets as W

    slider = W.FloatSlider(0.0, min=0, max=1, step=0.02, description="t", continuous_update=True)
    picture = W.Image(value=render(0.0), format="png")
    slider.observe(lambda change: setattr(picture, "value", render(change["new"])), names="value")
    return W.VBox([W.Image(value=strip, format="png"), W.HBox([slider, picture])])



def guidance_explorer(model, *, n: int = 8, seed: int = 0, label: int = 3, scale: float = 1.5, steps: int = 10,
                      preview_scales=(0.0, 1.0, 1.5, 4.0)):
    """Toggle buttons 0–9 and a guidance-scale slider → `n` samples of a flow model (the same noise each time).

    Classifier-free guidance ``v_∅ + w·(v_y − v_∅)``: w = 0 ignores the label, w = 1 is the plain
    conditional model, w > 1 pushes further from "any digit" towards "this digit". The static preview
    shows one row per scale in `preview_scales` for `label`.
    """
    def images(label: int, w: float) -> torch.Tensor:
        labels = torch.full((n,), label, dtype=torch.long)
        return model.sample(n, labels=labels, guidance=w, steps=steps,
                            generator=torch.Generator().manual_seed(seed)).cpu()

    if not is_live():
        rows = torch.cat([images(label, w) for w in preview_scales])
        _show_static_png(_grid_png(rows, nrow=n), f"digit {label}, one row per guidance scale "
                                                  + ", ".join(f"{w:g}" for w in preview_scales) + " (top to bottom)")
        return None
    import ipywidgets as W

    buttons = W.ToggleButtons(options=list(range(10)), value=label, description="digit",
                              style={"button_width": "32px"})
    slider = W.FloatSlider(scale, min=0.0, max=6.0, step=0.5, description="guidance", continuous_update=False)
    picture = W.Image(value=_grid_png(images(label, scale), nrow=n), format="png")

    def update(_=None):
        picture.value = _grid_png(images(buttons.value, slider.value), nrow=n)

    buttons.observe(update, names="value")
    slider.observe(update, names="value")
    return W.VBox([W.HBox([buttons, slider]), picture])


def denoising_slider(model, *, n: int = 4, label: int | None = None, seed: int = 0, steps: int = 20,
                     guidance: float = 2.0, preview: int = 6):
    """A slider t from 1 (noise) to 0 (image) → x_t beside the network's current guess of x̂_0 = x_t − t·v.

    The trajectory is computed once (`diffusion.sample_flow` with Euler steps and a trace); the slider
    walks along it. The static preview shows `preview` moments of the path: x_t above, x̂_0 below.
    """
    from genimg_edu.diffusion import sample_flow
    from genimg_edu.runtime import noise

    labels = None if label is None else torch.full((n,), label, dtype=torch.long)
    trace = []
    with torch.no_grad():
        x1 = noise(n, *model.data_shape, generator=torch.Generator().manual_seed(seed))
        sample_flow(lambda x, t: model.guided(x, t, labels, guidance=guidance), x1, steps=steps,
                    method="euler", trace=trace)
    pictures = [((x.clamp(-1, 1) + 1) / 2, (x0.clamp(-1, 1) + 1) / 2) for _, x, x0 in trace]  # [0, 1]
    times = [t for t, _, _ in trace]

    def render(i: int) -> bytes:
        return _grid_png(torch.cat(pictures[i]), nrow=n, scale=4)

    if not is_live():
        picks = np.linspace(0, len(trace) - 1, preview).round().astype(int)
        rows = [torch.stack([pictures[i][k][j] for i in picks]) for j in range(n) for k in (0, 1)]  # x_t, x̂_0
        _show_static_png(_grid_png(torch.cat(rows), nrow=preview, scale=2),
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


def watermark_explorer(images, bits, *, strength: float = 0.04, key: int = 0, preview_strengths=(0.01, 0.04, 0.1)):
    """A strength slider → the images watermarked (`forensics.embed`), the change ×3 below them, and how
    well the bits are read back clean and after each of `forensics.ATTACKS`, with the PSNR it costs.
    The static preview shows one row pair per strength in `preview_strengths`."""
    from genimg_edu import forensics

    images = torch.as_tensor(images)
    bits = torch.as_tensor(bits)

    def view(s: float) -> tuple[torch.Tensor, str]:
        marked = forensics.embed(images, bits, strength=s, key=key)
        psnr = 10 * torch.log10(1 / ((marked - images) ** 2).mean()).item()
        read = {"clean": forensics.bit_accuracy(marked, bits, key=key),
                **{name: forensics.bit_accuracy(attack(marked), bits, key=key)
                   for name, attack in forensics.ATTACKS.items()}}
        text = f"strength {s:g}: PSNR {psnr:.1f} dB · bits read back: " + ", ".join(
            f"{name} {acc:.0%}" for name, acc in read.items())
        return torch.cat([marked, (0.5 + 3 * (marked - images)).clamp(0, 1)]), text

    if not is_live():
        rows, lines = zip(*(view(s) for s in preview_strengths))
        _show_static_png(_grid_png(torch.cat(rows), nrow=len(images)),
                         "for each strength, the marked images above the change ×3 (grey = no change): "
                         + "; ".join(lines))
        return None
    import ipywidgets as W

    slider = W.FloatSlider(strength, min=0.0, max=0.2, step=0.01, description="strength", continuous_update=False)
    rows, text = view(strength)
    picture = W.Image(value=_grid_png(rows, nrow=len(images)), format="png")
    readout = W.HTML(text)

    def update(change):
        rows, text = view(change["new"])
        picture.value, readout.value = _grid_png(rows, nrow=len(images)), text

    slider.observe(update, names="value")
    return W.VBox([slider, picture, readout])
