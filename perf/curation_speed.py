"""Curation speed and memory against a straightforward pandas implementation, both
measured in this one run on this machine, each in a fresh process.

Input: a grid output of --rows rows (default 50,000) in shards of 1,000, built once
and kept in --workdir: synthesized programs (`candidates synth`, seed 11; the faulty 15%
as error rows) with one distinct PNG chart each, drawn with Pillow at the sandbox's
700x400 size, plus planted bad rows: 3% exact duplicates (another row's code with a
comment, same image), 2% blank images, 1% truncated PNGs.

  polars  `viscode curate` (repair dialogues off: they run the grid, not curation)
  pandas  the same filters, written the obvious way: every shard read into one pandas
          frame, rows sorted by the same key, then one Python loop over the rows that
          applies status, image, exact-dedup and tagging checks with the same functions
          (check_png, normalize, tag, signatures), then near-duplicate code and image
          clustering with the same functions, instructions and decontamination per row,
          and one Parquet file written at the end.
Both must keep the same rows; the script checks that before printing.

Memory: peak RSS of the curation process and of its worker processes, for --rows and
a quarter of it (the ratio shows whether memory grows with the input).

Usage: .venv/bin/python perf/curation_speed.py [--rows N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
from PIL import Image as PILImage
from PIL import ImageDraw
from rich.console import Console
from rich.table import Table
from viscode.grid.candidates.synth import synthesize
from viscode.grid.job import MANIFEST_KIND
from viscode.grid.results import results_table
from viscode.sandbox.result import SCHEMA_VERSION, ExecutionResult, Image

from viscode.shards import IMAGE_ROW_GROUP, write_json, write_parquet

SHARD_ROWS = 1000
WIDTH, HEIGHT = 700, 400


def draw(seed: int) -> bytes:
    """A bar, line or scatter chart with axes, ticks and a title; distinct per seed."""
    r = random.Random(seed)
    image = PILImage.new("RGB", (WIDTH, HEIGHT), "white")
    pen = ImageDraw.Draw(image)
    left, bottom, right, top = 70, HEIGHT - 50, WIDTH - 20, 40
    pen.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=1)
    n = r.randint(5, 30)
    values = [r.random() for _ in range(n)]
    xs = [left + (i + 0.5) * (right - left) / n for i in range(n)]
    ys = [bottom - v * (bottom - top) for v in values]
    colour = tuple(r.randrange(30, 220) for _ in range(3))
    kind = r.choice(("bar", "line", "scatter"))
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if kind == "bar":
            pen.rectangle([x - 0.35 * (right - left) / n, y, x + 0.35 * (right - left) / n, bottom], fill=colour)
        elif kind == "scatter":
            pen.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        elif i:
            pen.line([(xs[i - 1], ys[i - 1]), (x, y)], fill=colour, width=2)
        pen.text((x - 6, bottom + 8), str(i), fill="black")
    pen.text((WIDTH // 2 - 60, 12), f"chart {seed}", fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def blank_png() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (WIDTH, HEIGHT), "white").save(buf, format="PNG")
    return buf.getvalue()


def _shard(args: tuple[int, list[dict], Path]) -> dict:
    number, rows, folder = args
    results = []
    for row in rows:
        if row["fault"] is not None:
            results.append(ExecutionResult(id=row["id"], status="error", error_type="ValueError", error_message="x"))
            continue
        png = row.pop("png", None) or draw(row["seed"])
        results.append(ExecutionResult(id=row["id"], status="ok", images=[
            Image(png=png, width=WIDTH, height=HEIGHT, source="matplotlib", name="figure-1", artists=5)]))
    inputs = pa.Table.from_pylist([{"id": r["id"], "code": r["code"], "source": r["source"]} for r in rows])
    name = f"perf-{number:06d}.parquet"
    info = write_parquet(results_table(inputs, results), folder / "results" / name, row_group_size=IMAGE_ROW_GROUP)
    return {"name": name, "rows": info.rows, "bytes": info.bytes, "sha256": info.sha256, "counts": {}}


def build_grid(folder: Path, rows: int) -> Path:
    """A finished grid output of `rows` rows (reused when it already exists)."""
    if (folder / "manifest.json").exists():
        return folder
    r = random.Random(11)
    programs = []
    for i, p in enumerate(synthesize(rows, seed=11)):
        p["seed"] = i
        roll = r.random()
        if programs and roll < 0.03 and p["fault"] is None:  # exact duplicate of an earlier ok program
            twin = r.choice([q for q in programs[-50:] if q["fault"] is None] or programs[-1:])
            p.update(code="# copy\n" + twin["code"], seed=twin["seed"], fault=twin["fault"],
                     id=hashlib.sha256(f"dup{i}".encode()).hexdigest()[:16])
        elif roll < 0.05:
            p["png"] = blank_png()
        elif roll < 0.06:
            p["png"] = draw(i)[:2000]
        programs.append(p)
    shards = [(n, programs[s:s + SHARD_ROWS], folder) for n, s in enumerate(range(0, rows, SHARD_ROWS))]
    with ProcessPoolExecutor() as pool:
        entries = list(pool.map(_shard, shards))
    write_json({"kind": MANIFEST_KIND, "schema_version": SCHEMA_VERSION, "state": "complete",
                "job": {"fingerprint": hashlib.sha256(f"perf:{rows}".encode()).hexdigest()},
                "rows": rows, "shards": entries}, folder / "manifest.json")
    return folder


# -- the two implementations, each run in its own process -------------------------------------------

def run_polars(grid: Path, out: Path) -> list[str]:
    from viscode.curation.pipeline import CurationConfig, curate
    from viscode.curation.pull import load_shards
    curate([grid], out, CurationConfig(repair_fraction=0), force=True)
    return load_shards(out).select("id").collect()["id"].to_list()


def run_pandas(grid: Path, out: Path) -> list[str]:
    import pandas as pd
    from viscode.curation.decide import stable_fraction
    from viscode.curation.decontam import DEFAULT_BENCHMARK, DEFAULT_THRESHOLD, build_index, load_benchmark_texts
    from viscode.curation.images import check_png, image_clusters
    from viscode.curation.instructions import describe
    from viscode.curation.minhash import MinHashConfig, near_duplicate_clusters, signatures
    from viscode.curation.tags import tag

    from viscode.codetext import normalize
    from viscode.selfdebug import code_block

    manifest = json.loads((grid / "manifest.json").read_text())
    job = manifest["job"]["fingerprint"][:12]
    frames = []
    for entry in manifest["shards"]:
        frame = pd.read_parquet(grid / "results" / entry["name"])
        frame["order"] = [f"{i}\x1f{job}/{entry['name']}\x1f{n:012d}" for n, i in enumerate(frame["id"])]
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True).sort_values("order")
    config = MinHashConfig()
    seen: set[str] = set()
    kept = []
    for row in df.itertuples():
        if row.status != "ok":
            continue
        usable = None
        for image in row.images:
            check = check_png(image["png"], image["artists"])
            if check.reason is None:
                usable = (image["png"], check.phash)
                break
        if usable is None:
            continue
        norm = normalize(row.code)
        key = hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        kept.append({"order": row.order, "id": row.id, "code": row.code, "png": usable[0], "phash": usable[1],
                     "tags": tag(row.code), "signature": signatures([norm], config)[0]})
    k = pd.DataFrame(kept)
    k = k[np.array(near_duplicate_clusters(list(k["order"]), np.stack(k["signature"]), config)) == k["order"]]
    k = k[np.array(image_clusters(list(k["order"]), list(k["phash"]))) == k["order"]]
    benchmark = build_index(load_benchmark_texts([DEFAULT_BENCHMARK]))
    k["instruction"] = k.apply(lambda r: describe(r["code"], r["tags"]).text(), axis=1)
    clean = k.apply(lambda r: not (benchmark.contaminated(r["instruction"], DEFAULT_THRESHOLD)
                                   or benchmark.contaminated(r["code"], DEFAULT_THRESHOLD)), axis=1)
    k = k[clean]
    k["split"] = k["id"].map(lambda i: "val" if stable_fraction(i, "split") < 0.05 else "train")
    k["messages"] = k.apply(lambda r: [{"role": "user", "content": r["instruction"]},
                                       {"role": "assistant", "content": code_block(r["code"])}], axis=1)
    k["library"] = k["tags"].map(lambda t: t.library)
    k["chart_kinds"] = k["tags"].map(lambda t: list(t.chart_kinds))
    out.mkdir(parents=True, exist_ok=True)
    k.drop(columns=["tags", "signature"]).sort_values("id").to_parquet(out / "curated.parquet",
                                                                       row_group_size=IMAGE_ROW_GROUP)
    return sorted(k["id"])


def child(variant: str, grid: Path, out: Path) -> None:
    started = time.perf_counter()
    ids = (run_polars if variant == "polars" else run_pandas)(grid, out)
    wall = time.perf_counter() - started
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": wall, "rss_mb": me.ru_maxrss / 1024, "worker_rss_mb": kids.ru_maxrss / 1024,
                      "ids": sorted(ids)}))


def measure(variant: str, grid: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", variant, str(grid), str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/viscode-perf-curation"))
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "GRID", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    console = Console()
    small_rows = args.rows // 4
    started = time.perf_counter()
    grids = {n: build_grid(args.workdir / f"grid-{n}", n) for n in (small_rows, args.rows)}
    console.print(f"inputs ready in {time.perf_counter() - started:.0f} s: {args.workdir}")
    runs = {(v, n): measure(v, grids[n], args.workdir / f"out-{v}-{n}")
            for n in (small_rows, args.rows) for v in ("pandas", "polars")}
    for n in (small_rows, args.rows):
        if runs[("pandas", n)]["ids"] != runs[("polars", n)]["ids"]:
            raise SystemExit(f"{n} rows: the two implementations kept different rows")

    table = Table(title=f"curation of grid output with PNGs ({args.rows:,} rows; 2 CPUs; fresh process each)")
    for column in ("implementation", "rows", "kept", "wall s", "rows/s", "vs pandas", "peak RSS MB",
                   "worker peak MB"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    for n in (small_rows, args.rows):
        base = runs[("pandas", n)]["wall"]
        for v in ("pandas", "polars"):
            r = runs[(v, n)]
            table.add_row(v, f"{n:,}", f"{len(r['ids']):,}", f"{r['wall']:.1f}", f"{n / r['wall']:,.0f}",
                          f"{base / r['wall']:.2f}x", f"{r['rss_mb']:,.0f}", f"{r['worker_rss_mb']:,.0f}")
    console.print(table)
    for v in ("pandas", "polars"):
        small, big = runs[(v, small_rows)], runs[(v, args.rows)]
        console.print(f"{v}: peak RSS {small['rss_mb']:,.0f} MB at {small_rows:,} rows -> {big['rss_mb']:,.0f} MB at "
                      f"{args.rows:,} ({big['rss_mb'] / small['rss_mb']:.2f}x for 4x the rows)")


if __name__ == "__main__":
    main()
