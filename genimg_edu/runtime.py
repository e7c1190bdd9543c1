"""Where the course runs: device choice, seeding, noise, CPU threads, and how training reports progress.

The same notebook runs unchanged on a laptop CPU and on a CUDA GPU: every
notebook asks `device()` instead of writing ``"cuda"``, seeds with
`seed_everything(seed)` and draws noise with `noise(...)`, which gives the same
numbers on either device for a seeded generator.

This is the bottom layer of the package: it imports nothing of the course's own, at module
level or inside a function. It keeps one setting for the layers above: which reporter `fit`
shows progress with when not told (`set_default_reporter`) — the user interface passes one in
(`dashboard.use_dashboard`), so that neither `fit` nor this module ever imports it.
"""
from __future__ import annotations

import contextlib
import os
import platform
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def device(choice: str | None = None) -> torch.device:
    """Return the torch device the course should use.

    `choice` defaults to the environment variable ``GENIMG_DEVICE`` (``auto``
    when unset): ``auto`` picks CUDA when available and the CPU otherwise;
    ``cuda`` insists on a GPU and fails with a clear message when there is none.
    """
    if choice is not None and not isinstance(choice, str):
        raise TypeError(f"choice must be a string, one of {DEVICE_CHOICES}, or None, got {choice!r} "
                        f"({type(choice).__name__})")
    source = "device()" if choice else "GENIMG_DEVICE"
    choice = (choice or os.environ.get("GENIMG_DEVICE") or "auto").strip().lower()
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"{source}: {choice!r} is not understood; expected one of {DEVICE_CHOICES}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("GENIMG_DEVICE=cuda was asked for, but PyTorch sees no CUDA GPU "
                           f"(torch {torch.__version__}); use GENIMG_DEVICE=cpu or install a CUDA build")
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) and return a seeded CPU `torch.Generator`.

    Pass the returned generator to sampling functions when a cell must not
    depend on what ran before it.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)  # random.seed rejects NumPy integers
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(int(seed))


def noise(*shape: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Standard normal noise of `shape`, drawn on the CPU and moved to `device`.

    A seeded CPU generator then gives the same numbers whatever the device, so a
    notebook's samples on a GPU are those of the CPU (up to the network's float error).
    `shape` is whole numbers >= 0, one by one (``noise(2, 3)``) or as one sequence (``noise(x.shape)``).
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])  # as torch.randn((2, 3)) takes it
    for i, s in enumerate(shape):
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"shape[{i}] must be a whole number (int), got {s!r} ({type(s).__name__}); "
                            f"noise takes the sizes of the shape, e.g. noise(2, 3)")
        if s < 0:
            raise ValueError(f"shape[{i}] must be an integer >= 0, got {s}")
    if generator is not None and (not isinstance(generator, torch.Generator) or generator.device.type != "cpu"):
        raise TypeError(f"generator must be a CPU torch.Generator or None, got {generator!r}")
    if device is not None and not isinstance(device, torch.device):
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            raise ValueError(f"device must be a torch.device, 'cpu', 'cuda' or None, got {device!r}") from None
    return torch.randn(tuple(int(s) for s in shape), generator=generator).to(device)


def is_live() -> bool:
    """True when controls can be used, i.e. not under nbval or ``GENIMG_WIDGETS=static``."""
    mode = os.environ.get("GENIMG_WIDGETS", "auto").strip().lower()
    if mode not in ("auto", "live", "static"):
        raise ValueError(f"GENIMG_WIDGETS={mode!r} is not understood; expected live, static or auto")
    if mode == "auto":
        return "PYTEST_CURRENT_TEST" not in os.environ
    return mode == "live"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a browser may show widgets), False in a terminal or a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


_reporter_factory = None  # set by the user interface: `dashboard.use_dashboard`


def set_default_reporter(factory) -> None:
    """From now on `fit` shows progress with ``factory()`` when its caller does not say (None: log lines).
    `factory` is called at the start of each run and may itself return None; ``None`` undoes the setting."""
    global _reporter_factory
    if factory is not None and not callable(factory):
        raise TypeError(f"factory must be a callable that returns a reporter (or None), got {factory!r}")
    _reporter_factory = factory


def default_reporter():
    """The reporter `fit` uses when not told: what the `set_default_reporter` factory returns, else None,
    which `fit` turns into log lines (its `LogReporter`) — in a terminal, under nbval and in tests."""
    return _reporter_factory() if _reporter_factory is not None else None


def set_threads(n: int | None = None) -> int:
    """Set the CPU threads of PyTorch and of NumPy's and SciPy's linear algebra (default: ``GENIMG_THREADS`` or
    all cores, at most 8).

    Small models gain nothing from more threads than cores, and oversubscribing
    a 1-CPU Binder pod makes everything slower. The linear algebra behind NumPy,
    SciPy and scikit-learn (OpenBLAS, OpenMP) keeps a thread pool of its own, sized
    to the machine's cores, which ``torch.set_num_threads`` does not reach: beside
    two busy programs on 2 cores, 100 Fréchet distances (128 features) took 8.7–8.8 s
    on its two threads and 0.5–1.0 s on one (2026-12-07). Returns the number set.
    """
    if n is None:
        env = os.environ.get("GENIMG_THREADS", "").strip()
        if env and not env.isdigit():
            raise ValueError(f"GENIMG_THREADS={env!r} is not a whole number of threads")
        n = int(env or 0) or min(os.cpu_count() or 1, 8)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n (threads) must be a whole number (int) or None, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise ValueError(f"n (threads) must be >= 1, got {n}")
    n = int(n)
    torch.set_num_threads(n)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):  # for the pools loaded later
        os.environ[var] = str(n)  # (SciPy's own OpenBLAS, scikit-learn's OpenMP), and for child processes
    threadpool_limits(n)  # the pools loaded already (NumPy's OpenBLAS, PyTorch's OpenMP)
    return n


@contextlib.contextmanager
def one_thread():
    """Run the block on one PyTorch thread, then give back the count it had.

    For tiny models — the toy GAN's and the ring flow's small MLPs on 2-D points — whose operations are too
    small to share: the threads' hand-offs cost more than the arithmetic. The toy GAN's 1,000 rounds took
    12.5 s on two threads and 6.4 s on one inside a Jupyter kernel on two cores (2026-12-08); a lab's flow
    MLP stepped in 13 ms on two threads and 7 ms on one; on a busy CPU a Step click of notebook 03's stepper
    went from 160 ms to seconds (benchmarks/widget_latency.py).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def environment_report() -> dict[str, str]:
    """Versions and hardware, for the welcome notebook and bug reports."""
    import cv2
    import matplotlib

    dev = device()
    report = {
        "python": platform.python_version(),
        "torch": torch.__version__.split("+")[0],
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "matplotlib": matplotlib.__version__,
        "device": dev.type,
        "cpu threads": str(torch.get_num_threads()),
    }
    if dev.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(dev)
    return report
