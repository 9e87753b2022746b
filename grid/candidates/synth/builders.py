"""The program builder: one program under construction (its sections, the names it has
defined, the places a fault could go) and the text helpers every chart template shares."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from .faults import FAULTS
from .themes import Theme

Site = tuple[list[str], int, str, str]


def fmt(v: float) -> str:
    """A number as a short literal."""
    if abs(v) >= 100:
        return str(round(v))
    return str(round(v, 1)) if abs(v) >= 1 else str(round(v, 3))


def numbers(r: random.Random, base: float, spread: float, n: int, *, walk: bool = False) -> list[str]:
    """n positive values around base, as literals; a random walk for time series."""
    out, v = [], base
    for _ in range(n):
        v = v + spread * (r.random() - 0.5) * 0.8 if walk else base + spread * (r.random() + r.random() - 1) * 1.5
        v = abs(v) or spread
        out.append(str(round(v)) if base >= 100 else f"{v:.1f}" if base >= 5 else f"{v:.2f}")
    return out


def literal(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def figsize(r: random.Random) -> str:
    return f"({r.choice((6, 7, 8, 9, 10, 12))}, {r.choice((3, 4, 4.5, 5, 6))})"


def overview(b: Prog) -> str:
    name = b.t.name.capitalize()
    return b.r.choice((f"{name} overview", f"{name} dashboard", f"{name} by {b.t.group}", "Overview"))


def chart_title(b: Prog, label: str, by: str = "") -> str:
    r, t = b.r, b.t
    what = label.split(" (")[0]
    options = [f"{what} by {by}" if by else f"{what} over time", f"{t.name.capitalize()}: {what.lower()}",
               f"{what} ({r.choice(('2023', '2024', 'Q3', 'last year', 'sample'))})"]
    return r.choice(options)


@dataclass(slots=True)
class Cols:
    """Where a data section left its columns: an expression for x and for each measure."""

    x: str
    xname: str
    names: list[str]
    refs: list[str]
    labels: list[str]
    frame: str = ""
    xlabel: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    n: int = 0
    sz: str = ""


class Prog:
    """One program under construction: its sections, and the places where each kind of
    fault could be planted so that it really fails."""

    def __init__(self, r: random.Random, theme: Theme, inline: bool, transform: bool) -> None:
        self.r = r
        self.t = theme
        self.inline = inline
        self.transform = transform
        self.q = '"' if r.random() < 0.7 else "'"
        self.kind = ""
        self.imports: list[str] = []
        self.setup: list[str] = []
        self.data: list[str] = []
        self.plot: list[str] = []
        self.out: list[str] = []
        self.defined: list[str] = []
        self.sites: dict[str, list[Site]] = {f: [] for f in FAULTS}
        self.mixes: list[tuple[str, str]] = []
        self.fig = ""           # variable holding the figure (or grid) the output lines use
        self.extra_ax = ""      # `, ax=ax` where seaborn draws into an explicit Axes
        self.rng = ""
        self.sizes: dict[int, str] = {}

    # -- text helpers ------------------------------------------------------------------
    def s(self, text: str) -> str:
        return f"{self.q}{text}{self.q}"

    def strs(self, items: list[str] | tuple[str, ...]) -> str:
        return "[" + ", ".join(self.s(x) for x in items) + "]"

    def imp(self, *lines: str) -> None:
        for line in lines:
            if line not in self.imports:
                self.imports.append(line)

    def name(self, *options: str) -> str:
        return self.r.choice(options)

    def add(self, sec: list[str], line: str, *, call: str = "", tail: str = ")",
            cols: tuple[str, ...] | list[str] = (), api: tuple[str, str] | None = None) -> int:
        """Append a line and remember where a fault could go in it: `call` names the kind
        of keyword typo that fits, inserted before `tail` (the end of the call it belongs to)."""
        i = len(sec)
        sec.append(line)
        if call:
            self.sites["wrong_kwarg"].append((sec, i, call, tail))
        for col in cols:
            self.sites["wrong_column"].append((sec, i, col, ""))
        if api:
            self.sites["bad_api"].append((sec, i, *api))
        return i

    def assign(self, var: str, expr: str) -> int:
        """A data-section assignment; the layouts pass what the plot uses between functions."""
        if var not in self.defined:
            self.defined.append(var)
        return self.add(self.data, f"{var} = {expr}")

    def mix(self, line: str, needs: str = "") -> None:
        """A line mixing in another library's API on this program's objects."""
        self.mixes.append((line, needs))

    def gen(self) -> str:
        """The program's numpy generator, created on first use."""
        if not self.rng:
            self.imp("import numpy as np")
            self.rng = self.name("rng", "rng", "rng", "gen", "random_state")
            seed = self.r.choice((0, 1, 7, 42, 123, 2024, self.r.randint(0, 9999)))
            self.assign(self.rng, f"np.random.default_rng({seed})")
        return self.rng

    def n(self, n: int, *names: str) -> str:
        """The variable holding a generated sample size."""
        if n not in self.sizes:
            var = self.name(*names, "n", "n")
            self.sizes[n] = var if var not in self.sizes.values() else f"{var}_{len(self.sizes)}"
            self.assign(self.sizes[n], str(n))
        return self.sizes[n]

    # -- assembly ----------------------------------------------------------------------------
    def assemble(self) -> str:
        r = self.r
        imports = sorted(self.imports) if r.random() < 0.4 else self.imports
        lines = [*imports, ""]
        if self.setup:
            lines += [*self.setup, ""]
        data, plot = list(self.data), list(self.plot)
        if r.random() < 0.3:
            data.insert(0, r.choice(("# data", f"# {self.t.name} data", "# build the data", "# sample data")))
            plot.insert(0, r.choice(("# plot", "# draw the chart", f"# {self.kind.replace('_', ' ')} chart")))
        u = r.random()
        if u < 0.6:
            lines += [*data, "", *plot, *self.out]
        elif u < 0.85:
            lines += self._functions(data, plot)
        else:
            lines += ["", "def main():", *_indent(data + plot + self.out), "", ""]
            lines += ['if __name__ == "__main__":', "    main()"] if r.random() < 0.6 else ["main()"]
        return "\n".join(lines).rstrip() + "\n"

    def _functions(self, data: list[str], plot: list[str]) -> list[str]:
        """Data in one function, the chart in another, the calls at the end."""
        t = self.t
        used = "\n".join(self.plot)
        names = [v for v in self.defined if re.search(rf"\b{re.escape(v)}\b", used)]
        back = self.fig if self.fig and any(self.fig in line for line in self.out) else ""
        load = self.name("load_data", "make_data", "build_data", f"make_{t.name}_data", "get_data", "prepare_data")
        draw = self.name("plot", "draw", f"plot_{self.kind}", "make_chart", "make_figure", "render")
        args = ", ".join(names)
        lines = ["", f"def {load}():", *_indent(data), f"    return {args}" if names else "", "", ""]
        lines += [f"def {draw}({args}):", *_indent(plot)]
        if back:
            lines.append(f"    return {back}")
        lines += ["", ""]
        call = f"{draw}({args})"
        lines += [f"{args} = {load}()" if names else f"{load}()", f"{back} = {call}" if back else call, *self.out]
        return lines


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line.replace("\n", "\n    ") if line else "" for line in lines]
