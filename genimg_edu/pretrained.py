"""Small pretrained checkpoints shipped inside the package, trained by `scripts/pretrain.py`.

``load(name)`` rebuilds the model from the manifest's config, checks the
file's SHA-256 against the manifest, loads the weights with
``torch.load(..., weights_only=True)`` (no pickled code is ever executed) and
returns the model in eval mode. Weights are stored in float16 to keep the
package small and loaded back as float32.

The manifest (`checkpoints/manifest.json`) records for each checkpoint how it
was made: the command, seed, hyperparameters, wall time, machine, and the
metrics measured on the bundled test split.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path

import torch

from genimg_edu.io import atomic_write
from genimg_edu.models import ConvVAE, DCGANGenerator, MLPVAE, MNISTClassifier, TinyUNet

CHECKPOINT_DIR = Path(__file__).with_name("checkpoints")
RESULTS_DIR = Path(__file__).with_name("results")  # precomputed results (sweeps) the notebooks plot
MANIFEST = CHECKPOINT_DIR / "manifest.json"
NAMES = ("cnn-mnist", "cnn-mnist-plain", "dcgan-mnist", "cgan-mnist", "vae-mnist", "vae2d-mnist", "betavae-shapes",
         "flow-mnist")
MODEL_CLASSES = {cls.__name__: cls for cls in (MNISTClassifier, DCGANGenerator, ConvVAE, MLPVAE, TinyUNet)}


class CheckpointError(ValueError):
    """A checkpoint file is missing from the manifest, corrupt, or does not fit its model."""


def manifest(directory: Path | str | None = None) -> dict:
    """The manifest in `directory` (the package's by default) as a dict; empty when none was written yet."""
    path = Path(directory) / MANIFEST.name if directory else MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def load(name: str, *, device=None, directory: Path | str | None = None) -> torch.nn.Module:
    """The pretrained model `name` (one of `NAMES`) in eval mode, on `device` (default: the course device).

    `directory`: where the checkpoint and its manifest are (the package's by default;
    ``scripts/pretrain.py --out DIR`` writes experiments elsewhere).
    """
    from genimg_edu import device as course_device

    if name not in NAMES:
        raise ValueError(f"unknown checkpoint {name!r}; expected one of {NAMES}")
    directory = Path(directory or CHECKPOINT_DIR)
    entry = manifest(directory).get(name)
    if entry is None:
        raise FileNotFoundError(f"checkpoint {name!r} is not in {directory / MANIFEST.name}; train it with "
                                f"`python scripts/pretrain.py {name}`")
    path = directory / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {path} is missing; reinstall genimg-edu or run "
                                f"`python scripts/pretrain.py {name}`")
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != entry["sha256"]:
        raise CheckpointError(f"checkpoint file {path} is corrupt: sha256 {digest}, manifest says {entry['sha256']}")
    try:
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        model = MODEL_CLASSES[entry["model"]](**entry["config"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except Exception as exc:  # noqa: BLE001 — any failure here means the file does not fit the model
        raise CheckpointError(f"checkpoint file {path} does not load into {entry['model']}: {exc}") from exc
    return model.to(device or course_device()).eval()


def result(name: str) -> dict:
    """A precomputed result shipped inside the package, e.g. ``result("stability")`` — notebook 05's
    settings sweep, written by ``scripts/stability_sweep.py`` (the command is stored inside it)."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in RESULTS_DIR.glob("*.json"))
        raise FileNotFoundError(f"no precomputed result {name!r} in {RESULTS_DIR}; expected one of {known}")
    return json.loads(path.read_text(encoding="utf-8"))


def save(name: str, model: torch.nn.Module, record: dict, *, directory: Path | str | None = None) -> Path:
    """Write `model`'s weights (float16) and its manifest entry into `directory`, both atomically.
    Used by scripts/pretrain.py."""
    if name not in NAMES:
        raise ValueError(f"unknown checkpoint {name!r}; expected one of {NAMES}")
    state = {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    directory = Path(directory or CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.pt"
    with atomic_write(path) as f:
        f.write(buf.getvalue())
    entry = {**record, "file": path.name, "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
             "model": type(model).__name__, "config": model.config}
    with _locked(directory):  # two recipes trained side by side must not drop each other's entry
        table = manifest(directory)
        table[name] = entry
        with atomic_write(directory / MANIFEST.name, "w") as f:
            json.dump(table, f, indent=2, sort_keys=True)
            f.write("\n")
    return path


@contextlib.contextmanager
def _locked(directory: Path):
    """An exclusive lock on the manifest while it is read, changed and written (POSIX; elsewhere a no-op)."""
    try:
        import fcntl
    except ImportError:  # Windows: one training run at a time
        yield
        return
    with open(directory / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
