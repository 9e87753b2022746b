"""Image checks on real matplotlib renders and on broken PNGs, the pHash against its definition and against
imagehash's output, and exact, order-free pHash clustering."""

from __future__ import annotations

import io
import math
import random
import struct
import zlib

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from viscode.curation import images
from viscode.curation.images import (
    BLANK_PHASH,
    IMAGE_REASONS,
    ImageBounds,
    check_png,
    image_clusters,
    phash,
)


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes (what image_clusters bounds)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    plt.close(fig)
    return buf.getvalue()


def _bar(color: str, title: str) -> bytes:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(["a", "b", "c", "d", "e"], [3, 7, 2, 5, 4], color=color)
    ax.set_title(title)
    return _png(fig)


def _line() -> bytes:
    fig, ax = plt.subplots(figsize=(4, 3))
    x = np.linspace(0, 10, 100)
    ax.plot(x, np.sin(x))
    ax.set_title("Signal")
    return _png(fig)


def _scatter() -> bytes:
    fig, ax = plt.subplots(figsize=(4, 3))
    rng = np.random.default_rng(3)
    ax.scatter(rng.normal(size=60), rng.normal(size=60), color="C3")
    ax.set_title("Sample")
    return _png(fig)


def _encode(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _pattern(width: int, height: int, mode: str) -> Image.Image:
    """A deterministic, busy test image."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    grey = ((x * 3 + y * 5) ^ (x * y // 7)) % 256
    if mode == "L":
        return Image.fromarray(grey.astype(np.uint8), "L")
    rgb = np.stack([grey, x * 255 // width, y * 255 // height], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def charts() -> dict[str, bytes]:
    return {"bar": _bar("tab:blue", "Sales by region"), "recoloured": _bar("tab:orange", "Revenue per area"),
            "line": _line(), "scatter": _scatter()}


def test_real_charts_are_usable_and_similar_charts_hash_close(charts):
    checks = {name: check_png(png, 5) for name, png in charts.items()}
    for check in checks.values():
        assert check.reason is None
        assert (check.width, check.height) == (200, 150)
        assert len(check.phash) == 16 and int(check.phash, 16) >= 0 and check.phash == check.phash.lower()
    assert hamming(checks["bar"].phash, checks["recoloured"].phash) <= 4
    for other in ("line", "scatter"):
        assert hamming(checks["bar"].phash, checks[other].phash) > 4
    assert hamming(checks["line"].phash, checks["scatter"].phash) > 4
    keys = ["k-bar", "k-recoloured", "k-line", "k-scatter"]
    reps = image_clusters(keys, [checks[k[2:]].phash for k in keys])
    assert reps == ["k-bar", "k-bar", "k-line", "k-scatter"]


def test_empty_figure_and_uniform_images_are_blank():
    empty = check_png(_png(plt.figure(figsize=(4, 3))), 0)
    assert (empty.reason, empty.phash) == ("blank", BLANK_PHASH)
    white = check_png(_encode(Image.new("RGB", (300, 200), "white")), 3)
    assert (white.reason, white.phash, white.width, white.height) == ("blank", BLANK_PHASH, 300, 200)
    assert check_png(_encode(Image.new("L", (300, 200), 0)), 3).reason == "blank"  # black: pHash 0, std 0


def test_nearly_uniform_is_blank_but_a_little_text_is_not():
    canvas = np.full((200, 300), 255, dtype=np.uint8)
    canvas[100, 150] = 0  # one dark pixel: std ~0.85
    assert check_png(_encode(Image.fromarray(canvas)), 1).reason == "blank"
    fig = plt.figure(figsize=(4, 3))
    fig.suptitle("Only a title")
    assert check_png(_png(fig), 1).reason is None


def test_empty_axes_with_no_artists_are_rejected_but_unknown_counts_are_not(charts):
    fig, _ = plt.subplots(figsize=(4, 3))
    axes_only = _png(fig)
    assert check_png(axes_only, 0).reason == "no_artists"
    assert check_png(charts["bar"], 0).reason == "no_artists"
    assert check_png(charts["bar"], None).reason is None  # plotly and others report no count


def test_broken_bytes_are_undecodable(charts):
    png = charts["bar"]
    rng = random.Random(0)
    corrupt = bytearray(png)
    for i in range(len(png) // 2, len(png) // 2 + 40):
        corrupt[i] ^= 0xFF
    cases = {
        "truncated": png[: len(png) // 2],
        "header only": png[:33],
        "magic only": png[:8],
        "random": bytes(rng.randrange(256) for _ in range(4000)),
        "magic then random": png[:8] + bytes(rng.randrange(256) for _ in range(4000)),
        "corrupt data": bytes(corrupt),
        "jpeg": _jpeg(),
        "empty": b"",
    }
    for name, data in cases.items():
        check = check_png(data, 5)
        assert check.reason == "undecodable", name
        assert check.phash is None, name
    assert check_png(None, None).reason == "undecodable"


def _jpeg() -> bytes:
    buf = io.BytesIO()
    _pattern(64, 64, "RGB").save(buf, format="JPEG")
    return buf.getvalue()


def test_size_bounds():
    tiny = check_png(_encode(Image.new("RGB", (1, 1), "red")), 1)
    assert (tiny.reason, tiny.width, tiny.height) == ("too_small", 1, 1)
    busy = _encode(_pattern(200, 150, "L"))
    assert check_png(busy, 1).reason is None
    assert check_png(busy, 1, ImageBounds(min_side=151)).reason == "too_small"
    wide = check_png(busy, 1, ImageBounds(max_side=199))
    assert (wide.reason, wide.phash, wide.width, wide.height) == ("too_large", None, 200, 150)
    assert check_png(busy, 1, ImageBounds(max_bytes=len(busy) - 1)).reason == "too_large"
    # A header claiming a huge canvas (a decompression bomb) is judged without decoding anything.
    header = check_png(_with_size(busy, 50_000, 40_000), 1)
    assert (header.reason, header.phash, header.width, header.height) == ("too_large", None, 50_000, 40_000)


def _with_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR claiming another size, CRC fixed so only the size is wrong."""
    ihdr = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def test_reasons_are_the_published_ones(charts):
    seen = {check_png(charts["bar"], 0).reason, check_png(b"nope", 1).reason,
            check_png(_encode(Image.new("L", (1, 1))), 1).reason,
            check_png(_encode(Image.new("L", (64, 64))), 1).reason,
            check_png(_encode(_pattern(64, 64, "L")), 1, ImageBounds(max_side=10)).reason}
    assert seen == set(IMAGE_REASONS)


def _slow_phash(image: Image.Image) -> int:
    """pHash-8 straight from its definition: scipy.fftpack's unnormalized DCT-II along both axes, as loops."""
    pixels = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    size = 32
    coefficients = [[0.0] * 8 for _ in range(8)]
    for u in range(8):
        for v in range(8):
            total = 0.0
            for row in range(size):
                for col in range(size):
                    total += (pixels[row, col] * math.cos(math.pi * u * (2 * row + 1) / (2 * size))
                              * math.cos(math.pi * v * (2 * col + 1) / (2 * size)))
            coefficients[u][v] = 4 * total
    flat = [c for line in coefficients for c in line]
    median = float(np.median(flat))
    return int("".join("1" if c > median else "0" for c in flat), 2)


@pytest.mark.parametrize(("width", "height", "mode"), [(32, 32, "L"), (200, 150, "L"), (123, 77, "RGB")])
def test_phash_matches_its_definition(width, height, mode):
    image = _pattern(width, height, mode)
    assert phash(image) == _slow_phash(image)


def test_phash_matches_imagehash():
    # imagehash 4.3.2 (scipy 1.18, Pillow 13) gives these for the same images.
    assert f"{phash(_pattern(200, 150, 'L')):016x}" == "e0e0e70707046f7f"
    assert f"{phash(_pattern(123, 77, 'RGB')):016x}" == "834e19137f4a5cb9"
    assert f"{phash(_pattern(32, 32, 'L')):016x}" == "a42b51976d53e42b"
    gradient = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (64, 1)), "L")
    assert f"{phash(gradient):016x}" == "aa00000000000000"


def test_uniform_images_hash_to_the_blank_constant():
    for image in (Image.new("L", (40, 30), 200), Image.new("RGB", (640, 480), "white"), Image.new("RGBA", (7, 9))):
        expected = 0 if image.convert("L").getpixel((0, 0)) == 0 else int(BLANK_PHASH, 16)
        assert phash(image) == expected


def _flip(value: int, *bits: int) -> str:
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


def test_chains_join_and_representative_is_the_minimum_key():
    a = 0x0123456789ABCDEF
    rows = {"m": _flip(a), "c": _flip(a, 1, 9, 30, 63), "x": _flip(a, 1, 9, 30, 63, 2, 40, 50, 60),
            "b": _flip(a, 1, 9, 30, 63, 2, 40, 50, 60, 3, 4, 5, 6, 7), "far": f"{~a & (2**64 - 1):016x}",
            "same": _flip(a, 1, 9, 30, 63)}
    keys, hashes = list(rows), list(rows.values())
    assert hamming(rows["m"], rows["x"]) == 8 and hamming(rows["x"], rows["b"]) == 5
    reps = dict(zip(keys, image_clusters(keys, hashes), strict=True))
    assert reps == {"m": "c", "c": "c", "x": "c", "b": "b", "far": "far", "same": "c"}
    wider = dict(zip(keys, image_clusters(keys, hashes, 5), strict=True))
    assert wider == {"m": "b", "c": "b", "x": "b", "b": "b", "far": "far", "same": "b"}
    exact = dict(zip(keys, image_clusters(keys, hashes, 0), strict=True))
    assert exact == {"m": "m", "c": "c", "x": "x", "b": "b", "far": "far", "same": "c"}


def _brute_force(keys: list[str], hashes: list[str], max_distance: int) -> list[str]:
    values = np.array([int(h, 16) for h in hashes], dtype=np.uint64)
    label = [""] * len(keys)
    for start in range(len(keys)):
        if label[start]:
            continue
        component, stack, seen = [], [start], {start}
        while stack:
            node = stack.pop()
            component.append(node)
            for other in np.flatnonzero(np.bitwise_count(values ^ values[node]) <= max_distance).tolist():
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        smallest = min(keys[i] for i in component)
        for node in component:
            label[node] = smallest
    return label


def _clumped_hashes(rng: np.random.Generator, count: int) -> list[str]:
    """Hashes as charts give them: a dense clump near one centre, a block sharing many bits, and noise."""
    centre = int(rng.integers(0, 2**63, dtype=np.uint64))
    out = []
    for i in range(count):
        kind = i % 3
        if kind == 0:  # dense clump: up to 3 flipped bits from the centre
            value = centre
            for bit in rng.integers(0, 64, rng.integers(0, 4)):
                value ^= 1 << int(bit)
        elif kind == 1:  # shares its top 40 bits with the others of its kind, the rest random
            value = (0xC0FFEE1234 << 24) | int(rng.integers(0, 2**24))
        else:
            value = int(rng.integers(0, 2**63, dtype=np.uint64)) << 1 | int(rng.integers(0, 2))
        out.append(f"{value:016x}")
    return out


@pytest.mark.parametrize("max_distance", [0, 2, 4, 7])
def test_clusters_are_exact_against_brute_force(max_distance):
    rng = np.random.default_rng(max_distance)
    hashes = _clumped_hashes(rng, 4200)  # band buckets over the split limit on both kinds of clump
    keys = [f"row-{i:05d}" for i in rng.permutation(len(hashes))]
    assert image_clusters(keys, hashes, max_distance) == _brute_force(keys, hashes, max_distance)


@pytest.mark.parametrize("max_distance", [1, 4])
def test_clusters_are_exact_when_buckets_are_split_and_pairs_linked_in_batches(monkeypatch, max_distance):
    monkeypatch.setattr(images, "_BUCKET_LIMIT", 8)  # every big bucket is banded again or compared pairwise
    monkeypatch.setattr(images, "_LINK_BATCH", 5)
    rng = np.random.default_rng(10 + max_distance)
    hashes = _clumped_hashes(rng, 900)
    hashes += [_flip(0x5EED, *(bit for bit in range(4) if mask >> bit & 1)) for mask in range(16)]  # 4 bits vary
    keys = [f"row-{i:05d}" for i in rng.permutation(len(hashes))]
    assert image_clusters(keys, hashes, max_distance) == _brute_force(keys, hashes, max_distance)


def test_clusters_do_not_depend_on_row_order():
    rng = np.random.default_rng(7)
    hashes = _clumped_hashes(rng, 600)
    keys = [f"k{i:04d}" for i in range(len(hashes))]
    expected = dict(zip(keys, image_clusters(keys, hashes), strict=True))
    order = list(range(len(keys)))
    for seed in range(3):
        random.Random(seed).shuffle(order)
        shuffled = image_clusters([keys[i] for i in order], [hashes[i] for i in order])
        assert dict(zip([keys[i] for i in order], shuffled, strict=True)) == expected


def test_cluster_input_checks():
    assert image_clusters([], []) == []
    with pytest.raises(ValueError, match="keys but"):
        image_clusters(["a"], [])
    with pytest.raises(ValueError, match="16 hex digits"):
        image_clusters(["a", "b"], ["00ff", "00ff"])
