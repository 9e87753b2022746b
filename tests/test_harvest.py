"""Harvest: every source type, the ast-based plotting decision, skip reasons and the written shards."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from viscode.grid.candidates.harvest import SKIP_REASONS, HarvestStats, harvest, iter_candidates

from viscode.codetext import code_id
from viscode.shards import FolderTaken, verify

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\n"
SNS = "import seaborn as sns\nsns.histplot([1, 2, 2])\n"
PANDAS_PLOT = "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\ndf.plot()\n"
PANDAS_ONLY = "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\nprint(df.describe())\n"


def run(sources, **kwargs) -> tuple[list[dict], HarvestStats]:
    stats = HarvestStats()
    rows = list(iter_candidates(sources, stats=stats, **kwargs))
    return rows, stats


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def notebook(*cells: tuple[str, str | list[str]]) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": kind, "source": source, "metadata": {}} for kind, source in cells]})


def tar_gz(path: Path, members: dict[str, str], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def zip_file(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


# Plotting decision ------------------------------------------------------------------------------------------------

def test_python_file_importing_matplotlib_is_kept(tmp_path):
    path = write(tmp_path / "plot.py", PLOT)
    rows, stats = run([path])
    assert rows == [{"id": code_id(PLOT), "code": PLOT, "source": str(path), "libraries": ["matplotlib"],
                     "licence": None}]
    assert (stats.seen, stats.kept, sum(stats.skipped.values())) == (1, 1, 0)


def test_mentions_in_comments_or_strings_are_not_imports(tmp_path):
    write(tmp_path / "a.py", "# uses matplotlib later\nx = 1\n")
    write(tmp_path / "b.py", "text = 'import matplotlib.pyplot as plt'\nprint(text)\n")
    rows, stats = run([tmp_path])
    assert rows == []
    assert stats.skipped == {"no_plotting": 2}


def test_pandas_counts_only_when_it_plots(tmp_path):
    write(tmp_path / "a.py", PANDAS_PLOT)
    write(tmp_path / "b.py", PANDAS_ONLY)
    rows, stats = run([tmp_path])
    assert [(r["code"], r["libraries"]) for r in rows] == [(PANDAS_PLOT, ["pandas"])]
    assert stats.skipped == {"no_plotting": 1}


# Skip reasons -----------------------------------------------------------------------------------------------------

def test_unusable_files_are_counted_by_reason(tmp_path):
    write(tmp_path / "py2.py", 'import matplotlib\nprint "x"\n')
    write(tmp_path / "latin1.py", "import matplotlib\n# café\n".encode("latin-1"))
    write(tmp_path / "nul.py", b"import matplotlib\n\x00\x01")
    write(tmp_path / "big.py", PLOT + "#" * 200 + "\n")
    write(tmp_path / "blank.py", "\n  \n")
    write(tmp_path / "bom.py", "\ufeff" + PLOT)
    rows, stats = run([tmp_path], max_bytes=150)
    assert [r["source"] for r in rows] == [str(tmp_path / "bom.py")]
    assert rows[0]["code"] == PLOT
    assert stats.skipped == {"syntax": 1, "not_utf8": 1, "binary": 1, "too_large": 1, "empty": 1}
    assert stats.seen == 6 and stats.kept == 1


def test_duplicates_differing_only_in_comments_and_layout_are_dropped(tmp_path):
    write(tmp_path / "a.py", PLOT)
    write(tmp_path / "b.py", "# same program\nimport matplotlib.pyplot as plt\n\n\nplt.plot( [1, 2, 3] )  # line\n")
    rows, stats = run([tmp_path])
    assert [r["source"] for r in rows] == [str(tmp_path / "a.py")]
    assert stats.skipped == {"duplicate": 1}


def test_invalid_escape_sequences_parse_quietly(tmp_path, capfd):
    write(tmp_path / "a.py", PLOT + 'pattern = "\\d+"\n')
    rows, _ = run([tmp_path / "a.py"])
    assert len(rows) == 1
    assert "SyntaxWarning" not in capfd.readouterr().err


# Folders and notebooks --------------------------------------------------------------------------------------------

def test_folder_is_walked_in_sorted_order_picking_known_types(tmp_path):
    write(tmp_path / "b" / "z.py", PLOT)
    write(tmp_path / "a.py", SNS)
    write(tmp_path / "b" / "a" / "deep.py", PANDAS_PLOT)
    write(tmp_path / "notes.txt", PLOT + "x = 1\n")
    write(tmp_path / "b" / "nb.ipynb", notebook(("code", "import plotly.express as px\npx.line(y=[1])")))
    rows, stats = run([tmp_path])
    assert [Path(r["source"]).relative_to(tmp_path).as_posix() for r in rows] == [
        "a.py", "b/nb.ipynb", "b/z.py", "b/a/deep.py"]
    assert stats.seen == 4


def test_notebook_code_cells_are_joined_without_magics(tmp_path):
    path = write(tmp_path / "nb.ipynb", notebook(
        ("markdown", "# Title\nimport seaborn"),
        ("code", ["%matplotlib inline\n", "import matplotlib.pyplot as plt\n", "!pip install numpy\n"]),
        ("code", "%%bash\necho hi"),
        ("code", "  %time x = 1\nplt.plot([1, 2])\n"),
    ))
    rows, _ = run([path])
    assert rows[0]["code"] == "import matplotlib.pyplot as plt\n\nplt.plot([1, 2])"
    assert rows[0]["source"] == str(path)


def test_nbformat3_notebooks_are_read(tmp_path):
    nb = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": ["import seaborn as sns\n"]}]}]}
    rows, _ = run([write(tmp_path / "old.ipynb", json.dumps(nb))])
    assert rows[0]["code"] == "import seaborn as sns" and rows[0]["libraries"] == ["seaborn"]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"cells": 3}', '{"cells": [{"cell_type": "code", "source": 5}]}'])
def test_broken_notebooks_are_counted(tmp_path, text):
    rows, stats = run([write(tmp_path / "nb.ipynb", text)])
    assert rows == [] and stats.skipped == {"bad_notebook": 1}


# Archives ---------------------------------------------------------------------------------------------------------

def test_tar_members_are_read_in_archive_order(tmp_path):
    path = tar_gz(tmp_path / "code.tar.gz", {
        "pkg/z_plot.py": PLOT, "pkg/readme.md": PLOT, "pkg/a_nb.ipynb": notebook(("code", SNS)),
        "pkg/plain.py": "x = 1\n"})
    rows, stats = run([path])
    assert [r["source"] for r in rows] == [f"{path}!pkg/z_plot.py", f"{path}!pkg/a_nb.ipynb"]
    assert [r["libraries"] for r in rows] == [["matplotlib"], ["seaborn"]]
    assert stats.seen == 3 and stats.skipped == {"no_plotting": 1}


@pytest.mark.parametrize(("name", "mode"), [("c.tar", "w"), ("c.tgz", "w:gz"), ("c.tar.bz2", "w:bz2"),
                                           ("c.tar.xz", "w:xz")])
def test_every_tar_compression_is_read(tmp_path, name, mode):
    path = tar_gz(tmp_path / name, {"a.py": PLOT}, mode)
    assert [r["source"] for r in run([path])[0]] == [f"{path}!a.py"]


def test_zip_members_are_read(tmp_path):
    path = zip_file(tmp_path / "code.zip", {"b.py": PLOT, "dir/": "", "a.ipynb": notebook(("code", SNS))})
    rows, _ = run([path])
    assert [r["source"] for r in rows] == [f"{path}!b.py", f"{path}!a.ipynb"]


def test_truncated_and_corrupt_archives_are_counted_and_the_run_goes_on(tmp_path):
    members = {f"m{i}.py": PLOT + f"plt.title('{i}')\n" + f"# {'x' * 20000}{i}\n" for i in range(20)}
    whole = tar_gz(tmp_path / "whole.tar.gz", members).read_bytes()
    truncated = write(tmp_path / "cut.tar.gz", whole[: len(whole) // 2])
    bad_zip = write(tmp_path / "bad.zip", b"PK\x03\x04 not really a zip")
    after = write(tmp_path / "after.py", SNS)
    rows, stats = run([truncated, bad_zip, after])
    assert stats.skipped["bad_archive"] == 2
    assert 0 < len(rows) - 1 < 20  # the members read before the cut are kept
    assert rows[-1]["source"] == str(after)


# Tables -----------------------------------------------------------------------------------------------------------

def stack_rows() -> dict[str, list]:
    return {"content": [PLOT, None, PANDAS_ONLY, SNS],
            "max_stars_repo_path": ["src/plot.py", "x.py", "y.py", None],
            "license": [["MIT", "BSD-3-Clause"], ["MIT"], [], "Apache-2.0"]}


def test_parquet_rows_carry_source_and_licence(tmp_path):
    rows_in = stack_rows()
    rows_in["license"] = [["MIT", "BSD-3-Clause"], ["MIT"], [], ["Apache-2.0"]]
    path = tmp_path / "stack.parquet"
    pq.write_table(pa.table(rows_in), path, row_group_size=2)
    rows, stats = run([path])
    assert [(r["source"], r["licence"]) for r in rows] == [
        (f"{path}:src/plot.py", "MIT, BSD-3-Clause"), (f"{path}#3", "Apache-2.0")]
    assert stats.skipped == {"empty": 1, "no_plotting": 1}


def test_parquet_without_path_or_licence_columns_and_other_text_column(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": [PANDAS_ONLY, PLOT]}), path)
    rows, _ = run([path], text_column="text")
    assert [(r["source"], r["licence"]) for r in rows] == [(f"{path}#1", None)]


@pytest.mark.parametrize("name", ["stack.jsonl", "stack.jsonl.gz"])
def test_jsonl_rows_carry_source_and_licence(tmp_path, name):
    data = stack_rows()
    lines = [json.dumps(dict(zip(data, values))) for values in zip(*data.values())]
    lines[2:2] = ["{broken", "", "[1]"]
    text = "\n".join(lines) + "\n"
    path = write(tmp_path / name, gzip.compress(text.encode()) if name.endswith(".gz") else text)
    rows, stats = run([path])
    assert [(r["source"], r["licence"]) for r in rows] == [
        (f"{path}:src/plot.py", "MIT, BSD-3-Clause"), (f"{path}#6", "Apache-2.0")]
    assert stats.skipped == {"empty": 1, "no_plotting": 1, "bad_record": 2}


def test_table_text_is_checked_like_file_text(tmp_path):
    records = [{"content": "import matplotlib\n# \ud800\n"}, {"content": "import matplotlib\n\x00"},
               {"content": PLOT + "#" * 200}, {"content": 42}, {"path": "no-content.py"}]
    path = write(tmp_path / "t.jsonl", "\n".join(json.dumps(r) for r in records))
    rows, stats = run([path], max_bytes=150)
    assert rows == []
    assert stats.skipped == {"not_utf8": 1, "binary": 1, "too_large": 1, "bad_record": 2}


def test_truncated_jsonl_gz_keeps_the_records_before_the_cut(tmp_path):
    lines = [json.dumps({"content": PLOT + f"plt.title('{i}')\n# {'x' * 5000}{i}\n"}) for i in range(50)]
    whole = gzip.compress("\n".join(lines).encode())
    rows, stats = run([write(tmp_path / "cut.jsonl.gz", whole[: len(whole) * 2 // 3])])
    assert 0 < len(rows) < 50 and stats.skipped == {"bad_archive": 1}


@pytest.mark.parametrize("name", ["t.parquet", "t.jsonl"])
def test_missing_text_column_names_file_column_and_columns(tmp_path, name):
    path = tmp_path / "dump" / name
    path.parent.mkdir()
    if name.endswith(".parquet"):
        pq.write_table(pa.table({"text": [PLOT], "path": ["a.py"]}), path)
    else:
        write(path, json.dumps({"text": PLOT, "path": "a.py"}) + "\n")
    for source in (path, path.parent):
        with pytest.raises(ValueError, match=r"t\.(parquet|jsonl).*'content'.*text, path"):
            iter_candidates([source])


# Sources and output -----------------------------------------------------------------------------------------------

def test_missing_and_unknown_sources_are_refused_before_output_exists(tmp_path):
    good = write(tmp_path / "ok.py", PLOT)
    unknown = write(tmp_path / "data.csv", "a,b\n")
    output = tmp_path / "out"
    with pytest.raises(ValueError) as error:
        harvest([good, tmp_path / "missing.py", unknown], output)
    message = str(error.value)
    assert "missing.py" in message and "data.csv" in message and "ok.py" not in message
    assert "\n" not in message
    assert not output.exists()


def test_remote_paths_are_opened_with_fsspec(tmp_path):
    with fsspec.open("memory://harvest/plot.py", "wb") as f:
        f.write(PLOT.encode())
    rows, _ = run(["memory://harvest/plot.py"])
    assert [r["source"] for r in rows] == ["memory://harvest/plot.py"]
    with pytest.raises(ValueError, match="no such file"):
        iter_candidates(["memory://harvest/missing.py"])


def test_harvest_writes_verified_shards_and_counts(tmp_path):
    write(tmp_path / "src" / "a.py", PLOT)
    write(tmp_path / "src" / "b.py", PLOT + "\n\n")
    write(tmp_path / "src" / "c.py", 'print "x"\n')
    tar_gz(tmp_path / "src" / "d.tar.gz", {"s.py": SNS})
    output = tmp_path / "out"
    progress: list[int] = []
    manifest = harvest([tmp_path / "src"], output, on_progress=lambda step, done, total: progress.append(done))
    assert manifest["rows"] == 2
    assert manifest["counts"] == {**dict.fromkeys(SKIP_REASONS, 0), "duplicate": 1, "syntax": 1, "kept": 2, "seen": 4}
    assert manifest["libraries"] == {"matplotlib": 1, "seaborn": 1}
    assert manifest["config"]["sources"] == [str(tmp_path / "src")]
    assert progress[-1] == 4
    assert verify(output, manifest["shards"]) == []
    assert json.loads((output / "manifest.json").read_text()) == manifest
    table = pq.read_table(output / manifest["shards"][0]["name"])
    assert table.column("source").to_pylist() == [str(tmp_path / "src" / "a.py"), f"{tmp_path / 'src' / 'd.tar.gz'}!s.py"]
    assert table.column("libraries").to_pylist() == [["matplotlib"], ["seaborn"]]

    assert harvest([tmp_path / "src"], output) == manifest  # the same command finds it done
    with pytest.raises(FolderTaken, match="holds a candidate set with other settings"):
        harvest([tmp_path / "src"], output, max_bytes=100)
    assert harvest([tmp_path / "src" / "a.py"], output, force=True)["rows"] == 1
    assert len(list(output.glob("*.parquet"))) == 1
