"""Five-part instructions written by an LLM behind any OpenAI-compatible chat-completions
endpoint (vLLM, llama.cpp server, OpenAI, ...), for tens of thousands of snippets.

Every snippet gets an instruction: a reply that stays unusable after the retries falls back to
the deterministic draft from the rules, and the reason is recorded. Usable replies are
cached on disk by what was asked (model, prompt version, temperature, code, draft), never
by where, so a rerun, or a run against another server with the same model, asks nothing again.
HTTP, retries and pacing are the shared client's (viscode.llm).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from viscode.curation.instructions import PARTS, Instruction

from viscode.errors import InputError
from viscode.llm import ChatClient, ClientConfig, ClientStats, EndpointError, RequestFailed, ResponseCache

PROMPT_VERSION = "1"  # bump whenever the prompt's wording changes: it is part of every cache key
OPTIONAL_PARTS = frozenset({"data_preview"})
MAX_ECHOED_CHARS = 4000  # of an unusable reply sent back with the request to fix it

SYSTEM_PROMPT = """\
You write the user instructions of a dataset that teaches models to write Python visualization code. \
Given a plotting program, write the instruction a user could have given for which this program is a correct answer. \
The instruction has five parts:
- setup: one or two sentences naming the language and the libraries to use.
- data_description: what the data is and where it comes from (literal values, generated, read from a file): \
its variables, what they mean, their sizes and ranges.
- data_preview: a compact preview of the data the plot uses, a few rows or values as plain text or a small table; \
an empty string when there are no literal values to show.
- plot_description: what the plot shows: chart types, which variables map to the axes, colour, size or facets, \
the subplot layout, annotations.
- style_description: how it looks: colours, markers, line styles, axis labels, title, legend, grid, ticks, \
figure size, theme.
Describe, never copy: no statements, function calls or code lines from the program. \
Be faithful: state only what the program does. \
A draft made by rules comes with the program: its facts (libraries, names, values) are reliable, its wording is not. \
Reply with one JSON object with exactly the keys setup, data_description, data_preview, plot_description and \
style_description, each a string, and nothing else."""

FIX_PROMPT = ("That reply was not usable ({reason}). Reply with only one JSON object with the string keys setup, "
              "data_description, data_preview, plot_description and style_description.")


class UnusableReply(ValueError):
    """A reply (or cache file) without the five parts; the message says what is wrong."""


class LLMError(EndpointError):
    """The endpoint cannot serve this run at all (bad key, model or URL; nothing but failures):
    stop rather than fall back on every snippet."""


@dataclass(frozen=True, slots=True)
class LLMConfig(ClientConfig):
    cache_dir: Path | None = None
    max_consecutive_fallbacks: int = 25  # this many snippets in a row falling back means the endpoint is unusable

    def __post_init__(self) -> None:
        ClientConfig.__post_init__(self)  # not super(): slots=True makes a new class that super() cannot see
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.max_consecutive_fallbacks <= 0:
            raise InputError(f"LLM max_consecutive_fallbacks must be positive, not {self.max_consecutive_fallbacks!r}")


@dataclass(slots=True)
class WriterStats(ClientStats):
    cache_hits: int = 0
    fallbacks: int = 0
    fallen_back: dict[str, str] = field(default_factory=dict)  # item key -> why its instruction came from the rules


def build_messages(code: str, draft: Instruction) -> list[dict[str, str]]:
    """The chat for one snippet; its content is what the cache key stands for."""
    facts = json.dumps({name: getattr(draft, name) for name in PARTS}, indent=2, ensure_ascii=False)
    user = (f"Program:\n```python\n{code.rstrip()}\n```\n\n"
            f"Draft instruction made by rules (reuse its facts, write it better):\n{facts}\n\n"
            "Write the five-part instruction as one JSON object.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def cache_key(model: str, temperature: float, messages: list[dict[str, str]]) -> str:
    """Endpoint-independent: the same model asked the same thing gives the same key on any server.
    Hashed as it always was, not by viscode.llm.request_key, so caches already written stay valid."""
    payload = json.dumps([PROMPT_VERSION, model, float(temperature), messages], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)  # reasoning models' scratchpad may hold stray braces


def check_parts(obj: object) -> dict[str, str]:
    """The five parts from a decoded object, stripped; UnusableReply says what is missing."""
    if not isinstance(obj, dict):
        raise UnusableReply(f"a JSON {type(obj).__name__}, not an object")
    parts = {}
    for name in PARTS:
        value = obj.get(name)
        if not isinstance(value, str):
            raise UnusableReply(f"{name} missing or not a string")
        if not value.strip() and name not in OPTIONAL_PARTS:
            raise UnusableReply(f"{name} is empty")
        parts[name] = value.strip()
    return parts


def parse_reply(text: str) -> dict[str, str]:
    """The five parts from a model's reply: the first JSON object that has them, wherever it sits
    (bare, in ```json fences, amid prose). UnusableReply when there is none."""
    text = _THINKING.sub("", text)
    decoder = json.JSONDecoder()
    problem = "no JSON object"
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        try:
            return check_parts(obj)
        except UnusableReply as exc:
            problem = str(exc)
    raise UnusableReply(problem)


class InstructionWriter:
    """Writes instructions for many snippets at once, `concurrency` requests in flight at a
    steady `requests_per_minute`. `stats` accumulates over the writer's life."""

    def __init__(self, config: LLMConfig):
        self.config = config
        self.stats = WriterStats()
        self._client = ChatClient(config, self.stats)
        self._cache = ResponseCache(config.cache_dir) if config.cache_dir is not None else None
        self._lock = threading.Lock()
        self._consecutive_fallbacks = 0

    def write_all(self, items: list[tuple[str, str, Instruction]]) -> list[tuple[Instruction, str]]:
        """(instruction, "llm" | "rules") per (key, code, draft), in input order. Raises LLMError
        when the endpoint cannot serve the run at all; what was not started by then is cancelled."""
        pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="llm-writer")
        try:
            futures = [pool.submit(self._write_one, key, code, draft) for key, code, draft in items]
            for future in as_completed(futures):
                future.result()  # raise as soon as any item raises
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _write_one(self, key: str, code: str, draft: Instruction) -> tuple[Instruction, str]:
        cfg = self.config
        messages = build_messages(code, draft)
        digest = cache_key(cfg.model, cfg.temperature, messages)
        if (parts := self._cached(digest)) is not None:
            with self._lock:
                self.stats.cache_hits += 1
            return type(draft)(**parts), "llm"
        try:
            parts = self._ask(messages)
        except EndpointError as exc:
            raise LLMError(str(exc)) from None
        except RequestFailed as failure:
            with self._lock:
                self.stats.fallbacks += 1
                self.stats.fallen_back[key] = str(failure)
                self._consecutive_fallbacks += 1
                if self._consecutive_fallbacks >= cfg.max_consecutive_fallbacks:
                    raise LLMError(f"{self._consecutive_fallbacks} snippets in a row fell back to the rules, the "
                                   f"last ({key}) after {failure}; is {self._client.url} serving {cfg.model}?") from None
            return draft, "rules"
        with self._lock:
            self._consecutive_fallbacks = 0
        if self._cache is not None:
            self._cache.put(digest, {"prompt_version": PROMPT_VERSION, "model": cfg.model, "parts": parts})
        return type(draft)(**parts), "llm"

    def _cached(self, digest: str) -> dict[str, str] | None:
        """The five parts stored for this key; an entry without them is a miss."""
        stored = self._cache.get(digest) if self._cache is not None else None
        try:
            return None if stored is None else check_parts(stored.get("parts"))
        except UnusableReply:
            return None

    def _ask(self, messages: list[dict[str, str]]) -> dict[str, str]:
        """The five parts, trying up to 1 + max_retries times; raises the last RequestFailed.
        An unusable reply counts as a failed attempt, and the next one shows it and asks for a fix:
        the same question at temperature 0 tends to get the same answer."""
        conversation = messages

        def attempt() -> dict[str, str]:
            nonlocal conversation
            content = self._client.send(conversation).text
            try:
                return parse_reply(content)
            except UnusableReply as exc:
                conversation = [*messages, {"role": "assistant", "content": content[:MAX_ECHOED_CHARS]},
                                {"role": "user", "content": FIX_PROMPT.format(reason=exc)}]
                raise RequestFailed("garbage", str(exc), retry_after=0.0) from None

        return self._client.retrying(attempt)
