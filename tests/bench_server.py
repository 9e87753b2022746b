"""A real OpenAI-compatible HTTP server on loopback that plays both the model under test and
the judge, with scripted answers, so the benchmark runner is tested end to end over HTTP.

The model's answer depends on a behaviour per task, found by a marker word in the task's plot
description (`bench-mode:<name>`), and on the self-debug round (assistant turns so far):
  correct        working code for the library in every round
  broken         code that raises KeyError in every round
  fixed          broken in round 0, correct from round 1 on
  noimage        code that runs but draws nothing
  down           HTTP 500 every time (the endpoint fails this request)
The judge (a request whose user content is a list of parts) answers `[FINAL SCORE]: 80`, or
`no idea` for tasks whose style text holds `judge-mode:noscore`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Self

from .llm_server import Server

CORRECT = {
    "matplotlib": "import matplotlib.pyplot as plt\nplt.plot(list(range(len(df))))\nplt.title('rows')\nplt.show()",
    "seaborn": "import seaborn as sns\nsns.lineplot(x=list(range(len(df))), y=list(range(len(df))))",
    "plotly": "import plotly.express as px\nfig = px.line(x=list(range(len(df))), y=list(range(len(df))))\nfig.show()",
}
BROKEN = "import matplotlib.pyplot as plt\nplt.plot(df['no_such_column'])"
NO_IMAGE = "import pandas as pd\nprint(len(df))"


_LIBRARY = re.compile(r"libraries needed are pandas for managing dataframes and (\w+)")


class BenchServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.judged: list[dict] = []
        self._lock = threading.Lock()
        self._server = Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, body: dict) -> tuple[int, str]:
        user = body["messages"][1]["content"]
        if isinstance(user, list):  # a judge request: text part, then images
            with self._lock:
                self.judged.append(body)
            return 200, ("no idea" if "judge-mode:noscore" in user[0]["text"] else "Looks right.\n[FINAL SCORE]: 80")
        with self._lock:
            self.requests.append(body)
        mode = re.search(r"bench-mode:(\w+)", user).group(1)
        library = _LIBRARY.search(user).group(1)
        round_ = sum(m["role"] == "assistant" for m in body["messages"])
        if mode == "down":
            return 500, ""
        code = {"correct": CORRECT[library], "broken": BROKEN, "noimage": NO_IMAGE,
                "fixed": CORRECT[library] if round_ else BROKEN}[mode]
        return 200, f"Here is the code:\n```python\n{code}\n```\n"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest output is for failures."""

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, content = server.answer(body)
                if status != 200:
                    self._send(status, {"error": {"message": "scripted failure"}})
                    return
                self._send(200, {"id": "chatcmpl-test", "object": "chat.completion", "model": body["model"],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": content}}]})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def make_tasks(path, modes: dict[str, str], *, broken_csv: tuple[str, ...] = (), noscore: tuple[str, ...] = (),
               ground_truth: dict[str, bytes] | None = None) -> None:
    """A tasks JSONL: one task per id with its behaviour marker in the plot description;
    `ground_truth` gives tasks a `plots_gt` image (base64, as the benchmark stores them)."""
    with open(path, "w") as f:
        for task_id, mode in modes.items():
            csv = "" if task_id in broken_csv else "x,y\n1,2\n2,4\n3,9\n"
            png = (ground_truth or {}).get(task_id)
            f.write(json.dumps({"id": task_id, "data_csv": csv,
                                "plots_gt": [base64.b64encode(png).decode()] if png else None,
                                "task__plot_description": f" Plot Description: plot y against x. bench-mode:{mode}",
                                "task__plot_style": " Plot Style Description: a line." +
                                (" judge-mode:noscore" if task_id in noscore else "")}) + "\n")
