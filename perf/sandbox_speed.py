"""Per-snippet cost of the sandbox against the floor, all measured in this one run.

Paths (each over the same representative snippets: the examples shipped with viscode):
  floor   the snippets exec'd in one warm interpreter with the same libraries,
          figures saved as PNG (plotly through a warm kaleido), no isolation
  warm    Sandbox("warm"): a fresh jailed child of a warm supervisor per snippet
  cold    Sandbox("cold"): a new jail and interpreter per snippet
  jupyter a fresh Jupyter kernel per snippet (how VisCoder validated its data)

Usage: .venv/bin/python perf/sandbox_speed.py [--reps N] [--skip-jupyter]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

# The example snippets that ship with viscode (the demo's), minus the ones that fail on
# purpose: ordinary matplotlib, pandas, seaborn and plotly plots of several kinds.
EXAMPLES = Path(__file__).resolve().parent.parent / "sandbox" / "examples"
SNIPPETS = {p.stem: p.read_text() for p in sorted(EXAMPLES.glob("*.py")) if not p.stem.startswith("error_")}

FLOOR_CHILD = r"""
import io, json, sys, time
import matplotlib
matplotlib.use("Agg")
from viscode.sandbox import capture
from viscode.sandbox.warmup import warm_up
import kaleido
capture.install_import_hooks()
warm_up()
kaleido.start_sync_server(n=1, mathjax=False, silence_warnings=True)
import matplotlib.pyplot as plt
snippets, reps = json.loads(sys.argv[1]), int(sys.argv[2])
def once(code):
    capture.CAPTURED.clear()
    exec(compile(code, "snippet.py", "exec"), {"__name__": "__main__"})
    for num in plt.get_fignums():
        plt.figure(num).savefig(io.BytesIO(), format="png")
    plt.close("all")
    for item in capture.CAPTURED:
        if item.spec:
            kaleido.calc_fig_sync(json.loads(item.spec), opts={"format": "png"})
out = {}
for name, code in snippets.items():
    once(code)
    times = []
    for _ in range(reps):
        t = time.perf_counter(); once(code); times.append(time.perf_counter() - t)
    out[name] = times
kaleido.stop_sync_server(silence_warnings=True)
print(json.dumps(out))
"""


def measure_floor(reps: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as scratch:  # snippets may write files into their cwd
        proc = subprocess.run([sys.executable, "-c", FLOOR_CHILD, json.dumps(SNIPPETS), str(reps)],
                              capture_output=True, text=True, cwd=scratch)
    if proc.returncode:
        sys.exit(f"floor measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_sandbox(mode: str, reps: int) -> dict[str, list[float]]:
    from viscode.sandbox import Sandbox

    out = {}
    with Sandbox(mode, isolation="nsjail", timeout_s=30) as sb:
        for name, code in SNIPPETS.items():
            assert sb.run(code).status == "ok"  # warms the plotly renderer too
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                result = sb.run(code)
                times.append(time.perf_counter() - t)
                assert result.status == "ok" and result.images and result.images[0].png, (name, result.status)
            out[name] = times
    return out


def measure_jupyter(reps: int) -> dict[str, list[float]]:
    from jupyter_client.manager import start_new_kernel

    out = {}
    for name, code in SNIPPETS.items():
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
            try:
                reply = kc.execute_interactive(code.replace("fig.show()", "fig.to_image(format='png')"),
                                               timeout=120, output_hook=lambda msg: None)
                assert reply["content"]["status"] == "ok", reply["content"]
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            times.append(time.perf_counter() - t)
        out[name] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--skip-jupyter", action="store_true")
    args = parser.parse_args()
    console = Console()
    results = {}
    for label, fn, reps in (("floor", measure_floor, args.reps), ("warm", lambda r: measure_sandbox("warm", r), args.reps),
                            ("cold", lambda r: measure_sandbox("cold", r), max(2, args.reps // 3)),
                            ("jupyter", measure_jupyter, max(2, args.reps // 5))):
        if label == "jupyter" and args.skip_jupyter:
            continue
        console.print(f"measuring {label} ...")
        results[label] = fn(reps)
    floor = {name: statistics.median(t) for name, t in results["floor"].items()}
    table = Table(title="per-snippet wall time, ms (median over reps) and ratio to the floor")
    table.add_column("snippet")
    for label in results:
        table.add_column(label, justify="right")
    for name in SNIPPETS:
        table.add_row(name, *(f"{statistics.median(per[name]) * 1000:.0f} ({statistics.median(per[name]) / floor[name]:.2f}x)"
                              for per in results.values()))
    totals = [sum(statistics.median(per[n]) for n in SNIPPETS) for per in results.values()]
    table.add_row("all (sum)", *(f"{t * 1000:.0f} ({t / totals[0]:.2f}x)" for t in totals), style="bold")
    console.print(table)


if __name__ == "__main__":
    main()
