"""Five-part instructions written by an LLM behind any OpenAI-compatible chat-completions
endpoint (vLLM, llama.cpp server, OpenAI, ...), for tens of thousands of snippets.

Only the standard library talks HTTP, so the curation stage adds no dependency. Every
snippet gets an instruction: a reply that stays unusable after the retries falls back to
the deterministic draft from the rules, and the reason is recorded. Usable replies are
cached on disk by what was asked (model, prompt version, temperature, code, draft), never
by where, so a rerun, or a run against another server with the same model, asks nothing again.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path

from viscode.curation.instructions import PARTS, Instruction

from viscode.errors import InputError, first_line
from viscode.shards import write_bytes

PROMPT_VERSION = "1"  # bump whenever the prompt's wording changes: it is part of every cache key
OPTIONAL_PARTS = frozenset({"data_preview"})
# wrong key, model or URL: every other request would fail alike
FATAL_STATUS = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})
MAX_RETRY_AFTER_S = 120.0  # a server asking for longer is not worth waiting on for one snippet
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


class LLMError(RuntimeError):
    """The endpoint cannot serve this run at all (bad key, model or URL; nothing but failures):
    stop rather than fall back on every snippet."""


@dataclass(frozen=True, slots=True)
class LLMConfig:
    endpoint: str  # base URL, e.g. http://host:8000/v1; requests go to {endpoint}/chat/completions
    model: str
    api_key: str | None = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY"), repr=False)
    timeout_s: float = 60.0  # per socket operation: connect, and each read of the reply
    max_retries: int = 4  # further attempts after the first, per snippet
    requests_per_minute: float = 600.0  # across all threads, retries included
    concurrency: int = 4
    temperature: float = 0.0
    cache_dir: Path | None = None
    max_tokens: int = 1024  # bounds a runaway reply
    backoff_s: float = 0.5  # wait before retry k is backoff_s * 2**k, at most backoff_cap_s
    backoff_cap_s: float = 8.0
    max_consecutive_fallbacks: int = 25  # this many snippets in a row falling back means the endpoint is unusable

    def __post_init__(self) -> None:
        try:
            url = urllib.parse.urlsplit(self.endpoint)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            url = urllib.parse.SplitResult("", "", "", "", "")
        if url.scheme not in ("http", "https") or not url.netloc:
            raise InputError(f"LLM endpoint must be an http(s) URL such as http://host:8000/v1, not {self.endpoint!r}")
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        for name in ("timeout_s", "requests_per_minute", "concurrency", "max_tokens", "max_consecutive_fallbacks"):
            if getattr(self, name) <= 0:
                raise InputError(f"LLM {name} must be positive, not {getattr(self, name)!r}")
        for name in ("max_retries", "backoff_s", "backoff_cap_s"):
            if getattr(self, name) < 0:
                raise InputError(f"LLM {name} must not be negative, not {getattr(self, name)!r}")


@dataclass(slots=True)
class WriterStats:
    requests: int = 0  # HTTP requests sent, retries included
    cache_hits: int = 0
    retries: int = 0
    fallbacks: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # failed attempts by kind: timeout, http-503, garbage...
    fallen_back: dict[str, str] = field(default_factory=dict)  # item key -> why its instruction came from the rules


def build_messages(code: str, draft: Instruction) -> list[dict[str, str]]:
    """The chat for one snippet; its content is what the cache key stands for."""
    facts = json.dumps({name: getattr(draft, name) for name in PARTS}, indent=2, ensure_ascii=False)
    user = (f"Program:\n```python\n{code.rstrip()}\n```\n\n"
            f"Draft instruction made by rules (reuse its facts, write it better):\n{facts}\n\n"
            "Write the five-part instruction as one JSON object.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def cache_key(model: str, temperature: float, messages: list[dict[str, str]]) -> str:
    """Endpoint-independent: the same model asked the same thing gives the same key on any server."""
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


class _Pacer:
    """A minimum interval between request starts, shared by all threads: the rate holds
    steadily instead of in bursts, and a 429 pauses every thread, not only the one it hit."""

    def __init__(self, per_minute: float):
        self._interval = 60.0 / per_minute
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


class _Cache:
    """One JSON file per key under a two-level fan-out, so no folder grows past a few
    thousand entries; written atomically, and anything unreadable is simply a miss."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / f"{key}.json"

    def get(self, key: str) -> dict[str, str] | None:
        try:
            stored = json.loads(self._path(key).read_text(encoding="utf-8"))
            return check_parts(stored.get("parts") if isinstance(stored, dict) else None)
        except (OSError, ValueError):  # missing, unreadable, not JSON, not the five parts
            return None

    def put(self, key: str, parts: dict[str, str], model: str) -> None:
        entry = {"prompt_version": PROMPT_VERSION, "model": model, "parts": parts}
        write_bytes(json.dumps(entry, ensure_ascii=False).encode(), self._path(key))


class _Failure(Exception):
    """One failed attempt: its kind for the stats, and whether (and after how long) to try again."""

    def __init__(self, kind: str, detail: str, *, retry: bool = True, retry_after: float | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.retry = retry
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's own words for an error: OpenAI-style {"error": {"message": ...}}, else the body's first line."""
    try:
        text = exc.read().decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException):
        text = ""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        error = obj.get("error", obj)
        message = error.get("message", error) if isinstance(error, dict) else error
        text = str(message).strip()
    return text.splitlines()[0][:300] if text else exc.reason or "no details"


class InstructionWriter:
    """Writes instructions for many snippets at once, `concurrency` requests in flight at a
    steady `requests_per_minute`. `stats` accumulates over the writer's life."""

    def __init__(self, config: LLMConfig):
        self.config = config
        self.stats = WriterStats()
        self._url = f"{config.endpoint}/chat/completions"
        self._pacer = _Pacer(config.requests_per_minute)
        self._cache = _Cache(config.cache_dir) if config.cache_dir is not None else None
        self._lock = threading.Lock()
        self._consecutive_fallbacks = 0

    def write_all(self, items: list[tuple[str, str, Instruction]],
                  on_done: Callable[[int], None] | None = None) -> list[tuple[Instruction, str]]:
        """(instruction, "llm" | "rules") per (key, code, draft), in input order; `on_done(n)` is
        called from this thread with the number of items done so far. Raises LLMError when the
        endpoint cannot serve the run at all; what was not started by then is cancelled."""
        pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="llm-writer")
        try:
            futures = [pool.submit(self._write_one, key, code, draft) for key, code, draft in items]
            for done, future in enumerate(as_completed(futures), 1):
                future.result()  # raise as soon as any item raises
                if on_done is not None:
                    on_done(done)
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _write_one(self, key: str, code: str, draft: Instruction) -> tuple[Instruction, str]:
        cfg = self.config
        messages = build_messages(code, draft)
        digest = cache_key(cfg.model, cfg.temperature, messages)
        if self._cache is not None and (parts := self._cache.get(digest)) is not None:
            with self._lock:
                self.stats.cache_hits += 1
            return type(draft)(**parts), "llm"
        try:
            parts = self._ask(messages)
        except _Failure as failure:
            with self._lock:
                self.stats.fallbacks += 1
                self.stats.fallen_back[key] = str(failure)
                self._consecutive_fallbacks += 1
                if self._consecutive_fallbacks >= cfg.max_consecutive_fallbacks:
                    raise LLMError(f"{self._consecutive_fallbacks} snippets in a row fell back to the rules, the "
                                   f"last ({key}) after {failure}; is {self._url} serving {cfg.model}?") from None
            return draft, "rules"
        with self._lock:
            self._consecutive_fallbacks = 0
        if self._cache is not None:
            self._cache.put(digest, parts, cfg.model)
        return type(draft)(**parts), "llm"

    def _ask(self, messages: list[dict[str, str]]) -> dict[str, str]:
        """The five parts, trying up to 1 + max_retries times; raises the last _Failure."""
        cfg = self.config
        conversation = messages
        for attempt in itertools.count():
            self._pacer.wait()
            with self._lock:
                self.stats.requests += 1
                self.stats.retries += int(attempt > 0)
            try:
                content = self._post(conversation)
                try:
                    return parse_reply(content)
                except UnusableReply as exc:
                    # the same question at temperature 0 tends to get the same answer: show it and ask for a fix
                    conversation = [*messages, {"role": "assistant", "content": content[:MAX_ECHOED_CHARS]},
                                    {"role": "user", "content": FIX_PROMPT.format(reason=exc)}]
                    raise _Failure("garbage", str(exc), retry_after=0.0) from None
            except _Failure as failure:
                with self._lock:
                    self.stats.failures[failure.kind] += 1
                if not failure.retry or attempt == cfg.max_retries:
                    raise
                delay = failure.retry_after
                if delay is None:
                    delay = min(cfg.backoff_s * 2 ** attempt, cfg.backoff_cap_s)
                if failure.kind == "http-429":
                    self._pacer.hold(delay)  # the server is saturated for everyone, not for this thread
                else:
                    time.sleep(delay)

    def _post(self, messages: list[dict[str, str]]) -> str:
        """One chat-completions request; the reply's text, or _Failure / LLMError."""
        cfg = self.config
        body = {"model": cfg.model, "messages": messages, "temperature": cfg.temperature, "max_tokens": cfg.max_tokens}
        headers = {"Content-Type": "application/json"}
        if cfg.api_key:
            headers["Authorization"] = f"Bearer {cfg.api_key}"
        request = urllib.request.Request(self._url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=cfg.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            status, detail = exc.code, _error_detail(exc)
            if status in FATAL_STATUS:
                raise LLMError(f"{self._url}: HTTP {status} for model {cfg.model!r}: {detail}") from None
            retry = status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR
            raise _Failure(f"http-{status}", detail, retry=retry,
                           retry_after=_retry_after(exc.headers.get("Retry-After"))) from None
        except urllib.error.URLError as exc:  # before OSError: it is one
            kind = "timeout" if isinstance(exc.reason, TimeoutError) else "connection"
            raise _Failure(kind, first_line(exc.reason if isinstance(exc.reason, BaseException) else exc)) from None
        except TimeoutError as exc:
            raise _Failure("timeout", f"no reply within {cfg.timeout_s} s ({first_line(exc)})") from None
        except (http.client.HTTPException, OSError) as exc:
            raise _Failure("connection", first_line(exc)) from None
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, LookupError, TypeError):
            raise _Failure("garbage", "not a chat-completions response", retry_after=0.0) from None
        if not isinstance(content, str):
            raise _Failure("garbage", "reply has no text", retry_after=0.0)
        return content
