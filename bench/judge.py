"""Judge scores from an OpenAI-compatible vision endpoint, by the benchmark's prompts and rules.

An attempt that failed scores 0 without asking, and so does one whose code never names its
library (the benchmark's wrong-library rule). Replies are cached by request digest, so a rerun
or another run with the same plots asks nothing again; a reply without a score is null and
counted, never a crash.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from viscode.bench.prompts import parse_score

from viscode.llm import ChatClient, ClientConfig, RequestFailed, ResponseCache, request_key

MAX_TOKENS = 3000  # the benchmark's payload


@dataclass(frozen=True, slots=True)
class Verdict:
    score: int | None
    outcome: str  # scored, no_score, error, not_passed, wrong_library
    reply: str = ""


def precheck(passed: bool, library: str, code: str) -> Verdict | None:
    """The verdict the benchmark gives without asking, if any."""
    if not passed:
        return Verdict(0, "not_passed")
    if library not in code:
        return Verdict(0, "wrong_library")
    return None


class Judge:
    def __init__(self, config: ClientConfig, cache: ResponseCache):
        self.client = ChatClient(config)
        self.cache = cache
        self.model = config.model
        self.cache_hits = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        self.client.probe()

    def score_all(self, requests: list[tuple[str, list[dict]]],
                  on_done: Callable[[int], None] | None = None) -> Iterator[tuple[str, Verdict]]:
        """A verdict per (key, messages), in completion order."""
        with ThreadPoolExecutor(max_workers=self.client.config.concurrency, thread_name_prefix="bench-judge") as pool:
            futures = {pool.submit(self._score, messages): key for key, messages in requests}
            for done, future in enumerate(as_completed(futures), 1):
                yield futures[future], future.result()
                if on_done:
                    on_done(done)

    def _score(self, messages: list[dict]) -> Verdict:
        cfg = self.client.config
        key = request_key("judge", self.model, cfg.temperature, MAX_TOKENS, messages)
        cached = self.cache.get(key)
        if cached is not None and isinstance(cached.get("reply"), str):
            with self._lock:
                self.cache_hits += 1
            reply = cached["reply"]
        else:
            try:
                reply = self.client.chat(messages, max_tokens=MAX_TOKENS).text
            except RequestFailed as exc:
                return Verdict(None, "error", str(exc))
            self.cache.put(key, {"model": self.model, "reply": reply})
        score = parse_score(reply)
        return Verdict(score, "scored" if score is not None else "no_score", reply)
