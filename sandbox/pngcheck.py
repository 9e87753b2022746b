"""Is this PNG what its header says, within our size cap? Checked without decoding
unbounded data: the compressed image data is inflated in bounded steps and counted, never
kept, and stops as soon as it holds more than the header's width and height allow."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .capture import png_size

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
STEP = 1 << 16  # inflated bytes per step: small enough to reuse the same memory
MAX_CHUNKS = 1 << 16  # no plotting library writes a PNG of more chunks


def _raw_size(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    """Bytes the image data inflates to: every row's pixels plus its filter byte."""
    def rows(w: int, h: int) -> int:
        return h * ((w * bits_per_pixel + 7) // 8 + 1) if w and h else 0

    if not interlaced:
        return rows(width, height)
    return sum(rows((width - x + dx - 1) // dx, (height - y + dy - 1) // dy) for x, y, dx, dy in ADAM7)


@dataclass(slots=True)
class CheckBudget:
    """Bytes the image data of one snippet's PNGs may inflate to in all, valid or not: a
    flood of crafted images cannot hold the supervisor for long."""

    left: int


def png_problem(data: bytes, max_pixels: int, budget: CheckBudget) -> str | None:
    """None for a well-formed PNG of at most `max_pixels`, else what is wrong with it. What
    checking it inflates is charged to `budget`, whatever the verdict."""
    size = png_size(data)
    if size is None:
        return "not a PNG"
    width, height = size
    if not width or not height or width * height > max_pixels:
        return f"{width}x{height} pixels: over the {max_pixels}-pixel cap or empty"
    header = data[16:29]
    if len(header) < 13:
        return "truncated header"
    bit_depth, colour_type, _, _, interlace = header[8:13]
    if colour_type not in CHANNELS or bit_depth not in (1, 2, 4, 8, 16):
        return f"colour type {colour_type} with bit depth {bit_depth} is not PNG"
    expected = _raw_size(width, height, CHANNELS[colour_type] * bit_depth, interlace == 1)
    if expected > budget.left:
        return f"image data of {expected} bytes is over the {budget.left} bytes left to check"
    budget.left -= expected
    try:
        return _inflate_problem(_image_data(data), expected)
    except _Malformed as exc:
        return str(exc)


class _Malformed(Exception):
    pass


def _image_data(data: bytes) -> Iterator[memoryview]:
    """The IDAT chunks' bodies in order, one at a time (never a list: a file of millions of
    empty chunks must not cost memory), up to IEND."""
    view, position = memoryview(data), 8
    for _ in range(MAX_CHUNKS):
        if position + 8 > len(data):
            raise _Malformed("no end chunk")
        length, kind = struct.unpack_from(">I4s", data, position)
        if position + 12 + length > len(data):
            raise _Malformed("truncated")
        if kind == b"IEND":
            return
        if kind == b"IDAT":
            yield view[position + 8:position + 8 + length]
        position += 12 + length
    raise _Malformed(f"more than {MAX_CHUNKS} chunks")


def _inflate_problem(chunks: Iterable[memoryview], expected: int) -> str | None:
    """Inflate in STEP-sized pieces, counting; stop at the first byte past `expected`."""
    inflater, produced = zlib.decompressobj(), 0
    try:
        for body in chunks:
            while not inflater.eof:
                out = inflater.decompress(body, STEP)
                produced += len(out)
                if produced > expected:
                    return "image data larger than its header says"
                body = inflater.unconsumed_tail
                if not body and len(out) < STEP:
                    break  # this chunk is used up and nothing more is pending
    except zlib.error as exc:
        return f"corrupt image data ({exc})"
    if not inflater.eof or produced != expected:
        return f"image data of {produced} bytes where its header says {expected}"
    return None
