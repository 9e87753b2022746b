"""Pulling curated shards: verified copies from local paths and fsspec URLs, resume, refusal of
corrupt shards and other schema versions, row filters, reruns, and loading the result."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw
from viscode.curation.pull import PullReport, load_shards, pull
from viscode.curation.schema import CURATED_SCHEMA, CURATED_SCHEMA_VERSION, KINDS

from viscode.errors import InputError
from viscode.shards import IMAGE_ROW_GROUP, sha256_file, verify, write_json, write_parquet

LIBRARIES = ("matplotlib", "seaborn", "plotly")
LAYOUT = (("train", 0, 40), ("train", 40, 30), ("val", 70, 10))  # (split, first row, rows) per shard
TOTAL = sum(n for _, _, n in LAYOUT)


def png(i: int) -> bytes:
    image = Image.new("RGB", (96, 64), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 64 - 8 - i % 48, 30, 56), fill=(i * 37 % 256, i * 91 % 256, 160))
    draw.line((40, 10, 90, 10 + i % 50), fill="black", width=2)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def row(i: int) -> dict:
    kind = KINDS[i % 2]
    code = f"import matplotlib.pyplot as plt\nplt.bar(['a', 'b'], [{i}, {i + 1}])\n"
    return {
        "id": f"{i:016x}", "kind": kind, "library": LIBRARIES[i % 3],
        "messages": [{"role": "user", "content": f"Draw bar chart {i}."}, {"role": "assistant", "content": code}],
        "chart_kinds": ["bar"] if i % 4 else ["bar", "line"], "data_origin": "inline",
        "instruction": f"Draw bar chart {i}.", "instruction_source": "rules", "code": code, "image": png(i),
        "image_phash": f"{i * 7919:016x}", "fault": "NameError" if kind == "repair" else None,
        "provenance": {"grid_job": "job1", "shard": "r-00000.parquet", "row": i, "snippet_id": f"{i:016x}",
                       "source": f"synth:0:{i}"},
        "licence": "MIT",
    }


def make_output(folder: Path, *, schema_version: int = CURATED_SCHEMA_VERSION) -> dict:
    """A small curated output folder: three shards, a manifest and a card."""
    entries = []
    for k, (split, first, n) in enumerate(LAYOUT):
        table = pa.Table.from_pylist([row(i) for i in range(first, first + n)], schema=CURATED_SCHEMA)
        name = f"{split}/{k:05d}.parquet"
        info = write_parquet(table, folder / name, row_group_size=IMAGE_ROW_GROUP)
        kinds = table.column("kind").to_pylist()
        entries.append({"name": name, "split": split, "rows": info.rows, "bytes": info.bytes, "sha256": info.sha256,
                        "counts": {k: kinds.count(k) for k in KINDS}})
    manifest = {"kind": "curated", "schema_version": schema_version, "shards": entries,
                "stages": [{"stage": "ran ok", "input": 100, "kept": TOTAL, "dropped": {"status_error": 20}}],
                "rows": {"train": 70, "val": 10}, "config": {"seed": 0}, "versions": {"viscode": "0.1.0"}}
    write_json(manifest, folder / "manifest.json")
    (folder / "card.md").write_text("# card\n")
    (folder / "card").mkdir()
    (folder / "card" / "library.png").write_bytes(png(1))
    return manifest


@pytest.fixture
def source(tmp_path) -> tuple[Path, dict]:
    folder = tmp_path / "src"
    return folder, make_output(folder)


@pytest.fixture
def memory_source(source):
    """The same output on fsspec's in-memory filesystem (a unique root, removed afterwards)."""
    folder, manifest = source
    fs = fsspec.filesystem("memory")
    root = f"/curated-{uuid.uuid4().hex}"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        fs.pipe_file(f"{root}/{path.relative_to(folder).as_posix()}", path.read_bytes())
    yield f"memory://{root}", manifest
    fs.rm(root, recursive=True)


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def assert_full_copy(report: PullReport, dest: Path, manifest: dict) -> None:
    assert (report.shards, report.rows, report.filtered_out) == (3, TOTAL, 0)
    pulled = json.loads((dest / "manifest.json").read_text())
    assert pulled["kind"] == "curated" and pulled["schema_version"] == CURATED_SCHEMA_VERSION
    assert [(s["name"], s["sha256"], s["rows"]) for s in pulled["shards"]] == \
        [(s["name"], s["sha256"], s["rows"]) for s in manifest["shards"]]
    assert verify(dest, pulled["shards"]) == []
    assert pulled["stages"] == manifest["stages"]
    assert (dest / "card.md").read_text() == "# card\n" and (dest / "card" / "library.png").read_bytes() == png(1)
    assert not [f for f in files_under(dest) if f.endswith(".part") or "/.tmp-" in f]


def test_pull_from_local_path(source, tmp_path):
    folder, manifest = source
    seen: list[tuple[int, int]] = []
    report = pull(str(folder), tmp_path / "dest", on_progress=lambda step, done, total: seen.append((done, total)))
    assert (report.copied, report.resumed, report.skipped) == (3, 0, 0)
    assert report.downloaded == report.bytes == sum(s["bytes"] for s in manifest["shards"])
    assert seen[-1] == (report.bytes, report.bytes)
    assert_full_copy(report, tmp_path / "dest", manifest)


def test_pull_from_file_url(source, tmp_path):
    folder, manifest = source
    report = pull(f"file://{folder}", tmp_path / "dest")
    assert report.copied == 3
    assert_full_copy(report, tmp_path / "dest", manifest)


def test_pull_from_memory_filesystem(memory_source, tmp_path):
    url, manifest = memory_source
    report = pull(url, tmp_path / "dest")
    assert report.copied == 3
    assert_full_copy(report, tmp_path / "dest", manifest)
    assert json.loads((tmp_path / "dest" / "manifest.json").read_text())["source"] == url


def test_rerun_skips_verified_shards(source, tmp_path):
    folder, manifest = source
    dest = tmp_path / "dest"
    pull(str(folder), dest)
    inodes = {name: (dest / name).stat().st_ino for name in files_under(dest) if name.endswith(".parquet")}
    report = pull(str(folder), dest)
    assert (report.skipped, report.copied, report.resumed, report.downloaded) == (3, 0, 0, 0)
    assert {name: (dest / name).stat().st_ino for name in inodes} == inodes
    assert_full_copy(report, dest, manifest)


def test_partial_download_is_resumed_not_reread(memory_source, tmp_path):
    url, manifest = memory_source
    entry = manifest["shards"][1]
    with fsspec.open(f"{url}/{entry['name']}", "rb") as f:
        original = f.read()
    have = len(original) // 2
    dest = tmp_path / "dest"
    part = dest / (entry["name"] + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(original[:have])
    # Spoil the source's prefix: only a copy that continues from the .part can still match the sha256.
    with fsspec.open(f"{url}/{entry['name']}", "wb") as f:
        f.write(b"\0" * have + original[have:])

    report = pull(url, dest)
    assert (report.resumed, report.copied) == (1, 2)
    assert report.downloaded == sum(s["bytes"] for s in manifest["shards"]) - have
    assert sha256_file(dest / entry["name"]) == entry["sha256"]
    assert_full_copy(report, dest, manifest)


def test_corrupt_source_shard_is_refused_and_nothing_is_left(source, tmp_path):
    folder, manifest = source
    name = manifest["shards"][0]["name"]
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / name).write_bytes(bytes(data))
    dest = tmp_path / "dest"
    with pytest.raises(InputError, match=f"{name}: sha256 .* differs from the manifest") as err:
        pull(str(folder), dest)
    assert "\n" not in str(err.value)
    assert files_under(dest) == []


def test_filters_keep_only_matching_rows(source, tmp_path):
    folder, manifest = source
    dest = tmp_path / "dest"
    report = pull(str(folder), dest, kinds=["repair"], libraries=["seaborn", "plotly"])
    expected = [row(i)["id"] for i in range(TOTAL) if i % 2 == 1 and LIBRARIES[i % 3] in ("seaborn", "plotly")]
    frame = load_shards(dest).collect()
    assert sorted(frame["id"].to_list()) == expected
    assert set(frame["kind"]) == {"repair"} and set(frame["library"]) == {"seaborn", "plotly"}
    assert (report.rows, report.filtered_out, report.copied) == (len(expected), TOTAL - len(expected), 3)

    pulled = json.loads((dest / "manifest.json").read_text())
    assert verify(dest, pulled["shards"]) == []
    assert pulled["filter"] == {"kinds": ["repair"], "libraries": ["plotly", "seaborn"], "splits": ["train", "val"]}
    assert [s["source_sha256"] for s in pulled["shards"]] == [s["sha256"] for s in manifest["shards"]]
    assert all(s["counts"] == {"repair": s["rows"]} for s in pulled["shards"] if s["rows"])
    assert pq.read_schema(dest / "train/00000.parquet").remove_metadata().equals(CURATED_SCHEMA)
    assert not [f for f in files_under(dest) if f.endswith(".part")]

    again = pull(str(folder), dest, kinds=["repair"], libraries=["plotly", "seaborn"])
    assert (again.skipped, again.downloaded, again.rows) == (3, 0, len(expected))

    other = pull(str(folder), dest, kinds=["single"])
    assert other.copied == 3 and set(load_shards(dest).collect()["kind"]) == {"single"}


def test_filtering_an_unfiltered_copy_downloads_nothing(source, tmp_path):
    folder, _ = source
    dest = tmp_path / "dest"
    pull(str(folder), dest)
    report = pull(str(folder), dest, libraries=["plotly"])
    assert (report.downloaded, report.skipped) == (0, 3)
    assert set(load_shards(dest).collect()["library"]) == {"plotly"}
    back = pull(str(folder), dest)
    assert back.copied == 3 and load_shards(dest).collect().height == TOTAL


def test_split_selection_and_stale_shards_removed(source, tmp_path):
    folder, _ = source
    dest = tmp_path / "dest"
    pull(str(folder), dest)
    report = pull(str(folder), dest, splits=["val"])
    assert (report.shards, report.rows, report.skipped) == (1, 10, 1)
    assert [f for f in files_under(dest) if f.endswith(".parquet")] == ["val/00002.parquet"]


def test_load_shards_is_lazy_with_split_column(source, tmp_path):
    folder, _ = source
    pull(str(folder), tmp_path / "dest")
    (tmp_path / "dest" / "train" / "stray.parquet").write_bytes(b"not listed, never read")
    frame = load_shards(tmp_path / "dest")
    assert isinstance(frame, pl.LazyFrame)
    counts = dict(frame.group_by("split").len().collect().iter_rows())
    assert counts == {"train": 70, "val": 10}
    assert load_shards(tmp_path / "dest", splits=("val",)).select(pl.len()).collect().item() == 10
    assert load_shards(tmp_path / "dest", splits=()).collect().height == 0
    (tmp_path / "dest" / "val" / "00002.parquet").unlink()
    with pytest.raises(InputError, match="00002.parquet: missing"):
        load_shards(tmp_path / "dest")
    with pytest.raises(InputError, match="manifest.json: missing"):
        load_shards(tmp_path / "nowhere")


def test_datasets_loads_pulled_shards(source, tmp_path):
    import datasets  # a dev dependency: the shards must load with Hugging Face datasets
    folder, _ = source
    dest = tmp_path / "dest"
    pull(str(folder), dest)
    ds = datasets.load_dataset("parquet", data_files={"train": str(dest / "train/*.parquet"),
                                                      "val": str(dest / "val/*.parquet")},
                               cache_dir=str(tmp_path / "hf-cache"))
    assert (ds["train"].num_rows, ds["val"].num_rows) == (70, 10)
    first = ds["train"][0]
    assert first["id"] == row(0)["id"] and first["image"] == png(0) and first["messages"][0]["role"] == "user"


def test_other_schema_version_and_kind_refused(tmp_path):
    folder = tmp_path / "src"
    make_output(folder, schema_version=CURATED_SCHEMA_VERSION + 1)
    message = f"manifest.json: curated schema version {CURATED_SCHEMA_VERSION + 1}, .* version {CURATED_SCHEMA_VERSION}"
    with pytest.raises(InputError, match=message):
        pull(str(folder), tmp_path / "dest")
    with pytest.raises(InputError, match=message):
        load_shards(folder)
    assert not (tmp_path / "dest").exists()
    write_json({"kind": "grid", "schema_version": CURATED_SCHEMA_VERSION, "shards": []}, folder / "manifest.json")
    with pytest.raises(InputError, match="manifest kind is 'grid'"):
        pull(str(folder), tmp_path / "dest")


def test_bad_requests_and_unsafe_names_refused(source, tmp_path):
    folder, manifest = source
    with pytest.raises(InputError, match="unknown kind chart"):
        pull(str(folder), tmp_path / "dest", kinds=["chart"])
    with pytest.raises(InputError, match="unknown split test"):
        pull(str(folder), tmp_path / "dest", splits=["test"])
    manifest["shards"][0]["name"] = "train/../../escape.parquet"
    write_json(manifest, folder / "manifest.json")
    with pytest.raises(InputError, match="is not <split>/<file>.parquet"):
        pull(str(folder), tmp_path / "dest")


def test_cli_writes_where_output_says(source, tmp_path, capsys):
    """`viscode shards pull SRC --output DIR`, like every command that writes; a positional DEST is a usage error."""
    from viscode import cli

    folder, _ = source
    assert cli.main(["shards", "pull", str(folder), "--output", str(tmp_path / "dest"), "--split", "val"]) == 0
    assert load_shards(tmp_path / "dest").collect()["split"].to_list() == ["val"] * 10
    assert "1 shard(s): 1 copied" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["shards", "pull", str(folder), str(tmp_path / "other")])
    assert exit_.value.code == 2 and not (tmp_path / "other").exists()
