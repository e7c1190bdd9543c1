"""The notebooks' controls in JupyterLab in headless Chromium: pressed by keyboard, the picture follows.

Each test opens a notebook (its setup cell, its widget cells and what they need), runs it from
the Run menu, uses one control with the keyboard as a learner without a mouse would, and checks
in screenshots that the picture changed where it should and nowhere it should not; then that
neither the page nor the kernel reported an error. Screenshots are kept in the artifacts folder.
"""
from __future__ import annotations

import numpy as np
import pytest

from labdriver import record
from pictures import changed_fraction, decode_png, region

pytestmark = pytest.mark.browser


def shot(output, artifacts, name: str) -> np.ndarray:
    data = output.screenshot(animations="disabled", caret="hide")
    (artifacts / f"{name}.png").write_bytes(data)
    return decode_png(data)


def slider_handle(output, label: str):
    """The keyboard handle of the slider whose description is `label`."""
    slider = output.locator(".widget-slider").filter(has=output.page.locator(".widget-label", has_text=label))
    return slider.first.locator(".noUi-handle").first


def press(nb, target, key: str, times: int = 1) -> None:
    target.focus()
    for _ in range(times):
        nb.page.keyboard.press(key)


def assert_no_errors(nb) -> None:
    assert nb.page_errors() == [], f"the browser console reported errors in {nb.name}"
    assert nb.kernel_errors() == [], f"the kernel reported errors in {nb.name}"
    # the course's JupyterLab defaults (binder/overrides.json, installed by make install) ask no news question
    assert nb.page.get_by_text("official Jupyter news").count() == 0, f"{nb.name}: JupyterLab asked about news"


def test_preprocessing_playground_angle_and_flip(notebook_run, artifacts):
    nb = notebook_run("01_preprocessing")
    out = nb.widget(nb.lab.widget_cells["01_preprocessing"][0])
    labels = out.locator(".widget-label").all_inner_texts()
    for name in ["size (px)", "angle (°)", "interpolation", "flip", "brightness"]:
        assert name in labels, f"control {name!r} is not labelled on the page ({labels})"
    picture = out.locator("img.widget-image")
    before = shot(out, artifacts, "01_playground_before")

    old = picture.get_attribute("src")
    press(nb, slider_handle(out, "angle"), "ArrowRight", times=3)  # 30° → 45°, one step of 5° per key
    seconds = nb.wait_picture_change(picture, old)
    record(artifacts, key_to_new_picture_seconds={"01 playground angle": round(seconds, 2)})
    nb.settle(picture)
    assert "45" in out.locator(".widget-slider").filter(has_text="angle").locator(".widget-readout").inner_text()
    rotated = shot(out, artifacts, "01_playground_after_angle")
    box = region(picture, out)
    assert changed_fraction(before, rotated, box) > 0.3, "rotating by 15° should redraw most of the picture"

    old = picture.get_attribute("src")
    flip = out.locator(".widget-toggle-buttons button", has_text="horizontal")
    press(nb, flip, "Space")
    nb.wait_picture_change(picture, old)
    nb.settle(picture)
    flipped = shot(out, artifacts, "01_playground_after_flip")
    x0, y0, x1, y1 = region(picture, out)
    mirror = np.abs(flipped[y0:y1, x0:x1].astype(int) - rotated[y0:y1, x0:x1][:, ::-1].astype(int)).mean()
    assert mirror < 2, f"the flipped picture should be the mirror image of the one before (mean difference {mirror:.1f})"
    assert_no_errors(nb)


def test_gan_toy_stepper_step_and_reset(notebook_run, artifacts):
    nb = notebook_run("03_gan")
    out = nb.widget(nb.lab.widget_cells["03_gan"][0])
    picture = out.locator("img.widget-image")
    first = shot(out, artifacts, "03_stepper_before")
    box = region(picture, out)

    old = picture.get_attribute("src")
    press(nb, out.locator("button.widget-button", has_text="Step"), "Enter", times=20)  # 20 × 50 steps, quickly
    nb.wait_picture_change(picture, old)
    nb.settle(picture)
    stepped = shot(out, artifacts, "03_stepper_after_step")
    assert changed_fraction(first, stepped, box) > 0.02, "1,000 training steps should move the samples and D's map"

    old = picture.get_attribute("src")
    press(nb, out.locator("button.widget-button", has_text="Reset"), "Space")
    nb.wait_picture_change(picture, old)
    nb.settle(picture)
    reset = shot(out, artifacts, "03_stepper_after_reset")
    assert changed_fraction(first, reset, box) == 0, "Reset replays the same seeded game: the first picture again"
    assert_no_errors(nb)


def key_on_slider(nb, out, picture, artifacts, slider, key, *, shots, timing):
    """Press `key` on the slider labelled `slider`; return screenshots of `out` before and after the picture
    changed, recording how long the new picture took to appear."""
    before = shot(out, artifacts, f"{shots}_before")
    old = picture.get_attribute("src")
    press(nb, slider_handle(out, slider), key)
    seconds = nb.wait_picture_change(picture, old)
    record(artifacts, key_to_new_picture_seconds={timing: round(seconds, 2)})
    nb.settle(picture)
    return before, shot(out, artifacts, f"{shots}_after")


def test_dcgan_interpolation_slider(notebook_run, artifacts):
    nb = notebook_run("03_gan")
    out = nb.widget(nb.lab.widget_cells["03_gan"][1])
    strip, picture = out.locator("img.widget-image").nth(0), out.locator("img.widget-image").nth(1)
    before, after = key_on_slider(nb, out, picture, artifacts, "t", "End",  # t: 0 → 1, from z_a to z_b
                                  shots="03_interpolation", timing="03 interpolation t")
    assert changed_fraction(before, after, region(picture, out)) > 0.05, "t = 1 shows G(z_b), not G(z_a)"
    assert changed_fraction(before, after, region(strip, out)) == 0, "the strip of the whole path stays as it is"
    assert_no_errors(nb)


def digit_seven_to_eight(nb, out, picture, artifacts, *, shots: str, timing: str):
    """From the digit buttons' 7, Tab to 8 and press Space; return screenshots before and after the picture
    changed, recording how long it took."""
    before = shot(out, artifacts, f"{shots}_before")
    old = picture.get_attribute("src")
    out.locator(".widget-toggle-buttons button", has_text="7").focus()
    nb.page.keyboard.press("Tab")  # to the next digit, 8
    nb.page.keyboard.press("Space")
    seconds = nb.wait_picture_change(picture, old)
    record(artifacts, key_to_new_picture_seconds={timing: round(seconds, 2)})
    nb.settle(picture)
    assert "mod-active" in out.locator(".widget-toggle-buttons button", has_text="8").get_attribute("class")
    return before, shot(out, artifacts, f"{shots}_after")


def test_cgan_class_picker(notebook_run, artifacts):
    nb = notebook_run("03_gan")
    out = nb.widget(nb.lab.widget_cells["03_gan"][2])
    picture = out.locator("img.widget-image")
    assert "digit" in out.locator(".widget-label").all_inner_texts()
    before, after = digit_seven_to_eight(nb, out, picture, artifacts, shots="03_class_picker", timing="03 class picker")
    assert changed_fraction(before, after, region(picture, out)) > 0.1, "eights do not look like sevens"
    assert_no_errors(nb)


def test_vae_latent_explorer(notebook_run, artifacts):
    nb = notebook_run("04_vae")
    out = nb.widget(nb.lab.widget_cells["04_vae"][0])
    picture = out.locator("img.widget-image")
    z2 = out.locator(".widget-slider").nth(1)
    before, after = key_on_slider(nb, out, picture, artifacts, "z₁", "Home",  # z₁: 0.5 → −3, the far left
                                  shots="04_latent", timing="04 latent z1")
    assert changed_fraction(before, after, region(picture, out)) > 0.05, "another z decodes to another digit"
    assert changed_fraction(before, after, region(z2, out)) == 0, "the other slider does not move"
    assert_no_errors(nb)


def test_training_dashboard_updates_while_fit_runs(notebook_run, artifacts):
    nb = notebook_run("05_training")
    cell = nb.lab.widget_cells["05_training"][0]
    out = nb.widget(cell)
    shot(out, artifacts, "05_dashboard_after_training")
    assert "Training dashboard" in out.inner_text()
    shown = len(nb.pictures_seen.get(cell, ()))
    assert shown >= 3, f"the dashboard should redraw while fit trains (it showed {shown} pictures)"
    assert "300/300" in nb.cell(cell).inner_text(), "the progress bar should end at the last of the 300 steps"
    assert_no_errors(nb)


def test_real_or_generated_quiz(notebook_run, artifacts):
    nb = notebook_run("06_evaluation")
    out = nb.widget(nb.lab.widget_cells["06_evaluation"][0])
    picture = out.locator("img.widget-image")
    status = out.locator(".widget-html")
    assert "Round 1 of 10" in status.inner_text()
    before = shot(out, artifacts, "06_quiz_before")

    old = picture.get_attribute("src")
    press(nb, out.locator("button.widget-button", has_text="Generated"), "Enter")
    seconds = nb.wait_picture_change(picture, old)
    record(artifacts, key_to_new_picture_seconds={"06 quiz answer": round(seconds, 2)})
    nb.settle(picture)
    after = shot(out, artifacts, "06_quiz_after_answer")
    text = status.inner_text()
    assert "Round 2 of 10" in text and ("right" in text or "wrong" in text), text
    assert changed_fraction(before, after, region(picture, out)) > 0.05, "round 2 shows another digit"
    assert_no_errors(nb)


def test_flow_guidance_explorer(notebook_run, artifacts):
    nb = notebook_run("07_diffusion")
    out = nb.widget(nb.lab.widget_cells["07_diffusion"][0])
    picture = out.locator("img.widget-image")
    threes, eights = digit_seven_to_eight(nb, out, picture, artifacts, shots="07_guidance_digit",
                                          timing="07 guidance digit")  # the digit first: at w = 0 it changes nothing
    assert changed_fraction(threes, eights, region(picture, out)) > 0.1, "eights do not look like threes"
    before, after = key_on_slider(nb, out, picture, artifacts, "guidance", "Home",  # w: 1.5 → 0
                                  shots="07_guidance", timing="07 guidance scale")
    assert changed_fraction(before, after, region(picture, out)) > 0.05, "w = 0 ignores the label: other digits"
    assert_no_errors(nb)


def test_flow_denoising_slider(notebook_run, artifacts):
    nb = notebook_run("07_diffusion")
    out = nb.widget(nb.lab.widget_cells["07_diffusion"][1])
    picture = out.locator("img.widget-image")
    before, after = key_on_slider(nb, out, picture, artifacts, "t", "End",  # t: 1 (noise) → 0 (the image)
                                  shots="07_denoising", timing="07 denoising t")
    assert changed_fraction(before, after, region(picture, out)) > 0.2, "at t = 0 the noise has become digits"
    assert_no_errors(nb)


def test_sefa_and_boundary_direction_sliders(notebook_run, artifacts):
    nb = notebook_run("08_challenges")
    out = nb.widget(nb.lab.widget_cells["08_challenges"][0])
    picture = out.locator("img.widget-image")
    towards_one = out.locator(".widget-slider").nth(3)
    before, after = key_on_slider(nb, out, picture, artifacts, "SeFa 1", "End",  # 0 → 6 along SeFa's first direction
                                  shots="08_sefa", timing="08 SeFa 1")
    assert changed_fraction(before, after, region(picture, out)) > 0.05, "a large step along SeFa 1 changes the digit"
    assert changed_fraction(before, after, region(towards_one, out)) == 0, "the other sliders do not move"
    assert_no_errors(nb)


def test_watermark_strength_slider(notebook_run, artifacts):
    nb = notebook_run("08_challenges")
    out = nb.widget(nb.lab.widget_cells["08_challenges"][1])
    picture = out.locator("img.widget-image")
    readout = out.locator(".widget-html")
    assert readout.inner_text().startswith("strength 0.04:")
    before, after = key_on_slider(nb, out, picture, artifacts, "strength", "Home",  # 0.04 → 0: no mark
                                  shots="08_watermark", timing="08 watermark strength")
    assert changed_fraction(before, after, region(picture, out)) > 0.05, "without a mark the change rows are flat grey"
    assert readout.inner_text().startswith("strength 0:"), readout.inner_text()
    assert_no_errors(nb)
