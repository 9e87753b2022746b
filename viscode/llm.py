"""One client for any OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp server,
OpenAI, ...), shared by every stage that asks a model, so retries, pacing and caching behave
the same everywhere.

Only the standard library talks HTTP, so no stage gains a dependency. A request that fails
for a passing reason (timeout, dropped connection, 429, 5xx, a body that is no reply) is
retried with back-off; one that would fail alike for every request (bad key, model or URL)
raises EndpointError at once, so a run stops instead of failing request by request.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path

from viscode.errors import InputError, first_line
from viscode.shards import write_bytes

# wrong key, model or URL: every other request would fail alike
FATAL_STATUS = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})
MAX_RETRY_AFTER_S = 120.0  # a server asking for longer is not worth waiting on for one request
MAX_PROBE_S = 10.0


class EndpointError(RuntimeError):
    """The endpoint cannot serve this run at all (bad key, model or URL, nothing answering):
    stop rather than fail every request alike."""


@dataclass(frozen=True, slots=True)
class ClientConfig:
    endpoint: str  # base URL, e.g. http://host:8000/v1; requests go to {endpoint}/chat/completions
    model: str
    api_key: str | None = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY"), repr=False)
    timeout_s: float = 60.0  # per socket operation: connect, and each read of the reply
    max_retries: int = 4  # further attempts after the first, per request
    requests_per_minute: float = 600.0  # across all threads, retries included
    concurrency: int = 4  # requests in flight, for callers that run a pool
    temperature: float = 0.0
    max_tokens: int = 1024  # bounds a runaway reply
    backoff_s: float = 0.5  # wait before retry k is backoff_s * 2**k, at most backoff_cap_s
    backoff_cap_s: float = 8.0

    def __post_init__(self) -> None:
        try:
            url = urllib.parse.urlsplit(self.endpoint)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            url = urllib.parse.SplitResult("", "", "", "", "")
        if url.scheme not in ("http", "https") or not url.netloc:
            raise InputError(f"LLM endpoint must be an http(s) URL such as http://host:8000/v1, not {self.endpoint!r}")
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        for name in ("timeout_s", "requests_per_minute", "concurrency", "max_tokens"):
            if getattr(self, name) <= 0:
                raise InputError(f"LLM {name} must be positive, not {getattr(self, name)!r}")
        for name in ("max_retries", "backoff_s", "backoff_cap_s"):
            if getattr(self, name) < 0:
                raise InputError(f"LLM {name} must not be negative, not {getattr(self, name)!r}")


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    prompt_tokens: int = 0  # from the response's "usage" when the server reports it
    completion_tokens: int = 0
    finish_reason: str | None = None


class RequestFailed(Exception):
    """One failed attempt, or a request that stayed failed after its retries: its kind for the
    stats ("timeout", "connection", "http-503", "garbage", ...), and whether (and after how
    long) trying again may help."""

    def __init__(self, kind: str, detail: str, *, retry: bool = True, retry_after: float | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.retry = retry
        self.retry_after = retry_after


@dataclass(slots=True)
class ClientStats:
    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # failed attempts by kind
    prompt_tokens: int = 0
    completion_tokens: int = 0


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


def _count(usage: object, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class ChatClient:
    """Thread-safe: any number of threads share one client, its request rate and its `stats`."""

    def __init__(self, config: ClientConfig, stats: ClientStats | None = None):
        self.config = config
        self.stats = ClientStats() if stats is None else stats  # a caller may pass its own, extended stats
        self.url = f"{config.endpoint}/chat/completions"
        self._pacer = _Pacer(config.requests_per_minute)
        self._lock = threading.Lock()

    def chat(self, messages: list[dict], *, max_tokens: int | None = None,
             temperature: float | None = None) -> Reply:
        """One request, tried up to 1 + max_retries times; raises the last RequestFailed (at once
        when retrying cannot help, e.g. HTTP 400) or EndpointError. Message content may be a
        string or a list of OpenAI content parts (text, image_url): it is sent as given."""
        return self.retrying(lambda: self.send(messages, max_tokens=max_tokens, temperature=temperature))

    def retrying[T](self, attempt: Callable[[], T]) -> T:
        """`attempt()` up to 1 + max_retries times, backing off after each RequestFailed that may
        be retried. A caller's attempt may raise RequestFailed itself, e.g. for a reply it cannot
        use, and then change what it asks next time."""
        cfg = self.config
        for n in itertools.count():
            if n:
                with self._lock:
                    self.stats.retries += 1
            try:
                return attempt()
            except RequestFailed as failure:
                with self._lock:
                    self.stats.failures[failure.kind] += 1
                if not failure.retry or n == cfg.max_retries:
                    raise
                delay = failure.retry_after
                if delay is None:
                    delay = min(cfg.backoff_s * 2 ** n, cfg.backoff_cap_s)
                if failure.kind == "http-429":
                    self._pacer.hold(delay)  # the server is saturated for everyone, not for this thread
                else:
                    time.sleep(delay)

    def send(self, messages: list[dict], *, max_tokens: int | None = None,
             temperature: float | None = None) -> Reply:
        """One paced HTTP request without retries: the Reply, RequestFailed or EndpointError."""
        cfg = self.config
        body = {"model": cfg.model, "messages": messages,
                "temperature": cfg.temperature if temperature is None else temperature,
                "max_tokens": cfg.max_tokens if max_tokens is None else max_tokens}
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", **self._auth()}, method="POST")
        self._pacer.wait()
        with self._lock:
            self.stats.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=cfg.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            status, detail = exc.code, _error_detail(exc)
            if status in FATAL_STATUS:
                raise EndpointError(f"{self.url}: HTTP {status} for model {cfg.model!r}: {detail}") from None
            retry = status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR
            raise RequestFailed(f"http-{status}", detail, retry=retry,
                                retry_after=_retry_after(exc.headers.get("Retry-After"))) from None
        except urllib.error.URLError as exc:  # before OSError: it is one
            kind = "timeout" if isinstance(exc.reason, TimeoutError) else "connection"
            raise RequestFailed(kind, first_line(exc.reason if isinstance(exc.reason, BaseException) else exc)) from None
        except TimeoutError as exc:
            raise RequestFailed("timeout", f"no reply within {cfg.timeout_s} s ({first_line(exc)})") from None
        except (http.client.HTTPException, OSError) as exc:
            raise RequestFailed("connection", first_line(exc)) from None
        try:
            answer = json.loads(raw)
            choice = answer["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, LookupError, TypeError):
            raise RequestFailed("garbage", "not a chat-completions response", retry_after=0.0) from None
        if not isinstance(content, str):
            raise RequestFailed("garbage", "reply has no text", retry_after=0.0)
        usage = answer.get("usage")
        finish = choice.get("finish_reason")
        reply = Reply(content, _count(usage, "prompt_tokens"), _count(usage, "completion_tokens"),
                      finish if isinstance(finish, str) else None)
        with self._lock:
            self.stats.prompt_tokens += reply.prompt_tokens
            self.stats.completion_tokens += reply.completion_tokens
        return reply

    def probe(self) -> None:
        """Raise EndpointError when nothing answers at the endpoint or it refuses the key, before
        a run spends its time; any other HTTP answer, even 404 (some servers lack GET /models),
        shows a server is there."""
        url = f"{self.config.endpoint}/models"
        request = urllib.request.Request(url, headers=self._auth())
        try:
            with urllib.request.urlopen(request, timeout=min(self.config.timeout_s, MAX_PROBE_S)):
                return
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                raise EndpointError(f"{url}: HTTP {exc.code}, the key is refused: {detail}") from None
        except (http.client.HTTPException, OSError) as exc:  # URLError and timeouts among them
            reason = getattr(exc, "reason", None)
            raise EndpointError(f"{url}: nothing answers "
                                f"({first_line(reason if isinstance(reason, BaseException) else exc)})") from None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}


def request_key(*parts: object) -> str:
    """A cache key for what was asked, never where: the same question to the same model gives
    the same key on any server."""
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    """One JSON file per key under a two-level fan-out, so no folder grows past a few
    thousand entries; written atomically, and anything unreadable is simply a miss."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            stored = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing, unreadable, not JSON
            return None
        return stored if isinstance(stored, dict) else None

    def put(self, key: str, value: dict) -> None:
        write_bytes(json.dumps(value, ensure_ascii=False).encode(), self.path(key))
