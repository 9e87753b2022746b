"""Benchmark decontamination: rows that reuse a task's words are caught, the synthetic rows
are not, the index is fast and picklable, and unusable benchmark files say which file and why."""

from __future__ import annotations

import json
import pickle
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from viscode.curation.decontam import (
    DEFAULT_BENCHMARK,
    DEFAULT_THRESHOLD,
    BenchmarkIndex,
    build_index,
    load_benchmark_texts,
    tokens,
)
from viscode.curation.instructions import describe
from viscode.curation.tags import tag
from viscode.grid.candidates.synth import synthesize

TASK_KEYS = ("task__plot_description", "task__plot_style", "_task__plot_description_short",
             "_task__plot_description_short_single")


@pytest.fixture(scope="module")
def tasks() -> list[dict]:
    return [json.loads(line) for line in DEFAULT_BENCHMARK.read_text().splitlines()]


@pytest.fixture(scope="module")
def index() -> BenchmarkIndex:
    return build_index(load_benchmark_texts([DEFAULT_BENCHMARK]))


def test_shipped_tasks_are_the_99_texts_without_data(tasks):
    assert len(tasks) == 99 and len({t["id"] for t in tasks}) == 99 and 30 not in {t["id"] for t in tasks}
    assert all(set(t) == {"id", *TASK_KEYS} for t in tasks)
    assert len(load_benchmark_texts([DEFAULT_BENCHMARK])) == 4 * 99
    assert "Apache-2.0" in (DEFAULT_BENCHMARK.parent / "README.md").read_text()


def test_a_paraphrase_with_a_long_shared_span_is_flagged(index, tasks):
    task = tasks[2]["task__plot_description"]
    words = task.split()
    span = " ".join(words[10:30])  # 20 words kept verbatim, the rest reworded
    row = ("Write a Python program that draws the plot described below.\n1. Setup: Use Python and matplotlib.\n"
           f"2. Plot description: Make a figure with two panels; {span}. Put the index on the x axis.\n"
           "3. Style description: Title the chart \"Data\". Use a tight layout.")
    assert index.contaminated(row, DEFAULT_THRESHOLD)
    number, score = index.best_match(row)
    assert index.texts[number].strip() == task.strip() and score > 0.2
    assert index.overlap(tasks[7]["_task__plot_description_short"]) == 1.0  # a task copied whole
    code = "# " + tasks[40]["task__plot_style"] + "\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
    assert index.contaminated(code, DEFAULT_THRESHOLD)


def test_shared_boilerplate_alone_is_not_contamination(index):
    """Phrases the benchmark's own tasks share with each other (under a 13-word run) do not count."""
    row = "Plot Description: Create a heatmap of the DataFrame with a colour bar and the month on the x axis."
    assert index.overlap(row) == 0.0
    assert index.overlap("") == 0.0 and index.best_match("too short") == (-1, 0.0)


def test_synth_instructions_and_code_are_clean(index):
    """Measured over 2000 programs (seed 3): max overlap 0.0 for the instructions and for the code."""
    rows = list(synthesize(400, seed=3))
    scores = [index.overlap(describe(r["code"], tag(r["code"])).text()) for r in rows]
    scores += [index.overlap(r["code"]) for r in rows]
    assert max(scores) == 0.0 < DEFAULT_THRESHOLD


def test_queries_are_fast_and_the_index_pickles(index):
    rows = list(synthesize(200, seed=8))
    texts = [describe(r["code"], tag(r["code"])).text() for r in rows] * 50  # 10 000 queries of ~130 words
    start = time.perf_counter()
    flags = [index.contaminated(t) for t in texts]
    assert time.perf_counter() - start < 5.0 and not any(flags)  # measured about 0.5 s
    clone = pickle.loads(pickle.dumps(index))
    assert [clone.overlap(t) for t in index.texts[:20]] == [1.0] * 20


def test_tokens_ignore_case_punctuation_and_layout():
    assert tokens("Plot: the 'z' values,\n\tper-row!") == ["plot", "the", "z", "values", "per", "row"]
    assert build_index(["a b c d e f g h i"], n=8).overlap("A  b-c d\ne, f g h (i)") == 1.0
    with pytest.raises(ValueError, match="at least 1"):
        build_index(["a"], n=0)


def test_benchmark_files_in_every_format(tmp_path, tasks):
    generic = tmp_path / "generic.jsonl"
    generic.write_text(json.dumps({"prompt": "draw a violin plot", "other": 1}) + "\n\n"
                       + json.dumps({"instruction": "draw a pie chart", "code": None}) + "\n")
    listed = tmp_path / "tasks.json"
    listed.write_text(json.dumps([{"text": "a line chart"}, {"task": "a bar chart", "code": "plt.bar(x, y)"}]))
    parquet = tmp_path / "bench.parquet"
    pq.write_table(pa.table({"id": [0, 1], "code_plot": ["plt.plot(df.x)", None],
                             "task__plot_description": ["one", "two"], "plots_gt": [["png"], ["png"]]}), parquet)
    texts = load_benchmark_texts([generic, listed, parquet])
    assert texts == ["draw a violin plot", "draw a pie chart", "a line chart", "a bar chart", "plt.bar(x, y)",
                     "one", "plt.plot(df.x)", "two"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.jsonl", None, "cannot read"),
    ("bad.jsonl", '{"prompt": "x"}\n{not json\n', "line 2 is not valid JSON"),
    ("bad.json", "[1, 2", "not valid JSON"),
    ("dict.json", '{"prompt": "x"}', "expected a JSON list"),
    ("scalars.json", '["just text"]', "task 1 is a str"),
    ("fields.jsonl", '{"question": "x", "answer": "y"}\n', "no task texts"),
    ("empty.jsonl", "", "no task texts"),
    ("tasks.csv", "prompt\nx\n", "unsupported file type"),
    ("broken.parquet", "not parquet", "not a readable Parquet file"),
])
def test_unusable_files_raise_one_line_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_benchmark_texts([DEFAULT_BENCHMARK, path])
    assert str(path) in str(info.value) and "\n" not in str(info.value)
