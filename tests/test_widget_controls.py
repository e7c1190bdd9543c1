"""Every live control of the notebooks: labelled, and its picture follows it (no browser; see tests/browser/)."""
import ipywidgets as W
import numpy as np
import pytest
import torch

from genimg_edu import recipes, widgets
from genimg_edu.data import load_dataset, load_photo
from genimg_edu.data.toy import ring_of_gaussians
from genimg_edu.models import TinyUNet

DIGITS = load_dataset("mnist", "test")[0][:2]
RING = ring_of_gaussians(512, std=0.1, generator=torch.Generator().manual_seed(0))


class TinyDecoder(torch.nn.Module):
    """A stand-in generator: z (B, 2) → (B, 1, 8, 8) in [0, 1], different for different z."""

    def forward(self, z):
        grid = torch.linspace(-1, 1, 8)
        return torch.sigmoid(3 * (z[:, :1, None, None] * grid[:, None] + z[:, 1:2, None, None] * grid))  # (B, 1, 8, 8)

    def sample(self, n, *, labels, generator):
        return self(torch.randn(n, 2, generator=generator) + labels[:, None].float())


def tiny_flow():
    """A small random U-Net whose output is not the calm zero start, so its pictures differ with the settings."""
    torch.manual_seed(0)
    net = TinyUNet(width=8, emb_dim=16)
    torch.nn.init.normal_(net.out[-1].weight, std=0.3)
    return net.eval()


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


@pytest.fixture
def live(monkeypatch):
    monkeypatch.setenv("GENIMG_WIDGETS", "live")


@pytest.fixture
def every_control(live):
    """name → the layout each widget function returns in live mode."""
    decode = TinyDecoder()
    return {
        "playground": widgets.preprocessing_playground(load_photo("china"), size=64),
        "toy GAN stepper": widgets.gan_toy_stepper(lambda: recipes.toy_gan(hidden=16), RING, steps_per_click=2),
        "class picker": widgets.class_picker(decode, n=4),
        "latent explorer": widgets.latent_explorer(decode, torch.tensor([0.5, -0.5]), names=["z₁", "z₂"]),
        "interpolation": widgets.interpolation_slider(decode, torch.zeros(2), torch.ones(2), steps=3),
        "guidance explorer": widgets.guidance_explorer(tiny_flow(), n=2, steps=2),
        "denoising slider": widgets.denoising_slider(tiny_flow(), n=2, steps=4),
        "watermark explorer": widgets.watermark_explorer(DIGITS, torch.eye(2, 8, dtype=torch.long), strength=0.04),
    }


def test_every_control_is_labelled(every_control):
    """A screen reader (and a learner) can tell each control from its neighbours."""
    for name, box in every_control.items():
        controls = [w for w in _walk(box)
                    if isinstance(w, (W.ValueWidget, W.Button)) and not isinstance(w, (W.Image, W.Label, W.HTML))]
        assert controls, f"{name}: no controls found"
        for c in controls:
            label = c.description or c.tooltip or ""
            assert label.strip(), f"{name}: a {type(c).__name__} has neither a description nor a tooltip"


def test_every_slider_of_the_controls_redraws_its_picture(every_control):
    for name, box in every_control.items():
        picture = [w for w in _walk(box) if isinstance(w, W.Image)][-1]  # the one that follows the controls
        for slider in [w for w in _walk(box) if isinstance(w, (W.IntSlider, W.FloatSlider))]:
            before = picture.value
            slider.value = slider.max if slider.value != slider.max else slider.min
            assert picture.value != before, f"{name}: moving {slider.description!r} left the picture unchanged"
        for slider in [w for w in _walk(box) if isinstance(w, (W.SelectionSlider, W.ToggleButtons))]:
            before = picture.value
            slider.index = len(slider.options) - 1 if slider.index != len(slider.options) - 1 else 0
            assert picture.value != before, f"{name}: moving {slider.description!r} left the picture unchanged"


def test_stepper_step_trains_and_reset_restores_the_first_picture(live):
    box = widgets.gan_toy_stepper(lambda: recipes.toy_gan(hidden=16), RING, steps_per_click=3)
    buttons = {b.description: b for b in _walk(box) if isinstance(b, W.Button)}
    (picture,) = [w for w in _walk(box) if isinstance(w, W.Image)]
    first = bytes(picture.value)
    assert first.startswith(b"\x89PNG")
    buttons["Step ×3"].click()
    assert picture.value != first, "a step should move G and D, and the picture with them"
    buttons["Reset"].click()
    assert bytes(picture.value) == first, "Reset starts the same seeded game again, so the picture is the first one"


def test_stepper_play_ticks_step_the_game(live):
    box = widgets.gan_toy_stepper(lambda: recipes.toy_gan(hidden=16), RING, steps_per_click=2)
    (play,) = [w for w in _walk(box) if isinstance(w, W.Play)]
    (picture,) = [w for w in _walk(box) if isinstance(w, W.Image)]
    before = picture.value
    play.value += 1  # what the front end sends on each tick
    assert picture.value != before


def test_canvas_png_matches_the_figure_size():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.subplots().plot([0, 1], [1, 0])
    data = widgets.canvas_png(fig)
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (50, 100, 3)
    assert img.min() < 128 < img.max(), "the line is drawn on a white background"


def test_watermark_explorer_reports_what_the_picture_shows(live):
    box = widgets.watermark_explorer(DIGITS, torch.eye(2, 8, dtype=torch.long), strength=0.0)
    (slider,) = [w for w in _walk(box) if isinstance(w, W.FloatSlider)]
    (readout,) = [w for w in _walk(box) if isinstance(w, W.HTML)]
    assert readout.value.startswith("strength 0:") and "clean 100%" not in readout.value  # no mark, chance
    slider.value = 0.1
    assert readout.value.startswith("strength 0.1:") and "clean 100%" in readout.value


def test_watermark_explorer_static_preview(monkeypatch):
    monkeypatch.setenv("GENIMG_WIDGETS", "static")
    shown = []
    monkeypatch.setattr(widgets.challenges, "show_static_png", lambda png, caption: shown.append(caption))
    assert widgets.watermark_explorer(DIGITS, torch.eye(2, 8, dtype=torch.long)) is None
    assert shown and "strength 0.01" in shown[0] and "strength 0.1" in shown[0] and "PSNR" in shown[0]


def test_denoising_path_ends_on_the_models_own_sample():
    """The slider's path is `sample`'s: same noise, labels and guidance, so its last x_0 is `sample`'s picture."""
    model = TinyUNet(width=8, emb_dim=16, n_classes=10).eval()
    torch.nn.init.normal_(model.out[-1].weight, std=0.3)
    labels = torch.tensor([3, 7])
    trace = widgets.flow_trace(model, 2, labels=labels, guidance=2.5, steps=3,
                               generator=torch.Generator().manual_seed(4))
    assert [t for t, _, _ in trace] == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])
    expected = model.sample(2, labels=labels, guidance=2.5, steps=3, method="euler",
                            generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close((trace[-1][1].clamp(-1, 1) + 1) / 2, expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match="labels"):
        widgets.denoising_slider(model, n=2, label=10, steps=2)  # 10 is the "no class" token, not a digit
