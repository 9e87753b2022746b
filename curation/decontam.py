"""Benchmark decontamination: training rows whose instruction or code shares long word
spans with a benchmark task are dropped, so scores on the benchmark stay honest.

The measure is the overlap coefficient of word n-grams (n = 8 by default): the shared
n-grams of a row's text and one benchmark text, over the smaller of the two n-gram sets,
maximised over benchmark texts. A row that contains a task (or a task that contains the
row) scores 1. Shared phrases count only as strong evidence: at least MIN_SHARED n-grams
(a 13-word span at n = 8, GPT-3's contamination criterion) or the whole benchmark text,
because the benchmark's short texts share boilerplate with one another ("create a heatmap
of the dataframe with" alone would score 0.33 against a 6-gram text). Tokens are lowercased
runs of word characters, so punctuation, layout and code syntax do not matter.

The index keys are the n-grams themselves (tuples of words), never salted hashes, and the
index is a plain picklable object, so one pickled into worker processes answers exactly as
in the process that built it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from viscode.errors import InputError

DEFAULT_BENCHMARK = Path(__file__).parent / "data" / "pandasplotbench_tasks.jsonl"
DEFAULT_N = 8
# Measured at n=8 against the shipped tasks: 2000 synth instructions and their code score 0.0, and so does every
# shipped task text against the other tasks' texts; a verbatim span of 16 words inside a rule-based instruction
# scores at least 0.079 (median 0.18), of 20 words at least 0.11.
DEFAULT_THRESHOLD = 0.05
MIN_SHARED = 6           # shared n-grams that count as evidence: a run of n + 5 words
TASK_FIELDS = ("task__plot_description", "task__plot_style", "_task__plot_description_short",
               "_task__plot_description_short_single", "code_plot", "code_data")
GENERIC_FIELDS = ("instruction", "prompt", "task", "text", "code")
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Lowercased word tokens; for code, its identifiers, keywords and numbers."""
    return _TOKEN.findall(text.lower())


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = tokens(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def load_benchmark_texts(paths: Iterable[Path]) -> list[str]:
    """Task texts of benchmark files: PandasPlotBench JSONL/JSON/Parquet (its four task texts, and its code
    where present), or any JSONL/JSON list of objects with an instruction, prompt, task, text or code field.
    Raises ValueError, one line naming the file, for a file that cannot be read or holds none of the fields."""
    texts: list[str] = []
    for path in map(Path, paths):
        found = [value for record in _records(path) for key in (*TASK_FIELDS, *GENERIC_FIELDS)
                 if isinstance(value := record.get(key), str) and value.strip()]
        if not found:
            raise InputError(f"{path}: no task texts (none of the fields {', '.join(TASK_FIELDS + GENERIC_FIELDS)})")
        texts += found
    return texts


def _records(path: Path) -> list[dict]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return _parquet_records(path)
        if suffix not in (".jsonl", ".ndjson", ".json"):
            raise InputError(f"{path}: unsupported file type {suffix or '(none)'!r}; expected .jsonl, .json or .parquet")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if suffix == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
        if not isinstance(records, list):
            raise InputError(f"{path}: expected a JSON list of task objects, found {type(records).__name__}")
    else:
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}: line {number} is not valid JSON ({e.msg})") from None
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise InputError(f"{path}: task {bad + 1} is a {type(records[bad]).__name__}, not an object")
    return records


def _parquet_records(path: Path) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        columns = [c for c in (*TASK_FIELDS, *GENERIC_FIELDS) if c in names]
        if not columns:
            return []
        return pq.read_table(path, columns=columns).to_pylist()
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0] if str(e) else e})") from None


@dataclass(frozen=True)
class BenchmarkIndex:
    """Word n-grams of benchmark texts, each mapped to the texts that contain it."""

    n: int
    texts: tuple[str, ...]
    grams: Mapping[tuple[str, ...], tuple[int, ...]]
    sizes: tuple[int, ...]  # distinct n-grams of each text
    min_shared: int = MIN_SHARED

    def best_match(self, text: str) -> tuple[int, float]:
        """The benchmark text the given text overlaps most, and by how much (0..1); (-1, 0.0) for none."""
        query = _grams(text, self.n)
        hits = query & self.grams.keys()
        if not hits:
            return -1, 0.0
        shared = Counter(i for gram in hits for i in self.grams[gram])
        scores = [(i, count / min(len(query), self.sizes[i])) for i, count in shared.items()
                  if count >= min(self.min_shared, self.sizes[i])]
        return max(scores, key=lambda pair: (pair[1], -pair[0])) if scores else (-1, 0.0)

    def overlap(self, text: str) -> float:
        """Overlap coefficient of the text's n-grams with its closest benchmark text."""
        return self.best_match(text)[1]

    def contaminated(self, text: str, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.overlap(text) >= threshold

    def leaks(self, pairs: list[tuple[str, str]], threshold: float = DEFAULT_THRESHOLD) -> list[bool]:
        """For each (instruction, code) pair: does either overlap a benchmark task?"""
        return [self.contaminated(text, threshold) or self.contaminated(code, threshold) for text, code in pairs]


def build_index(texts: list[str], n: int = DEFAULT_N, min_shared: int = MIN_SHARED) -> BenchmarkIndex:
    """The index of benchmark texts; texts shorter than n words have no n-grams and are never matched."""
    if n < 1 or min_shared < 1:
        raise InputError(f"n and min_shared must be at least 1, got n={n} min_shared={min_shared}")
    owners: dict[tuple[str, ...], list[int]] = {}
    sizes = []
    for i, text in enumerate(texts):
        grams = _grams(text, n)
        sizes.append(len(grams))
        for gram in grams:
            owners.setdefault(gram, []).append(i)
    return BenchmarkIndex(n, tuple(texts), {g: tuple(ids) for g, ids in owners.items()}, tuple(sizes), min_shared)
