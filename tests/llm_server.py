"""A local stand-in for an OpenAI-compatible chat-completions server, so the LLM client is
tested over real HTTP without a model.

Each request is answered in one mode, taken from (first) the scripted sequence, else a
`llm-mode:<mode>` marker in the request's program, else the default:
  ok       a valid five-part JSON answer derived from the program (see `expected_parts`)
  fenced   the same answer in ```json fences amid prose
  garbage  text with no JSON object
  partial  JSON missing plot_description
  nonsense a 200 whose body is not a chat-completions response
  timeout  no reply for `stall_s` (longer than the client's timeout)
  drop     the connection closed without a reply
  429      Too Many Requests with Retry-After: 0
  <digits> that HTTP status with an OpenAI-style error body (500, 400, 401, ...)
A `llm-sleep:<seconds>` marker in the program delays the reply, to shuffle completion order.
Replies report usage in characters: prompt_tokens the messages' JSON, completion_tokens the text.
GET /v1/models lists the one model, or answers the default mode's status when that is one.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

PROGRAM = re.compile(r"```python\n(.*?)\n```", re.DOTALL)


def expected_parts(code: str) -> dict[str, str]:
    """What mode "ok" answers for `code`: tagged with its hash, so a test can tell which answer went where."""
    tag = hashlib.sha256(code.rstrip().encode()).hexdigest()[:12]
    return {"setup": f"Use Python with matplotlib ({tag}).", "data_description": f"Data of {tag}.",
            "data_preview": "", "plot_description": f"A line plot for {tag}.", "style_description": "Default style."}


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops concurrent connects, which then wait a second for a SYN retry


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the server saw it."""
    at: float  # time.monotonic() on arrival
    mode: str
    body: dict
    authorization: str | None

    @property
    def program(self) -> str:
        return program_of(self.body)


def program_of(body: dict) -> str:
    """The program quoted in a request's first user message."""
    first_user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    match = PROGRAM.search(text_of(first_user))
    return match.group(1) if match else ""


def text_of(content: str | list[dict]) -> str:
    """A message's text: the string itself, or its text parts when it is a list of OpenAI content parts."""
    if isinstance(content, str):
        return content
    return "\n".join(part["text"] for part in content if part.get("type") == "text")


class FakeLLM:
    """Use as a context manager; `url` is the base URL to configure the client with."""

    def __init__(self, default: str = "ok", *, script: Iterable[str] = (), stall_s: float = 3.0):
        self.default = default
        self.stall_s = stall_s
        self.seen: list[Seen] = []
        self._script = list(script)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)  # quick shutdown

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def script(self, *modes: str) -> None:
        """Answer the next requests in these modes, then go back to marker or default."""
        with self._lock:
            self._script = list(modes)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # wakes stalled handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _take(self, body: dict, authorization: str | None) -> Seen:
        marker = re.search(r"llm-mode:(\w+)", program_of(body))
        with self._lock:
            mode = self._script.pop(0) if self._script else marker.group(1) if marker else self.default
            self.seen.append(seen := Seen(time.monotonic(), mode, body, authorization))
            return seen

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest output is for failures."""

            def do_GET(self) -> None:
                if self.path != "/v1/models":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                elif fake.default.isdigit():
                    self._send(int(fake.default), {"error": {"message": f"scripted {fake.default}"}})
                else:
                    self._send(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})

            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen = fake._take(body, self.headers.get("Authorization"))
                if sleep := re.search(r"llm-sleep:([\d.]+)", seen.program):
                    fake._stopping.wait(float(sleep.group(1)))
                self._answer(seen)

            def _answer(self, seen: Seen) -> None:
                parts = expected_parts(seen.program)
                if seen.mode == "timeout":
                    fake._stopping.wait(fake.stall_s)
                elif seen.mode == "drop":
                    self.close_connection = True
                elif seen.mode == "429":
                    self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
                elif seen.mode.isdigit():
                    self._send(int(seen.mode), {"error": {"message": f"scripted {seen.mode}"}})
                elif seen.mode == "nonsense":
                    self._send(200, {"id": "chatcmpl-test", "choices": []})
                else:
                    content = {
                        "ok": json.dumps(parts),
                        "fenced": f"Here is the instruction:\n```json\n{json.dumps(parts, indent=2)}\n```\nDone.",
                        "garbage": "I think this plot is lovely { really }.",
                        "partial": json.dumps({k: v for k, v in parts.items() if k != "plot_description"}),
                    }[seen.mode]
                    usage = {"prompt_tokens": len(json.dumps(seen.body["messages"])), "completion_tokens": len(content)}
                    self._send(200, {"id": "chatcmpl-test", "object": "chat.completion", "model": seen.body["model"],
                                     "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant", "content": content}}],
                                     "usage": usage | {"total_tokens": sum(usage.values())}})

            def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
