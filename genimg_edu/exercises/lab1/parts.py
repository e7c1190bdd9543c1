"""Lab 1, parts 1–4: a data pipeline built by the learner — decode a file's bytes, make a square of the wanted
size, turn images into a batch, and read a whole folder without crashing on its bad files — each checked as a
unit against `reference` on images the check makes itself (colour, grey, 16-bit, transparent, not an image)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from ..core import Exercise, Mistake, register
from . import reference

_RNG = np.random.default_rng(11)
_RGB = _RNG.integers(0, 256, (10, 14, 3), dtype=np.uint8)  # RGB: red first
_GRAY = _RNG.integers(0, 256, (9, 7), dtype=np.uint8)
_DEEP = _RNG.integers(0, 65536, (6, 5), dtype=np.uint16)  # a 16-bit scan
_RGBA = np.dstack([_RGB, _RNG.integers(0, 256, (10, 14), dtype=np.uint8)])


def _encode(suffix: str, img: np.ndarray, *, bgr: bool = True) -> bytes:
    """What a file of that type holds: OpenCV stores colour as BGR(A)."""
    if bgr and img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR if img.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(suffix, img)
    assert ok, suffix
    return buf.tobytes()


_FILES = {"a colour PNG": _encode(".png", _RGB), "a grey PNG": _encode(".png", _GRAY),
          "a 16-bit grey PNG": _encode(".png", _DEEP), "a PNG with transparency": _encode(".png", _RGBA),
          "a colour JPEG": _encode(".jpg", _RGB), "empty bytes": b"", "a text file": b"shopping list: milk, eggs"}


def _decode_trial(answer):
    out = []
    for data in _FILES.values():
        try:
            out.append(answer(data))
        except ValueError:
            out.append("raised ValueError")
    return out


def _decode_wrong(kind):
    def wrong(data):
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR if data[:2] == b"\xff\xd8"
                           else cv2.IMREAD_UNCHANGED) if data else None
        if img is None:
            if kind == "none":
                return None
            raise ValueError("not an image")
        if kind == "16-bit-wrap":
            img = img.astype(np.uint8)
        if kind == "alpha-dropped" and img.ndim == 3 and img.shape[2] == 4:
            img = img[..., :3]
        fixed = reference.decode(_encode(".png", img, bgr=False))  # the rest done right
        return fixed[..., ::-1].copy() if kind == "bgr" else fixed
    return wrong


check_decode = register(Exercise(
    name="decode", title="Lab 1.1 · decode a file's bytes",
    reference=reference.decode, trial=_decode_trial,
    describe=lambda i: list(_FILES)[i],
    start="Let OpenCV decode the bytes, refuse what is not an image, then bring every kind of image to one form: "
          "three channels, 8 bits, RGB, no transparency — hint('decode') if you are stuck.",
    hints=["cv2.imdecode(np.frombuffer(data, np.uint8), flags) returns None (not an error) when it cannot decode; "
           "cv2.IMREAD_UNCHANGED keeps 16 bits and alpha (use cv2.IMREAD_COLOR for JPEGs, whose bytes start with "
           "FF D8: it also turns them upright).",
           "work in floats: divide by the type's largest value (np.iinfo(img.dtype).max: 255 or 65535) to get [0, 1]; "
           "a 2-D image gets a channel axis and is repeated three times.",
           "four channels: colour × alpha + (1 − alpha) puts it on white; OpenCV's order is BGR — reverse the "
           "channels; np.rint(x * 255).astype(np.uint8) at the end."],
    mistakes={
        "bgr": Mistake(_decode_wrong("bgr"), "red and blue are swapped: OpenCV stores colour as BGR — reverse the "
                                             "channel axis (img[..., ::-1])."),
        "alpha-dropped": Mistake(_decode_wrong("alpha-dropped"), "the transparent pixels kept whatever colour was "
                                                                 "stored under them (often black): composite over "
                                                                 "white, colour × alpha + (1 − alpha)."),
        "16-bit-wrap": Mistake(_decode_wrong("16-bit-wrap"), "the 16-bit image wrapped round: astype(np.uint8) keeps "
                                                             "the low 8 bits. Scale by 255 / 65535 first."),
        "none": Mistake(_decode_wrong("none"), "for bytes that are not an image you returned None: raise a ValueError "
                                               "that says so, so that the caller learns which file was bad."),
    }))

_PHOTO = [_RNG.integers(0, 256, (40, 60, 3), dtype=np.uint8), _RNG.integers(0, 256, (100, 30, 3), dtype=np.uint8),
          _RNG.integers(0, 256, (12, 20, 3), dtype=np.uint8)]
_SIZES = [16, 16, 32]


def _square_wrong(kind):
    def wrong(img, size):
        h, w = img.shape[:2]
        if kind == "stretch":
            return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if size < min(h, w) else cv2.INTER_CUBIC)
        r = size / min(h, w)
        new_h, new_w = max(1, round(h * r)), max(1, round(w * r))
        shrinking = new_h < h or new_w < w
        flag = cv2.INTER_LINEAR if kind == "linear" else cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
        img = cv2.resize(img, (new_h, new_w) if kind == "swapped-size" else (new_w, new_h), interpolation=flag)
        top, left = ((0, 0) if kind == "corner-crop" else ((img.shape[0] - size) // 2, (img.shape[1] - size) // 2))
        return img[top:top + size, left:left + size]
    return wrong


check_square = register(Exercise(
    name="square", title="Lab 1.2 · a square of the wanted size",
    reference=reference.square,
    trial=lambda answer: [answer(img.copy(), s) for img, s in zip(_PHOTO, _SIZES)],
    describe=lambda i: f"an image of shape {_PHOTO[i].shape} made {_SIZES[i]} × {_SIZES[i]}",
    start="Scale so that the shorter side becomes `size` (keep the aspect), then cut the central square — "
          "hint('square') if you are stuck.",
    hints=["r = size / min(h, w); the new sides are round(h · r) and round(w · r) (at least 1).",
           "cv2.resize takes (width, height); cv2.INTER_AREA when shrinking (each output pixel averages the pixels "
           "it covers: no aliasing), cv2.INTER_CUBIC when enlarging.",
           "the central square starts at ((new_h − size) // 2, (new_w − size) // 2)."],
    mistakes={
        "stretch": Mistake(_square_wrong("stretch"), "the image was squeezed to a square, which distorts it: keep the "
                                                     "aspect (shorter side to `size`) and crop the rest."),
        "swapped-size": Mistake(_square_wrong("swapped-size"), "cv2.resize takes (width, height), not (height, "
                                                               "width): your image came out transposed in size."),
        "linear": Mistake(_square_wrong("linear"), "INTER_LINEAR reads only 2 × 2 neighbours, so shrinking aliases "
                                                   "(notebook 01's zone plate): use cv2.INTER_AREA to shrink."),
        "corner-crop": Mistake(_square_wrong("corner-crop"), "you cut the top-left square: centre the crop."),
    }))

_BATCH = [[_RNG.integers(0, 256, (4, 4, 3), dtype=np.uint8) for _ in range(3)]]


def _to_batch_wrong(kind):
    def wrong(images):
        x = np.stack(images)  # (N, H, W, 3) uint8
        if kind == "uint8-overflow":
            return torch.from_numpy((x * 2 - 1).astype(np.float32) / 255).permute(0, 3, 1, 2)
        t = torch.from_numpy(x).float() / 255
        t = t if kind == "zero-one" else t * 2 - 1
        return t.reshape(len(images), 3, *x.shape[1:3]) if kind == "reshape" else t.permute(0, 3, 1, 2)
    return wrong


check_to_batch = register(Exercise(
    name="to_batch", title="Lab 1.3 · images to a batch",
    reference=reference.to_batch,
    trial=lambda answer: [answer([img.copy() for img in images]) for images in _BATCH],
    describe=lambda i: "3 images (4, 4, 3) uint8",
    returns=(torch.Tensor, torch.float32),
    start="Stack the images, make them floats in [−1, 1], and move the channel axis to where PyTorch wants it — "
          "hint('to_batch') if you are stuck.",
    hints=["np.stack(images) is (N, H, W, 3); torch.from_numpy(...).float() / 255 is in [0, 1].",
           "x * 2 − 1 maps [0, 1] to [−1, 1] — on floats: on uint8 it wraps round.",
           ".permute(0, 3, 1, 2) moves the channels: (N, 3, H, W). A reshape would keep the numbers' order and "
           "scramble the pixels."],
    mistakes={
        "reshape": Mistake(_to_batch_wrong("reshape"), "the shape is right but the pixels are scrambled: reshape keeps "
                                                       "the memory order — use .permute(0, 3, 1, 2)."),
        "zero-one": Mistake(_to_batch_wrong("zero-one"), "the values are in [0, 1]: a generator ending in tanh draws in "
                                                         "[−1, 1], so the data must be there too (x * 2 − 1)."),
        "uint8-overflow": Mistake(_to_batch_wrong("uint8-overflow"), "the arithmetic ran on uint8 and wrapped round "
                                                                     "(2 × 200 = 144): convert to float first."),
    }))

_FOLDER = {"b.png": _encode(".png", _RGB), "a.jpg": _encode(".jpg", _RGB), "c grey.png": _encode(".png", _GRAY),
           "notes.txt": b"not a picture", "broken.png": b"PNG? no.", "empty.jpg": b""}


def _folder_trial(answer):
    folder = Path(tempfile.mkdtemp(prefix="lab1-"))
    try:
        for name, data in _FOLDER.items():
            (folder / name).write_bytes(data)
        out = answer(folder, size=8)
        if not isinstance(out, tuple) or len(out) != 3:
            raise ValueError(f"it returned {type(out).__name__}: return (batch, names, errors)")
        batch, names, errors = out
        reasons = [isinstance(v, str) and bool(v) for v in dict(errors).values()]
        return [batch, list(names), sorted(dict(errors)), reasons]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _folder_wrong(kind):
    def wrong(folder, size=64):
        images, names, errors = [], [], {}
        for path in sorted(Path(folder).iterdir()):
            if kind != "reads-everything" and path.suffix.lower() not in reference.IMAGE_SUFFIXES:
                continue
            try:
                img = reference.decode(path.read_bytes())
            except ValueError as e:
                if kind == "black-for-bad":
                    images.append(np.zeros((size, size, 3), np.uint8))
                    names.append(path.name)
                if kind not in ("silent-skip", "black-for-bad"):
                    errors[path.name] = str(e)
                continue
            images.append(reference.square(img, size))
            names.append(path.name)
        return reference.to_batch(images), names, errors
    return wrong


check_load_folder = register(Exercise(
    name="load_folder", title="Lab 1.4 · a whole folder, bad files included",
    reference=reference.load_folder, trial=_folder_trial,
    describe=lambda i: ["the batch", "the names read, in order", "the files reported", "whether each has a reason"][i],
    start="Go through the folder's files in sorted order, skip what is not an image by its suffix, and keep going "
          "when a file will not decode: note it, with the reason — hint('load_folder') if you are stuck.",
    hints=["sorted(Path(folder).iterdir()) gives a fixed order; path.suffix.lower() in IMAGE_SUFFIXES keeps images.",
           "try: img = decode(path.read_bytes()) / except ValueError as e: errors[path.name] = str(e); continue.",
           "square each image, keep its name; return (to_batch(images), names, errors)."],
    mistakes={
        "silent-skip": Mistake(_folder_wrong("silent-skip"), "the bad files vanished without a word: report each in "
                                                             "`errors`, with the reason — a dataset that silently "
                                                             "loses files is a bug nobody finds."),
        "reads-everything": Mistake(_folder_wrong("reads-everything"), "a text file was treated as a broken image: "
                                                                       "keep only the image suffixes "
                                                                       "(IMAGE_SUFFIXES) — notes.txt is not an error."),
        "black-for-bad": Mistake(_folder_wrong("black-for-bad"), "a black square stands in for each bad file: it "
                                                                 "would train the model on blank images. Leave bad "
                                                                 "files out and report them."),
    }))
