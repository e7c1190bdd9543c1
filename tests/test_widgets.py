"""The notebook controls: live/static mode, PNG encoding, the playground's pipeline and its wiring."""
import os

import cv2
import numpy as np
import pytest

from genimg_edu import widgets
from genimg_edu.data.photos import load_photo
from genimg_edu.runtime import is_live
from genimg_edu.widgets import png_bytes, preprocess_settings, preprocessing_playground


@pytest.fixture(scope="module")
def china():
    return load_photo("china")  # (427, 640, 3)


def _decode_rgb(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert bgr is not None, "not a decodable image"
    return bgr if bgr.ndim == 2 else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


# --- is_live --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, live", [("live", True), ("LIVE", True), ("static", False)])
def test_is_live_follows_genimg_widgets(monkeypatch, value, live):
    monkeypatch.setenv("GENIMG_WIDGETS", value)
    assert is_live() is live


def test_is_live_auto_is_static_under_pytest(monkeypatch):
    monkeypatch.setenv("GENIMG_WIDGETS", "auto")
    assert "PYTEST_CURRENT_TEST" in os.environ
    assert is_live() is False
    monkeypatch.delenv("GENIMG_WIDGETS")  # unset means auto
    assert is_live() is False


def test_is_live_auto_is_live_outside_pytest(monkeypatch):
    monkeypatch.setenv("GENIMG_WIDGETS", "auto")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert is_live() is True


def test_is_live_rejects_unknown_modes(monkeypatch):
    monkeypatch.setenv("GENIMG_WIDGETS", "interactive")
    with pytest.raises(ValueError, match="GENIMG_WIDGETS"):
        is_live()


# --- png_bytes ------------------------------------------------------------------------------------

def test_png_bytes_keeps_rgb_order():
    red = np.zeros((8, 12, 3), np.uint8)
    red[..., 0] = 255
    data = png_bytes(red)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(_decode_rgb(data), red)


def test_png_bytes_round_trips_colour_and_grey():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_decode_rgb(png_bytes(rgb)), rgb)
    grey = rng.integers(0, 256, size=(9, 5), dtype=np.uint8)
    np.testing.assert_array_equal(_decode_rgb(png_bytes(grey)), grey)


# --- preprocess_settings --------------------------------------------------------------------------

def test_settings_size_sets_the_shorter_side(china):
    out = preprocess_settings(china, size=64)
    assert out.dtype == np.uint8 and out.shape == (64, 96, 3)  # 640 * 64 / 427 = 95.9
    assert preprocess_settings(china, size=64, angle=90).shape == (96, 64, 3)  # a quarter turn swaps the sides


def test_settings_flips_are_mirror_images(china):
    plain = preprocess_settings(china, size=64)
    np.testing.assert_array_equal(preprocess_settings(china, size=64, flip="horizontal"), np.flip(plain, axis=1))
    np.testing.assert_array_equal(preprocess_settings(china, size=64, flip="vertical"), np.flip(plain, axis=0))


def test_settings_brightness_scales_pixels(china):
    plain = preprocess_settings(china, size=32)
    dark = preprocess_settings(china, size=32, brightness=0.5)
    np.testing.assert_allclose(dark.astype(float), plain * 0.5, atol=0.51)


def test_settings_rejects_a_bad_flip(china):
    with pytest.raises(ValueError, match="flip"):
        preprocess_settings(china, size=32, flip="diagonal")


# --- preprocessing_playground ---------------------------------------------------------------------

def test_playground_static_displays_the_default_picture(monkeypatch, china):
    import IPython.display
    from IPython.display import Image, Markdown

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, *a, **k: shown.append(obj))
    monkeypatch.setenv("GENIMG_WIDGETS", "static")
    assert preprocessing_playground(china, size=64, flip="horizontal") is None
    assert [type(o) for o in shown] == [Image, Markdown]
    expected = preprocess_settings(china, size=64, flip="horizontal")
    np.testing.assert_array_equal(_decode_rgb(shown[0].data), expected)
    assert "Static preview" in shown[1].data and "96×64" in shown[1].data


def test_playground_rejects_unknown_settings(monkeypatch, china):
    calls = []
    monkeypatch.setattr(widgets.preprocessing, "show_static_png", lambda *a: calls.append(a))
    monkeypatch.setenv("GENIMG_WIDGETS", "static")
    with pytest.raises(ValueError, match="sise"):
        preprocessing_playground(china, sise=64)
    assert calls == [], "nothing should be shown for a bad call"


def test_playground_live_controls_update_the_picture(monkeypatch, china):
    import ipywidgets as W

    monkeypatch.setenv("GENIMG_WIDGETS", "live")
    box = preprocessing_playground(china, size=64)
    assert isinstance(box, W.HBox)
    parts = list(_walk(box))
    (picture,) = [w for w in parts if isinstance(w, W.Image)]
    (size,) = [w for w in parts if isinstance(w, W.IntSlider) and "size" in w.description]
    (flip,) = [w for w in parts if isinstance(w, W.ToggleButtons) and w.description == "flip"]
    assert size.value == 64
    first = _decode_rgb(picture.value)
    np.testing.assert_array_equal(first, preprocess_settings(china, size=64))

    before = picture.value
    size.value = 128
    assert picture.value != before, "moving the size slider should redraw the picture"
    assert _decode_rgb(picture.value).shape == (128, 192, 3)

    flip.value = "horizontal"
    np.testing.assert_array_equal(_decode_rgb(picture.value), np.flip(preprocess_settings(china, size=128), axis=1))
