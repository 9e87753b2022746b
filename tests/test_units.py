"""Pure pieces: framing, head/tail capture, limits, image-file collection."""

import io
import os
import zlib

import pytest
from viscode.sandbox.capture import PLACEHOLDER_PNG, png_size
from viscode.sandbox.limits import Limits
from viscode.sandbox.outputs import HeadTail
from viscode.sandbox.pngcheck import MAX_CHUNKS, CheckBudget, png_problem
from viscode.sandbox.protocol import ProtocolError, read_message, write_message
from viscode.sandbox.scratch import collect_image_files

from .png_helpers import crafted_png


def test_message_roundtrip():
    buf = io.BytesIO()
    write_message(buf, {"a": 1}, [b"xy", b""])
    buf.seek(0)
    assert read_message(buf, 1000) == ({"a": 1}, [b"xy", b""])


@pytest.mark.parametrize("raw", [b"\x00\x00\x10\x00{}", b"\x00\x00\x00\x02[]", b"\x00\x00\x00\x03{x}", b"\x00"])
def test_malformed_messages_are_rejected(raw):
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(raw), 64)


def test_oversized_blob_rejected():
    buf = io.BytesIO()
    write_message(buf, {}, [b"x" * 100])
    buf.seek(0)
    with pytest.raises(ProtocolError, match="exceeds"):
        read_message(buf, 50)


def test_head_tail_keeps_both_ends():
    ht = HeadTail(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrstuvwxyz"):
        ht.feed(chunk)
    assert ht.truncated and ht.total == 26
    assert ht.text() == "abcde\n[... 16 bytes omitted ...]\nvwxyz"


def test_head_tail_decodes_bad_bytes():
    ht = HeadTail(100)
    ht.feed(b"ok \xff\xfe \x00 end")
    assert ht.text() == "ok \\xff\\xfe \\x00 end" and not ht.truncated


def test_limits_reject_nonsense():
    with pytest.raises(ValueError, match="timeout_s"):
        Limits(timeout_s=0)


def test_png_size():
    assert png_size(PLACEHOLDER_PNG) == (1, 1)
    assert png_size(b"GIF89a....") is None


def test_collector_skips_links_devices_and_oversize(tmp_path):
    (tmp_path / "a.png").write_bytes(PLACEHOLDER_PNG)
    (tmp_path / "big.png").write_bytes(b"x" * 100)
    (tmp_path / "data.png").write_bytes(PLACEHOLDER_PNG)
    os.symlink("/etc/passwd", tmp_path / "link.png")
    os.mkfifo(tmp_path / "fifo.png")
    deep = tmp_path / "d1" / "d2" / "d3" / "d4"
    deep.mkdir(parents=True)
    (deep / "deep.png").write_bytes(PLACEHOLDER_PNG)
    (tmp_path / "d1" / "ok.png").write_bytes(PLACEHOLDER_PNG)
    (tmp_path / "d1" / "photo.jpg").write_bytes(b"jpg")
    found = collect_image_files(str(tmp_path), skip={"data.png"}, max_files=10, max_bytes=80)
    assert [name for name, _ in found] == ["a.png", "d1/ok.png"]
    jpegs = collect_image_files(str(tmp_path), skip=set(), max_files=10, max_bytes=80, suffixes=(".jpg",))
    assert [name for name, _ in jpegs] == ["d1/photo.jpg"]


def test_png_check_is_bounded_for_the_whole_snippet():
    """A flood of images that each inflate almost to their header's size costs at most the
    snippet's check budget, valid or not: the rest are refused without inflating."""
    raw = 1000 * (1000 * 4 + 1)
    short = crafted_png(1000, 1000, zlib.compress(bytes(raw - 1)))
    budget = CheckBudget(3 * raw)
    verdicts = [png_problem(short, 40_000_000, budget) for _ in range(200)]
    assert all("header says" in v for v in verdicts[:3]) and all("left to check" in v for v in verdicts[3:])
    assert budget.left == 0
    assert png_problem(crafted_png(1000, 1000, zlib.compress(bytes(raw))), 40_000_000, CheckBudget(raw)) is None


def test_png_of_too_many_chunks_is_refused():
    data = zlib.compress(bytes(2 * (2 * 4 + 1)))
    assert png_problem(crafted_png(2, 2, data, empty_chunks=MAX_CHUNKS - 3), 100, CheckBudget(100)) is None
    assert "chunks" in png_problem(crafted_png(2, 2, data, empty_chunks=MAX_CHUNKS), 100, CheckBudget(100))
