"""Curated outputs for trainer tests: plotting conversations of a realistic length spread, single
turns and repair dialogues, written as `viscode curate` writes them (shards + manifest)."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
from viscode.curation.schema import CURATED_SCHEMA, CURATED_SCHEMA_VERSION, KINDS

from viscode.shards import write_json, write_parquet

LIBRARIES = ("matplotlib", "seaborn", "plotly")


def code(i: int, lines: int) -> str:
    body = "\n".join(f"ax.plot(x, [v * {k + i % 7} for v in x], label='series {k}')" for k in range(lines))
    return (f"import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nx = list(range({i % 13 + 3}))\n"
            f"{body}\nax.set_title('Chart {i}')\nax.legend()\nplt.show()\n")


def conversation(i: int, rng: random.Random) -> tuple[str, list[dict]]:
    """(kind, messages): a third are repair dialogues (code, its error, the fix)."""
    lines = max(1, int(rng.lognormvariate(1.2, 0.8)))
    ask = {"role": "user", "content": f"Plot {lines} series against x, titled 'Chart {i}', with a legend."}
    good = code(i, lines)
    if i % 3:
        return "single", [ask, {"role": "assistant", "content": good}]
    broken = good.replace("ax.legend()", "ax.legnd()")
    return "repair", [ask, {"role": "assistant", "content": broken},
                      {"role": "user", "content": "The code failed:\nAttributeError: 'Axes' object has no attribute "
                                                  "'legnd'. Fix it."},
                      {"role": "assistant", "content": good}]


def row(i: int, rng: random.Random) -> dict:
    kind, messages = conversation(i, rng)
    return {"id": f"{i:016x}", "kind": kind, "library": LIBRARIES[i % 3], "messages": messages,
            "chart_kinds": ["line"], "data_origin": "inline", "instruction": messages[0]["content"],
            "instruction_source": "rules", "code": messages[-1]["content"], "image": b"\x89PNG",
            "image_phash": f"{i:016x}", "fault": "AttributeError" if kind == "repair" else None,
            "provenance": {"grid_job": "job", "shard": "r.parquet", "row": i, "snippet_id": f"{i:016x}",
                           "source": f"synth:0:{i}"}, "licence": "MIT"}


def make_curated(folder: Path, *, train: int = 60, val: int = 8, seed: int = 0,
                 extra: dict[str, list[dict]] | None = None) -> Path:
    """A curated output folder; `extra` adds rows (as dicts of `row`'s shape) to a split."""
    rng = random.Random(seed)
    splits = {"train": [row(i, rng) for i in range(train)], "val": [row(train + i, rng) for i in range(val)]}
    for split, rows in (extra or {}).items():
        splits[split] += rows
    entries = []
    for split, rows in splits.items():
        if not rows:
            continue
        table = pa.Table.from_pylist(rows, schema=CURATED_SCHEMA)
        name = f"{split}/00000.parquet"
        info = write_parquet(table, folder / name)
        kinds = table.column("kind").to_pylist()
        entries.append({"name": name, "split": split, "rows": info.rows, "bytes": info.bytes, "sha256": info.sha256,
                        "counts": {k: kinds.count(k) for k in KINDS}})
    write_json({"kind": "curated", "schema_version": CURATED_SCHEMA_VERSION, "shards": entries,
                "rows": {s: len(r) for s, r in splits.items()}}, folder / "manifest.json")
    return folder
