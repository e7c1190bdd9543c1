"""Exercises for notebook 01 (preprocessing): a resize that keeps the aspect ratio, an OpenCV image as a
tensor, and the [-1, 1] range a tanh generator needs. References: the package's own `preprocess`."""
import cv2
import numpy as np
import torch

from .. import preprocess
from .core import Exercise, Mistake, register

_rng = np.random.default_rng(0)
_IMAGES = [_rng.integers(0, 256, (35, 45), dtype=np.uint8),      # shrink, 45·20/35 = 25.7 rounds up
           _rng.integers(0, 256, (60, 40, 3), dtype=np.uint8),   # enlarge a portrait colour image
           _rng.integers(0, 256, (50, 52), dtype=np.uint8)]
_SHORT = [20, 60, 26]


def _resize_trial(answer):
    return [answer(img.copy(), side) for img, side in zip(_IMAGES, _SHORT)]


def _scaled(img, short_side, rounding=round):
    h, w = img.shape[:2]
    s = short_side / min(h, w)
    return max(1, rounding(h * s)), max(1, rounding(w * s)), s


def _resize_with(interp_small, interp_big, rounding=round, swap=False, square=False):
    def wrong(img, short_side):
        h, w, s = _scaled(img, short_side, rounding)
        if square:
            h = w = short_side
        size = (h, w) if swap else (w, h)
        return cv2.resize(img, size, interpolation=interp_small if s < 1 else interp_big)
    return wrong


check_resize_keep_aspect = register(Exercise(
    name="resize_keep_aspect", title="Exercise 1.1 · resize, keeping the aspect ratio",
    reference=lambda img, short_side: preprocess.resize(img, short_side, keep_aspect=True),
    trial=_resize_trial,
    describe=lambda i: f"an image of shape {_IMAGES[i].shape} with short_side={_SHORT[i]}",
    start="Find the one scale factor that makes the shorter side short_side pixels, then ask cv2.resize for "
          "the new size — hint('resize_keep_aspect') if you are stuck.",
    hints=["the scale factor is short_side / min(height, width); multiply both sides by it and round.",
           "cv2.resize(img, (new_width, new_height), interpolation=...) — OpenCV wants (width, height).",
           "shrink with cv2.INTER_AREA (it averages, so it aliases little) and enlarge with cv2.INTER_CUBIC."],
    mistakes={
        "swapped-size": Mistake(_resize_with(cv2.INTER_AREA, cv2.INTER_CUBIC, swap=True),
                                "the output is transposed: cv2.resize takes (width, height), the reverse of "
                                "NumPy's shape (height, width)."),
        "square": Mistake(_resize_with(cv2.INTER_AREA, cv2.INTER_CUBIC, square=True),
                          "both sides became short_side, so the aspect ratio is lost — scale the longer side by "
                          "the same factor."),
        "longer-side": Mistake(lambda img, short_side: preprocess.resize(img, (short_side, short_side),
                                                                         keep_aspect=True),
                               "you scaled the *longer* side to short_side (the image now fits inside a square "
                               "box, pp.resize(img, (n, n), keep_aspect=True)); here the *shorter* side must "
                               "become short_side, so that a centre crop of that size is all image."),
        "fx-fy": Mistake(lambda img, short_side: cv2.resize(
                            img, None, fx=short_side / min(img.shape[:2]), fy=short_side / min(img.shape[:2]),
                            interpolation=cv2.INTER_AREA if short_side < min(img.shape[:2]) else cv2.INTER_CUBIC),
                         "the size is right but the pixels differ: with fx/fy OpenCV weighs the pixels by the "
                         "unrounded factor — pass the rounded size itself, cv2.resize(img, (new_w, new_h), ...)."),
        "truncated": Mistake(_resize_with(cv2.INTER_AREA, cv2.INTER_CUBIC, rounding=int),
                             "off by one pixel: int() cuts 25.7 down to 25 — round() the new size."),
        "aliasing": Mistake(_resize_with(cv2.INTER_LINEAR, cv2.INTER_CUBIC),
                            "the size is right but shrinking with INTER_LINEAR reads only 2×2 neighbours and aliases "
                            "(section 3) — shrink with cv2.INTER_AREA."),
    }))


def _tensor_trial(answer):
    return [answer(img.copy()) for img in (_IMAGES[1], _rng_bgr)]


_rng_bgr = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)


def _bgr_wrong(flip=True, scale=True, layout="permute"):
    def wrong(img):
        x = img[..., ::-1] if flip else img
        x = torch.from_numpy(np.ascontiguousarray(x)).float()
        x = x / 255 if scale else x
        if layout == "permute":
            return x.permute(2, 0, 1)
        return x.reshape(x.shape[2], x.shape[0], x.shape[1]) if layout == "reshape" else x
    return wrong


check_bgr_to_tensor = register(Exercise(
    name="bgr_to_tensor", title="Exercise 1.3 · an OpenCV image as a PyTorch tensor",
    reference=lambda img: preprocess.to_tensor(img[..., ::-1]),
    trial=_tensor_trial,
    returns=(torch.Tensor, torch.float32),
    describe=lambda i: "a (60, 40, 3) image" if i == 0 else "a (5, 7, 3) image",
    hints=["three things change: the channel order (BGR → RGB), the range (0..255 → [0, 1]) and the layout "
           "((H, W, C) → (C, H, W)).",
           "img[..., ::-1] reverses the channels; torch.from_numpy needs a contiguous copy "
           "(np.ascontiguousarray) after that.",
           "divide a float tensor by 255, then .permute(2, 0, 1) — not .reshape, which keeps the memory order."],
    mistakes={
        "bgr": Mistake(_bgr_wrong(flip=False), "red and blue are swapped: OpenCV stores BGR — reverse the channels "
                                               "(img[..., ::-1]) before anything else."),
        "range": Mistake(_bgr_wrong(scale=False), "values run to 255: divide by 255 so they lie in [0, 1]."),
        "layout": Mistake(_bgr_wrong(layout="none"), "the channels are still last: PyTorch wants (C, H, W) — "
                                                     "use .permute(2, 0, 1)."),
        "reshape": Mistake(_bgr_wrong(layout="reshape"),
                           "the shape is (C, H, W) but the pixels are scrambled: .reshape keeps the memory order "
                           "(R, G, B of one pixel side by side) — .permute(2, 0, 1) moves the axis."),
    }))


def _signed_wrong(kind):
    def wrong(img):
        if kind == "overflow":
            return (img * 2 / 255 - 1).astype(np.float32)  # uint8 * 2 wraps around at 256
        x = img.astype(np.float32)
        return x / 255 - 0.5 if kind == "half" else x / 127.5
    return wrong


_GREYS = [np.array([[0, 64, 128], [200, 255, 1]], dtype=np.uint8), _IMAGES[2]]
check_to_signed = register(Exercise(
    name="to_signed", title="Exercise 1.2 · uint8 pixels to [-1, 1]",
    reference=lambda img: preprocess.normalize(img, value_range=(-1, 1)),
    trial=lambda answer: [answer(img.copy()) for img in _GREYS],
    returns=(np.ndarray, np.float32),
    describe=lambda i: "the pixels [[0, 64, 128], [200, 255, 1]]" if i == 0 else "a (50, 52) image",
    hints=["0 must go to −1 and 255 to +1: a straight line x = a·v + b through those two points.",
           "x = 2·v/255 − 1; do the arithmetic in float32, not in uint8.",
           "img.astype(np.float32) * 2 / 255 - 1"],
    mistakes={
        "overflow": Mistake(_signed_wrong("overflow"), "bright pixels came out negative: img * 2 was computed in "
                                                       "uint8, which wraps at 256 (200·2 = 144) — convert to float "
                                                       "first (img.astype(np.float32))."),
        "half": Mistake(_signed_wrong("half"), "the range is [−0.5, 0.5]: v/255 − 0.5 centres the pixels but halves "
                                               "the range — multiply by 2."),
        "no-shift": Mistake(_signed_wrong("no-shift"), "the range is [0, 2]: after scaling by 2/255, subtract 1."),
    }))
