"""Benchmark harness speed against bare warm-sandbox execution of the same code, both measured in
this one run on this machine.

An OpenAI-compatible server on loopback answers every request at once with realistic plotting
code for the task's library: broken (it plots, then raises) until the last round, then correct,
so every (task, library) takes every round: 99 tasks x 3 libraries x 3 rounds = 891 attempts.

  bare x2   the programs the harness ran (data code + extracted code, `data.csv` beside each),
            in two warm Sandboxes (threads of this process): the cost of execution alone
  bench     `viscode bench run` on an embedded LocalCluster of 2 workers, after a one-attempt
            warm-up run on the same cluster (start-up is paid once per run, not per attempt):
            prompts, the endpoint, extraction, a grid job per round, images, attempts, summary,
            report

Usage: .venv/bin/python perf/bench_speed.py [--tasks N] [--self-debug K] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from distributed import Client, LocalCluster
from rich.console import Console
from rich.table import Table
from viscode.bench.execute import program
from viscode.bench.runner import BenchConfig, run_bench
from viscode.bench.tasks import load_tasks
from viscode.sandbox import Sandbox

PLOTS = {
    "matplotlib": ("import matplotlib.pyplot as plt\nnumeric = df.select_dtypes('number').iloc[:500, :4]\n"
                   "fig, ax = plt.subplots(figsize=(8, 5))\nfor column in numeric.columns:\n"
                   "    ax.plot(numeric[column].to_numpy(), label=str(column))\n"
                   "ax.set_title('Columns of df')\nax.legend({legend})\nplt.show()"),
    "seaborn": ("import seaborn as sns\nimport matplotlib.pyplot as plt\n"
                "numeric = df.select_dtypes('number').iloc[:500, :4]\nax = sns.lineplot(data=numeric)\n"
                "ax.set_title('Columns of df')\nax.legend({legend})\nplt.show()"),
    "plotly": ("import plotly.express as px\nnumeric = df.select_dtypes('number').iloc[:500, :4]\n"
               "fig = px.line(numeric, title='Columns of df')\nfig.update_layout(legend={legend})\nfig.show()"),
}
GOOD_LEGEND = {"matplotlib": "loc='best'", "seaborn": "loc='best'", "plotly": "dict(title='column')"}
BROKEN_LEGEND = {"matplotlib": "loc='nowhere'", "seaborn": "loc='nowhere'", "plotly": "dict(nowhere=1)"}


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops concurrent connects, which then wait a second for a SYN retry


_LIBRARY = re.compile(r"libraries needed are pandas for managing dataframes and (\w+)")


def instant_server(last_round: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            self._send({"object": "list", "data": []})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            library = _LIBRARY.search(body["messages"][1]["content"]).group(1)
            round_ = sum(m["role"] == "assistant" for m in body["messages"])
            legend = (GOOD_LEGEND if round_ >= last_round else BROKEN_LEGEND)[library]
            code = PLOTS[library].format(legend=legend)
            self._send({"choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": f"```python\n{code}\n```"}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0}})

        def _send(self, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def bare(jobs: list[tuple[str, bytes]], sandboxes: int) -> float:
    """Seconds to run `jobs` in `sandboxes` warm sandboxes (started beforehand, not timed)."""
    boxes = [Sandbox("warm", isolation="nsjail", timeout_s=10, memory_mb=1024) for _ in range(sandboxes)]
    for sb in boxes:
        sb.start()
    try:
        def work(sb: Sandbox, part: list[tuple[str, bytes]]) -> None:
            for code, csv in part:
                sb.run(code, files={"data.csv": csv})

        threads = [threading.Thread(target=work, args=(sb, jobs[n::sandboxes])) for n, sb in enumerate(boxes)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - started
    finally:
        for sb in boxes:
            sb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=99, help="first N shipped tasks")
    parser.add_argument("--self-debug", type=int, default=2, help="repair rounds (every item takes all of them)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    console = Console()
    server = instant_server(args.self_debug)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        common = {"model": "instant", "endpoint": url, "self_debug": args.self_debug,
                  "scheduler": cluster.scheduler_address}
        began = time.perf_counter()
        run_bench(BenchConfig(output=Path(tmp) / "warm-up", limit=1, libraries=("matplotlib",), **common))
        warm_up = time.perf_counter() - began
        phases: dict[str, list[float]] = {}

        def seen(what: str, done: int, total: int) -> None:
            now = time.perf_counter()
            phases.setdefault(what, [now, now])[1] = now

        began = time.perf_counter()
        summary = run_bench(BenchConfig(output=Path(tmp) / "run", limit=args.tasks, **common), seen)
        harness = time.perf_counter() - began
        attempts = [json.loads(line) for line in (Path(tmp) / "run" / "attempts.jsonl").read_text().splitlines()]
    tasks = {t.id: t for t in load_tasks(limit=args.tasks).tasks}
    jobs = [(program(tasks[a["task_id"]].code_data, a["code"]), tasks[a["task_id"]].data_csv.encode())
            for a in attempts]
    baseline = bare(jobs, args.workers)
    server.shutdown()

    n = len(attempts)
    table = Table(title=f"{summary['tasks']['count']} tasks x {len(summary['libraries'])} libraries x "
                        f"{args.self_debug + 1} rounds = {n} attempts, {args.workers} workers")
    for column in ("path", "wall s", "ms / attempt", "vs bare"):
        table.add_column(column, justify="right" if column != "path" else "left")
    table.add_row(f"bare x{args.workers} (warm sandboxes)", f"{baseline:.1f}", f"{baseline / n * 1000:.0f}", "1.00x")
    table.add_row("viscode bench run", f"{harness:.1f}", f"{harness / n * 1000:.0f}", f"{harness / baseline:.2f}x")
    console.print(table)
    steps = "; ".join(f"{what} {end - start:.1f} s" for what, (start, end) in phases.items())
    console.print(f"inside the bench run (first to last progress report): {steps}")
    passes = {lib: s["exec_pass"] for lib, s in summary["libraries"].items()}
    console.print(f"start-up (cluster, sandboxes, self-test; one-attempt run): {warm_up:.1f} s; "
                  f"exec pass by round: {passes}")


if __name__ == "__main__":
    main()
