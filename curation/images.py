"""Checks on the PNGs a plotting sandbox produced, and grouping of images that look alike.

A row is only worth training on when its figure decodes, has a sane size, shows something
and was drawn by the code (not an empty canvas). The pHash here is the one imagehash
computes (pHash-8: 32x32 grey LANCZOS resize, 2-D DCT-II, 8x8 low frequencies against their
median), written with numpy so the project needs neither scipy nor imagehash.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image
from viscode.curation.minhash import components, link
from viscode.sandbox.capture import png_size

IMAGE_REASONS = ("undecodable", "too_small", "too_large", "blank", "no_artists")
BLANK_PHASH = "8000000000000000"  # a uniform image: only the DC coefficient lies above the median
# What Pillow raises on bad data: OSError (truncated, decoder errors, UnidentifiedImageError), SyntaxError (broken
# chunks, bad CRC), ValueError and EOFError (malformed chunks), zlib.error (corrupt compressed text chunks).
_BAD_DATA = (OSError, SyntaxError, ValueError, EOFError, zlib.error)
_HASH_SIDE, _HASH_BITS = 32, 8
_BUCKET_LIMIT = 1024  # a band bucket larger than this is split on more bits rather than compared pairwise
_LINK_BATCH = 1 << 22  # close pairs held before they are merged into the component forest
# Rows k < 8 of the unnormalized DCT-II that scipy.fftpack.dct computes: 2 * cos(pi * k * (2n + 1) / (2N)).
_DCT = 2.0 * np.cos(np.pi * np.outer(np.arange(_HASH_BITS), 2 * np.arange(_HASH_SIDE) + 1) / (2 * _HASH_SIDE))
# Coefficients are rounded before the median test so that float noise (BLAS kernels differ between machines) cannot
# decide a bit: coefficients that are zero in exact arithmetic (uniform or symmetric images) become exactly zero.
_DCT_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class ImageCheck:
    """Verdict on one PNG: reason None means usable; phash None means it was not decoded."""

    reason: str | None
    phash: str | None
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ImageBounds:
    """Limits for a usable figure.

    min_side: below 32 px a chart cannot show axes, marks and labels (a 1x1 PNG is a placeholder).
    max_side: 8192 px per side is ~80 in. at 100 dpi; beyond it a figure is a runaway figsize/dpi that
        costs hundreds of MB to decode and is useless to a vision model that resizes to ~1000 px anyway.
    max_bytes: matplotlib charts are 20-200 KB; 20 MiB is far past any real chart and bounds row size.
    min_grey_std: a grey standard deviation under 2 (of 255) means at most a few dozen non-background
        pixels on a 640x480 canvas: a blank figure. A single title line already gives ~10.
    """

    min_side: int = 32
    max_side: int = 8192
    max_bytes: int = 20 * 2**20
    min_grey_std: float = 2.0


DEFAULT_BOUNDS = ImageBounds()


def check_png(png: bytes | None, artists: int | None, bounds: ImageBounds = DEFAULT_BOUNDS) -> ImageCheck:
    """Decode once, then judge size, content and the sandbox's artist count (None: unknown, e.g. plotly).

    Oversized images are judged from the IHDR header alone and never decoded, so a hostile PNG cannot make
    curation spend memory on it (and under the default max_side Pillow's decompression-bomb check never fires).
    """
    size = png_size(png) if png else None
    if size is None:
        return ImageCheck("undecodable", None, 0, 0)
    width, height = size
    if len(png) > bounds.max_bytes or max(width, height) > bounds.max_side:
        return ImageCheck("too_large", None, width, height)
    try:
        image = Image.open(io.BytesIO(png), formats=["PNG"])
        image.load()
        grey = image.convert("L")
    except Image.DecompressionBombError:  # only reachable with a max_side above Pillow's pixel limit
        return ImageCheck("too_large", None, width, height)
    except _BAD_DATA:
        return ImageCheck("undecodable", None, width, height)
    digest = f"{phash(grey):016x}"
    if min(width, height) < bounds.min_side:
        return ImageCheck("too_small", digest, width, height)
    if digest == BLANK_PHASH or _grey_std(grey) < bounds.min_grey_std:
        return ImageCheck("blank", digest, width, height)
    if artists == 0:
        return ImageCheck("no_artists", digest, width, height)
    return ImageCheck(None, digest, width, height)


def _grey_std(grey: Image.Image) -> float:
    """Standard deviation from the 256-bin histogram Pillow counts in C: exact, and no float copy of the pixels."""
    counts = np.asarray(grey.histogram(), dtype=np.float64)
    levels = np.arange(256, dtype=np.float64)
    total = counts.sum()
    mean = counts @ levels / total
    return math.sqrt(max(counts @ (levels - mean) ** 2 / total, 0.0))


def phash(image: Image.Image) -> int:
    """pHash-8 as imagehash.phash computes it; bit 63 is the top-left (DC) coefficient, row-major after it."""
    pixels = np.asarray(image.convert("L").resize((_HASH_SIDE, _HASH_SIDE), Image.Resampling.LANCZOS), np.float64)
    low = np.round(_DCT @ pixels @ _DCT.T, _DCT_DECIMALS)
    bits = (low > np.median(low)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def image_clusters(keys: list[str], hashes: list[str], max_distance: int = 4) -> list[str]:
    """For every row, the minimum key of its component under "pHash Hamming distance <= max_distance".

    Exact: identical hashes collapse first, then two distinct hashes within the distance agree exactly on at least
    one of max_distance + 1 disjoint bit bands (pigeonhole), so comparing every pair that shares a band value
    misses nothing. Cost is the number of such pairs: for U uniform distinct hashes about (d + 1) U^2 / 2^(64 /
    (d + 1)), ~300M popcounts for 1M hashes at d = 4 (seconds). Clumped hashes are banded again within their
    bucket (see _close_components), but a dense clump of s distinct hashes costs up to s^2 / 2. Output depends only
    on the (key, hash) pairs, not on their order.
    """
    if len(keys) != len(hashes):
        raise ValueError(f"{len(keys)} keys but {len(hashes)} hashes")
    if not 0 <= max_distance < 64:
        raise ValueError(f"max_distance must be in [0, 64), got {max_distance}")
    if not keys:
        return []
    if any(len(h) != 16 for h in hashes):
        raise ValueError("every hash must be 16 hex digits")
    values = np.frombuffer(bytes.fromhex("".join(hashes)), dtype=">u8").astype(np.uint64)
    distinct, first_row, inverse = np.unique(values, return_index=True, return_inverse=True)
    smallest = _close_components(distinct, max_distance)  # per distinct hash, the first of its component
    return components(keys, np.arange(len(keys)), first_row[smallest[inverse]])


class _Linker:
    """Close pairs merged into a component forest in batches, so a clump with a quadratic number of close pairs
    never holds them all in memory."""

    def __init__(self, size: int) -> None:
        self.parent = np.arange(size)
        self.left: list[np.ndarray] = []
        self.right: list[np.ndarray] = []
        self.held = 0

    def add(self, left: np.ndarray, right: np.ndarray) -> None:
        self.left.append(left)
        self.right.append(right)
        self.held += left.size
        if self.held >= _LINK_BATCH:
            self.flush()

    def flush(self) -> np.ndarray:
        if self.left:
            self.parent = link(self.parent, np.concatenate(self.left), np.concatenate(self.right))
        self.left, self.right, self.held = [], [], 0
        return self.parent


def _close_components(values: np.ndarray, max_distance: int) -> np.ndarray:
    """Per distinct hash, the smallest index of its component under Hamming distance <= max_distance.

    Hashes equal on a band are compared pairwise. A bucket over _BUCKET_LIMIT is instead banded again on the bits
    where its members differ (every difference of a close pair lies there, so pigeonhole applies again and nothing
    is missed), but only where that at least halves its pair count: a dense clump is compared pairwise rather than
    fanned out level after level; when its members differ in max_distance bits or fewer, all of them are close.
    """
    linker = _Linker(values.size)
    pending = [(np.arange(values.size), True)]
    while pending:
        members, top = pending.pop()
        differing = int(np.bitwise_or.reduce(values[members] ^ values[members[0]]))
        if differing.bit_count() <= max_distance:
            linker.add(np.repeat(members[:1], members.size - 1), members[1:])
            continue
        grouped = []
        for band in _bands(values[members], differing, max_distance + 1):
            keys = values[members] & np.uint64(band)
            order = np.argsort(keys, kind="stable")
            starts = np.flatnonzero(np.r_[True, keys[order][1:] != keys[order][:-1]])
            grouped.append((members[order], starts, np.diff(np.r_[starts, members.size])))
        pairs = members.size * (members.size - 1) // 2
        banded_pairs = sum(int((sizes * (sizes - 1) // 2).sum()) for _, _, sizes in grouped)
        if not top and 2 * banded_pairs > pairs:
            for a, b in _pairs_in_runs(values, members, np.full(members.size, members.size), max_distance):
                linker.add(a, b)
            continue
        for ordered, starts, sizes in grouped:
            split = sizes > _BUCKET_LIMIT
            pending.extend((ordered[s : s + z], False) for s, z in zip(starts[split], sizes[split], strict=True))
            run_ends = np.repeat(np.where(split, starts + 1, starts + sizes), sizes)  # split runs: nothing to pair
            for a, b in _pairs_in_runs(values, ordered, run_ends, max_distance):
                linker.add(a, b)
    return linker.flush()


def _bands(values: np.ndarray, bits: int, parts: int) -> list[int]:
    """The set bits of `bits` dealt into `parts` disjoint masks, most evenly split bits first, so that every band
    gets its share of the bits that tell these hashes apart: pHash bits are far from uniform, and a band of
    near-constant bits would leave one huge bucket."""
    positions = [bit for bit in range(64) if bits >> bit & 1]
    ones = np.array([np.count_nonzero(values & np.uint64(1 << bit)) for bit in positions])
    ranked = [positions[i] for i in np.argsort(-np.minimum(ones, values.size - ones), kind="stable")]
    return [sum(1 << bit for bit in ranked[part::parts]) for part in range(parts)]


def _pairs_in_runs(
    values: np.ndarray, members: np.ndarray, ends: np.ndarray, max_distance: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Close pairs within runs of members (ends[i]: where the run holding position i ends), all runs at once:
    each position is paired with the one `offset` further on, for offset = 1, 2, ... while a run is longer."""
    position = np.arange(members.size)
    active = position[ends - position > 1]
    offset = 1
    while active.size:
        a, b = members[active], members[active + offset]
        close = np.bitwise_count(values[a] ^ values[b]) <= max_distance
        yield a[close], b[close]
        offset += 1
        active = active[ends[active] - active > offset]
