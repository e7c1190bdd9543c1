"""Downloads against a loopback HTTP server serving small generated IDX files — never the internet."""
from __future__ import annotations

import hashlib
import http.server
import socket
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pooch.core
import pytest

from genimg_edu.data import download
from genimg_edu.data.download import (RETRIES, ChecksumError, DownloadError, RemoteDataset, cache_dir,
                                      download_file, fetch_idx_dataset)
from genimg_edu.data.idx import encode_idx

pytestmark = pytest.mark.network

TRAIN_IMAGES, TRAIN_LABELS = download.REMOTE_DATASETS["mnist-full"].files["train"]


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch):
    """The seconds pooch waits between attempts, recorded instead of slept (pooch.core calls time.sleep)."""
    waits: list[float] = []
    monkeypatch.setattr(pooch.core, "time", types.SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture
def generated():
    """20 random 28×28 images and labels, and their IDX .gz bytes by file name."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=20, dtype=np.uint8)
    return images, labels, {TRAIN_IMAGES: encode_idx(images), TRAIN_LABELS: encode_idx(labels)}


@pytest.fixture
def server():
    """A loopback server; set ``server.routes[path] = (status, body, content_length)``, or a list of
    such responses, given in turn (the last one repeats)."""
    routes: dict[str, tuple[int, bytes, int]] = {}
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            response = routes.get(self.path, (404, b"not found", 9))
            if isinstance(response, list):
                response = response.pop(0) if len(response) > 1 else response[0]
            status, body, length = response
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)  # a length above len(body) imitates a dropped connection
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.routes, httpd.requests = routes, requests
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def serve(server, prefix, files, *, extra=0):
    for filename, body in files.items():
        server.routes[f"{prefix}/{filename}"] = (200, body, len(body) + extra)


@pytest.fixture
def fake_remote(monkeypatch, server, generated):
    """Point "mnist-full" at the loopback server, with digests of the generated files."""
    def install(*prefixes):
        remote = RemoteDataset(mirrors=tuple(f"{server.url}{p}/" for p in prefixes),
                               files={"train": (TRAIN_IMAGES, TRAIN_LABELS)},
                               sha256={f: hashlib.sha256(b).hexdigest() for f, b in generated[2].items()},
                               licence="test", citation="test")
        monkeypatch.setitem(download.REMOTE_DATASETS, "mnist-full", remote)
        return remote
    return install


def corrupt(body: bytes) -> bytes:
    """The same bytes with one flipped in the middle."""
    i = len(body) // 2
    return body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1:]


def files_in(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_download_then_cached(server, generated, fake_remote, tmp_path):
    images, labels, files = generated
    serve(server, "/a", files)
    fake_remote("/a")
    x, y = fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert [str(p) for p in files_in(tmp_path)] == sorted(f"mnist-full/{f}" for f in (TRAIN_IMAGES, TRAIN_LABELS))
    assert len(server.requests) == 2
    x2, y2 = fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(x2, images)
    assert len(server.requests) == 2, "a cached dataset must not be downloaded again"


def test_corrupted_file_raises_checksum_error_and_keeps_nothing(server, generated, fake_remote, tmp_path):
    _, _, files = generated
    serve(server, "/a", {name: corrupt(body) for name, body in files.items()})
    fake_remote("/a")
    with pytest.raises(ChecksumError, match="expected") as info:
        fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    message = str(info.value)
    assert f"{server.url}/a/{TRAIN_IMAGES}" in message
    assert hashlib.sha256(files[TRAIN_IMAGES]).hexdigest() in message
    assert hashlib.sha256(corrupt(files[TRAIN_IMAGES])).hexdigest() in message
    assert server.requests == [f"/a/{TRAIN_IMAGES}"] * (RETRIES + 1)
    assert files_in(tmp_path) == []


def test_download_file_checksum_error_names_url_and_digests(server, tmp_path):
    server.routes["/x"] = (200, b"hello", 5)
    wanted = "0" * 64
    with pytest.raises(ChecksumError) as info:
        download_file(f"{server.url}/x", tmp_path / "x", digest=("sha256", wanted), progress=False, timeout=5)
    message = str(info.value)
    assert f"{server.url}/x" in message and wanted in message and hashlib.sha256(b"hello").hexdigest() in message
    assert files_in(tmp_path) == []


def test_dropped_connection_raises_download_error(server, generated, fake_remote, tmp_path):
    _, _, files = generated
    serve(server, "/a", files, extra=1000)
    fake_remote("/a")
    with pytest.raises(DownloadError, match="127.0.0.1") as info:
        fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    assert f"{server.url}/a/{TRAIN_IMAGES}: the connection broke off" in str(info.value)
    assert "you appear to be offline" not in str(info.value)
    assert files_in(tmp_path) == []


def test_falls_back_to_second_mirror(server, generated, fake_remote, tmp_path):
    images, _, files = generated
    serve(server, "/b", files)
    fake_remote("/a", "/b")  # nothing under /a: 404
    x, _ = fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(x, images)
    # pooch retries /a (a 404 too) RETRIES times before the next mirror is tried
    assert server.requests[:RETRIES + 2] == [f"/a/{TRAIN_IMAGES}"] * (RETRIES + 1) + [f"/b/{TRAIN_IMAGES}"]
    assert files_in(tmp_path) == sorted(Path("mnist-full", f) for f in (TRAIN_IMAGES, TRAIN_LABELS))


def test_transient_failure_is_retried(server, generated, fake_remote, tmp_path, retry_waits):
    images, _, files = generated
    body = files[TRAIN_IMAGES]
    serve(server, "/a", files)
    server.routes[f"/a/{TRAIN_IMAGES}"] = [(200, body, len(body) + 1000), (200, corrupt(body), len(body)),
                                           (200, body, len(body))]  # dropped, then damaged, then right
    fake_remote("/a")
    x, _ = fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(x, images)
    assert server.requests.count(f"/a/{TRAIN_IMAGES}") == 3 and len(retry_waits) == 2
    assert files_in(tmp_path) == sorted(Path("mnist-full", f) for f in (TRAIN_IMAGES, TRAIN_LABELS))


def test_download_replaces_a_damaged_cached_file(server, generated, fake_remote, tmp_path):
    images, _, files = generated
    serve(server, "/a", files)
    fake_remote("/a")
    (tmp_path / "mnist-full").mkdir()
    (tmp_path / "mnist-full" / TRAIN_IMAGES).write_bytes(corrupt(files[TRAIN_IMAGES]))
    x, _ = fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(x, images)
    assert (tmp_path / "mnist-full" / TRAIN_IMAGES).read_bytes() == files[TRAIN_IMAGES]


def test_all_mirrors_fail_lists_every_url(server, fake_remote, tmp_path):
    fake_remote("/a", "/b")
    with pytest.raises(DownloadError) as info:
        fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path, progress=False)
    assert f"{server.url}/a/{TRAIN_IMAGES}" in str(info.value) and f"{server.url}/b/{TRAIN_IMAGES}" in str(info.value)
    assert "404" in str(info.value)
    assert files_in(tmp_path) == []


def test_base_url_overrides_mirrors(server, generated, fake_remote, tmp_path):
    images, _, files = generated
    serve(server, "/c", files)
    fake_remote("/a")
    x, _ = fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path,
                             base_url=f"{server.url}/c", progress=False)
    np.testing.assert_array_equal(x, images)
    assert all(path.startswith("/c/") for path in server.requests)


def test_offline_message(monkeypatch, fake_remote, tmp_path):
    with socket.socket() as s:  # a loopback port with nobody listening: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake_remote("/a")
    with pytest.raises(DownloadError, match="offline") as info:
        fetch_idx_dataset("mnist-full", "train", download=True, cache_dir=tmp_path,
                          base_url=f"http://127.0.0.1:{port}/", progress=False)
    assert 'load_dataset("mnist")' in str(info.value)


def test_missing_without_download_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_idx_dataset("fashion-mnist", "test", cache_dir=tmp_path)
    message = str(info.value)
    assert "download=True" in message and str(tmp_path / "fashion-mnist") in message
    assert "t10k-images-idx3-ubyte.gz" in message and '"mnist"' in message
    assert files_in(tmp_path) == []


def test_damaged_cached_file_without_download(generated, fake_remote, tmp_path):
    _, _, files = generated
    fake_remote("/a")
    folder = tmp_path / "mnist-full"
    folder.mkdir()
    (folder / TRAIN_IMAGES).write_bytes(corrupt(files[TRAIN_IMAGES]))
    (folder / TRAIN_LABELS).write_bytes(files[TRAIN_LABELS])
    with pytest.raises(ChecksumError, match=TRAIN_IMAGES):
        fetch_idx_dataset("mnist-full", "train", cache_dir=tmp_path)


def test_genimg_data_is_honoured(monkeypatch, server, generated, fake_remote, tmp_path):
    monkeypatch.setenv("GENIMG_DATA", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data"
    serve(server, "/a", generated[2])
    fake_remote("/a")
    fetch_idx_dataset("mnist-full", "train", download=True, progress=False)
    assert (tmp_path / "data" / "mnist-full" / TRAIN_IMAGES).is_file()


def test_default_cache_dirs(monkeypatch, tmp_path):
    monkeypatch.delenv("GENIMG_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "genimg-edu"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache_dir() == tmp_path / "local" / "genimg-edu"


def test_unknown_name_and_split(tmp_path):
    with pytest.raises(ValueError, match="expected one of"):
        fetch_idx_dataset("cifar", "train", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="expected one of"):
        fetch_idx_dataset("mnist-full", "valid", cache_dir=tmp_path)


def test_registry_lists_licences_and_full_digests():
    for remote in download.REMOTE_DATASETS.values():
        assert set(remote.sha256) == {f for pair in remote.files.values() for f in pair}
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in remote.sha256.values())
        assert remote.licence and remote.citation and remote.mirrors


@pytest.mark.parametrize("kwargs, error, argument", [
    ({"base_url": "ftp://example.org/mnist/"}, ValueError, "base_url"),
    ({"base_url": "example.org/mnist"}, ValueError, "base_url"),
    ({"cache_dir": 3}, TypeError, "cache_dir"),
    ({"download": "yes"}, TypeError, "download"),
    ({"progress": None}, TypeError, "progress"),
])
def test_bad_arguments_are_named(kwargs, error, argument, tmp_path):
    kwargs.setdefault("cache_dir", tmp_path)
    with pytest.raises(error, match=argument):
        fetch_idx_dataset("mnist-full", "train", **kwargs)
    assert not (tmp_path / "mnist-full").exists()


@pytest.mark.parametrize("kwargs, argument", [
    ({"digest": ("sha256", "abc")}, "digest"),  # too short
    ({"digest": ("sha256", "z" * 64)}, "digest"),  # not hex
    ({"digest": ("sha999", "0" * 64)}, "digest"),  # unknown algorithm
    ({"digest": "sha256:" + "0" * 64}, "digest"),  # not a pair
    ({"url": "not a url"}, "url"),
    ({"timeout": 0}, "timeout"),
])
def test_download_file_bad_arguments_are_named(kwargs, argument, tmp_path):
    kwargs = {"url": "http://127.0.0.1:9/x", "digest": ("sha256", "0" * 64), **kwargs}
    with pytest.raises(ValueError, match=argument):
        download_file(kwargs.pop("url"), tmp_path / "x", progress=False, **kwargs)
    assert files_in(tmp_path) == []
