"""The generated dataset card: same inputs give the same bytes (in this process and in a fresh
one), and the card carries the front matter, stage counts, drop reasons, plots and shard list."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from viscode.curation.card import REASONS, size_category, write_card
from viscode.curation.schema import CURATED_SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]


def chart_png(i: int) -> bytes:
    fig = Figure(figsize=(4, 3), dpi=50)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(["a", "b", "c"], [i, i + 2, 3 * i % 5 + 1])
    ax.set_title(f"chart {i}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def inputs() -> tuple[dict, list[tuple[str, bytes]], dict[str, dict[str, int]]]:
    manifest = {
        "kind": "curated", "schema_version": CURATED_SCHEMA_VERSION,
        "shards": [
            {"name": "train/00000.parquet", "split": "train", "rows": 1200, "bytes": 10_000, "sha256": "a" * 64,
             "counts": {"single": 1000, "repair": 200}},
            {"name": "val/00000.parquet", "split": "val", "rows": 34, "bytes": 900, "sha256": "b" * 64,
             "counts": {"single": 30, "repair": 4}},
        ],
        "stages": [
            {"stage": "ran ok", "input": 2000, "kept": 1500, "dropped": {"status_error": 450, "status_timeout": 50}},
            {"stage": "usable image", "input": 1500, "kept": 1300, "dropped": {"no_image": 200}},
            {"stage": "exact code dedup", "input": 1300, "kept": 1234, "dropped": {"duplicate_code": 60, "mystery": 6}},
        ],
        "rows": {"train": 1200, "val": 34},
        "licences": {"MIT": 1000, "Apache-2.0": 234},
        "config": {"seed": 7, "phash_distance": 6},
        "versions": {"viscode": "0.1.0", "polars": "1.0"},
    }
    samples = [(hashlib.sha256(str(i).encode()).hexdigest()[:16], chart_png(i)) for i in range(6)]
    distributions = {"library": {"matplotlib": 700, "seaborn": 300, "plotly": 234},
                     "chart_kind": {f"kind{k:02d}": 10 + k for k in range(30)}}
    return manifest, samples, distributions


def build(output: str) -> None:
    """Write the card for `inputs()` into `output` (also run in a fresh interpreter by the test)."""
    write_card(Path(output), *inputs())


def card_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_card_bytes_identical_across_runs(tmp_path):
    build(str(tmp_path / "a"))
    build(str(tmp_path / "b"))
    subprocess.run([sys.executable, "-c", "import sys; from tests.test_curation_card import build; build(sys.argv[1])",
                    str(tmp_path / "c")], cwd=ROOT, check=True, env={**os.environ, "MPLBACKEND": "pdf"})
    a = card_files(tmp_path / "a")
    assert set(a) == {"card.md", "card/library.png", "card/chart_kind.png", "card/contact_sheet.png"}
    assert card_files(tmp_path / "b") == a
    assert card_files(tmp_path / "c") == a


def test_card_content(tmp_path):
    manifest, samples, distributions = inputs()
    path = write_card(tmp_path, manifest, samples, distributions)
    text = path.read_text()
    front = text.split("---\n")[1]
    for line in ("license:\n- apache-2.0\n- mit", "task_categories:\n- text-generation",
                 "tags:\n- code\n- visualization\n- python", "size_categories:\n- 1K<n<10K",
                 "  - split: train\n    path: train/*.parquet\n  - split: val\n    path: val/*.parquet"):
        assert line in front
    assert "| stage | input | kept | dropped | dropped by reason |" in text
    assert "| ran ok | 2,000 | 1,500 | 500 | status_error: 450, status_timeout: 50 |" in text
    assert "| exact code dedup | 1,300 | 1,234 | 66 | duplicate_code: 60, mystery: 6 |" in text
    assert f"- `no_image` (200): {REASONS['no_image']}" in text
    assert "- `mystery` (6): no explanation recorded for this reason" in text
    assert "![Rows by library](card/library.png)" in text and "| seaborn | 300 | 24.3% |" in text
    assert "![Rows by chart kind](card/chart_kind.png)" in text and "| kind29 | 39 |" in text
    assert "| train/00000.parquet | train | 1,200 | 10,000 | 1,000 | 200 | `" + "a" * 64 + "` |" in text
    assert 'load_dataset("parquet", data_files={"train": "DIR/train/*.parquet", "val": "DIR/val/*.parquet"})' in text
    assert '"phash_distance": 6' in text and '"polars": "1.0"' in text
    with Image.open(tmp_path / "card" / "contact_sheet.png") as sheet:
        assert sheet.size == (800, 2 * 218)
    for name in ("library", "chart_kind"):
        with Image.open(tmp_path / "card" / f"{name}.png") as chart:
            assert chart.format == "PNG" and chart.width == 700 and "Software" not in chart.info


def test_licence_and_size_front_matter(tmp_path):
    manifest, _, _ = inputs()
    manifest["licences"] = {"MIT": 5, "synthetic": 3}
    text = write_card(tmp_path, manifest, [], {}).read_text()
    assert 'license: other\nlicense_name: "mixed"' in text
    assert "No samples were given." in text and not (tmp_path / "card").exists()
    assert [size_category(n) for n in (0, 999, 1000, 99_999, 100_000, 10**12)] == \
        ["n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "n>1T"]
