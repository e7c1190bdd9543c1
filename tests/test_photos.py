"""Bundled photos and a learner's own image folder: shapes, ranges, order, and named errors."""
import cv2
import numpy as np
import pytest
import torch

from genimg_edu.data.photos import PHOTOS, FolderReadError, load_image_folder, load_photo

SHAPES = {"china": (427, 640, 3), "flower": (427, 640, 3), "zoneplate": (512, 512, 3)}
RED, BLUE = (255, 0, 0), (0, 0, 255)  # RGB


def _write(path, rgb_or_gray: np.ndarray):
    """Encode with OpenCV (BGR on disk) and write the bytes ourselves, so any file name works."""
    img = rgb_or_gray if rgb_or_gray.ndim == 2 else cv2.cvtColor(rgb_or_gray, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok, f"could not encode {path.name}"
    path.write_bytes(buf.tobytes())


def _solid(color, h=40, w=60):
    return np.broadcast_to(np.array(color, np.uint8), (h, w, 3)).copy()  # (h, w, 3)


# --- load_photo -----------------------------------------------------------------------------------

def test_every_listed_photo_has_a_known_shape():
    assert set(PHOTOS) == set(SHAPES), "a new photo needs its expected shape here"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_load_photo_is_rgb_uint8(name):
    img = load_photo(name)
    assert img.dtype == np.uint8 and img.shape == SHAPES[name]
    assert img.std() > 10, f"{name} should be a picture, not a flat colour"


def test_photos_are_in_colour_except_the_grey_zone_plate():
    china = load_photo("china").astype(int)
    assert np.abs(china[..., 0] - china[..., 2]).mean() > 5, "china should have colour (R differs from B)"
    plate = load_photo("zoneplate")
    assert (plate[..., 0] == plate[..., 1]).all() and (plate[..., 1] == plate[..., 2]).all()
    assert not np.array_equal(load_photo("china"), load_photo("flower"))


def test_unknown_photo_lists_the_choices():
    with pytest.raises(ValueError, match="unknown photo 'lena'") as info:
        load_photo("lena")
    assert all(name in str(info.value) for name in PHOTOS)


# --- load_image_folder: good folders --------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    _write(tmp_path / "b_red.png", _solid(RED))
    _write(tmp_path / "a_blue.jpg", _solid(BLUE, 50, 30))
    _write(tmp_path / "c_gray.png", np.full((20, 20), 128, np.uint8))  # (H, W) grayscale on disk
    _write(tmp_path / "ça_猫.png", _solid((0, 255, 0)))  # non-ASCII name
    (tmp_path / "readme.txt").write_text("not an image, and not an image suffix")
    return tmp_path


def test_image_folder_reads_resizes_and_sorts(folder):
    images, names = load_image_folder(folder, size=32)
    assert names == ["a_blue.jpg", "b_red.png", "c_gray.png", "ça_猫.png"]
    assert names == sorted(names)
    assert images.dtype == torch.float32 and images.shape == (4, 3, 32, 32)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    means = images.mean(dim=(2, 3))  # (N, 3): one colour per image
    torch.testing.assert_close(means[1], torch.tensor([1.0, 0.0, 0.0]), atol=1e-6, rtol=0)  # red stays red
    torch.testing.assert_close(means[0], torch.tensor([0.0, 0.0, 1.0]), atol=0.03, rtol=0)  # JPEG: close
    torch.testing.assert_close(means[2], torch.full((3,), 128 / 255), atol=1e-6, rtol=0)  # grey → 3 equal channels
    torch.testing.assert_close(means[3], torch.tensor([0.0, 1.0, 0.0]), atol=1e-6, rtol=0)


def test_image_folder_size_can_be_height_and_width(folder):
    images, _ = load_image_folder(folder, size=(24, 40))
    assert images.shape == (4, 3, 24, 40)


# --- load_image_folder: bad files and bad folders -------------------------------------------------

@pytest.fixture
def folder_with_bad_files(tmp_path):
    _write(tmp_path / "good.png", _solid(RED, 16, 16))
    (tmp_path / "bad1.png").write_bytes(b"these bytes are not a PNG at all")
    ok, jpeg = cv2.imencode(".jpg", _solid(BLUE, 64, 64))
    (tmp_path / "bad2.jpg").write_bytes(jpeg.tobytes()[: len(jpeg) // 2])  # cut in the middle of the scan
    return tmp_path


def test_bad_files_are_all_named_in_one_error(folder_with_bad_files):
    with pytest.raises(FolderReadError) as info:
        load_image_folder(folder_with_bad_files, size=16)
    err = info.value
    assert set(err.errors) == {"bad1.png", "bad2.jpg"}
    assert "bad1.png" in str(err) and "bad2.jpg" in str(err)
    assert "truncated" in err.errors["bad2.jpg"]
    assert isinstance(err, ValueError), "callers catching ValueError should catch this too"


def test_bad_files_warn_and_the_good_ones_come_back(folder_with_bad_files):
    with pytest.warns(UserWarning, match="bad1.png") as record:
        images, names = load_image_folder(folder_with_bad_files, size=16, on_error="warn")
    assert "bad2.jpg" in str(record[0].message)
    assert names == ["good.png"] and images.shape == (1, 3, 16, 16)


def test_a_folder_of_only_bad_files_still_fails_when_warning(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="bad.png"), pytest.raises(FileNotFoundError, match="no readable images"):
        load_image_folder(tmp_path, on_error="warn")


def test_missing_folder_is_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_image_folder(missing)


def test_a_file_is_not_a_folder(tmp_path):
    f = tmp_path / "pic.png"
    _write(f, _solid(RED))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_folder(f)


def test_empty_folder_and_folder_without_images(tmp_path):
    with pytest.raises(FileNotFoundError, match="no readable images"):
        load_image_folder(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FileNotFoundError, match="no readable images"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize("on_error", ["ignore", "skip", None])
def test_on_error_must_be_raise_or_warn(folder, on_error):
    with pytest.raises(ValueError, match="on_error"):
        load_image_folder(folder, on_error=on_error)


@pytest.mark.parametrize("size", [0, (32,), "64"])
def test_a_bad_size_is_blamed_on_the_size_not_the_files(folder, size):
    with pytest.raises(ValueError, match="size") as info:
        load_image_folder(folder, size=size)
    assert not isinstance(info.value, FolderReadError)
