"""Synthetic plotting programs: a candidate source for scale tests, demos and training data.

A program is composed from small templates: one chart kind drawn with one plotting
library (matplotlib's pyplot or object API, seaborn, plotly express or graph_objects,
pandas `.plot`), data of a themed shape (inline literals or a seeded numpy generator;
arrays, wide or long frames), a few style choices and one of three layouts. A share
of programs carries exactly one realistic fault that makes it raise, so whatever runs
them sees failures as well as figures.

Program i of seed S depends on (S, i) alone: any slice can be generated on its own,
and every machine produces the same bytes in the same order.
"""

from __future__ import annotations

import ast
import os
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from viscode.grid.candidates.writer import CandidateWriter

from viscode.codetext import code_id, plotting_libraries
from viscode.errors import InputError

FAULTS = ("wrong_column", "wrong_kwarg", "bad_api", "missing_import", "shape_mismatch", "mixed_libraries",
          "wrong_dtype")
LICENCE = "Apache-2.0"  # generated programs are this project's own work, under its licence
PROGRESS_EVERY = 5000
BLOCK, PARALLEL_FROM = 2000, 20_000  # programs per process-pool task; fewer than this run in-process


@dataclass(frozen=True, slots=True)
class _Theme:
    name: str
    group: str                                          # column naming the categories
    cats: tuple[str, ...]
    measures: tuple[tuple[str, float, float, str], ...]  # column, typical value, spread, axis label
    time: str                                           # column naming the time axis
    start: str
    freq: str                                           # pandas frequency alias


_THEMES = (
    _Theme("sales", "region", ("North", "South", "East", "West", "Central", "Online", "Export", "Retail"),
           (("revenue", 1200, 300, "Revenue (USD)"), ("units", 80, 20, "Units sold"),
            ("profit", 300, 80, "Profit (USD)"), ("orders", 45, 12, "Orders"), ("returns", 6, 2, "Returns"),
            ("discount", 12, 3, "Discount (%)")), "month", "2023-01-01", "MS"),
    _Theme("weather", "city", ("Oslo", "Lima", "Cairo", "Perth", "Quebec", "Osaka", "Dakar", "Lyon"),
           (("temp_c", 15, 6, "Temperature (C)"), ("humidity", 60, 12, "Humidity (%)"),
            ("rain_mm", 40, 15, "Rainfall (mm)"), ("wind_kmh", 18, 6, "Wind (km/h)"),
            ("pressure", 1013, 8, "Pressure (hPa)"), ("sunshine_h", 6, 2, "Sunshine (h)")), "day", "2024-03-01", "D"),
    _Theme("population", "country", ("Chile", "Kenya", "Norway", "Vietnam", "Peru", "Ghana", "Poland", "Nepal"),
           (("population", 45, 12, "Population (millions)"), ("births", 14, 3, "Births per 1000"),
            ("deaths", 8, 2, "Deaths per 1000"), ("urban_pct", 60, 12, "Urban share (%)"),
            ("median_age", 32, 7, "Median age"), ("gdp_pc", 18000, 5000, "GDP per capita")),
           "year", "1990-01-01", "YS"),
    _Theme("web", "page", ("home", "pricing", "blog", "docs", "signup", "about", "careers", "support"),
           (("visits", 5000, 1200, "Visits"), ("signups", 120, 30, "Sign-ups"), ("bounce_rate", 45, 8, "Bounce rate (%)"),
            ("sessions", 3000, 700, "Sessions"), ("clicks", 900, 200, "Clicks"), ("load_ms", 850, 150, "Load time (ms)")),
           "week", "2024-01-07", "W"),
    _Theme("finance", "ticker", ("ACME", "GLOBX", "INITECH", "UMBRA", "STARK", "WAYNE", "HOOLI", "VANDL"),
           (("price", 100, 15, "Price (USD)"), ("volume", 20000, 5000, "Volume"), ("volatility", 18, 5, "Volatility (%)"),
            ("spread_bp", 12, 4, "Spread (bp)"), ("dividend", 2.5, 0.8, "Dividend yield (%)"),
            ("pe_ratio", 22, 6, "P/E ratio")), "date", "2024-01-02", "B"),
    _Theme("lab", "treatment", ("control", "placebo", "low_dose", "mid_dose", "high_dose", "combo", "vehicle", "sham"),
           (("response", 50, 10, "Response"), ("dose_mg", 20, 6, "Dose (mg)"), ("weight_g", 250, 30, "Weight (g)"),
            ("score", 70, 12, "Score"), ("latency_ms", 320, 60, "Latency (ms)"), ("accuracy", 0.8, 0.08, "Accuracy")),
           "time", "2024-05-01 09:00", "min"),
    _Theme("sports", "team", ("Falcons", "Otters", "Comets", "Wolves", "Herons", "Lynx", "Pumas", "Rays"),
           (("points", 98, 12, "Points"), ("wins", 40, 9, "Wins"), ("assists", 24, 5, "Assists"),
            ("rebounds", 44, 6, "Rebounds"), ("goals", 2.1, 0.8, "Goals per game"), ("shots", 14, 4, "Shots")),
           "game_date", "2023-09-03", "W"),
    _Theme("energy", "source", ("solar", "wind", "hydro", "gas", "nuclear", "coal", "biomass", "geothermal"),
           (("output_mw", 450, 120, "Output (MW)"), ("demand_mw", 900, 150, "Demand (MW)"),
            ("price_eur", 70, 18, "Price (EUR/MWh)"), ("emissions_t", 300, 90, "Emissions (t)"),
            ("capacity_pct", 55, 15, "Capacity factor (%)"), ("load_pct", 65, 12, "Load (%)")),
           "hour", "2024-06-01", "h"),
)

_STYLES = ("ggplot", "seaborn-v0_8-whitegrid", "bmh", "fivethirtyeight", "seaborn-v0_8-darkgrid", "classic",
           "grayscale", "seaborn-v0_8-muted", "tableau-colorblind10", "Solarize_Light2", "seaborn-v0_8-paper",
           "seaborn-v0_8-pastel", "fast", "dark_background", "seaborn-v0_8-ticks")
# All but the first are CSS colours too, which plotly takes.
_COLORS = ("tab:blue", "steelblue", "darkorange", "seagreen", "#4c72b0", "#dd8452", "crimson", "slateblue",
           "teal", "gray", "#2a9d8f", "indigo")
_CMAPS = ("viridis", "magma", "plasma", "cividis", "coolwarm", "Blues", "YlGnBu", "RdYlBu_r", "inferno", "Greens")
_PALETTES = ("deep", "muted", "pastel", "Set2", "colorblind", "husl", "viridis", "rocket", "mako", "tab10", "dark")
_SCALES = ("Viridis", "Blues", "RdBu", "Plasma", "Cividis", "Teal", "YlOrRd", "Magma")
_TEMPLATES = ("plotly_white", "simple_white", "ggplot2", "seaborn", "plotly_dark", "presentation", "plotly")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Realistic wrong names for each call a template makes: all raise in the pinned versions.
_MPL_BAD = {
    "plot": ("lineplot", "line"), "bar": ("barplot", "bars"), "barh": ("hbar", "barhplot"),
    "scatter": ("scatterplot", "scater"), "hist": ("histogram", "histplot"), "boxplot": ("box_plot",),
    "violinplot": ("violin_plot",), "imshow": ("heatmap", "imshowplot"), "pie": ("piechart", "pie_chart"),
    "fill_between": ("fillbetween", "area"), "stackplot": ("stacked_area", "stackedplot"),
    "step": ("stepplot", "steps"), "errorbar": ("error_bar", "errorbars"), "contourf": ("contourfill", "filled_contour"),
    "hexbin": ("hex_bin", "hexplot"), "hist2d": ("histogram2d", "hist_2d"), "plot_surface": ("surface", "surface_plot"),
    "plot_wireframe": ("wireframe", "plotwireframe"), "pcolormesh": ("pcolor_mesh", "colormesh"),
}
_SNS_BAD = {
    "lineplot": ("tsplot", "line_plot"), "barplot": ("bar_plot", "barchart"), "scatterplot": ("scatter", "scatter_plot"),
    "histplot": ("hist", "histogram"), "boxplot": ("box_plot", "box"), "violinplot": ("violin", "violin_plot"),
    "heatmap": ("heat_map", "heatmapplot"), "kdeplot": ("kde", "densityplot"), "pointplot": ("point_plot",),
    "catplot": ("factorplot",), "relplot": ("rel_plot",), "displot": ("dist_plot",), "ecdfplot": ("ecdf",),
    "regplot": ("regressionplot",), "stripplot": ("strip_plot",),
}
_PX_BAD = {
    "line": ("line_chart", "lineplot"), "bar": ("bar_chart", "barplot"), "scatter": ("scatterplot", "scater"),
    "histogram": ("hist", "histplot"), "box": ("boxplot", "box_plot"), "violin": ("violinplot", "violin_plot"),
    "imshow": ("heatmap", "imshow_plot"), "pie": ("pie_chart", "piechart"), "area": ("area_chart", "stackplot"),
    "density_heatmap": ("density_heat_map", "heatmap_density"), "density_contour": ("contour", "densitycontour"),
    "scatter_3d": ("scatter3d", "scatter_3D"),
}
_GO_BAD = {
    "Scatter": ("Scater", "ScatterPlot"), "Bar": ("BarChart", "Bars"), "Histogram": ("Hist", "HistogramChart"),
    "Box": ("BoxPlot", "Boxplot"), "Violin": ("ViolinPlot",), "Heatmap": ("HeatMap",), "Pie": ("PieChart",),
    "Contour": ("ContourPlot",), "Surface": ("SurfacePlot", "Surf"), "Histogram2dContour": ("Histogram2DContour",),
}
_PD_BAD = {
    "line": ("lines",), "bar": ("bars", "barchart"), "barh": ("hbar",), "scatter": ("scater", "scatterplot"),
    "hist": ("histogram",), "box": ("boxplot",), "area": ("stacked_area", "areas"), "pie": ("piechart",),
    "hexbin": ("hex",),
}
_KWARG_TYPOS = {
    "mpl": ("linewidht=2", "colour='tab:red'", "alpah=0.6", "lable='data'", "edgecolour='black'", "markersise=5",
            "linestlye='--'"),
    "text": ("fontsise=12", "colour='gray'", "fontweigth='bold'"),
    "px": ("colour='region'", "titel='Overview'", "widht=800", "hieght=500", "opacitiy=0.8"),
    "go": ("colour='red'", "opacitiy=0.8", "linewidth=2", "marker_colour='red'", "titel='trace'"),
    "layout": ("titel='Overview'", "widht=800", "hieght=500", "xaxis_titel='x'", "showlegends=False", "fontsize=12"),
}

Site = tuple[list[str], int, str, str]


def _fmt(v: float) -> str:
    """A number as a short literal."""
    if abs(v) >= 100:
        return str(round(v))
    return str(round(v, 1)) if abs(v) >= 1 else str(round(v, 3))


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") and word[-2] not in "aeiou" else word + "s"


def _misspell(r: random.Random, name: str) -> str:
    """A column name as people get it wrong: case, plural, a dropped underscore, a typo."""
    options = [name.capitalize() if name[0].islower() else name.lower(), name + "s", name + " "]
    if "_" in name:
        options.append(name.replace("_", ""))
    if len(name) > 3:
        j = r.randrange(1, len(name) - 2)
        swapped = name[:j] + name[j + 1] + name[j] + name[j + 2:]
        if swapped != name:
            options.append(swapped)
    return r.choice(options)


@dataclass(slots=True)
class _Cols:
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


class _Prog:
    """One program under construction: its sections, and the places where each kind of
    fault could be planted so that it really fails."""

    def __init__(self, r: random.Random, theme: _Theme, inline: bool, transform: bool) -> None:
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

    # -- faults and assembly -------------------------------------------------------------
    def plant(self, preferred: str) -> str | None:
        """Plant one fault: the preferred kind where this program has a place for it."""
        body = "\n".join(self.setup + self.data + self.plot + self.out)
        used = [line for line in self.imports if re.search(rf"(?<![\w.]){re.escape(line.split()[-1])}[.(]", body)]
        options: dict[str, list] = {k: v for k, v in self.sites.items() if v}
        if used:
            options["missing_import"] = used
        if self.mixes:
            options["mixed_libraries"] = self.mixes
        if not options:
            return None
        kind = preferred if preferred in options else self.r.choice(sorted(options))
        site = self.r.choice(options[kind])
        if kind == "missing_import":
            self.imports.remove(site)
        elif kind == "mixed_libraries":
            self.plot.append(site[0])
            if site[1]:
                self.imp(site[1])
        else:
            sec, i, old, new = site
            line = sec[i]
            if kind == "wrong_kwarg":
                typo = self.r.choice(_KWARG_TYPOS[old]).replace("'", self.q)
                head = line[: len(line) - len(new)]
                sec[i] = f"{head}{'' if head.endswith('(') else ', '}{typo}{new}"
            elif kind == "wrong_column":
                sec[i] = line.replace(self.s(old), self.s(_misspell(self.r, old)), 1)
            else:
                sec[i] = line.replace(old, new, 1)
        return kind

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


# -- data ------------------------------------------------------------------------------------
def _numbers(r: random.Random, base: float, spread: float, n: int, *, walk: bool = False) -> list[str]:
    """n positive values around base, as literals; a random walk for time series."""
    out, v = [], base
    for _ in range(n):
        v = v + spread * (r.random() - 0.5) * 0.8 if walk else base + spread * (r.random() + r.random() - 1) * 1.5
        v = abs(v) or spread
        out.append(str(round(v)) if base >= 100 else f"{v:.1f}" if base >= 5 else f"{v:.2f}")
    return out


def _literal(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _quoted(literal: str, q: str) -> str:
    """Numbers turned into text, as when they come from a scraped table."""
    return _literal([f"{q}{x}{q}" for x in literal.strip("[]").split(", ")])


def _values(b: _Prog, measure: tuple, n: int, sz: str, *, walk: bool = False, positive: bool = False) -> str:
    """A column of values: a literal list, or a draw from the generator sized by sz."""
    r = b.r
    _, base, spread, _ = measure
    if b.inline:
        return _literal(_numbers(r, base, spread, n, walk=walk))
    rng = b.gen()
    if positive or not walk:
        u = r.random()
        if base >= 20 and u < 0.4:
            return f"{rng}.integers({_fmt(base - spread)}, {_fmt(base + spread)}, {sz})"
        if u < 0.7:
            return f"{rng}.uniform({_fmt(base - spread)}, {_fmt(base + spread)}, {sz})"
        return f"{rng}.normal({_fmt(base)}, {_fmt(spread / 3)}, {sz}).round({0 if base >= 100 else 1})"
    u = r.random()
    if u < 0.35:
        return f"{_fmt(base)} + {rng}.normal(0, {_fmt(spread / 5)}, {sz}).cumsum()"
    if u < 0.65:
        cycles = r.choice((2, 4, 6))
        return (f"{_fmt(base)} + {_fmt(spread)} * np.sin(np.linspace(0, {cycles} * np.pi, {sz}))"
                f" + {rng}.normal(0, {_fmt(spread / 4)}, {sz})")
    if u < 0.85:
        return f"np.linspace({_fmt(base - spread)}, {_fmt(base + spread)}, {sz}) + {rng}.normal(0, {_fmt(spread / 4)}, {sz})"
    return f"{rng}.normal({_fmt(base)}, {_fmt(spread / 2)}, {sz})"


def _shape_site(b: _Prog, sec: list[str], i: int, expr: str, sz: str) -> None:
    """One column a value short: a list loses its last item, a draw one sample."""
    if expr.startswith("["):
        items = expr[1:-1].split(", ")
        if len(items) > 1:
            b.sites["shape_mismatch"].append((sec, i, expr, _literal(items[:-1])))
    elif f", {sz})" in expr:
        b.sites["shape_mismatch"].append((sec, i, expr, expr.replace(f", {sz})", f", {sz} - 1)", 1)))


def _text_values(b: _Prog, expr: str) -> str:
    if expr.startswith("["):
        return _quoted(expr, b.q)
    return f"{expr}.astype(str)" if expr.startswith(b.rng + ".") else f"({expr}).astype(str)"


def _rescale(b: _Prog, col: str, ref: str, expr: str, line: int, container: str) -> str:
    """Scale one measure after it is defined (the place a text-typed column fails);
    returns the axis label suffix."""
    big = any(m[0] == col and m[1] >= 1000 for m in b.t.measures)
    if container == "frame":
        rhs = f"{ref} / 1000" if big else f"{ref} / {ref}.max()"
        b.add(b.data, f"{ref} = {rhs}")
    elif container == "array":
        b.add(b.data, f"{ref} = {ref} / 1000" if big else f"{ref} = {ref} / {ref}.max()")
    else:
        v = b.name("v", "x", "value")
        b.add(b.data, f"{ref} = [{v} / 1000 for {v} in {ref}]" if big else f"{ref} = [{v} / max({ref}) for {v} in {ref}]")
    b.sites["wrong_dtype"].append((b.data, line, expr, _text_values(b, expr)))
    return " (thousands)" if big else " (share of max)"


def _frame_line(b: _Prog, var: str, entries: list[tuple[str, str]]) -> int:
    """`var = pd.DataFrame({...})`, on one line or one column per line."""
    b.imp("import pandas as pd")
    body = ", ".join(f"{b.s(k)}: {v}" for k, v in entries)
    if len(body) < 80:
        return b.assign(var, f"pd.DataFrame({{{body}}})")
    inner = "".join(f"\n    {b.s(k)}: {v}," for k, v in entries)
    return b.assign(var, f"pd.DataFrame({{{inner}\n}})")


def _frame_name(b: _Prog) -> str:
    return b.name("df", "df", "df", "data", "frame", b.t.name, f"{b.t.name}_df", "table")


def _series(b: _Prog, k: int, xkind: str, *, frame: bool, checked: bool = True, positive: bool = False,
            max_n: int = 365) -> _Cols:
    """x (dates, numbers or categories) and k measures over it."""
    r, t = b.r, b.t
    ms = r.sample(t.measures, k)
    if xkind == "cat":
        n = r.randint(3, 8)
        xname, xlabel = t.group, t.group.capitalize()
        xv = b.name(_plural(t.group), "labels", "categories", "names")
        b.assign(xv, b.strs(r.sample(t.cats, n)))
        sz = f"len({xv})"
    else:
        n = r.randint(5, 12) if b.inline else r.choice(tuple(v for v in (12, 24, 30, 48, 60, 90, 120, 180, 365)
                                                             if v <= max_n))
        sz = str(n) if b.inline else b.n(n, "n_points", "periods", "n_steps")
        if xkind == "time":
            b.imp("import pandas as pd")
            xname, xlabel = t.time, t.time.replace("_", " ").capitalize()
            xexpr = f"pd.date_range({b.s(t.start)}, periods={sz}, freq={b.s(t.freq)})"
        elif b.inline:
            start = r.choice((1, 2010, 1995))
            xname, xlabel = ("year", "Year") if start > 1 else (r.choice(("step", "trial", "week_no")), "Step")
            xexpr = r.choice((f"list(range({start}, {start + n}))", _literal([str(start + j) for j in range(n)])))
        else:
            b.imp("import numpy as np")
            xname, xlabel = r.choice((("t", "Time (s)"), ("step", "Step"), ("distance_km", "Distance (km)")))
            xexpr = r.choice((f"np.arange({sz})", f"np.linspace(0, {r.choice((1, 10, 60, 100))}, {sz})"))
        if xkind == "time":
            xv = b.name("x", _plural(xname), _plural(xname), "dates")
        else:
            xv = "" if frame else b.name("x", "t", "xs")
        if xv:
            b.assign(xv, xexpr)
    exprs = [_values(b, m, n, sz, walk=xkind != "cat", positive=positive) for m in ms]
    names = [m[0] for m in ms]
    labels = [m[3] for m in ms]
    if frame:
        df = _frame_name(b)
        entries = [(xname, xv or xexpr)] + list(zip(names, exprs))
        i = _frame_line(b, df, entries)
        refs = [f"{df}[{b.s(c)}]" for c in names]
        for e in exprs:
            _shape_site(b, b.data, i, e, sz)
        cols = _Cols(f"{df}[{b.s(xname)}]", xname, names, refs, labels, df, xlabel, n=n, sz=sz)
        lines = [i] * k
    else:
        wrap = b.inline and r.random() < 0.4
        if wrap:
            b.imp("import numpy as np")
        lines = [b.assign(c, f"np.array({e})" if wrap else e) for c, e in zip(names, exprs)]
        if checked:
            for i, e in zip(lines, exprs):
                _shape_site(b, b.data, i, e, sz)
        cols = _Cols(xv, xname, names, list(names), labels, "", xlabel, n=n, sz=sz)
    if b.transform:
        container = "frame" if frame else "array" if not b.inline or wrap else "list"
        cols.labels[0] += _rescale(b, names[0], cols.refs[0], exprs[0], lines[0], container)
    return cols


def _samples(b: _Prog, k: int, form: str) -> _Cols:
    """Samples of one measure for k groups: one array (k=1), a dict of arrays, or a
    wide or long frame."""
    r, t = b.r, b.t
    m = r.choice(t.measures)
    col, base, spread, label = m
    groups = r.sample(t.cats, k)
    n = r.randint(8, 20) if b.inline else r.choice((50, 100, 200, 300, 500))
    sz = str(n) if b.inline else b.n(n, "n_per_group", "n_samples", "size")
    exprs = []
    for _ in groups:
        mu, sd = base + spread * (r.random() - 0.5) * 1.5, spread * r.uniform(0.4, 1.0)
        if b.inline:
            exprs.append(_literal(_numbers(r, mu, sd, n)))
        else:
            rng = b.gen()
            exprs.append(f"{rng}.normal({_fmt(mu)}, {_fmt(sd)}, {sz})" if r.random() < 0.8 else
                         f"{rng}.gamma({r.choice((2, 4, 9))}, {_fmt(mu / 4)}, {sz})")
    if form == "single":
        i = b.assign(col, exprs[0])
        cols = _Cols("", col, [col], [col], [label], "", label)
        if b.transform:
            cols.labels[0] += _rescale(b, col, col, exprs[0], i, "list" if b.inline else "array")
        return cols
    if form == "dict":
        var = b.name("samples", "groups", f"{col}_by_{t.group}", "data")
        body = ", ".join(f"{b.s(g)}: {e}" for g, e in zip(groups, exprs))
        b.assign(var, f"{{{body}}}" if len(body) < 80 else
                 "{" + "".join(f"\n    {b.s(g)}: {e}," for g, e in zip(groups, exprs)) + "\n}")
        return _Cols(f"list({var})", t.group, groups, [f"list({var}.values())"], [label], "", label,
                     {"dict": var})
    wide = b.name("wide", "by_group", "samples") if form == "long" else _frame_name(b)
    i = _frame_line(b, wide, list(zip(groups, exprs)))
    for e in exprs[1:]:
        _shape_site(b, b.data, i, e, sz)
    if form == "wide":
        return _Cols("", t.group, groups, [f"{wide}[{b.s(g)}]" for g in groups], [label], wide, label)
    df = _frame_name(b)
    b.assign(df, f"{wide}.melt(var_name={b.s(t.group)}, value_name={b.s(col)})")
    cols = _Cols(f"{df}[{b.s(t.group)}]", t.group, [col], [f"{df}[{b.s(col)}]"], [label], df, label)
    if b.transform:
        cols.labels[0] += _rescale(b, col, cols.refs[0], exprs[0], i, "frame")
    return cols


def _points(b: _Prog, *, frame: bool, checked: bool = True, grouped: bool = False, third: bool = False,
            max_n: int = 2000) -> _Cols:
    """Two related measures (and optionally a group and a third measure) for a scatter."""
    r, t = b.r, b.t
    mx, my, mz = r.sample(t.measures, 3)
    n = r.randint(8, 16) if b.inline else r.choice(tuple(v for v in (40, 80, 150, 300, 600, 1000, 2000) if v <= max_n))
    slope = (my[2] / mx[2]) * r.choice((-0.8, -0.4, 0.5, 0.9))
    if b.inline:
        xs = _numbers(r, mx[1], mx[2], n)
        ys = [my[1] + slope * (float(x) - mx[1]) + my[2] * (r.random() - 0.5) * 0.6 for x in xs]
        xe, ye = _literal(xs), _literal([str(round(y)) if my[1] >= 100 else f"{y:.2f}" for y in ys])
        ze = _literal(_numbers(r, mz[1], mz[2], n))
        ge = b.strs([r.choice(t.cats[:4]) for _ in range(n)])
        sz = str(n)
    else:
        rng, sz = b.gen(), b.n(n, "n_points", "n_obs", "N")
        xe = f"{rng}.normal({_fmt(mx[1])}, {_fmt(mx[2])}, {sz})"
        ye = f"{_fmt(my[1])} + {_fmt(slope)} * ({mx[0]} - {_fmt(mx[1])}) + {rng}.normal(0, {_fmt(my[2] / 2)}, {sz})"
        ze = f"{rng}.uniform({_fmt(mz[1] - mz[2])}, {_fmt(mz[1] + mz[2])}, {sz})"
        ge = f"{rng}.choice({b.strs(t.cats[:4])}, {sz})"
    names = [mx[0], my[0]] + ([mz[0]] if third else [])
    exprs = [xe, ye] + ([ze] if third else [])
    if grouped:
        names.append(t.group)
        exprs.append(ge)
    if frame and b.inline:
        df = _frame_name(b)
        i = _frame_line(b, df, list(zip(names, exprs)))
        for e in exprs:
            _shape_site(b, b.data, i, e, sz)
        lines = [i, i]
    else:
        lines = [b.assign(c, e) for c, e in zip(names, exprs)]
        if checked or frame:
            _shape_site(b, b.data, lines[1], ye, sz)
        if frame:
            df = _frame_name(b)
            _frame_line(b, df, [(c, c) for c in names])
    refs = [f"{df}[{b.s(c)}]" for c in names] if frame else list(names)
    cols = _Cols(refs[0], mx[0], names[1:], refs[1:], [my[3]] + ([mz[3]] if third else []), df if frame else "",
                 mx[3])
    if b.transform:
        container = "frame" if frame else "list" if b.inline else "array"
        cols.labels[0] += _rescale(b, my[0], refs[1], ye, lines[1], container)
    return cols


def _matrix(b: _Prog, *, frame: bool) -> _Cols:
    """A small labelled grid of values (inline or drawn), optionally as a labelled frame."""
    r, t = b.r, b.t
    rows = r.sample(t.cats, r.randint(3, 7))
    cols = list(r.choice((_MONTHS[: r.randint(4, 12)], _DAYS, [m[0] for m in t.measures])))
    rv, cv = b.name("rows", "row_labels", _plural(t.group)), b.name("cols", "col_labels", "columns")
    b.imp("import numpy as np")
    if b.inline:
        m = r.choice(t.measures)
        row_literals = [_literal(_numbers(r, m[1], m[2], len(cols))) for _ in rows]
        body = ", ".join(row_literals)
        zexpr = f"np.array([{body}])" if len(body) < 90 else "np.array([\n    " + ",\n    ".join(row_literals) + ",\n])"
    else:
        rng = b.gen()
        zexpr = r.choice((f"{rng}.random((len({rv}), len({cv})))", f"{rng}.integers(0, 100, size=(len({rv}), len({cv})))",
                          f"{rng}.normal(0, 1, (len({rv}), len({cv}))).round(2)"))
    ri = b.assign(rv, b.strs(rows))
    b.assign(cv, b.strs(cols))
    z = b.name("values", "grid", "z", "matrix")
    b.assign(z, zexpr)
    if frame:
        df = b.name("table", "df", "heat", "pivot")
        b.imp("import pandas as pd")
        b.assign(df, f"pd.DataFrame({z}, index={rv}, columns={cv})")
        if b.inline:
            b.sites["shape_mismatch"].append((b.data, ri, b.strs(rows), b.strs(rows[:-1])))
        return _Cols(cv, "", [], [df], [""], df, "", {"rows": rv})
    return _Cols(cv, "", [], [z], [""], "", "", {"rows": rv})


def _surface(b: _Prog) -> tuple[str, str]:
    """X, Y, Z on a grid from a closed-form function; returns the names of the 1-D axes."""
    r = b.r
    b.inline = False  # computed, whatever the program's other data looks like
    b.imp("import numpy as np")
    m = r.choice((30, 40, 50, 60, 80))
    lim = r.choice((2, 3, 4))
    xs, ys = b.name("x", "xs", "u"), b.name("y", "ys", "v")
    b.assign(xs, f"np.linspace(-{lim}, {lim}, {m})")
    b.assign(ys, f"np.linspace(-{lim}, {lim}, {m + r.choice((0, 10))})")
    b.defined.append("X")
    b.defined.append("Y")
    b.add(b.data, f"X, Y = np.meshgrid({xs}, {ys})")
    b.assign("Z", r.choice(("np.exp(-(X**2 + Y**2) / 2)", "np.sin(X) * np.cos(Y)", "X * np.exp(-X**2 - Y**2)",
                            "np.sin(np.sqrt(X**2 + Y**2))", "X**2 - Y**2", "np.cos(X) + np.sin(Y) * 0.5")))
    return xs, ys


def _parts(b: _Prog, *, frame: bool, checked: bool = True) -> _Cols:
    """Categories and positive amounts for a pie."""
    r, t = b.r, b.t
    m = r.choice(t.measures)
    k = r.randint(3, 7)
    cats = r.sample(t.cats, k)
    if b.inline:
        vals = _literal([str(r.randint(5, 60)) for _ in cats])
    else:
        vals = f"{b.gen()}.integers(5, 60, {k})"
    if frame:
        df = _frame_name(b)
        i = _frame_line(b, df, [(t.group, b.strs(cats)), (m[0], vals)])
        _shape_site(b, b.data, i, vals, str(k))
        return _Cols(f"{df}[{b.s(t.group)}]", t.group, [m[0]], [f"{df}[{b.s(m[0])}]"], [m[3]], df)
    lv = b.name("labels", _plural(t.group), "names")
    b.assign(lv, b.strs(cats))
    vv = b.name("sizes", "shares", m[0], "values")
    i = b.assign(vv, vals)
    if checked:
        _shape_site(b, b.data, i, vals, str(k))
    return _Cols(lv, t.group, [m[0]], [vv], [m[3]])


def _overview(b: _Prog) -> str:
    name = b.t.name.capitalize()
    return b.r.choice((f"{name} overview", f"{name} dashboard", f"{name} by {b.t.group}", "Overview"))


def _title(b: _Prog, label: str, by: str = "") -> str:
    r, t = b.r, b.t
    what = label.split(" (")[0]
    options = [f"{what} by {by}" if by else f"{what} over time", f"{t.name.capitalize()}: {what.lower()}",
               f"{what} ({r.choice(('2023', '2024', 'Q3', 'last year', 'sample'))})"]
    return r.choice(options)


# -- matplotlib ----------------------------------------------------------------------------------
class _Ax:
    """A matplotlib target: pyplot's implicit current axes, or an explicit Axes variable."""

    __slots__ = ("b", "fig", "v")

    def __init__(self, b: _Prog, v: str, fig: str = "") -> None:
        self.b, self.v, self.fig = b, v, fig

    @property
    def oo(self) -> bool:
        return self.v != "plt"

    def draw(self, fn: str, args: str, *, assign: str = "", typo: bool = True) -> None:
        """A plotting call: a place for a misspelled keyword or method name."""
        b = self.b
        bad = b.r.choice(_MPL_BAD[fn])
        b.add(b.plot, f"{assign}{self.v}.{fn}({args})", call="mpl" if typo else "", api=(f".{fn}(", f".{bad}("))

    def set(self, what: str, text: str) -> None:
        """title, xlabel, ylabel: `plt.title(...)` or `ax.set_title(...)`."""
        b = self.b
        fn, bad = (f"set_{what}", what) if self.oo else (what, f"set_{what}")
        kw = f", fontsize={b.r.choice((10, 12, 14))}" if b.r.random() < 0.2 else ""
        b.add(b.plot, f"{self.v}.{fn}({b.s(text)}{kw})", call="text", api=(f".{fn}(", f".{bad}("))

    def scale(self, axis: str) -> None:
        fn = f"set_{axis}scale" if self.oo else f"{axis}scale"
        self.b.add(self.b.plot, f"{self.v}.{fn}({self.b.s('log')})")

    def ticks(self, ticks: str, labels: str, rotation: int = 0) -> None:
        rot = f", rotation={rotation}" if rotation else ""
        fn = "set_xticks" if self.oo else "xticks"
        self.b.add(self.b.plot, f"{self.v}.{fn}({ticks}, {labels}{rot})")

    def colorbar(self, mappable: str, label: str) -> None:
        b = self.b
        lab = f", label={b.s(label)}" if label else ""
        if self.oo and self.fig:
            b.add(b.plot, f"{self.fig}.colorbar({mappable}, ax={self.v}{lab})")
        else:
            b.add(b.plot, f"plt.colorbar({mappable}{lab})")

    def legend(self) -> None:
        b, r = self.b, self.b.r
        args = r.choice(("", f"loc={b.s(r.choice(('upper left', 'best', 'lower right', 'upper right')))}",
                         "frameon=False", f"title={b.s(b.t.group.capitalize())}"))
        b.add(b.plot, f"{self.v}.legend({args})", call="text" if args else "")

    def decorate(self, title: str, xlabel: str, ylabel: str, *, legend: bool = False, grid: bool = True) -> None:
        r = self.b.r
        if r.random() < 0.85:
            self.set("title", title)
        if xlabel and r.random() < 0.7:
            self.set("xlabel", xlabel)
        if ylabel and r.random() < 0.75:
            self.set("ylabel", ylabel)
        if legend and r.random() < 0.85:
            self.legend()
        if grid and r.random() < 0.35:
            self.b.add(self.b.plot, r.choice((f"{self.v}.grid(True, alpha=0.3)", f"{self.v}.grid(True)",
                                              f"{self.v}.grid(axis={self.b.s('y')}, linestyle={self.b.s('--')})")))


def _mpl_style(b: _Prog) -> None:
    r = b.r
    u = r.random()
    if u < 0.3:
        style = r.choice(_STYLES)
        i = b.add(b.setup, f"plt.style.use({b.s(style)})")
        if style.startswith("seaborn-v0_8-"):
            b.sites["bad_api"].append((b.setup, i, "seaborn-v0_8-", "seaborn-"))
    elif u < 0.4:
        b.add(b.setup, f"plt.rcParams[{b.s('figure.figsize')}] = ({r.randint(6, 10)}, {r.randint(3, 6)})")
    elif u < 0.45:
        b.add(b.setup, f"plt.rcParams.update({{{b.s('font.size')}: {r.choice((9, 10, 11, 12))}}})")
    elif u < 0.48:
        b.imp("import matplotlib")
        b.add(b.setup, f"matplotlib.use({b.s('Agg')})")


def _figsize(r: random.Random) -> str:
    return f"({r.choice((6, 7, 8, 9, 10, 12))}, {r.choice((3, 4, 4.5, 5, 6))})"


def _mpl_axes(b: _Prog, oo: bool) -> _Ax:
    """Figure and axes creation, the object-API or pyplot way."""
    r = b.r
    if oo:
        ax = b.name("ax", "ax", "ax", "axis", "ax1")
        fig = "fig"
        u = r.random()
        if u < 0.5:
            b.add(b.plot, f"{fig}, {ax} = plt.subplots(figsize={_figsize(r)})")
        elif u < 0.7:
            b.add(b.plot, f"{fig}, {ax} = plt.subplots()")
        elif u < 0.85:
            b.add(b.plot, f"{fig}, {ax} = plt.subplots(figsize={_figsize(r)}, layout={b.s('constrained')})")
        else:
            b.add(b.plot, f"{fig} = plt.figure(figsize={_figsize(r)})")
            b.add(b.plot, f"{ax} = {fig}.add_subplot(111)")
        b.fig = fig
        b.mix(f"{fig}.update_layout(title_text={b.s('Overview')})")
        b.mix(f"{ax}.update_xaxes(title_text={b.s('x')})")
        b.mix(f"{fig}.write_image({b.s('figure.png')})")
        b.mix(f"go.Figure({fig}).show()", "import plotly.graph_objects as go")
        return _Ax(b, ax, fig)
    u = r.random()
    if u < 0.5:
        b.add(b.plot, f"plt.figure(figsize={_figsize(r)})")
    elif u < 0.65:
        b.add(b.plot, f"fig = plt.figure(figsize={_figsize(r)})")
        b.fig = "fig"
    b.mix(f"plt.gcf().update_layout(title_text={b.s('Overview')})")
    b.mix(f"plt.gca().update_yaxes(type={b.s('log')})")
    return _Ax(b, "plt", b.fig)


def _mpl_output(b: _Prog, target: str = "plt") -> None:
    r = b.r
    fig = b.fig if b.fig and target == "plt" else ""
    if not any("constrained" in line for line in b.plot) and r.random() < 0.5:
        owner = fig if fig and r.random() < 0.5 else "plt"
        b.add(b.out, f"{owner}.tight_layout()", api=(".tight_layout(", ".tightlayout("))
    u = r.random()
    if u < 0.45:
        b.add(b.out, "plt.show()")
        return
    if u > 0.88:
        return  # the figure left open is the output, as in a notebook
    name = r.choice((f"{b.t.name}_{b.kind}.png", "figure.png", "chart.png", "output.png", f"{b.kind}.png",
                     f"plots/{b.kind}.png"))
    if name.startswith("plots/"):
        b.imp("import os")
        b.add(b.out, f"os.makedirs({b.s('plots')}, exist_ok=True)")
    saver = target if target != "plt" else (fig if fig and r.random() < 0.5 else "plt")
    opts = r.choice(("", ", dpi=100", f", dpi={r.choice((80, 100, 120))}, bbox_inches={b.s('tight')}",
                     f", bbox_inches={b.s('tight')}"))
    b.add(b.out, f"{saver}.savefig({b.s(name)}{opts})")
    if u > 0.75:
        b.add(b.out, "plt.show()")
    elif r.random() < 0.4:
        b.add(b.out, f"plt.close({fig})" if fig == "fig" and saver == fig else "plt.close()")


def _mpl_series(b: _Prog, ax: _Ax) -> None:
    """line, step, area and errorbar charts over dates or numbers."""
    r, kind = b.r, b.kind
    k = 1 if kind == "errorbar" else r.randint(2, 4) if kind == "area" and r.random() < 0.6 else r.randint(1, 4)
    xkind = "num" if kind == "errorbar" else r.choice(("time", "num"))
    d = _series(b, k, xkind, frame=r.random() < 0.4, positive=kind == "area",
                max_n=20 if kind == "errorbar" else 365)
    color = r.random() < 0.4
    if kind == "area" and k > 1:
        labels = f", labels={b.strs(d.names)}" if r.random() < 0.8 else ""
        ax.draw("stackplot", f"{d.x}, {', '.join(d.refs)}{labels}, alpha={r.choice((0.6, 0.8, 0.9))}")
        ax.decorate(_title(b, d.labels[0]), d.xlabel, "Total", legend=bool(labels))
    else:
        for name, ref in zip(d.names, d.refs):
            label = f", label={b.s(name)}" if k > 1 or r.random() < 0.3 else ""
            col = f", color={b.s(r.choice(_COLORS))}" if color and k == 1 else ""
            if kind == "line":
                marker = f", marker={b.s(r.choice('o.s^'))}" if r.random() < 0.3 else ""
                lw = f", linewidth={r.choice((1, 1.5, 2, 2.5))}" if r.random() < 0.3 else ""
                ax.draw("plot", f"{d.x}, {ref}{label}{col}{marker}{lw}")
            elif kind == "step":
                ax.draw("step", f"{d.x}, {ref}, where={b.s(r.choice(('post', 'mid', 'pre')))}{label}{col}")
            elif kind == "area":
                ax.draw("fill_between", f"{d.x}, {ref}, alpha={r.choice((0.3, 0.4, 0.5))}{label}{col}")
                if r.random() < 0.5:
                    ax.draw("plot", f"{d.x}, {ref}{col}", typo=False)
            else:
                err = b.name("err", "errors", "yerr", "sd")
                b.assign(err, _literal(_numbers(r, 2, 1, d.n)) if b.inline else f"{b.gen()}.uniform(0.5, 3, {d.sz})")
                ax.draw("errorbar", f"{d.x}, {ref}, yerr={err}, fmt={b.s(r.choice(('o-', 'o', 's--', '.-')))}, "
                        f"capsize={r.choice((2, 3, 4, 5))}{col}")
        ax.decorate(_title(b, d.labels[0]), d.xlabel, d.labels[0] if k == 1 else "", legend=k > 1)
    if xkind == "time" and r.random() < 0.6:
        if ax.oo and ax.fig and r.random() < 0.5:
            b.add(b.plot, f"{ax.fig}.autofmt_xdate()")
        else:
            b.add(b.plot, f"{ax.v}.tick_params(axis={b.s('x')}, rotation=45)" if ax.oo else "plt.xticks(rotation=45)")
    if r.random() < 0.12:
        b.imp("import numpy as np")
        b.add(b.plot, f"{ax.v}.axhline(np.mean({d.refs[0]}), color={b.s('gray')}, linestyle={b.s('--')}, "
                      f"linewidth=1)", call="mpl")


def _mpl_bars(b: _Prog, ax: _Ax) -> None:
    """bar, barh, grouped and stacked bars over categories."""
    r, kind = b.r, b.kind
    k = r.randint(2, 4) if kind in ("grouped_bar", "stacked_bar") else 1
    d = _series(b, k, "cat", frame=r.random() < 0.4, positive=True)
    if k == 1:
        fn = "barh" if kind == "barh" else "bar"
        color = f", color={b.s(r.choice(_COLORS))}" if r.random() < 0.5 else ""
        edge = f", edgecolor={b.s('black')}" if r.random() < 0.2 else ""
        labels = r.random() < 0.3
        bars = b.name("bars", "container", "rects")
        ax.draw(fn, f"{d.x}, {d.refs[0]}{color}{edge}", assign=f"{bars} = " if labels else "")
        if labels:
            b.add(b.plot, f"{ax.v}.bar_label({bars}, fmt={b.s('%.0f')})")
        if kind == "barh":
            ax.decorate(_title(b, d.labels[0], d.xlabel.lower()), d.labels[0], "", grid=True)
            if r.random() < 0.4:
                b.add(b.plot, f"{ax.v}.invert_yaxis()" if ax.oo else "plt.gca().invert_yaxis()")
        else:
            ax.decorate(_title(b, d.labels[0], d.xlabel.lower()), d.xlabel, d.labels[0])
            if r.random() < 0.3:
                b.add(b.plot, f"{ax.v}.tick_params(axis={b.s('x')}, rotation=30)" if ax.oo else
                      "plt.xticks(rotation=30)")
        if r.random() < 0.1:
            ax.scale("y" if kind == "bar" else "x")
        return
    b.imp("import numpy as np")
    pos = b.name("x", "pos", "idx", "positions")
    b.add(b.plot, f"{pos} = np.arange(len({d.x}))")
    if kind == "grouped_bar":
        w = b.name("width", "w", "bar_width")
        b.add(b.plot, f"{w} = {round(0.8 / k, 2)}")
        for j, (name, ref) in enumerate(zip(d.names, d.refs)):
            shift = f"{pos} + {j - (k - 1) / 2} * {w}" if k % 2 == 0 or j != (k - 1) // 2 else pos
            ax.draw("bar", f"{shift}, {ref}, {w}, label={b.s(name)}")
        ax.ticks(pos, d.x)
    else:
        bottom = b.name("bottom", "base", "running")
        b.add(b.plot, f"{bottom} = np.zeros(len({d.x}))")
        for name, ref in zip(d.names, d.refs):
            ax.draw("bar", f"{d.x}, {ref}, bottom={bottom}, label={b.s(name)}")
            b.add(b.plot, f"{bottom} = {bottom} + np.asarray({ref})")
    ax.decorate(_title(b, d.labels[0], d.xlabel.lower()), d.xlabel, "", legend=True)


def _mpl_scatter(b: _Prog, ax: _Ax) -> None:
    r = b.r
    u = r.random()
    d = _points(b, frame=r.random() < 0.3, third=u < 0.4, grouped=0.4 <= u < 0.6)
    alpha = f", alpha={r.choice((0.5, 0.6, 0.7, 0.8))}" if r.random() < 0.6 else ""
    s = f", s={r.choice((10, 15, 20, 30, 40))}" if r.random() < 0.4 else ""
    if u < 0.4:
        sc = b.name("sc", "points", "scatter", "pts")
        ax.draw("scatter", f"{d.x}, {d.refs[0]}, c={d.refs[1]}, cmap={b.s(r.choice(_CMAPS))}{s}{alpha}",
                assign=f"{sc} = ")
        ax.colorbar(sc, d.labels[1])
    elif u < 0.6:
        g = b.name("group", "name", "label", "key")
        b.imp("import numpy as np")
        gref = d.refs[-1]
        mask = f"np.asarray({gref}) == {g}"
        b.add(b.plot, f"for {g} in sorted(set({gref})):")
        b.add(b.plot, f"    {ax.v}.scatter(np.asarray({d.x})[{mask}], np.asarray({d.refs[0]})[{mask}], label={g}{s}{alpha})",
              call="mpl")
    else:
        col = f", color={b.s(r.choice(_COLORS))}" if r.random() < 0.5 else ""
        ax.draw("scatter", f"{d.x}, {d.refs[0]}{col}{s}{alpha}")
    ax.decorate(_title(b, d.labels[0], d.xlabel.split(" (")[0].lower()), d.xlabel, d.labels[0],
                legend=0.4 <= u < 0.6)


def _mpl_dist(b: _Prog, ax: _Ax) -> None:
    """hist, box and violin charts of samples."""
    r, kind = b.r, b.kind
    if kind == "hist":
        k = 1 if r.random() < 0.6 else r.randint(2, 3)
        d = _samples(b, k, "single" if k == 1 else "dict")
        bins = f", bins={r.choice((10, 15, 20, 30, 40, 50))}" if r.random() < 0.8 else ""
        extra = r.choice(("", f", edgecolor={b.s('white')}", f", histtype={b.s('step')}", ", density=True",
                          f", color={b.s(r.choice(_COLORS))}"))
        if k == 1:
            ax.draw("hist", f"{d.refs[0]}{bins}{extra}")
        else:
            g, v = b.name("name", "group", "label"), b.name("values", "vals", "sample")
            b.add(b.plot, f"for {g}, {v} in {d.extra['dict']}.items():")
            b.add(b.plot, f"    {ax.v}.hist({v}{bins}, alpha=0.5, label={g})", call="mpl",
                  api=(".hist(", ".histogram("))
        ax.decorate(_title(b, d.labels[0]), d.labels[0], r.choice(("Count", "Frequency", "Density")),
                    legend=k > 1)
        return
    k = r.randint(2, 6)
    d = _samples(b, k, r.choice(("dict", "wide")))
    data = d.refs[0] if d.extra else f"[{', '.join(d.refs)}]"
    labels = d.x if d.extra else b.strs(d.names)
    if kind == "box":
        opts = r.choice(("", ", patch_artist=True", ", showfliers=False", ", notch=True",
                         f", orientation={b.s('horizontal')}"))
        b.add(b.plot, f"{ax.v}.boxplot({data}, tick_labels={labels}{opts})", call="mpl",
              api=("tick_labels=", "labels="))
    else:
        ax.draw("violinplot", f"{data}, showmeans={r.choice(('True', 'False'))}, showmedians=True")
        ax.ticks(f"range(1, {k + 1})", labels)
    ax.decorate(_title(b, d.labels[0], b.t.group), b.t.group.capitalize(), d.labels[0])


def _mpl_heatmap(b: _Prog, ax: _Ax) -> None:
    r = b.r
    d = _matrix(b, frame=False)
    z, rows, cols = d.refs[0], d.extra["rows"], d.x
    im = b.name("im", "img", "mesh")
    ax.draw("imshow", f"{z}, cmap={b.s(r.choice(_CMAPS))}, aspect={b.s('auto')}", assign=f"{im} = ")
    ax.colorbar(im, "")
    ax.ticks(f"range(len({cols}))", cols, r.choice((0, 45)))
    b.add(b.plot, f"{ax.v}.set_yticks(range(len({rows})), {rows})" if ax.oo else f"plt.yticks(range(len({rows})), {rows})")
    if r.random() < 0.5:
        i, j = b.name("i", "row"), b.name("j", "col")
        b.add(b.plot, f"for {i} in range(len({rows})):")
        b.add(b.plot, f"    for {j} in range(len({cols})):")
        b.add(b.plot, f"        {ax.v}.text({j}, {i}, f{b.q}{{{z}[{i}, {j}]:.1f}}{b.q}, ha={b.s('center')}, "
                      f"va={b.s('center')}, fontsize=8)")
    ax.set("title", _overview(b))


def _mpl_pie(b: _Prog, ax: _Ax) -> None:
    r = b.r
    d = _parts(b, frame=r.random() < 0.3)
    opts = r.choice(("", f", autopct={b.s('%1.1f%%')}", f", autopct={b.s('%1.0f%%')}, startangle=90",
                     ", startangle=90, wedgeprops=dict(width=0.4)", ", shadow=True"))
    ax.draw("pie", f"{d.refs[0]}, labels={d.x}{opts}")
    if r.random() < 0.5:
        b.add(b.plot, f"{ax.v}.axis({b.s('equal')})")
    if r.random() < 0.8:
        ax.set("title", _title(b, d.labels[0], b.t.group))


def _mpl_field(b: _Prog, ax: _Ax) -> None:
    """contour (a closed-form surface) and density (a 2-D histogram or a numpy KDE)."""
    r = b.r
    cmap = b.s(r.choice(_CMAPS))
    if b.kind == "contour":
        _surface(b)
        cs = b.name("cs", "cf", "contours")
        ax.draw("contourf", f"X, Y, Z, levels={r.choice((10, 15, 20, 30))}, cmap={cmap}", assign=f"{cs} = ")
        if r.random() < 0.4:
            b.add(b.plot, f"{ax.v}.contour(X, Y, Z, colors={b.s('k')}, linewidths=0.5)")
        ax.colorbar(cs, "")
        ax.decorate(r.choice(("Contour plot", "Level sets", "z = f(x, y)")), "x", "y", grid=False)
        return
    b.inline = False
    d = _points(b, frame=False, max_n=600)
    u = r.random()
    if u < 0.35:
        ax.draw("hexbin", f"{d.x}, {d.refs[0]}, gridsize={r.choice((15, 20, 30))}, cmap={cmap}",
                assign="hb = ")
        ax.colorbar("hb", "count")
    elif u < 0.6:
        ax.draw("hist2d", f"{d.x}, {d.refs[0]}, bins={r.choice((20, 30, 40))}, cmap={cmap}", assign="h = ")
        ax.colorbar("h[3]", "count")
    else:
        g = r.choice((40, 50, 60))
        bw = r.choice((0.3, 0.5))
        b.add(b.plot, f"gx, gy = np.meshgrid(np.linspace({d.x}.min(), {d.x}.max(), {g}), "
                      f"np.linspace({d.refs[0]}.min(), {d.refs[0]}.max(), {g}))")
        b.add(b.plot, f"zx = ({d.x} - {d.x}.mean()) / {d.x}.std()")
        b.add(b.plot, f"zy = ({d.refs[0]} - {d.refs[0]}.mean()) / {d.refs[0]}.std()")
        b.add(b.plot, f"gzx = (gx[..., None] - {d.x}.mean()) / {d.x}.std()")
        b.add(b.plot, f"gzy = (gy[..., None] - {d.refs[0]}.mean()) / {d.refs[0]}.std()")
        b.add(b.plot, f"density = np.exp(-((gzx - zx) ** 2 + (gzy - zy) ** 2) / (2 * {bw} ** 2)).sum(axis=-1)")
        ax.draw("contourf", f"gx, gy, density, levels=15, cmap={cmap}", assign="cf = ")
        ax.colorbar("cf", "density")
    ax.decorate(_title(b, d.labels[0], d.xlabel.split(" (")[0].lower()), d.xlabel, d.labels[0], grid=False)


def _mpl_3d(b: _Prog, oo: bool) -> None:
    r = b.r
    ax = b.name("ax", "ax3d", "ax")
    fig = "fig"
    if oo or r.random() < 0.5:
        b.add(b.plot, f"{fig} = plt.figure(figsize={_figsize(r)})")
        b.add(b.plot, f"{ax} = {fig}.add_subplot(projection={b.s('3d')})")
        b.fig = fig
    else:
        b.add(b.plot, f"{ax} = plt.axes(projection={b.s('3d')})")
    a = _Ax(b, ax, b.fig)
    cmap = b.s(r.choice(_CMAPS))
    if r.random() < 0.6:
        _surface(b)
        if r.random() < 0.7:
            a.draw("plot_surface", f"X, Y, Z, cmap={cmap}, edgecolor={b.s('none')}", assign="surf = ")
            if b.fig and r.random() < 0.5:
                b.add(b.plot, f"{b.fig}.colorbar(surf, shrink=0.6)")
        else:
            a.draw("plot_wireframe", f"X, Y, Z, rstride=3, cstride=3, color={b.s(r.choice(_COLORS))}")
        labels = ("x", "y", "z")
    else:
        d = _points(b, frame=False, third=True, max_n=1000)
        a.draw("scatter", f"{d.x}, {d.refs[0]}, {d.refs[1]}, c={d.refs[1]}, cmap={cmap}")
        labels = (d.xlabel, d.labels[0], d.labels[1])
    if r.random() < 0.7:
        for axis, label in zip("xyz", labels):
            b.add(b.plot, f"{ax}.set_{axis}label({b.s(label)})")
    if r.random() < 0.4:
        b.add(b.plot, f"{ax}.view_init(elev={r.choice((20, 30, 45))}, azim={r.choice((-60, 30, 135))})")
    if r.random() < 0.7:
        a.set("title", r.choice(("Surface", "3D view", _title(b, labels[2]))))
    b.mix(f"{ax}.update_layout(scene_camera_eye=dict(x=1.5, y=1.5, z=1))")
    _mpl_output(b)


_PANELS = ("plot", "hist", "scatter", "step", "fill_between", "bar")


def _mpl_subplots(b: _Prog, oo: bool) -> None:
    """A grid of small panels over the same measures."""
    r = b.r
    k = r.randint(2, 4)
    panels = [r.choice(_PANELS) for _ in range(k)]
    d = _series(b, k, "time" if r.random() < 0.5 else "num", frame=r.random() < 0.5,
                checked=not {"hist", "bar"} & set(panels))
    nrows, ncols = r.choice(((1, k), (k, 1))) if k < 4 else (2, 2)
    if oo:
        axes = b.name("axes", "axs", "axes")
        share = r.choice(("", ", sharex=True")) if nrows > 1 else ""
        b.add(b.plot, f"fig, {axes} = plt.subplots({nrows}, {ncols}, figsize={_figsize(r)}{share})")
        b.fig = "fig"
        b.mix(f"fig.update_layout(title_text={b.s('Panels')})")
        b.mix(f"{axes}[0].update_traces(marker_size=4)" if nrows == 1 or ncols == 1 else
              f"{axes}[0, 0].update_traces(marker_size=4)")
    for j, (panel, name, ref, label) in enumerate(zip(panels, d.names, d.refs, d.labels)):
        if oo:
            target = _Ax(b, f"{axes}[{j}]" if nrows == 1 or ncols == 1 else f"{axes}[{j // 2}, {j % 2}]", "fig")
        else:
            b.add(b.plot, f"plt.subplot({nrows}, {ncols}, {j + 1})")
            target = _Ax(b, "plt")
        if panel == "hist":
            target.draw("hist", f"{ref}, bins={r.choice((10, 20, 30))}, color={b.s(r.choice(_COLORS))}")
        elif panel == "scatter":
            target.draw("scatter", f"{d.x}, {ref}, s=8")
        elif panel == "fill_between":
            target.draw("fill_between", f"{d.x}, {ref}, alpha=0.4")
        elif panel == "bar":
            target.draw("bar", f"range(len({ref})), {ref}")
        else:
            target.draw(panel, f"{d.x}, {ref}")
        target.set("title", label)
    if not oo:
        b.mix(f"plt.gcf().update_layout(title_text={b.s('Panels')})")
    if r.random() < 0.5:
        b.add(b.plot, f"{'fig' if oo else 'plt'}.suptitle({b.s(_overview(b))})")
    _mpl_output(b)


_MPL_KINDS: dict[str, Callable[[_Prog, _Ax], None]] = {
    "line": _mpl_series, "step": _mpl_series, "area": _mpl_series, "errorbar": _mpl_series,
    "bar": _mpl_bars, "barh": _mpl_bars, "grouped_bar": _mpl_bars, "stacked_bar": _mpl_bars,
    "scatter": _mpl_scatter, "hist": _mpl_dist, "box": _mpl_dist, "violin": _mpl_dist,
    "heatmap": _mpl_heatmap, "pie": _mpl_pie, "contour": _mpl_field, "density": _mpl_field,
}


def _matplotlib(b: _Prog, oo: bool) -> None:
    b.imp("import matplotlib.pyplot as plt")
    _mpl_style(b)
    if b.kind == "3d":
        _mpl_3d(b, oo)
    elif b.kind == "subplots":
        _mpl_subplots(b, oo)
    else:
        _MPL_KINDS[b.kind](b, _mpl_axes(b, oo))
        _mpl_output(b)


# -- seaborn -----------------------------------------------------------------------------
def _sns(b: _Prog, fn: str, args: str, cols: tuple[str, ...] | list[str], *, assign: str = "") -> None:
    bad = b.r.choice(_SNS_BAD[fn])
    b.add(b.plot, f"{assign}sns.{fn}({args}{b.extra_ax})", call="mpl", cols=cols, api=(f"sns.{fn}(", f"sns.{bad}("))


def _seaborn(b: _Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import seaborn as sns")
    b.imp("import matplotlib.pyplot as plt")
    u = r.random()
    if u < 0.35:
        b.add(b.setup, f"sns.set_theme(style={b.s(r.choice(('whitegrid', 'darkgrid', 'ticks', 'white')))}"
                       f"{r.choice(('', f', palette={b.s(r.choice(_PALETTES))}', ', context=' + b.s('talk')))})",
              api=("sns.set_theme(", "sns.settheme("))
    elif u < 0.5:
        b.add(b.setup, f"sns.set_style({b.s(r.choice(('whitegrid', 'darkgrid', 'ticks')))})")
    elif u < 0.6:
        b.add(b.setup, "sns.set_theme()")
    if kind == "subplots":
        _seaborn_grid(b)
        return
    v = r.random()
    if v < 0.35:
        b.add(b.plot, f"fig, ax = plt.subplots(figsize={_figsize(r)})")
        b.fig, b.extra_ax = "fig", ", ax=ax"
        b.mix(f"fig.update_layout(title_text={b.s('Overview')})")
    elif v < 0.65:
        b.add(b.plot, f"plt.figure(figsize={_figsize(r)})")
    pal = f", palette={b.s(r.choice(_PALETTES))}" if r.random() < 0.4 else ""
    ax = "" if b.extra_ax else r.choice(("", "ax = "))
    hue_group = f", hue={b.s(t.group)}"
    if kind in ("line", "step"):
        if kind == "step":
            d = _samples(b, r.randint(1, 4), "long")
            _sns(b, "ecdfplot", f"data={d.frame}, x={b.s(d.names[0])}, hue={b.s(t.group)}{pal}",
                 (d.names[0], t.group), assign=ax)
            xl, yl, title = d.labels[0], "Proportion", _title(b, d.labels[0], t.group)
        else:
            k = r.randint(1, 3)
            d = _series(b, k, r.choice(("time", "num")), frame=True)
            if k > 1:
                long = b.name("long", "tidy", "melted")
                b.assign(long, f"{d.frame}.melt(id_vars={b.s(d.xname)}, var_name={b.s('measure')}, "
                               f"value_name={b.s('value')})")
                _sns(b, "lineplot", f"data={long}, x={b.s(d.xname)}, y={b.s('value')}, hue={b.s('measure')}"
                     f"{pal}", (d.xname,), assign=ax)
            else:
                marker = f", marker={b.s('o')}" if r.random() < 0.3 else ""
                _sns(b, "lineplot", f"data={d.frame}, x={b.s(d.xname)}, y={b.s(d.names[0])}{marker}",
                     (d.xname, d.names[0]), assign=ax)
            xl, yl, title = d.xlabel, d.labels[0] if k == 1 else "Value", _title(b, d.labels[0])
    elif kind in ("bar", "barh", "grouped_bar"):
        if kind == "grouped_bar":
            d = _series(b, r.randint(2, 3), "cat", frame=True, positive=True)
            long = b.name("long", "tidy", "melted")
            b.assign(long, f"{d.frame}.melt(id_vars={b.s(d.xname)}, var_name={b.s('measure')}, "
                           f"value_name={b.s('value')})")
            _sns(b, "barplot", f"data={long}, x={b.s(d.xname)}, y={b.s('value')}, hue={b.s('measure')}{pal}",
                 (d.xname,), assign=ax)
            xl, yl = d.xlabel, "Value"
        elif r.random() < 0.5:
            d = _series(b, 1, "cat", frame=True, positive=True)
            xy = (d.xname, d.names[0]) if kind == "bar" else (d.names[0], d.xname)
            hue = f", hue={b.s(d.xname)}, legend=False" if pal else ""
            _sns(b, "barplot", f"data={d.frame}, x={b.s(xy[0])}, y={b.s(xy[1])}{hue}{pal}", xy, assign=ax)
            xl, yl = d.xlabel, d.labels[0]
        else:
            d = _samples(b, r.randint(2, 5), "long")
            xy = (t.group, d.names[0]) if kind == "bar" else (d.names[0], t.group)
            err = r.choice(("", f", errorbar={b.s('sd')}", ", errorbar=None"))
            _sns(b, "barplot", f"data={d.frame}, x={b.s(xy[0])}, y={b.s(xy[1])}{err}{pal}", xy, assign=ax)
            xl, yl = t.group.capitalize(), d.labels[0]
        if kind == "barh":
            xl, yl = yl, xl
        title = _title(b, yl if kind != "barh" else xl, t.group)
    elif kind == "scatter":
        u = r.random()
        d = _points(b, frame=True, grouped=u < 0.6, third=u < 0.3, max_n=1000)
        x, y = d.xname, d.names[0]
        if u < 0.75:
            hue = hue_group if u < 0.6 else ""
            size = f", size={b.s(d.names[1])}" if u < 0.3 else ""
            _sns(b, "scatterplot", f"data={d.frame}, x={b.s(x)}, y={b.s(y)}{hue}{size}{pal}"
                 f"{', alpha=0.7' if r.random() < 0.4 else ''}", (x, y), assign=ax)
        else:
            _sns(b, "regplot", f"data={d.frame}, x={b.s(x)}, y={b.s(y)}, ci=None", (x, y), assign=ax)
        xl, yl, title = d.xlabel, d.labels[0], _title(b, d.labels[0], d.xlabel.split(" (")[0].lower())
    elif kind in ("hist", "density", "box", "violin", "errorbar"):
        k = r.randint(1, 3) if kind in ("hist", "density") else r.randint(2, 5)
        d = _samples(b, k, "long")
        y, g = d.names[0], t.group
        if kind == "hist":
            bins = f", bins={r.choice((15, 20, 30, 40))}" if r.random() < 0.6 else ""
            opts = r.choice(("", ", kde=True", f", element={b.s('step')}", f", multiple={b.s('stack')}",
                             f", stat={b.s('density')}, common_norm=False"))
            _sns(b, "histplot", f"data={d.frame}, x={b.s(y)}{hue_group if k > 1 else ''}{bins}{opts}{pal}",
                 (y, g) if k > 1 else (y,), assign=ax)
            xl, yl = d.labels[0], "Count"
        elif kind == "density":
            fill = ", fill=True" if r.random() < 0.6 else ""
            _sns(b, "kdeplot", f"data={d.frame}, x={b.s(y)}{hue_group if k > 1 else ''}{fill}{pal}",
                 (y, g) if k > 1 else (y,), assign=ax)
            xl, yl = d.labels[0], "Density"
        elif kind == "errorbar":
            _sns(b, "pointplot", f"data={d.frame}, x={b.s(g)}, y={b.s(y)}, errorbar={b.s('sd')}, "
                 f"capsize={r.choice((0.1, 0.2))}", (g, y), assign=ax)
            xl, yl = g.capitalize(), d.labels[0]
        else:
            fn = "boxplot" if kind == "box" else "violinplot"
            opts = (r.choice(("", f", inner={b.s('quart')}", f", inner={b.s('box')}", ", cut=0")) if kind == "violin"
                    else r.choice(("", ", showfliers=False", ", width=0.5")))
            hue = f", hue={b.s(g)}, legend=False" if pal else ""
            _sns(b, fn, f"data={d.frame}, x={b.s(g)}, y={b.s(y)}{hue}{opts}{pal}", (g, y), assign=ax)
            if r.random() < 0.3:
                _sns(b, "stripplot", f"data={d.frame}, x={b.s(g)}, y={b.s(y)}, color={b.s('black')}, size=3, "
                     f"alpha=0.5", (g, y))
            xl, yl = g.capitalize(), d.labels[0]
        title = _title(b, d.labels[0], g)
    elif kind == "heatmap":
        if r.random() < 0.5:
            d = _matrix(b, frame=True)
            _sns(b, "heatmap", f"{d.frame}, cmap={b.s(r.choice(_CMAPS))}"
                 f"{r.choice(('', ', annot=True', ', annot=True, fmt=' + b.s('.1f'), ', linewidths=0.5'))}", (),
                 assign=ax)
        else:
            d = _series(b, r.randint(3, 5), "num", frame=True)
            corr = b.name("corr", "corr_matrix", "correlations")
            b.add(b.plot, f"{corr} = {d.frame}[{b.strs(d.names)}].corr()", cols=d.names)
            _sns(b, "heatmap", f"{corr}, annot=True, fmt={b.s('.2f')}, cmap={b.s('coolwarm')}, vmin=-1, vmax=1",
                 (), assign=ax)
        xl, yl, title = "", "", _overview(b)
    if ax or b.extra_ax:
        b.mix(f"ax.update_layout(title_text={b.s(title)})")
        b.mix("ax.show()")
    _Ax(b, "ax" if ax or b.extra_ax else "plt", b.fig).decorate(title, xl, yl, grid=False)
    _mpl_output(b)


def _seaborn_grid(b: _Prog) -> None:
    """Figure-level seaborn: one panel per group."""
    r, t = b.r, b.t
    d = _samples(b, r.randint(2, 4), "long")
    y, g = d.names[0], t.group
    wrap = f", col_wrap={r.choice((2, 3))}" if r.random() < 0.5 else ""
    grid = b.name("g", "grid", "facets")
    u = r.random()
    if u < 0.4:
        _sns(b, "displot", f"data={d.frame}, x={b.s(y)}, col={b.s(g)}{wrap}, height=3", (y, g), assign=f"{grid} = ")
    elif u < 0.7:
        _sns(b, "catplot", f"data={d.frame}, x={b.s(g)}, y={b.s(y)}, kind={b.s(r.choice(('box', 'violin', 'strip')))}",
             (g, y), assign=f"{grid} = ")
    else:
        b.add(b.plot, f"{grid} = sns.FacetGrid({d.frame}, col={b.s(g)}{wrap}, height=3)", cols=(g,))
        b.add(b.plot, f"{grid}.map_dataframe(sns.histplot, x={b.s(y)})", cols=(y,), call="mpl")
    if r.random() < 0.5:
        b.add(b.plot, f"{grid}.set_axis_labels({b.s(d.labels[0])}, {b.s('Count')})")
    if r.random() < 0.4:
        b.add(b.plot, f"{grid}.figure.suptitle({b.s(_title(b, d.labels[0], g))}, y=1.02)")
    b.mix(f"{grid}.update_layout(title_text={b.s('Panels')})")
    b.fig = grid
    _mpl_output(b, grid if r.random() < 0.5 else "plt")


# -- plotly ---------------------------------------------------------------------------------
def _plotly_layout(b: _Prog, title: str, xl: str, yl: str) -> None:
    r = b.r
    parts = []
    if r.random() < 0.6:
        parts.append(f"title={b.s(title)}")
    if xl and r.random() < 0.5:
        parts.append(f"xaxis_title={b.s(xl)}")
    if yl and r.random() < 0.5:
        parts.append(f"yaxis_title={b.s(yl)}")
    if r.random() < 0.3:
        parts.append(f"template={b.s(r.choice(_TEMPLATES))}")
    if r.random() < 0.2:
        parts.append(f"width={r.choice((600, 700, 800, 900))}, height={r.choice((400, 450, 500))}")
    if parts:
        b.add(b.plot, f"fig.update_layout({', '.join(parts)})", call="layout",
              api=("update_layout(", r.choice(("update_layouts(", "layout_update("))))
    if r.random() < 0.1:
        b.add(b.plot, f"fig.update_xaxes(tickangle={r.choice((30, 45, -45))})", api=("update_xaxes(", "update_xaxis("))


def _plotly_output(b: _Prog) -> None:
    r = b.r
    b.fig = "fig"
    b.mix(f"fig.savefig({b.s('figure.png')})")
    b.mix("fig.tight_layout()")
    b.mix(f"fig.suptitle({b.s('Overview')})")
    b.mix("plt.imshow(fig)", "import matplotlib.pyplot as plt")
    u = r.random()
    if u < 0.65:
        b.add(b.out, "fig.show()")
    elif u < 0.8:
        b.add(b.out, f"fig.write_image({b.s(r.choice(('figure.png', f'{b.kind}.png', 'chart.png')))})")
    elif u < 0.9:
        b.imp("import plotly.io as pio")
        b.add(b.out, "pio.show(fig)")
    else:
        b.add(b.out, f"fig.write_image({b.s('chart.png')}, width={r.choice((800, 1000))}, height=500)")
        b.add(b.out, "fig.show()")


def _px(b: _Prog, fn: str, args: str, cols: tuple[str, ...] | list[str]) -> None:
    bad = b.r.choice(_PX_BAD[fn])
    b.add(b.plot, f"fig = px.{fn}({args})", call="px", cols=cols, api=(f"px.{fn}(", f"px.{bad}("))


def _plotly_express(b: _Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import plotly.express as px")
    if r.random() < 0.15:
        b.imp("import plotly.io as pio")
        b.add(b.setup, f"pio.templates.default = {b.s(r.choice(_TEMPLATES))}")
    ttl = r.random() < 0.5
    if kind in ("line", "step", "area", "errorbar"):
        k = 1 if kind == "errorbar" else r.randint(1, 3)
        d = _series(b, k, "num" if kind == "errorbar" else r.choice(("time", "num")), frame=True,
                    positive=kind == "area", max_n=30 if kind == "errorbar" else 365)
        title = _title(b, d.labels[0])
        y = b.s(d.names[0]) if k == 1 else b.strs(d.names)
        extra = f", title={b.s(title)}" if ttl else ""
        if kind == "step":
            extra += f", line_shape={b.s('hv')}"
        elif kind == "line" and r.random() < 0.3:
            extra += ", markers=True"
        if kind == "errorbar":
            err = b.name("err", "error", "sd")
            b.add(b.data, f"{d.frame}[{b.s(err)}] = {_fmt(r.uniform(1, 5))}")
            _px(b, r.choice(("scatter", "line")), f"{d.frame}, x={b.s(d.xname)}, y={y}, error_y={b.s(err)}{extra}",
                (d.xname, d.names[0], err))
        else:
            _px(b, "area" if kind == "area" else "line", f"{d.frame}, x={b.s(d.xname)}, y={y}{extra}",
                [d.xname] + d.names[:k == 1])
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("bar", "barh", "grouped_bar", "stacked_bar"):
        k = 1 if kind in ("bar", "barh") else r.randint(2, 4)
        d = _series(b, k, "cat", frame=True, positive=True)
        title = _title(b, d.labels[0], t.group)
        extra = f", title={b.s(title)}" if ttl else ""
        if kind == "barh":
            args = f"{d.frame}, x={b.s(d.names[0])}, y={b.s(d.xname)}, orientation={b.s('h')}"
        elif k == 1:
            args = f"{d.frame}, x={b.s(d.xname)}, y={b.s(d.names[0])}"
            if r.random() < 0.4:
                args += f", color={b.s(d.xname)}"
        else:
            mode = b.s("group" if kind == "grouped_bar" else r.choice(("stack", "relative")))
            args = f"{d.frame}, x={b.s(d.xname)}, y={b.strs(d.names)}, barmode={mode}"
        if r.random() < 0.3 and k == 1:
            args += ", text_auto=True"
        _px(b, "bar", args + extra, [d.xname] + d.names[:k == 1])
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("scatter", "density", "3d"):
        u = r.random()
        d = _points(b, frame=True, grouped=u < 0.5, third=kind == "3d" or u < 0.25)
        x, y = d.xname, d.names[0]
        title = _title(b, d.labels[0], d.xlabel.split(" (")[0].lower())
        extra = f", title={b.s(title)}" if ttl else ""
        color = f", color={b.s(t.group)}" if u < 0.5 else ""
        cols = [x, y] + ([t.group] if u < 0.5 else [])
        if kind == "3d":
            _px(b, "scatter_3d", f"{d.frame}, x={b.s(x)}, y={b.s(y)}, z={b.s(d.names[1])}{color}{extra}",
                cols + [d.names[1]])
        elif kind == "density":
            fn = r.choice(("density_heatmap", "density_contour"))
            _px(b, fn, f"{d.frame}, x={b.s(x)}, y={b.s(y)}{extra}", (x, y))
        else:
            size = f", size={b.s(d.names[1])}" if u < 0.25 else ""
            log = ", log_x=True" if r.random() < 0.1 else ""
            _px(b, "scatter", f"{d.frame}, x={b.s(x)}, y={b.s(y)}{color}{size}{log}{extra}", cols)
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("hist", "box", "violin", "subplots"):
        k = r.randint(1, 3) if kind == "hist" else r.randint(2, 5)
        d = _samples(b, k, "long")
        y, g = d.names[0], t.group
        title = _title(b, d.labels[0], g)
        extra = f", title={b.s(title)}" if ttl else ""
        if kind == "hist":
            color = f", color={b.s(g)}, barmode={b.s('overlay')}" if k > 1 else ""
            bins = f", nbins={r.choice((20, 30, 40))}" if r.random() < 0.6 else ""
            _px(b, "histogram", f"{d.frame}, x={b.s(y)}{color}{bins}{extra}", (y, g) if k > 1 else (y,))
        elif kind == "subplots":
            fn = r.choice(("histogram", "box"))
            wrap = f", facet_col_wrap={r.choice((2, 3))}" if r.random() < 0.5 else ""
            xy = f"x={b.s(y)}" if fn == "histogram" else f"y={b.s(y)}"
            _px(b, fn, f"{d.frame}, {xy}, facet_col={b.s(g)}{wrap}{extra}", (y, g))
        else:
            pts = r.choice(("", f", points={b.s('all')}", f", points={b.s('outliers')}"))
            box = ", box=True" if kind == "violin" and r.random() < 0.5 else ""
            _px(b, kind, f"{d.frame}, x={b.s(g)}, y={b.s(y)}, color={b.s(g)}{pts}{box}{extra}", (g, y))
        xl, yl = (d.labels[0], "Count") if kind == "hist" else (g.capitalize(), d.labels[0])
    elif kind == "heatmap":
        d = _matrix(b, frame=False)
        text = ", text_auto=True" if r.random() < 0.4 else ""
        _px(b, "imshow", f"{d.refs[0]}, x={d.x}, y={d.extra['rows']}, color_continuous_scale={b.s(r.choice(_SCALES))}"
            f"{text}", ())
        title, xl, yl = _overview(b), "", ""
    else:  # pie
        d = _parts(b, frame=True)
        hole = f", hole={r.choice((0.3, 0.4, 0.5))}" if r.random() < 0.4 else ""
        _px(b, "pie", f"{d.frame}, names={b.s(d.xname)}, values={b.s(d.names[0])}{hole}", (d.xname, d.names[0]))
        title, xl, yl = _title(b, d.labels[0], t.group), "", ""
    _plotly_layout(b, title, xl, yl)
    _plotly_output(b)


def _go(b: _Prog, fn: str, args: str, cols: tuple[str, ...] | list[str] = (), *, to: str = "fig",
        where: str = "") -> None:
    bad = b.r.choice(_GO_BAD[fn])
    b.add(b.plot, f"{to}.add_trace(go.{fn}({args}){where})", call="go", tail=f"){where})", cols=cols,
          api=(f"go.{fn}(", f"go.{bad}("))


def _plotly_go(b: _Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import plotly.graph_objects as go")
    frame = r.random() < 0.5
    if kind == "subplots":
        b.imp("from plotly.subplots import make_subplots")
        k = r.randint(2, 3)
        d = _series(b, k, r.choice(("time", "num")), frame=frame, checked=False)
        titles = ", ".join(b.s(label) for label in d.labels)
        b.add(b.plot, f"fig = make_subplots(rows={k}, cols=1, shared_xaxes=True, subplot_titles=({titles}))")
        for j, (name, ref) in enumerate(zip(d.names, d.refs)):
            _go(b, "Scatter", f"x={d.x}, y={ref}, name={b.s(name)}", cols=(name,) if frame else (),
                where=f", row={j + 1}, col=1")
        _plotly_layout(b, _overview(b), "", "")
        _plotly_output(b)
        return
    b.add(b.plot, "fig = go.Figure()")
    title, xl, yl = "", "", ""
    if kind in ("line", "step", "area", "errorbar"):
        k = 1 if kind == "errorbar" else r.randint(1, 4)
        d = _series(b, k, "num" if kind == "errorbar" else r.choice(("time", "num")), frame=frame, checked=False,
                    positive=kind == "area", max_n=30 if kind == "errorbar" else 365)
        for name, ref in zip(d.names, d.refs):
            extra = r.choice(("", f", mode={b.s('lines+markers')}", f", line=dict(width={r.choice((1, 2, 3))})"))
            if kind == "step":
                extra = f", line_shape={b.s('hv')}"
            elif kind == "area":
                extra = f", fill={b.s('tozeroy')}" if k == 1 else f", stackgroup={b.s('one')}"
            elif kind == "errorbar":
                extra = f", error_y=dict(type={b.s('data')}, array=[{_fmt(r.uniform(1, 4))}] * len({ref}))"
            _go(b, "Scatter", f"x={d.x}, y={ref}, name={b.s(name)}{extra}", cols=(name,) if frame else ())
        title, xl, yl = _title(b, d.labels[0]), d.xlabel, d.labels[0]
    elif kind in ("bar", "barh", "grouped_bar", "stacked_bar"):
        k = 1 if kind in ("bar", "barh") else r.randint(2, 4)
        d = _series(b, k, "cat", frame=frame, checked=False, positive=True)
        for name, ref in zip(d.names, d.refs):
            xy = f"x={ref}, y={d.x}, orientation={b.s('h')}" if kind == "barh" else f"x={d.x}, y={ref}"
            col = f", marker_color={b.s(r.choice(_COLORS[1:]))}" if k == 1 and r.random() < 0.4 else ""
            _go(b, "Bar", f"{xy}, name={b.s(name)}{col}", cols=(name,) if frame else ())
        if k > 1:
            b.add(b.plot, f"fig.update_layout(barmode={b.s('group' if kind == 'grouped_bar' else 'stack')})",
                  call="layout")
        title, xl, yl = _title(b, d.labels[0], t.group), d.xlabel, d.labels[0]
    elif kind in ("scatter", "density"):
        d = _points(b, frame=frame, checked=False, third=kind == "scatter" and r.random() < 0.4)
        if kind == "density":
            _go(b, "Histogram2dContour", f"x={d.x}, y={d.refs[0]}, colorscale={b.s(r.choice(_SCALES))}")
        else:
            marker = (f", marker=dict(size=8, color={d.refs[1]}, colorscale={b.s(r.choice(_SCALES))}, showscale=True)"
                      if len(d.refs) > 1 else f", marker=dict(size={r.choice((5, 7, 9))}, opacity=0.7)")
            _go(b, "Scatter", f"x={d.x}, y={d.refs[0]}, mode={b.s('markers')}{marker}")
        title, xl, yl = _title(b, d.labels[0], d.xlabel.split(" (")[0].lower()), d.xlabel, d.labels[0]
    elif kind in ("hist", "box", "violin"):
        k = r.randint(1, 3) if kind == "hist" else r.randint(2, 5)
        d = _samples(b, k, "wide" if frame else "dict")
        var = d.extra.get("dict", "")
        g, vals = b.name("name", "group", "label"), b.name("values", "vals", "sample")
        fn = {"hist": "Histogram", "box": "Box", "violin": "Violin"}[kind]
        data = "x" if kind == "hist" else "y"
        extra = (", opacity=0.6" if kind == "hist" else ", box_visible=True, meanline_visible=True"
                 if kind == "violin" else r.choice(("", f", boxpoints={b.s('outliers')}", ", boxmean=True")))
        if var:
            b.add(b.plot, f"for {g}, {vals} in {var}.items():")
        else:
            b.add(b.plot, f"for {g} in {d.frame}.columns:")
            vals = f"{d.frame}[{g}]"
        _go(b, fn, f"{data}={vals}, name={g}{extra}", to="    fig")
        if kind == "hist" and k > 1:
            b.add(b.plot, f"fig.update_layout(barmode={b.s('overlay')})", call="layout")
        title, xl, yl = _title(b, d.labels[0], t.group), "", d.labels[0]
    elif kind in ("heatmap", "contour", "3d"):
        if kind == "heatmap":
            d = _matrix(b, frame=False)
            _go(b, "Heatmap", f"z={d.refs[0]}, x={d.x}, y={d.extra['rows']}, colorscale={b.s(r.choice(_SCALES))}")
        else:
            xs, ys = _surface(b)
            fn, gx, gy = ("Surface", "X", "Y") if kind == "3d" else ("Contour", xs, ys)
            _go(b, fn, f"z=Z, x={gx}, y={gy}, colorscale={b.s(r.choice(_SCALES))}")
        title = _overview(b)
    else:  # pie
        d = _parts(b, frame=frame, checked=False)
        hole = f", hole={r.choice((0.3, 0.4))}" if r.random() < 0.4 else ""
        _go(b, "Pie", f"labels={d.x}, values={d.refs[0]}{hole}", cols=(d.xname, d.names[0]) if frame else ())
        title = _title(b, d.labels[0], t.group)
    _plotly_layout(b, title, xl, yl)
    _plotly_output(b)


# -- pandas ---------------------------------------------------------------------------------
def _pandas(b: _Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import pandas as pd")
    use_plt = r.random() < 0.8
    if use_plt:
        b.imp("import matplotlib.pyplot as plt")
        if r.random() < 0.25:
            b.add(b.setup, f"plt.style.use({b.s(r.choice(_STYLES))})")
    opts: list[str] = []
    if kind in ("line", "step", "area", "errorbar", "subplots"):
        k = 1 if kind == "errorbar" else r.randint(2, 4) if kind == "subplots" else r.randint(1, 4)
        d = _series(b, k, "num" if kind == "errorbar" else r.choice(("time", "num")), frame=True,
                    positive=kind == "area", max_n=30 if kind == "errorbar" else 365)
        title = _title(b, d.labels[0])
        ys = b.s(d.names[0]) if k == 1 else b.strs(d.names)
        cols = [d.xname] + d.names
        if kind == "errorbar":
            err = b.name("err", "sd", "error")
            b.add(b.data, f"{d.frame}[{b.s(err)}] = {_fmt(r.uniform(1, 5))}")
            target, opts = f"{d.frame}.plot", [f"x={b.s(d.xname)}", f"y={ys}", f"yerr={b.s(err)}", "capsize=3"]
            cols.append(err)
        elif r.random() < 0.5:
            target = f"{d.frame}.set_index({b.s(d.xname)}).plot.{'area' if kind == 'area' else 'line'}"
            opts = [f"y={ys}"]
        else:
            target, opts = f"{d.frame}.plot", [f"x={b.s(d.xname)}", f"y={ys}"]
            if kind == "area":
                opts.append(f"kind={b.s('area')}")
        if kind == "step":
            opts.append(f"drawstyle={b.s('steps-post')}")
        elif kind == "subplots":
            opts.append("subplots=True" + (", layout=(2, 2)" if k == 4 else ""))
        elif kind == "area" and r.random() < 0.3:
            opts.append("stacked=False")
        elif kind == "line":
            opts.append(r.choice(("", f"marker={b.s('o')}", "grid=True", f"colormap={b.s(r.choice(_CMAPS))}",
                                  f"style={b.s('--')}")))
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("bar", "barh", "grouped_bar", "stacked_bar"):
        k = 1 if kind in ("bar", "barh") else r.randint(2, 4)
        d = _series(b, k, "cat", frame=True, positive=True)
        title = _title(b, d.labels[0], t.group)
        target = f"{d.frame}.plot.{'barh' if kind == 'barh' else 'bar'}"
        opts = [f"x={b.s(d.xname)}", f"y={b.s(d.names[0]) if k == 1 else b.strs(d.names)}"]
        if kind == "stacked_bar":
            opts.append("stacked=True")
        if kind != "barh" and r.random() < 0.6:
            opts.append("rot=0")
        if k == 1 and r.random() < 0.4:
            opts.append(r.choice(("legend=False", f"color={b.s(r.choice(_COLORS))}")))
        cols = [d.xname] + d.names
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("scatter", "density"):
        d = _points(b, frame=True, third=r.random() < 0.4, max_n=1000)
        x, y = d.xname, d.names[0]
        title = _title(b, d.labels[0], d.xlabel.split(" (")[0].lower())
        opts = [f"x={b.s(x)}", f"y={b.s(y)}"]
        if kind == "density":
            target = f"{d.frame}.plot.hexbin"
            opts.append(f"gridsize={r.choice((15, 20, 25))}")
        else:
            target = f"{d.frame}.plot.scatter"
            if len(d.names) > 1:
                opts.append(f"c={b.s(d.names[1])}, colormap={b.s(r.choice(_CMAPS))}")
        cols = [x, y]
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("hist", "box"):
        k = r.randint(1, 3) if kind == "hist" else r.randint(2, 5)
        long = r.random() < 0.4
        d = _samples(b, k, "long" if long else "wide")
        title = _title(b, d.labels[0], t.group)
        if long:
            target = f"{d.frame}.{'hist' if kind == 'hist' else 'boxplot'}"
            opts = [f"column={b.s(d.names[0])}", f"by={b.s(t.group)}"]
            cols = [d.names[0], t.group]
        else:
            target, cols = f"{d.frame}.plot.{kind}", []
            if kind == "hist":
                opts = [f"bins={r.choice((15, 20, 30))}", "alpha=0.6"]
        xl, yl = (d.labels[0], "Frequency") if kind == "hist" else (t.group.capitalize(), d.labels[0])
    else:  # pie
        d = _parts(b, frame=True)
        title = _title(b, d.labels[0], t.group)
        target = f"{d.frame}.set_index({b.s(d.xname)}).plot.pie"
        opts = [f"y={b.s(d.names[0])}", "legend=False"]
        if r.random() < 0.6:
            opts.append(f"autopct={b.s('%1.0f%%')}")
        cols, xl, yl = [d.xname, d.names[0]], "", ""
    if r.random() < 0.5:
        opts.append(f"figsize={_figsize(r)}")
    if kind not in ("hist", "box", "subplots") and r.random() < 0.4:
        opts.append(f"title={b.s(title)}")
    call = f"{target}({', '.join(o for o in opts if o)})"
    assign = r.random() < 0.6 and "by=" not in call and "subplots" not in call
    b.add(b.plot, f"ax = {call}" if assign else call, call="mpl", cols=cols, api=_pandas_api(b, call))
    if assign:
        b.mix(f"ax.update_layout(title_text={b.s(title)})")
        b.mix("ax.show()")
        if r.random() < 0.5:
            if xl and r.random() < 0.5:
                b.add(b.plot, f"ax.set_xlabel({b.s(xl)})", call="text", api=(".set_xlabel(", ".xlabel("))
            if yl:
                b.add(b.plot, f"ax.set_ylabel({b.s(yl)})", call="text", api=(".set_ylabel(", ".ylabel("))
            if "title=" not in call:
                b.add(b.plot, f"ax.set_title({b.s(title)})", call="text", api=(".set_title(", ".title("))
    if use_plt:
        b.mix(f"plt.gcf().update_layout(title_text={b.s('Overview')})")
        _mpl_output(b)
    elif assign and r.random() < 0.5:
        b.fig = "ax"
        b.add(b.out, f"ax.figure.savefig({b.s(f'{kind}.png')})")


def _pandas_api(b: _Prog, call: str) -> tuple[str, str]:
    """A realistic wrong spelling of the pandas plotting call in `call`."""
    m = re.search(r"\.plot\.(\w+)\(", call)
    if m:
        return f".plot.{m[1]}(", f".plot.{b.r.choice(_PD_BAD[m[1]])}("
    if ".hist(" in call:
        return ".hist(", ".histogram("
    if ".boxplot(" in call:
        return ".boxplot(", ".box_plot("
    if "kind=" in call:
        return f"kind={b.s('area')}", f"kind={b.s('stacked_area')}"
    return ".plot(", ".plots("


# -- programs --------------------------------------------------------------------------------
_KINDS = {
    "pyplot": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
               "errorbar", "3d", "contour", "density", "stacked_bar", "grouped_bar", "subplots"),
    "mpl_oo": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
               "errorbar", "3d", "contour", "density", "stacked_bar", "grouped_bar", "subplots"),
    "seaborn": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "density", "grouped_bar",
                "errorbar", "step", "subplots"),
    "plotly_express": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
                       "errorbar", "3d", "density", "stacked_bar", "grouped_bar", "subplots"),
    "plotly_go": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
                  "errorbar", "3d", "contour", "density", "stacked_bar", "grouped_bar", "subplots"),
    "pandas": ("line", "bar", "barh", "scatter", "hist", "box", "pie", "area", "step", "errorbar", "density",
               "stacked_bar", "grouped_bar", "subplots"),
}
_FAMILIES = tuple(_KINDS)
_FAMILY_WEIGHTS = (20, 20, 18, 16, 12, 14)


def _row(seed: int, index: int, fault_rate: float) -> dict:
    """Program `index` of `seed`: every choice comes from one generator seeded by both."""
    r = random.Random(f"{seed}:{index}")
    faulty = r.random() < fault_rate
    preferred = r.choice(FAULTS)
    family = r.choices(_FAMILIES, _FAMILY_WEIGHTS)[0]
    kind = r.choice(_KINDS[family])
    b = _Prog(r, r.choice(_THEMES), r.random() < 0.4,
              r.random() < 0.2 or (faulty and preferred == "wrong_dtype"))
    b.kind = kind
    if family in ("pyplot", "mpl_oo"):
        _matplotlib(b, family == "mpl_oo")
    elif family == "seaborn":
        _seaborn(b)
    elif family == "plotly_express":
        _plotly_express(b)
    elif family == "plotly_go":
        _plotly_go(b)
    else:
        _pandas(b)
    origin = "inline" if b.inline else "generated"
    fault = b.plant(preferred) if faulty else None
    code = b.assemble()
    return {"id": code_id(code), "code": code, "source": f"synth:{seed}:{index}",
            "libraries": plotting_libraries(ast.parse(code)),
            "chart_kind": kind, "data_origin": origin, "fault": fault, "licence": LICENCE}


def synthesize(count: int, seed: int = 0, *, fault_rate: float = 0.15, start: int = 0) -> Iterator[dict]:
    """Rows for programs start..start+count-1 of this seed."""
    if count < 0 or start < 0:
        raise InputError(f"count and start must be >= 0, got count={count} start={start}")
    if not 0 <= fault_rate <= 1:
        raise InputError(f"fault_rate must be between 0 and 1, got {fault_rate}")
    return (_row(seed, i, fault_rate) for i in range(start, start + count))


def _block(start: int, count: int, seed: int, fault_rate: float) -> list[dict]:
    return list(synthesize(count, seed, fault_rate=fault_rate, start=start))


def _in_parallel(count: int, seed: int, fault_rate: float) -> Iterator[dict]:
    """The same rows as `synthesize`, in order; big runs use every CPU (each program
    depends only on seed and index, so blocks are independent)."""
    workers = len(os.sched_getaffinity(0))
    if count < PARALLEL_FROM or workers == 1:
        yield from synthesize(count, seed, fault_rate=fault_rate)
        return
    starts = range(0, count, BLOCK)
    sizes = [min(BLOCK, count - s) for s in starts]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for rows in pool.map(_block, starts, sizes, [seed] * len(sizes), [fault_rate] * len(sizes)):
            yield from rows


def write_synth(output: Path, count: int, seed: int = 0, *, fault_rate: float = 0.15, force: bool = False,
                on_progress: Callable[[int], None] | None = None) -> dict:
    """Write candidate shards + manifest to `output` with the candidate writer; returns the manifest."""
    if count < 1:
        raise InputError(f"count must be >= 1, got {count}")
    if not 0 <= fault_rate <= 1:
        raise InputError(f"fault_rate must be between 0 and 1, got {fault_rate}")
    writer = CandidateWriter(Path(output), command=f"harvest synth --count {count} --seed {seed}", force=force)
    seen: set[str] = set()
    counts = {"generated": 0, "faulty": 0, "duplicate": 0}
    for n, row in enumerate(_in_parallel(count, seed, fault_rate), 1):
        counts["generated"] += 1
        if row["id"] in seen:
            counts["duplicate"] += 1
        else:
            seen.add(row["id"])
            counts["faulty"] += row["fault"] is not None
            writer.add(row)
        if on_progress and n % PROGRESS_EVERY == 0:
            on_progress(n)
    if on_progress and count % PROGRESS_EVERY:
        on_progress(count)
    return writer.close(counts, {"count": count, "seed": seed, "fault_rate": fault_rate})
