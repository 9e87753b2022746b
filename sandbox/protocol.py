"""Framed messages over pipes: a JSON header plus raw binary blobs.

Used between the host and the in-jail supervisor, and between a snippet's process
and its supervisor. Everything that comes out of a jail is untrusted data, so the
reader enforces size caps and only ever parses JSON (never pickle).
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

_LEN = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent something malformed, oversized, or closed the pipe early."""


def write_message(stream: BinaryIO, header: dict[str, Any], blobs: list[bytes] = ()) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    data = json.dumps(header, separators=(",", ":")).encode()
    stream.write(_LEN.pack(len(data)) + data)
    for blob in blobs:
        stream.write(blob)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ProtocolError(f"pipe closed with {left} of {n} bytes unread")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(stream: BinaryIO, max_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """Read one message; raise ProtocolError if it is malformed or over max_bytes in all."""
    (size,) = _LEN.unpack(_read_exact(stream, _LEN.size))
    if size > max_bytes:
        raise ProtocolError(f"header of {size} bytes exceeds the {max_bytes} byte cap")
    try:
        header = json.loads(_read_exact(stream, size))
    except ValueError as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    sizes = header.pop("blobs", [])
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise ProtocolError("blob sizes must be a list of non-negative integers")
    if size + sum(sizes) > max_bytes:
        raise ProtocolError(f"message of {size + sum(sizes)} bytes exceeds the {max_bytes} byte cap")
    return header, [_read_exact(stream, s) for s in sizes]


def take_stdio() -> tuple[BinaryIO, BinaryIO]:
    """For a server on stdin/stdout: keep those pipes as the request and reply channels,
    and point fds 0 and 1 elsewhere so stray prints from libraries cannot corrupt them."""
    import os

    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    return requests, replies
