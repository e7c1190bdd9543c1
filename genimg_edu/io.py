"""Atomic file writes — an interrupted run never leaves a half-written file behind — and the record
that every result a script or benchmark writes starts with."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import tempfile
import time
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Open a temporary file beside `path`; on success rename it over `path`.

    If the body raises (or the process is interrupted), the temporary file is
    removed and `path` keeps its previous content, or stays absent::

        with atomic_write("model.pt") as f:
            torch.save(state, f)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj) -> None:
    """Write `obj` as indented UTF-8 JSON, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def run_record(command: str, *, threads: int | None = None, note: str | None = None) -> dict:
    """The header of every result a script or benchmark writes: what ran, when, on what, beside what load.
    ``load_before``: the 1-minute load average just before — other work on the machine slows a timing."""
    import torch

    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return {"command": command, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {threads or torch.get_num_threads()} threads, "
                       f"torch {torch.__version__}" + (f"; {note}" if note else ""),
            "load_before": load}


def replace_marked(path: str | os.PathLike, name: str, body: str) -> None:
    """Atomically replace what lies between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the text
    file `path` (a README table written by a benchmark) with `body`; a file without the markers is an error."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no <!-- {name}:start --> … <!-- {name}:end --> markers; add them where "
                         "the table goes")
    block = f"<!-- {name}:start -->\n{body.strip()}\n<!-- {name}:end -->"
    with atomic_write(path, "w") as f:
        f.write(pattern.sub(lambda _: block, text))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
