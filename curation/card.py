"""The dataset card: a Hugging Face README (`card.md`) generated from the curated manifest,
so every number a reader sees is the number the pipeline recorded, and the same inputs
always give the same bytes (no timestamps, sorted keys, PNGs without software metadata).

matplotlib and Pillow are imported inside the functions that draw, so importing this
module stays cheap.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

from viscode.curation.schema import KINDS, SPLITS

from viscode.shards import write_bytes

PRETTY_NAME = "VisCode curated visualization code"
CARD_DIR = "card"
SHEET_COLUMNS = 4
SHEET_CELLS = 16
THUMB_PX = 200
CAPTION_PX = 18
CHART_BARS = 25  # bars per distribution chart; the rest are summed into one "(other)" bar (tables list all)
SIZE_BUCKETS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"))
HF_LICENSES = frozenset({"apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0",
                         "gpl-2.0", "gpl-3.0", "lgpl-3.0", "mpl-2.0", "unlicense", "odc-by"})

# Why a stage may drop a row, in plain words; a reason missing here is still listed, by name.
REASONS: dict[str, str] = {
    "bad_shard": "its result shard was missing or did not match the grid manifest (left out with --skip-bad-shards)",
    "status_error": "the code raised an exception when it ran",
    "status_timeout": "the code ran past the sandbox time limit",
    "status_memory": "the code ran past the sandbox memory limit",
    "status_killed": "the code was killed by a signal",
    "status_crashed": "the Python process running the code crashed",
    "status_sandbox_error": "the sandbox could not run the code (its chunk was quarantined after repeated worker loss)",
    "no_image": "the code ran but drew no figure",
    "undecodable": "the image bytes are not a PNG that decodes",
    "too_small": "the image is smaller than the minimum size",
    "too_large": "the image is larger than the maximum size",
    "blank": "the image is blank or nearly one flat colour",
    "no_artists": "the figure has axes but nothing drawn on them (the sandbox counted no artists)",
    "duplicate_code": "the same code, up to comments, layout and quote style, is already kept",
    "near_duplicate_code": "near-identical code (MinHash over tokens) is already kept",
    "near_duplicate_image": "a near-identical image (pHash within the distance limit) is already kept",
    "library_cap": "its plotting library already has as many rows as the balance cap allows",
    "chart_kind_cap": "one of its chart kinds already has as many rows as the balance cap allows",
    "benchmark_overlap": "its instruction or code shares a long word span with a benchmark task",
    "no_variant": "no realistic fault could be planted in the snippet",
    "duplicate_variant": "another snippet broke into the same faulty program",
    "variant_ok": "the faulty variant still ran without error, so it teaches no repair",
    "variant_timeout": "the faulty variant ran past the time limit instead of failing",
    "invalid_json": "the line is not a JSON object",
    "bad_roles": "the turns do not alternate user and assistant, or the messages are malformed",
    "too_few_turns": "the dialogue has fewer turns than the minimum",
    "too_many_turns": "the dialogue has more turns than the maximum",
    "too_long": "the dialogue is longer than the character limit",
    "not_python": "the dialogue's code is not Python",
    "no_code": "the dialogue has no code block",
    "duplicate_dialogue": "the same dialogue was imported before",
}


def size_category(rows: int) -> str:
    """Hugging Face's size bucket for a row count."""
    for limit, label in SIZE_BUCKETS:
        if rows < limit:
            return label
    return "n>1T"


def _licence_yaml(licences: dict[str, int]) -> list[str]:
    """One known licence is named; several known ones are listed; anything else is `other` (mixed)."""
    ids = sorted({name.lower() for name in licences})
    if ids and all(i in HF_LICENSES for i in ids):
        return [f"license: {ids[0]}"] if len(ids) == 1 else ["license:", *(f"- {i}" for i in ids)]
    return ["license: other", f"license_name: {json.dumps('mixed' if len(ids) != 1 else ids[0])}"]


def _front_matter(manifest: dict, pretty_name: str, total: int, splits: list[str]) -> str:
    lines = ["---", *_licence_yaml(manifest.get("licences", {})), f"pretty_name: {json.dumps(pretty_name)}",
             "task_categories:", "- text-generation", "tags:", "- code", "- visualization", "- python",
             "size_categories:", f"- {size_category(total)}", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: {split}/*.parquet"]
    return "\n".join([*lines, "---"])


def _table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:,}" if isinstance(value, int) else str(value).replace("|", "\\|")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "distribution"


def bar_chart_png(title: str, counts: dict[str, int]) -> bytes:
    """Horizontal bars, largest first; fixed size, dpi, style and no metadata, so the bytes never vary."""
    from matplotlib import style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    items = _by_count(counts)
    if len(items) > CHART_BARS:
        items = [*items[:CHART_BARS - 1], ("(other)", sum(v for _, v in items[CHART_BARS - 1:]))]
    with style.context("default"):
        fig = Figure(figsize=(7, 1.2 + 0.3 * max(len(items), 1)), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        labels = [k for k, _ in reversed(items)]
        values = [v for _, v in reversed(items)]
        ax.barh(labels, values, color="#4c72b0")
        for y, v in enumerate(values):
            ax.annotate(f"{v:,}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_title(title)
        ax.set_xlabel("rows")
        ax.margins(x=0.15)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def contact_sheet_png(samples: list[tuple[str, bytes]]) -> bytes:
    """A grid of up to 16 thumbnails, each captioned with the first 12 characters of its id."""
    from PIL import Image, ImageDraw, ImageFont

    samples = samples[:SHEET_CELLS]
    rows = math.ceil(len(samples) / SHEET_COLUMNS)
    cell_h = THUMB_PX + CAPTION_PX
    sheet = Image.new("RGB", (SHEET_COLUMNS * THUMB_PX, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, (row_id, png) in enumerate(samples):
        x, y = (i % SHEET_COLUMNS) * THUMB_PX, (i // SHEET_COLUMNS) * cell_h
        with Image.open(io.BytesIO(png)) as image:
            thumb = image.convert("RGB")
        thumb.thumbnail((THUMB_PX - 4, THUMB_PX - 4), Image.Resampling.LANCZOS)
        sheet.paste(thumb, (x + (THUMB_PX - thumb.width) // 2, y + THUMB_PX - 2 - thumb.height))  # on the caption
        draw.text((x + 4, y + THUMB_PX + 2), row_id[:12], fill="black", font=font)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


def _summary(manifest: dict, pretty_name: str, total: int, split_rows: dict[str, int],
             kind_rows: dict[str, int]) -> list[str]:
    splits = ", ".join(f"{s} {n:,}" for s, n in split_rows.items())
    kinds = ", ".join(f"{k} {kind_rows[k]:,}" for k in _known_first(kind_rows, KINDS))
    return [f"# {pretty_name}", "",
            ("Plotting programs that were executed in a sandbox and drew a usable figure, each paired with a "
             "natural-language instruction and the rendered PNG. `single` rows are one instruction and the working "
             "code; `repair` rows add a failing attempt, its real error and the fix (VisCode-200K conversation "
             "layout). Imported dialogues (`instruction_source` `import`) were not executed here and have no "
             "image."), "",
            f"**{total:,} rows** ({splits}; {kinds}), curated schema version {manifest['schema_version']}.", "",
            ("Columns: `id`, `kind`, `messages`, `library`, `chart_kinds`, `data_origin`, `instruction`, "
             "`instruction_source`, `code`, `image` (PNG bytes), `image_phash`, `fault`, `provenance` (grid job, "
             "shard, row, snippet id, source), `licence`.")]


def _stages(manifest: dict) -> list[str]:
    stages = manifest.get("stages", [])
    rows = [[s["stage"], s["input"], s["kept"], sum(s["dropped"].values()),
             ", ".join(f"{r}: {n:,}" for r, n in _by_count(s["dropped"])) or "-"] for s in stages]
    totals: dict[str, int] = {}
    for s in stages:
        for reason, n in s["dropped"].items():
            totals[reason] = totals.get(reason, 0) + n
    why = [f"- `{reason}` ({n:,}): {REASONS.get(reason, 'no explanation recorded for this reason')}"
           for reason, n in _by_count(totals)]
    return ["## Counts at every stage", "",
            ("Each filtering stage's input is the previous one's kept rows; the repair stage counts the kept "
             "snippets sampled for a dialogue and the import stage the dialogues read. input = kept + dropped at "
             "every stage."), "",
            _table(["stage", "input", "kept", "dropped", "dropped by reason"], rows), "",
            "## Why rows were dropped", "", *(why or ["No rows were dropped."])]


def _distributions(output: Path, distributions: dict[str, dict[str, int]]) -> list[str]:
    lines = ["## Distributions", *([] if distributions else ["", "No distributions were given."])]
    for key in sorted(distributions):
        counts = distributions[key]
        label = key.replace("_", " ")
        name = f"{CARD_DIR}/{_slug(key)}.png"
        write_bytes(bar_chart_png(f"Rows by {label}", counts), output / name)
        total = sum(counts.values()) or 1
        lines += ["", f"### By {label}", "", f"![Rows by {label}]({name})", "",
                  _table([label, "rows", "share"], [[k, v, f"{100 * v / total:.1f}%"] for k, v in _by_count(counts)])]
    return lines


def _samples(output: Path, samples: list[tuple[str, bytes]]) -> list[str]:
    if not samples:
        return ["## Sample images", "", "No samples were given."]
    name = f"{CARD_DIR}/contact_sheet.png"
    write_bytes(contact_sheet_png(samples), output / name)
    return ["## Sample images", "", f"![Contact sheet of {min(len(samples), SHEET_CELLS)} sample images]({name})"]


def _shards(manifest: dict, split_rows: dict[str, int]) -> list[str]:
    rows = [[s["name"], s["split"], s["rows"], s["bytes"], *(s.get("counts", {}).get(k, 0) for k in _kinds(manifest)),
             f"`{s['sha256']}`"] for s in manifest["shards"]]
    return ["## Splits and shards", "", _table(["split", "rows"], [[s, n] for s, n in split_rows.items()]), "",
            _table(["shard", "split", "rows", "bytes", *_kinds(manifest), "sha256"], rows)]


def _known_first(names: Iterable[str], known: tuple[str, ...]) -> list[str]:
    """`names` in the schema's order (KINDS, SPLITS), any others after them, sorted."""
    present = set(names)
    return [n for n in known if n in present] + sorted(present - set(known))


def _kinds(manifest: dict) -> list[str]:
    return _known_first({k for s in manifest["shards"] for k in s.get("counts", {})}, KINDS)


def _licences(manifest: dict) -> list[str]:
    licences = manifest.get("licences")
    if not licences:
        return []
    return ["## Licences", "", "Each row keeps the licence of the code it came from (`licence` column).", "",
            _table(["licence", "rows"], [[k, v] for k, v in _by_count(licences)])]


def _json_block(title: str, obj: object) -> list[str]:
    return [f"## {title}", "", "```json", json.dumps(obj, indent=2, sort_keys=True, default=str), "```"]


def _loading(splits: list[str]) -> list[str]:
    files = ", ".join(f'"{s}": "DIR/{s}/*.parquet"' for s in splits)
    return ["## How to load", "",
            "Polars (lazy; only the shards the manifest lists, with a `split` column):", "", "```python",
            "from viscode.curation.pull import load_shards", "", 'frame = load_shards("DIR").collect()', "```", "",
            "Hugging Face `datasets`:", "", "```python", "from datasets import load_dataset", "",
            f'ds = load_dataset("parquet", data_files={{{files}}})', "```", "",
            ("Copy a published output (any fsspec URL) and check every shard's sha256, optionally keeping only "
             "some rows:"), "", "```bash",
            "viscode shards pull SRC --output DIR [--kind single|repair] [--library NAME] [--split train|val]", "```"]


def write_card(output: Path, manifest: dict, samples: list[tuple[str, bytes]],
               distributions: dict[str, dict[str, int]], *, pretty_name: str = PRETTY_NAME) -> Path:
    """Write `output/card.md` and its pictures under `output/card/`; returns the card's path.

    `samples` are (row id, PNG) pairs for the contact sheet, in the order to show; `distributions`
    maps a dimension ("library", "chart_kind", ...) to row counts per value.
    """
    output = Path(output)
    split_rows: dict[str, int] = {}
    kind_rows: dict[str, int] = {}
    for shard in manifest["shards"]:
        split_rows[shard["split"]] = split_rows.get(shard["split"], 0) + shard["rows"]
        for kind, n in shard.get("counts", {}).items():
            kind_rows[kind] = kind_rows.get(kind, 0) + n
    total = sum(split_rows.values())
    splits = _known_first(split_rows, SPLITS)
    split_rows = {s: split_rows[s] for s in splits}
    sections = [
        [_front_matter(manifest, pretty_name, total, splits)],
        _summary(manifest, pretty_name, total, split_rows, kind_rows),
        _stages(manifest),
        _distributions(output, distributions),
        _samples(output, samples),
        _shards(manifest, split_rows),
        _licences(manifest),
        _json_block("Configuration", manifest.get("config", {})),
        _json_block("Versions", manifest.get("versions", {})),
        _loading(splits),
    ]
    path = output / "card.md"
    write_bytes(("\n\n".join("\n".join(s) for s in sections if s) + "\n").encode(), path)
    return path
