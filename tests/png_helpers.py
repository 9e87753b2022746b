"""Crafted PNGs for the image-check tests: any header, any image data, any chunk count."""

from __future__ import annotations

import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


EMPTY_IDAT = _chunk(b"IDAT", b"")
IEND = _chunk(b"IEND", b"")


def crafted_png(width: int, height: int, data: bytes | None = None, *, bit_depth: int = 8, colour_type: int = 6,
                empty_chunks: int = 0) -> bytes:
    """A PNG whose header says width x height, with `data` as its image data (none: header
    only) followed by `empty_chunks` empty IDAT chunks."""
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([bit_depth, colour_type, 0, 0, 0])
    body = _chunk(b"IDAT", data) if data is not None else b""
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + body + EMPTY_IDAT * empty_chunks + IEND
