"""Lab 1, part 5: the learner's pipeline on a folder of messy files — notebook 01's failure cases and the usual
debris of a real photo folder — compared with the reference pipeline, file by file."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..core import Feedback, Project, register_project
from . import reference

TITLE = "Lab 1.5 · your pipeline on a messy folder"
WHAT = {  # file name: what is messy about it (the picture's captions)
    "china.jpg": "a colour photo, 427 × 640",
    "flower.jpg": "another, to be shrunk 6.7 ×",
    "zoneplate.png": "fine rings: aliasing if shrunk carelessly",
    "digit grey.png": "grey, 28 × 28: enlarged",
    "logo.png": "transparent background",
    "scan 16-bit.png": "16 bits per pixel",
    "panorama.jpg": "a 1 : 5 strip",
    "ça_猫.png": "a non-ASCII name",
    "._china.jpg": "macOS debris: not an image",
    "empty.png": "0 bytes",
    "notes.txt": "not an image suffix",
}


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def make_messy_folder(folder) -> Path:
    """Write the lab's messy folder (the files of `WHAT`) into `folder`; returns it."""
    import sklearn.datasets

    from ...data import load_dataset
    from ...data.photos import load_photo, make_zone_plate

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = Path(sklearn.datasets.__file__).parent / "images"
    (folder / "china.jpg").write_bytes((images / "china.jpg").read_bytes())
    (folder / "flower.jpg").write_bytes((images / "flower.jpg").read_bytes())
    (folder / "zoneplate.png").write_bytes(_png(make_zone_plate(512)[..., 0]))
    digit = (load_dataset("mnist", "test")[0][0, 0].numpy() * 255).round().astype(np.uint8)
    (folder / "digit grey.png").write_bytes(_png(digit))
    yy, xx = np.mgrid[:90, :140]
    logo = np.zeros((90, 140, 4), np.uint8)  # BGRA: black under the transparent pixels
    disk = (yy - 45) ** 2 + (xx - 70) ** 2 < 38 ** 2
    logo[disk] = (40, 120, 230, 255)  # an orange disk, opaque
    (folder / "logo.png").write_bytes(_png(logo))
    scan = (np.linspace(0, 65535, 160)[None, :] * np.linspace(0.2, 1, 120)[:, None]).astype(np.uint16)
    (folder / "scan 16-bit.png").write_bytes(_png(scan))
    china = cv2.cvtColor(load_photo("china"), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", china[150:270], [cv2.IMWRITE_JPEG_QUALITY, 90])
    (folder / "panorama.jpg").write_bytes(buf.tobytes())
    (folder / "ça_猫.png").write_bytes(_png(cv2.resize(cv2.cvtColor(load_photo("flower"), cv2.COLOR_RGB2BGR),
                                                       (120, 80), interpolation=cv2.INTER_AREA)))
    (folder / "._china.jpg").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64))
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("photos for the course: keep the good ones\n", encoding="utf-8")
    return folder


def _run_lab(*, load_folder, size: int = 64) -> Feedback:
    folder = Path(tempfile.mkdtemp(prefix="lab1-messy-"))
    try:
        make_messy_folder(folder)
        out = load_folder(folder, size=size)
        want_batch, want_names, want_errors = reference.load_folder(folder, size=size)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def fail(key, message, details=None):
        return Feedback("lab1_pipeline", False, key, f"✗ {TITLE}: {message}", details)
    if not isinstance(out, tuple) or len(out) != 3:
        return fail("returns", f"load_folder returned {type(out).__name__}: return (batch, names, errors).")
    batch, names, errors = out
    details = dict(batch=batch, names=list(names), errors=dict(errors), size=size)
    if list(names) != want_names:
        missing, extra = sorted(set(want_names) - set(names)), sorted(set(names) - set(want_names))
        return fail("names", f"the images read differ: missing {missing}, unexpected {extra} (order: sorted "
                             "by name).", details)
    if sorted(errors) != sorted(want_errors):
        return fail("errors", f"the files reported as bad were {sorted(errors)}; expected {sorted(want_errors)} — "
                              "every file with an image suffix that will not decode, and nothing else.", details)
    if tuple(batch.shape) != tuple(want_batch.shape):
        return fail("shape", f"the batch has shape {tuple(batch.shape)}, expected {tuple(want_batch.shape)}.", details)
    gap = (batch.float() - want_batch).abs().flatten(1).amax(1)
    if gap.max() > 2 / 255:
        worst = int(gap.argmax())
        return fail("batch", f"{names[worst]} differs from the reference by up to {gap[worst]:.3f} — run your "
                             "parts' checks again on it.", details)
    return Feedback("lab1_pipeline", True, None, f"✓ {TITLE}: {len(names)} images in a batch of shape "
                    f"{tuple(batch.shape)} in [−1, 1], the same as the reference pipeline's; {len(errors)} files "
                    f"reported ({', '.join(sorted(errors))}), and notes.txt left alone.", details)


check_lab1_pipeline = register_project(Project(
    name="lab1_pipeline", title=TITLE, parts=("load_folder",), run=_run_lab, seconds=60))


def show_pipeline(result: Feedback) -> None:
    """The lab's picture: each image of the messy folder as it came out of your pipeline, captioned with what
    was messy about it, and the files your pipeline reported."""
    import matplotlib.pyplot as plt

    if not result.details:
        print("Nothing to show yet: the check above runs your load_folder once every part passes its own check.")
        return
    import textwrap

    batch, names = result.details["batch"], result.details["names"]
    fig, axes = plt.subplots(1, len(names), figsize=(1.5 * len(names), 2.3))
    for ax, img, name in zip(np.atleast_1d(axes), batch, names):
        ax.imshow(((img.permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1))
        shown = "".join(c if ord(c) < 0x2000 else "□" for c in name)  # the plot font has no CJK glyphs
        ax.set_title(shown + "\n" + textwrap.fill(WHAT.get(name, ""), 20), fontsize=7)
        ax.set_axis_off()
    reported = ", ".join(sorted(result.details["errors"])) or "none"
    fig.suptitle(f"your batch {tuple(batch.shape)}, in [−1, 1] (shown in [0, 1]); reported as bad: {reported}",
                 fontsize=9)
    plt.show()
