"""Per-snippet cost of the sandbox against the floor, all measured in this one run.

Paths (each over the same representative snippets: the examples shipped with viscode):
  floor   the snippets exec'd in one warm interpreter with the same libraries,
          figures saved as PNG (plotly through a warm kaleido), no isolation
  fork    the same, each in a bare fork() child of that interpreter: what a fresh
          process costs by itself (its first writes copy the warm heap), no jail
  warm    Sandbox("warm"): a fresh jailed child of a warm supervisor per snippet
  base    with --baseline DIR: the warm sandbox of another checkout of viscode (say, the
          commit before a change), in its own process, measured in the same turns
  cold    Sandbox("cold"): a new jail and interpreter per snippet
  jupyter a fresh Jupyter kernel per snippet (how VisCoder validated its data)

Floor, fork and warm are measured in turns, snippet by snippet and repetition by
repetition, and each time is divided by the floor time measured just before it: a shared,
noisy machine then slows both sides of a ratio alike. The headline is the largest
per-snippet ratio (median over the repetitions), not a sum that hides the worst one.

Usage: .venv/bin/python perf/sandbox_speed.py [--reps N] [--baseline DIR] [--skip-cold] [--skip-jupyter]
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

# A warm interpreter that runs the snippet it is named on stdin and answers with the time.
FLOOR_SERVER = r"""
import io, json, os, sys, time, warnings
warnings.filterwarnings("ignore", "This process .* is multi-threaded")  # kaleido's thread; the fork child never uses it
import matplotlib
matplotlib.use("Agg")
from viscode.sandbox import capture
from viscode.sandbox.warmup import warm_up
import kaleido
capture.install_import_hooks()
warm_up()
kaleido.start_sync_server(n=1, mathjax=False, silence_warnings=True)
import matplotlib.pyplot as plt
snippets = json.loads(sys.argv[1])
settings = matplotlib.rcParams.copy()  # each run starts from the same settings, as a sandbox child does
def once(code):
    capture.CAPTURED.clear()
    exec(compile(code, "snippet.py", "exec"), {"__name__": "__main__"})
    for num in plt.get_fignums():
        plt.figure(num).savefig(io.BytesIO(), format="png")
    plt.close("all")
    for item in capture.CAPTURED:
        if item.spec:
            kaleido.calc_fig_sync(json.loads(item.spec), opts={"format": "png"})
for name, code in snippets.items():
    once(code)
    matplotlib.rcParams.update(settings)
print("ready", flush=True)
for line in sys.stdin:
    how, name = line.split()
    t = time.perf_counter()
    if how == "fork":  # the same, in a bare fork() child of this interpreter: no jail, no protocol
        pid = os.fork()
        if pid == 0:
            once(snippets[name])
            os._exit(0)
        os.waitpid(pid, 0)
    else:
        once(snippets[name])
    print(time.perf_counter() - t, flush=True)
    matplotlib.rcParams.update(settings)  # undo a snippet's style or theme (seaborn's set_theme), untimed
kaleido.stop_sync_server(silence_warnings=True)
"""


# Another checkout's warm sandbox, served the same way: its packages are laid out as the
# installed `viscode` (viscode/ with sandbox/ inside) in a folder of links, imported first.
BASELINE_SERVER = r"""
import json, os, sys, tempfile, time
root, snippets = sys.argv[2], json.loads(sys.argv[1])
shim = tempfile.mkdtemp(prefix="viscode-baseline-")
os.mkdir(os.path.join(shim, "viscode"))
for name in os.listdir(os.path.join(root, "viscode")):
    os.symlink(os.path.join(root, "viscode", name), os.path.join(shim, "viscode", name))
os.symlink(os.path.join(root, "sandbox"), os.path.join(shim, "viscode", "sandbox"))
sys.path.insert(0, shim)
from viscode.sandbox import Sandbox
with Sandbox("warm", isolation="nsjail", timeout_s=30) as sb:
    for code in snippets.values():
        sb.run(code)
    print("ready", flush=True)
    for line in sys.stdin:
        code = snippets[line.split()[1]]
        t = time.perf_counter()
        result = sb.run(code)
        elapsed = time.perf_counter() - t
        assert result.status == "ok" and result.images and all(i.png for i in result.images), result.status
        print(elapsed, flush=True)
"""


class Server:
    """An interpreter that runs a named snippet on request and answers with the time, in its
    own process and scratch folder (snippets write files)."""

    def __init__(self, program: str, *args: str) -> None:
        self.scratch = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen([sys.executable, "-c", program, json.dumps(SNIPPETS), *args], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=self.scratch.name)
        if self.proc.stdout.readline().strip() != "ready":
            sys.exit("a measuring interpreter did not start")

    def run(self, name: str, how: str = "exec") -> float:
        self.proc.stdin.write(f"{how} {name}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
        self.scratch.cleanup()


def timed_run(sb, code: str) -> float:
    began = time.perf_counter()
    result = sb.run(code)
    elapsed = time.perf_counter() - began
    assert result.status == "ok" and result.images and all(i.png for i in result.images), result.status
    return elapsed


def measure_interleaved(reps: int, baseline: Path | None) -> dict[str, dict[str, list[float]]]:
    """floor, bare fork (matplotlib snippets: a forked child cannot reach the floor's
    kaleido), warm and the baseline's warm, in turns, for each snippet in each repetition."""
    from viscode.sandbox import Sandbox

    paths = ("floor", "fork", "warm", "base") if baseline else ("floor", "fork", "warm")
    times = {path: {n: [] for n in SNIPPETS} for path in paths}
    floor = Server(FLOOR_SERVER)
    base = Server(BASELINE_SERVER, str(baseline)) if baseline else None
    try:
        with Sandbox("warm", isolation="nsjail", timeout_s=30) as sb:
            for code in SNIPPETS.values():
                timed_run(sb, code)
            for _ in range(reps):
                for name, code in SNIPPETS.items():
                    times["floor"][name].append(floor.run(name))
                    if "plotly" not in code:
                        times["fork"][name].append(floor.run(name, "fork"))
                    times["warm"][name].append(timed_run(sb, code))
                    if base:
                        times["base"][name].append(base.run(name))
    finally:
        for server in (floor, base):
            if server:
                server.close()
    return times


def measure_cold(reps: int) -> dict[str, list[float]]:
    from viscode.sandbox import Sandbox

    with Sandbox("cold", isolation="nsjail", timeout_s=30) as sb:
        return {name: [timed_run(sb, code) for _ in range(reps)] for name, code in SNIPPETS.items()}


def measure_jupyter(reps: int) -> dict[str, list[float]]:
    from jupyter_client.manager import start_new_kernel

    out = {}
    scratch = tempfile.TemporaryDirectory()  # snippets write files
    for name, code in SNIPPETS.items():
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL, cwd=scratch.name)
            try:
                reply = kc.execute_interactive(code.replace("fig.show()", "fig.to_image(format='png')"),
                                               timeout=120, output_hook=lambda msg: None)
                assert reply["content"]["status"] == "ok", reply["content"]
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            times.append(time.perf_counter() - t)
        out[name] = times
    scratch.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="another checkout of viscode whose warm sandbox is measured in the same turns")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-jupyter", action="store_true")
    args = parser.parse_args()
    console = Console(width=max(140, Console().width))
    console.print(f"measuring floor, bare fork and warm, interleaved, {args.reps} repetitions ...")
    times = measure_interleaved(args.reps, args.baseline)
    floor, fork, warm = times["floor"], times["fork"], times["warm"]
    others = {}
    if not args.skip_cold:
        console.print("measuring cold ...")
        others["cold"] = measure_cold(max(2, args.reps // 3))
    if not args.skip_jupyter:
        console.print("measuring jupyter ...")
        others["jupyter"] = measure_jupyter(max(2, args.reps // 5))
    median = statistics.median

    def ratio(path: dict[str, list[float]], name: str) -> float:
        """Each run against the floor run just before it, so drift cancels."""
        return median(t / f for t, f in zip(path[name], floor[name], strict=True))

    table = Table(title="per-snippet wall time, ms (median over repetitions); ratio to the floor")
    baseline = times.get("base")
    for column in ("snippet", "floor", "bare fork", "warm (nsjail)", *(["baseline warm"] if baseline else []), *others):
        table.add_column(column, justify="left" if column == "snippet" else "right")
    ratios, base_ratios = {}, {}
    for name in SNIPPETS:
        ratios[name] = ratio(warm, name)
        base = median(floor[name])
        bare = f"{median(fork[name]) * 1000:.0f} ({ratio(fork, name):.2f}x)" if fork[name] else "-"
        compared = []
        if baseline:
            base_ratios[name] = ratio(baseline, name)
            compared = [f"{median(baseline[name]) * 1000:.0f} ({base_ratios[name]:.2f}x)"]
        table.add_row(name, f"{base * 1000:.0f}", bare, f"{median(warm[name]) * 1000:.0f} ({ratios[name]:.2f}x)",
                      *compared,
                      *(f"{median(per[name]) * 1000:.0f} ({median(per[name]) / base:.1f}x)" for per in others.values()))
    console.print(table)
    if baseline:
        worst = max(base_ratios, key=base_ratios.get)
        console.print(f"baseline {args.baseline}: largest per-snippet ratio {base_ratios[worst]:.2f}x ({worst}); "
                      f"median over snippets {median(base_ratios.values()):.2f}x")
    worst = max(ratios, key=ratios.get)
    console.print(f"[bold]warm overhead: largest per-snippet ratio {ratios[worst]:.2f}x ({worst}); "
                  f"median over snippets {median(ratios.values()):.2f}x[/]")


if __name__ == "__main__":
    main()
