"""Conversations to token ids and labels, with the model's own chat template.

Labels are the assistant turns only, each turn's end token included: a turn's span is the text
the template adds between the conversation up to its generation prompt and the conversation up
to that turn. That works with any template that renders a conversation as the prefix of its
continuation (ChatML, Qwen2.5's), needs no `{% generation %}` markers, and is checked per row.
The whole set is tokenised once (templates rendered in Python, the encoding batched on the
tokenizer's Rust threads) and cached under a key of (tokenizer, data digest, settings).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from transformers import PreTrainedTokenizerBase

from viscode.errors import InputError
from viscode.shards import write_json, write_parquet

IGNORE = -100
BATCH = 512
PARALLEL_ROWS = 20_000  # below this, one process tokenizes (a few seconds at most)
LOSS_TURNS = ("all", "final")
TOKENS_SCHEMA = pa.schema([("input_ids", pa.list_(pa.int32())), ("labels", pa.list_(pa.int32()))])


@dataclass(frozen=True, slots=True)
class TokenSettings:
    max_length: int
    loss_turns: str = "all"   # all: every assistant turn (VisCoder); final: the last one only
    truncate: bool = False    # False: drop rows longer than max_length (VisCoder's `delete`)

    def __post_init__(self) -> None:
        if self.loss_turns not in LOSS_TURNS:
            raise InputError(f"--loss-turns {self.loss_turns!r}: choose from {', '.join(LOSS_TURNS)}")
        if self.max_length < 2:
            raise InputError(f"--max-length {self.max_length}: must be at least 2")


@dataclass(slots=True)
class TokenStats:
    rows: int = 0
    kept: int = 0
    too_long: int = 0
    truncated: int = 0
    special_text: int = 0   # content holding a special token's literal text
    no_labels: int = 0
    tokens: int = 0
    label_tokens: int = 0
    longest_dropped: int = 0
    shortest: int = 0

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class TokenizedSplit:
    input_ids: list[np.ndarray]
    labels: list[np.ndarray]
    stats: TokenStats = field(default_factory=TokenStats)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.input_ids), dtype=np.int64, count=len(self.input_ids))


def tokenizer_digest(tokenizer: PreTrainedTokenizerBase) -> str:
    backend = tokenizer.backend_tokenizer.to_str()
    return hashlib.sha256((backend + "\0" + (tokenizer.chat_template or "")).encode()).hexdigest()


def render(tokenizer: PreTrainedTokenizerBase, messages: list[dict], loss_turns: str) -> tuple[str, list[tuple[int, int]]]:
    """The conversation's text and the character spans of the assistant turns that carry loss."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True) if i else ""
        upto = tokenizer.apply_chat_template(messages[:i + 1], tokenize=False)
        if not (upto.startswith(prompt) and text.startswith(upto)):
            raise InputError(f"{tokenizer.name_or_path}: its chat template does not render a conversation as the "
                             "prefix of its continuation, so assistant turns cannot be located")
        spans.append((len(prompt), len(upto)))
    return text, spans[-1:] if loss_turns == "final" else spans


def _labels(ids: list[int], offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> np.ndarray:
    ids_arr = np.asarray(ids, dtype=np.int32)
    if not len(ids_arr):
        return ids_arr
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    trained = np.zeros(len(ids_arr), dtype=bool)
    for start, end in spans:
        trained |= (off[:, 0] < end) & (off[:, 1] > start)
    labels = np.where(trained, ids_arr, IGNORE).astype(np.int32)
    labels[0] = IGNORE  # never predicted from a previous document in a packed row
    return labels


def _special_texts(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """Every added special token, not only the named ones (<|im_start|> is neither bos, eos nor pad)."""
    return sorted({t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
                  | {t for t in tokenizer.all_special_tokens if t})


def _encode_batch(tokenizer: PreTrainedTokenizerBase, batch: list[list[dict]],
                  settings: TokenSettings) -> TokenizedSplit:
    """One batch of conversations; its stats count its rows (`shortest` is left to the merge)."""
    specials = _special_texts(tokenizer)
    out = TokenizedSplit([], [])
    stats = out.stats
    texts, spans = [], []
    for messages in batch:
        stats.rows += 1
        if any(s in m["content"] for m in messages for s in specials):
            stats.special_text += 1
            continue
        text, turn_spans = render(tokenizer, messages, settings.loss_turns)
        texts.append(text)
        spans.append(turn_spans)
    if not texts:
        return out
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    for ids, offsets, turn_spans in zip(enc["input_ids"], enc["offset_mapping"], spans):
        labels = _labels(ids, offsets, turn_spans)
        ids = np.asarray(ids, dtype=np.int32)
        if len(ids) > settings.max_length:
            if not settings.truncate:
                stats.too_long += 1
                stats.longest_dropped = max(stats.longest_dropped, len(ids))
                continue
            ids, labels = ids[:settings.max_length], labels[:settings.max_length]
            stats.truncated += 1
        n_labels = int((labels != IGNORE).sum())
        if n_labels == 0:
            stats.no_labels += 1
            continue
        out.input_ids.append(ids)
        out.labels.append(labels)
        stats.tokens += len(ids)
        stats.label_tokens += n_labels
    return out


_worker_tokenizer: PreTrainedTokenizerBase | None = None


def _start_worker(tokenizer: PreTrainedTokenizerBase) -> None:
    global _worker_tokenizer
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # the processes are the parallelism
    _worker_tokenizer = tokenizer


def _encode_in_worker(batch: list[list[dict]], settings: TokenSettings) -> TokenizedSplit:
    return _encode_batch(_worker_tokenizer, batch, settings)


def default_workers(rows: int) -> int:
    """Processes for tokenizing: one for small sets (starting more costs seconds), else one a core."""
    return 1 if rows < PARALLEL_ROWS else min(os.cpu_count() or 1, 16)


def tokenize(tokenizer: PreTrainedTokenizerBase, conversations: list[list[dict]], settings: TokenSettings,
             progress=None, workers: int | None = None) -> TokenizedSplit:
    """Rendering the template is Python, so large sets are split over processes; the encoding of each
    batch runs on the tokenizer's Rust threads. Rows keep their order whatever the split."""
    batches = [conversations[i:i + BATCH] for i in range(0, len(conversations), BATCH)]
    workers = workers or default_workers(len(conversations))
    if workers > 1 and len(batches) > 1:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                   initargs=(tokenizer,))
        parts = pool.map(_encode_in_worker, batches, [settings] * len(batches))
    else:
        pool = None
        parts = (_encode_batch(tokenizer, batch, settings) for batch in batches)
    out = TokenizedSplit([], [])
    try:
        for batch, part in zip(batches, parts):
            out.input_ids += part.input_ids
            out.labels += part.labels
            for name in ("rows", "too_long", "truncated", "special_text", "no_labels", "tokens", "label_tokens"):
                setattr(out.stats, name, getattr(out.stats, name) + getattr(part.stats, name))
            out.stats.longest_dropped = max(out.stats.longest_dropped, part.stats.longest_dropped)
            if progress is not None:
                progress(len(batch))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    out.stats.kept = len(out.input_ids)
    out.stats.shortest = int(out.lengths.min()) if out.input_ids else 0
    return out


def cache_key(tokenizer: PreTrainedTokenizerBase, data_digest: str, settings: TokenSettings) -> str:
    blob = json.dumps({"tokenizer": tokenizer_digest(tokenizer), "data": data_digest, **asdict(settings),
                       "format": 1}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def load_or_tokenize(cache_dir: Path, tokenizer: PreTrainedTokenizerBase,
                     conversations: list[list[dict]] | Callable[[], list[list[dict]]], data_digest: str,
                     settings: TokenSettings, progress=None) -> tuple[TokenizedSplit, bool]:
    """(tokenized split, whether it came from the cache). `conversations` may be a function, called
    only on a miss, so a cached split is never read again. The cache entry is a Parquet file and its
    stats, each written atomically; stats are written last, so an entry with stats is whole."""
    key = cache_key(tokenizer, data_digest, settings)
    shard, stats_file = cache_dir / f"{key}.parquet", cache_dir / f"{key}.json"
    if stats_file.is_file() and shard.is_file():
        try:
            table = pq.read_table(shard)
            stats = TokenStats(**json.loads(stats_file.read_text()))
        except (pa.ArrowInvalid, OSError, ValueError, TypeError):
            pass  # a damaged cache entry is rebuilt
        else:
            ids = [np.asarray(x, dtype=np.int32) for x in table.column("input_ids").to_numpy(zero_copy_only=False)]
            labels = [np.asarray(x, dtype=np.int32) for x in table.column("labels").to_numpy(zero_copy_only=False)]
            return TokenizedSplit(ids, labels, stats), True
    split = tokenize(tokenizer, conversations() if callable(conversations) else conversations, settings, progress)
    table = pa.table({"input_ids": pa.array(split.input_ids, type=TOKENS_SCHEMA.field("input_ids").type),
                      "labels": pa.array(split.labels, type=TOKENS_SCHEMA.field("labels").type)},
                     schema=TOKENS_SCHEMA)
    write_parquet(table, shard)
    write_json(split.stats.to_json(), stats_file)
    return split, False
