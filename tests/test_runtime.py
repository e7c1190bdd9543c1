"""Device choice, seeding, CPU threads, the environment report and atomic file writes."""
import json
import os
import random
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from genimg_edu.io import atomic_write, replace_marked
from genimg_edu.runtime import device, environment_report, seed_everything, set_threads

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture
def torch_threads(monkeypatch):
    """Give torch back the thread count it had before the test, and the variables set_threads sets."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):  # monkeypatch restores each
        if var in os.environ:
            monkeypatch.setenv(var, os.environ[var])
        else:
            monkeypatch.delenv(var, raising=False)
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


@pytest.fixture
def umask():
    """Set a umask for one test; the old one comes back afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


# --- device ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["cpu", "CPU", " cpu "])
def test_device_cpu_from_the_environment(monkeypatch, value):
    monkeypatch.setenv("GENIMG_DEVICE", value)
    assert device() == torch.device("cpu")


@pytest.mark.parametrize("value", ["auto", None])
def test_device_auto_picks_cuda_only_when_there_is_one(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("GENIMG_DEVICE", raising=False)  # unset means auto
    else:
        monkeypatch.setenv("GENIMG_DEVICE", value)
    assert device().type == ("cuda" if HAS_CUDA else "cpu")


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a GPU, so asking for cuda must succeed")
def test_device_cuda_without_a_gpu_says_what_to_do(monkeypatch):
    monkeypatch.setenv("GENIMG_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU") as info:
        device()
    assert "GENIMG_DEVICE=cpu" in str(info.value), "the message should say how to fall back to the CPU"


def test_device_unknown_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("GENIMG_DEVICE", "tpu")
    with pytest.raises(ValueError, match="GENIMG_DEVICE") as info:
        device()
    assert "'tpu'" in str(info.value) and "cpu" in str(info.value)


def test_explicit_choice_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("GENIMG_DEVICE", "not-a-device")  # would raise if it were read
    assert device("cpu") == torch.device("cpu")
    monkeypatch.setenv("GENIMG_DEVICE", "cpu")
    with pytest.raises(ValueError):
        device("tpu")


# --- seed_everything ------------------------------------------------------------------------------

def _draws():
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    assert _draws() == first
    seed_everything(124)
    assert _draws() != first, "a different seed should give different draws"


def test_seed_everything_returns_a_generator_seeded_with_the_seed():
    g = seed_everything(7)
    assert isinstance(g, torch.Generator)
    assert g.initial_seed() == 7
    expected = torch.rand(4, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(torch.rand(4, generator=g), expected)


def test_seed_everything_accepts_numpy_integers():
    assert seed_everything(np.int64(5)).initial_seed() == 5


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(bad)


# --- set_threads ----------------------------------------------------------------------------------

def test_set_threads_sets_torch(torch_threads):
    assert set_threads(1) == 1
    assert torch.get_num_threads() == 1


def test_set_threads_sizes_numpys_and_scipys_linear_algebra_too(torch_threads):
    """Their BLAS pools are not PyTorch's: those loaded now are limited at once, those loaded later (SciPy's,
    in a child process) by the variables OpenBLAS reads when it loads."""
    import subprocess
    import sys

    from threadpoolctl import threadpool_info, threadpool_limits
    with threadpool_limits():  # the limits of the test's own process come back afterwards
        assert set_threads(2) == 2
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {2}
        assert set_threads(1) == 1
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    later = ("import genimg_edu, numpy; genimg_edu.set_threads(1); import scipy.linalg; "
             "from threadpoolctl import threadpool_info; print(sorted({p['num_threads'] for p in threadpool_info()}))")
    out = subprocess.run([sys.executable, "-c", later], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")})
    assert out.stdout.strip() == "[1]", out.stdout


def test_set_threads_reads_genimg_threads(monkeypatch, torch_threads):
    monkeypatch.setenv("GENIMG_THREADS", "1")
    assert set_threads() == 1 and torch.get_num_threads() == 1


def test_set_threads_default_is_the_cores_at_most_eight(monkeypatch, torch_threads):
    monkeypatch.delenv("GENIMG_THREADS", raising=False)
    expected = min(os.cpu_count() or 1, 8)
    assert set_threads() == expected and torch.get_num_threads() == expected


NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_sets_its_threads_in_the_setup_cell(path):
    """Without the call GENIMG_THREADS does nothing, and a kernel beside a busy core runs many times slower."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    setup = next("".join(c["source"]) for c in cells if c["cell_type"] == "code" and "seed_everything(" in "".join(c["source"]))
    assert "\nset_threads()" in setup, f"{path.name}: the setup cell must call set_threads()"


@pytest.mark.parametrize("n", [0, -2])
def test_set_threads_rejects_fewer_than_one(n, torch_threads):
    with pytest.raises(ValueError, match=">= 1"):
        set_threads(n)
    assert torch.get_num_threads() == torch_threads, "a rejected value must not change torch"


# --- environment_report ---------------------------------------------------------------------------

def test_environment_report_names_versions_and_device(monkeypatch):
    import cv2

    monkeypatch.setenv("GENIMG_DEVICE", "cpu")
    report = environment_report()
    assert {"python", "torch", "numpy", "opencv", "device"} <= set(report)
    assert report["numpy"] == np.__version__ and report["opencv"] == cv2.__version__
    assert torch.__version__.startswith(report["torch"])
    assert report["device"] == "cpu"
    assert all(isinstance(v, str) and v for v in report.values())


# --- atomic_write ---------------------------------------------------------------------------------

def _leftovers(folder, name):
    return [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".part")]


def test_atomic_write_writes_bytes_and_text(tmp_path):
    target = tmp_path / "sub" / "model.bin"  # the parent folder is created
    with atomic_write(target) as f:
        f.write(b"\x00\x01weights")
    assert target.read_bytes() == b"\x00\x01weights"
    with atomic_write(target, "w") as f:
        f.write("ça va — 猫\n")
    assert target.read_text(encoding="utf-8") == "ça va — 猫\n"
    assert _leftovers(target.parent, target.name) == []


def test_atomic_write_keeps_the_old_file_when_the_body_raises(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old content")
    with pytest.raises(KeyError):
        with atomic_write(target) as f:
            f.write(b"half of the new")
            raise KeyError("interrupted")
    assert target.read_bytes() == b"old content"
    assert _leftovers(tmp_path, target.name) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_replace_marked_swaps_only_the_marked_block_and_names_missing_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("top\n<!-- t:start -->\nold | table\n<!-- t:end -->\n<!-- u:start -->\nkeep\n<!-- u:end -->\n",
                      encoding="utf-8")
    replace_marked(readme, "t", "new | table\n")
    assert readme.read_text(encoding="utf-8") == ("top\n<!-- t:start -->\nnew | table\n<!-- t:end -->\n"
                                                   "<!-- u:start -->\nkeep\n<!-- u:end -->\n")
    with pytest.raises(ValueError, match=r"README.md has no <!-- v:start -->"):
        replace_marked(readme, "v", "x")


def test_atomic_write_leaves_nothing_when_the_first_write_fails(tmp_path):
    target = tmp_path / "new.pt"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_atomic_write_permissions_follow_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    target = tmp_path / "out.txt"
    with atomic_write(target, "w") as f:
        f.write("x")
    assert stat.S_IMODE(target.stat().st_mode) == expected


@pytest.mark.parametrize("mode", ["r", "a", "w+", "ab"])
def test_atomic_write_rejects_other_modes(tmp_path, mode):
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "x", mode):
            pass
    assert list(tmp_path.iterdir()) == [], "a rejected mode must not leave a temporary file"


# --- the threads' wait policy ---------------------------------------------------------------------

@pytest.mark.parametrize("preset, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_importing_the_package_makes_waiting_threads_sleep_unless_told_otherwise(preset, expected):
    """Spinning OpenMP threads collapse beside a busy core (benchmarks/threads_under_load.json)."""
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    out = subprocess.run([sys.executable, "-c", "import genimg_edu, os; print(os.environ['OMP_WAIT_POLICY'])"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_one_thread_runs_the_block_on_one_thread_and_gives_the_count_back():
    from genimg_edu.runtime import one_thread

    torch.set_num_threads(2)
    try:
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), one_thread():
            raise RuntimeError("inside")
        assert torch.get_num_threads() == 2, "given back after an error too"
    finally:
        torch.set_num_threads(1)
