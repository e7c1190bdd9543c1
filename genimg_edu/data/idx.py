"""The IDX format of the original MNIST files, read and written with NumPy.

An IDX file is a 4-byte magic number — two zero bytes, a type code
(``0x08`` = unsigned byte) and the number of dimensions — then one big-endian
uint32 per dimension, then the values in C order. The files are usually gzipped.
"""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np

from genimg_edu.io import atomic_write

UBYTE = 0x08


class IDXFormatError(ValueError):
    """A file that should be IDX (optionally gzipped) is not."""


def parse_idx(data: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes (gzipped or not) into a uint8 array; `source` names the file in errors."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise IDXFormatError(f"{source}: gzip stream is corrupt or truncated ({exc})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise IDXFormatError(f"{source}: not an IDX file (expected magic bytes 00 00 at the start)")
    if data[2] != UBYTE:
        raise IDXFormatError(f"{source}: IDX type code 0x{data[2]:02x} is not supported (expected 0x08, unsigned byte)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{source}: IDX header truncated")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(shape)) if ndim else 1
    if len(data) - header != expected:
        raise IDXFormatError(f"{source}: IDX header announces shape {shape} ({expected} bytes), "
                             f"found {len(data) - header} bytes of data")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) into a uint8 array."""
    with open(path, "rb") as f:
        return parse_idx(f.read(), source=os.fspath(path))


def encode_idx(array: np.ndarray, *, compress: bool = True) -> bytes:
    """Encode a uint8 array as IDX bytes; gzip with mtime 0 so equal arrays give equal bytes."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"encode_idx expects a uint8 array, got {array.dtype}")
    raw = bytes([0, 0, UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    return gzip.compress(raw, compresslevel=9, mtime=0) if compress else raw


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` atomically as gzipped IDX (reproducible bytes)."""
    with atomic_write(path) as f:
        f.write(encode_idx(array))
