"""Atomic file writes: an interrupted run never leaves a half-written file behind."""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
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
