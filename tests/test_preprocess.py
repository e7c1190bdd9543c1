"""Tests for genimg_edu.preprocess: reading odd files, geometry identities, ranges, aliasing."""
import re

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from genimg_edu.preprocess import (
    Augment, ImageReadError, adjust_brightness, augment, augment_batch, center_crop,
    denormalize, flip, normalize, read_image, resize, rotate, to_image, to_tensor,
)
from genimg_edu.data.photos import make_zone_plate
from genimg_edu.imagefile import _is_truncated

FAST = settings(max_examples=25, deadline=None)


def write(path, img, ext=".png"):
    """Encode with OpenCV (so `img` is BGR/BGRA) and write bytes; works for any file name."""
    ok, buf = cv2.imencode(ext, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def noise(shape, seed=0, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


# small uint8 images: grayscale (H, W), or (H, W, C) with C = 1 or 3
sides = st.integers(1, 12)
images = arrays(np.uint8, st.tuples(sides, sides) | st.tuples(sides, sides, st.sampled_from([1, 3])),
                elements=st.integers(0, 255))


# --- read_image ------------------------------------------------------------------------------

def test_read_png_is_rgb(tmp_path):
    red_bgr = np.zeros((4, 5, 3), np.uint8)
    red_bgr[..., 2] = 255
    img = read_image(write(tmp_path / "red.png", red_bgr))
    assert img.shape == (4, 5, 3) and img.dtype == np.uint8
    assert (img == (255, 0, 0)).all()


def test_read_grayscale_gives_three_equal_channels(tmp_path):
    gray = noise((6, 7))
    img = read_image(write(tmp_path / "g.png", gray))
    assert img.shape == (6, 7, 3)
    assert all((img[..., c] == gray).all() for c in range(3))


def test_read_rgba_white_vs_drop(tmp_path):
    bgra = np.zeros((2, 2, 4), np.uint8)
    bgra[..., 0] = 200  # blue under the alpha
    bgra[..., 3] = [[0, 255], [128, 255]]
    path = write(tmp_path / "a.png", bgra)
    white, drop = read_image(path), read_image(path, alpha="drop")
    assert (white[0, 0] == (255, 255, 255)).all()  # fully transparent -> background
    assert (white[0, 1] == (0, 0, 200)).all()  # opaque -> its own colour
    a = 128 / 255
    assert np.allclose(white[1, 0], np.rint([255 * (1 - a), 255 * (1 - a), 200 * a + 255 * (1 - a)]))
    assert (drop == [0, 0, 200]).all()


def test_read_16_bit_scales_with_rounding(tmp_path):
    values = np.array([[0, 128, 129, 257], [385, 386, 65407, 65535]], np.uint16)
    img = read_image(write(tmp_path / "deep.png", values))
    assert (img[..., 0] == [[0, 0, 1, 1], [1, 2, 255, 255]]).all()


def test_read_jpeg(tmp_path):
    bgr = np.full((16, 16, 3), (30, 90, 220), np.uint8)
    img = read_image(write(tmp_path / "x.jpg", bgr, ".jpg"))
    assert img.shape == (16, 16, 3)
    assert np.abs(img.astype(int) - (220, 90, 30)).max() <= 3


def _with_app1(jpeg, payload):
    """Insert an APP1 (EXIF) segment right after the start-of-image marker."""
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def test_read_jpeg_applies_exif_orientation(tmp_path):
    bgr = np.zeros((16, 32, 3), np.uint8)
    bgr[:, :8] = 255  # white strip on the left
    # big-endian TIFF header, one IFD entry: Orientation (0x0112) = 6, "rotate 90 degrees clockwise to view"
    exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x01" + b"\x01\x12\0\x03\0\0\0\x01\0\x06\0\0" + b"\0\0\0\0"
    path = tmp_path / "phone.jpg"
    path.write_bytes(_with_app1(cv2.imencode(".jpg", bgr)[1].tobytes(), exif))
    img = read_image(path)
    assert img.shape == (32, 16, 3) and (img[:6] > 200).all()  # the strip is now on top


def test_read_non_ascii_name(tmp_path):
    img = read_image(write(tmp_path / "ça_猫.png", noise((3, 4, 3))))
    assert img.shape == (3, 4, 3)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_image(tmp_path / "nope.png")


def _file(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


def _truncated(tmp_path, ext):
    path = write(tmp_path / f"half{ext}", noise((64, 64, 3)), ext)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


@pytest.mark.parametrize("make", [
    lambda p: p,  # the directory itself
    lambda p: _file(p, "empty.png", b""),
    lambda p: _file(p, "notes.png", b"hello, not an image"),
    lambda p: _truncated(p, ".png"),
    lambda p: _truncated(p, ".jpg"),
], ids=["directory", "empty", "text", "truncated-png", "truncated-jpeg"])
def test_unreadable_files_raise_image_read_error_naming_them(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(ImageReadError, match=re.escape(path.name)):
        read_image(path)


def test_truncation_check_on_bytes():
    _, buf = cv2.imencode(".jpg", noise((32, 32, 3)))
    jpeg = buf.tobytes()
    assert not _is_truncated(jpeg)
    assert not _is_truncated(jpeg + b"trailing data")
    assert _is_truncated(jpeg[:-2])  # only the end marker missing: some OpenCV versions still decode it
    thumbnail_end = _with_app1(jpeg, b"Exif\0\0 thumbnail ends \xff\xd9")
    assert not _is_truncated(thumbnail_end) and _is_truncated(thumbnail_end[:-2])
    _, buf = cv2.imencode(".png", noise((8, 8)))
    assert _is_truncated(buf.tobytes()[:-12]) and not _is_truncated(buf.tobytes())


def test_bad_alpha_is_named(tmp_path):
    with pytest.raises(ValueError, match="alpha"):
        read_image(write(tmp_path / "x.png", noise((2, 2, 3))), alpha="black")


# --- geometry ----------------------------------------------------------------------------------

@FAST
@given(images, st.integers(1, 20), st.integers(1, 20),
       st.sampled_from(["auto", "nearest", "linear", "cubic", "area", "lanczos"]), st.booleans())
def test_resize_shape_and_dtype(img, h, w, interpolation, antialias):
    out = resize(img, (h, w), interpolation=interpolation, antialias=antialias)
    assert out.shape == (h, w) + img.shape[2:] and out.dtype == np.uint8


def test_resize_keep_aspect():
    img = np.zeros((100, 200, 3), np.uint8)
    assert resize(img, 50).shape == (50, 50, 3)
    assert resize(img, 50, keep_aspect=True).shape == (50, 100, 3)  # shorter side
    assert resize(img, (40, 40), keep_aspect=True).shape == (20, 40, 3)  # fits in the box


def test_antialias_removes_zone_plate_aliasing():
    """Shrunk 4x, rings past the new Nyquist limit (radius >= 16 px in a 64 px image) must be flat grey."""
    plate = make_zone_plate(256)
    y, x = np.mgrid[:64, :64] - 31.5
    ring = (np.hypot(x, y) >= 16) & (np.hypot(x, y) < 32)

    def aliasing(small):  # mean distance from flat grey where nothing should be left
        return np.abs(small[..., 0][ring].astype(float) - 127.5).mean()

    area = aliasing(resize(plate, 64, interpolation="area"))
    for interp in ("nearest", "linear", "cubic", "lanczos"):
        aliased = aliasing(resize(plate, 64, interpolation=interp, antialias=False))
        clean = aliasing(resize(plate, 64, interpolation=interp, antialias=True))
        assert clean < 0.1 * aliased and clean < area, (interp, clean, aliased, area)


@FAST
@given(images, st.integers(1, 12), st.integers(1, 12))
def test_center_crop_shape(img, h, w):
    if h > img.shape[0] or w > img.shape[1]:
        with pytest.raises(ValueError, match="size"):
            center_crop(img, (h, w))
    else:
        assert center_crop(img, (h, w)).shape == (h, w) + img.shape[2:]


@FAST
@given(images)
def test_quarter_turns(img):
    assert np.array_equal(rotate(rotate(rotate(rotate(img, 90), 90), 90), 90), img)
    assert np.array_equal(rotate(rotate(img, 90), -90), img)
    assert rotate(img, 90).shape == (img.shape[1], img.shape[0]) + img.shape[2:]
    assert np.array_equal(rotate(img, -90), np.rot90(img, k=-1))  # clockwise


def test_rotate_is_counter_clockwise():
    img = np.zeros((3, 3), np.uint8)
    img[0, 2] = 1  # top right
    assert rotate(img, 90)[0, 0] == 1  # goes to top left


@FAST
@given(images, st.floats(-180, 180).filter(lambda a: a % 90 != 0), st.booleans())
def test_rotate_any_angle_shape(img, angle, expand):
    out = rotate(img, angle, expand=expand)
    assert out.dtype == np.uint8 and out.shape[2:] == img.shape[2:]
    if expand:
        assert out.shape[0] >= 1 and out.shape[1] >= 1
    else:
        assert out.shape == img.shape


def test_rotate_expand_keeps_corners_and_fill_is_every_channel():
    img = np.full((20, 40, 3), 255, np.uint8)
    out = rotate(img, 45, expand=True, fill=(0, 0, 0))
    assert out.shape[:2] == (43, 43)  # ceil((20 + 40) / sqrt 2)
    assert out.sum() >= 0.97 * img.sum()  # nothing cut beyond the bilinear edges
    assert (rotate(img, 30, fill=7)[0, 0] == 7).all()


@FAST
@given(images, st.booleans())
def test_flip_twice_is_identity(img, horizontal):
    once = flip(img, horizontal=horizontal)
    assert once.shape == img.shape and np.array_equal(flip(once, horizontal=horizontal), img)


def test_flip_direction():
    img = np.arange(4, dtype=np.uint8).reshape(2, 2)
    assert flip(img).tolist() == [[1, 0], [3, 2]]
    assert flip(img, horizontal=False).tolist() == [[2, 3], [0, 1]]


def test_adjust_brightness_clips():
    img = np.array([[0, 100, 200]], np.uint8)
    assert adjust_brightness(img, 1.5).tolist() == [[0, 150, 255]]
    assert adjust_brightness(img, 0.5).dtype == np.uint8


# --- ranges and tensors ------------------------------------------------------------------------

@pytest.mark.parametrize("value_range", [(0, 1), (-1, 1)])
def test_normalize_round_trip_all_uint8(value_range):
    v = np.arange(256, dtype=np.uint8)
    x = normalize(v, value_range=value_range)
    assert x.dtype == np.float32 and x.min() == value_range[0] and x.max() == value_range[1]
    assert np.array_equal(denormalize(x, value_range=value_range), v)


def test_denormalize_clips():
    assert denormalize(np.array([-3.0, 0.5, 7.0]), value_range=(-1, 1)).tolist() == [0, 191, 255]


@FAST
@given(images, st.sampled_from([(0, 1), (-1, 1)]))
def test_tensor_round_trip(img, value_range):
    t = to_tensor(img, value_range=value_range)
    channels = img.shape[2] if img.ndim == 3 else 1
    assert t.dtype == torch.float32 and t.shape == (channels,) + img.shape[:2]
    assert np.array_equal(to_image(t, value_range=value_range), img.reshape(img.shape[:2]) if channels == 1 else img)


def test_tensor_batch():
    batch = noise((2, 5, 6, 3))
    t = to_tensor(batch)
    assert t.shape == (2, 3, 5, 6)
    assert torch.equal(t[1, 0], torch.from_numpy(batch[1, ..., 0]).float() / 255)
    assert np.array_equal(to_image(t.requires_grad_()), batch)


# --- augmentation ------------------------------------------------------------------------------

def test_augment_is_seeded_and_keeps_shape():
    img = noise((24, 32, 3))
    a, b, c = augment(img, rng=1), augment(img, rng=1), augment(img, rng=2)
    assert a.shape == img.shape and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    gen_a, gen_b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(augment(img, Augment(p_flip=1.0), rng=gen_a), augment(img, Augment(p_flip=1.0), rng=gen_b))


def test_augment_identity_config():
    img = noise((10, 10, 3))
    still = Augment(p_flip=0, max_angle=0, scale=(1, 1), max_shift=0, brightness=(1, 1))
    assert np.array_equal(augment(img, still, rng=0), img)


def test_augment_batch():
    batch = noise((3, 8, 8, 3))
    out = augment_batch(batch, Augment(), rng=0)
    assert out.shape == batch.shape and np.array_equal(out, augment_batch(batch, Augment(), rng=0))
    assert isinstance(augment_batch(list(batch), rng=0), list)
    assert not np.array_equal(out[0], out[1])


# --- bad arguments name themselves -------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda im: resize(im, 0), "size"),
    (lambda im: resize(im, (4, -1)), "size"),
    (lambda im: resize(im, 4, interpolation="bilinear"), "interpolation"),
    (lambda im: center_crop(im, 0), "size"),
    (lambda im: normalize(im, value_range=(0, 255)), "value_range"),
    (lambda im: denormalize(im, value_range=(-1, 2)), "value_range"),
    (lambda im: normalize(im.astype(np.float32)), "img"),
    (lambda im: to_tensor(im, value_range=(0, 2)), "value_range"),
    (lambda im: adjust_brightness(im, -1), "factor"),
    (lambda im: augment(im, rng=None), "rng"),
    (lambda im: Augment(p_flip=2), "p_flip"),
    (lambda im: Augment(scale=(1.2, 0.8)), "scale"),
    (lambda im: make_zone_plate(0), "size"),
])
def test_bad_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call(np.zeros((8, 8, 3), np.uint8))
