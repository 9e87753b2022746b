"""The plot description part of the instruction: the panel layout, one sentence per chart drawn (what kind of
chart, which data on which channel) and the chart options that change what is drawn (bins, error bars, ...)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from viscode.curation.phrasing import join, num, plural
from viscode.curation.tags import ChartCall

from viscode.codefacts import Call, Program, callee, dict_value

MAX_CHART_SENTENCES = 6
_NOUNS = {
    "barh": "horizontal bar chart", "hexbin": "hexagonal-bin density plot", "hist2d": "2D histogram",
    "Histogram2d": "2D histogram", "Histogram2dContour": "2D density contour plot",
    "density_heatmap": "density heatmap", "density_contour": "density contour plot",
    "kdeplot": "kernel density estimate plot", "ecdfplot": "empirical cumulative distribution plot",
    "ecdf": "empirical cumulative distribution plot", "stackplot": "stacked area chart",
    "plot_surface": "3D surface plot", "Surface": "3D surface plot", "plot_wireframe": "3D wireframe plot",
    "plot_trisurf": "3D triangulated surface plot", "scatter_3d": "3D scatter plot", "Scatter3d": "3D scatter plot",
    "pointplot": "point plot with error bars", "regplot": "scatter plot with a regression line",
    "lmplot": "scatter plot with a regression line", "stripplot": "strip plot", "swarmplot": "swarm plot",
    "countplot": "count plot", "boxenplot": "letter-value plot", "clustermap": "clustered heatmap",
    "pairplot": "pair plot of every pair of columns", "jointplot": "joint plot with marginal distributions",
    "contourf": "filled contour plot", "tricontourf": "filled contour plot", "choropleth": "choropleth map",
    "Choropleth": "choropleth map", "pcolormesh": "colour-mesh heatmap", "stem": "stem plot",
    "quiver": "vector field (quiver) plot", "streamplot": "streamline plot", "treemap": "treemap",
    "Treemap": "treemap", "sunburst": "sunburst chart", "Sunburst": "sunburst chart", "funnel": "funnel chart",
    "Funnel": "funnel chart", "Candlestick": "candlestick chart", "Ohlc": "OHLC chart", "Sankey": "Sankey diagram",
    "Waterfall": "waterfall chart", "Table": "table", "Indicator": "indicator", "timeline": "timeline chart",
    "parallel_coordinates": "parallel coordinates plot", "Parcoords": "parallel coordinates plot",
    "rugplot": "rug plot", "residplot": "residual plot", "scatter_matrix": "scatter matrix",
    "violinplot": "violin plot", "eventplot": "event plot", "matshow": "matrix heatmap",
}
_KIND_NOUNS = {"step": "step chart", "area": "area chart", "heatmap": "heatmap", "contour": "contour plot",
               "density": "density plot", "hist": "histogram", "box": "box plot", "violin": "violin plot",
               "pie": "pie chart", "bar": "bar chart", "scatter": "scatter plot", "line": "line chart",
               "errorbar": "error-bar plot", "map": "map", "polar": "polar chart", "3d": "3D plot", "other": "chart"}
_FIELDS = ("heatmap", "contour", "3d")  # charts of a value over a grid
_CATEGORICAL = ("bar", "box", "violin")
_POSITIONAL = {
    "plot": ("x", "y"), "step": ("x", "y"), "fill_between": ("x", "y"), "errorbar": ("x", "y"),
    "semilogx": ("x", "y"), "semilogy": ("x", "y"), "loglog": ("x", "y"), "scatter": ("x", "y", "size", "hue"),
    "bar": ("x", "y"), "barh": ("y", "x"), "hist": ("x",), "boxplot": ("y",), "violinplot": ("y",),
    "pie": ("values",), "imshow": ("z",), "matshow": ("z",), "hexbin": ("x", "y"), "hist2d": ("x", "y"),
    "stackplot": ("x", "y"), "plot_surface": ("x", "y", "z"), "plot_wireframe": ("x", "y", "z"),
    "plot_trisurf": ("x", "y", "z"), "scatter3D": ("x", "y", "z"), "plot3D": ("x", "y", "z"), "stem": ("x", "y"),
    "heatmap": ("z",), "clustermap": ("z",), "stairs": ("y", "x"),
}
_GRID_METHODS = frozenset({"pcolormesh", "pcolor", "contour", "contourf", "tricontour", "tricontourf"})
_KEYWORDS = {"x": "x", "y": "y", "z": "z", "hue": "hue", "size": "size", "style": "style", "names": "names",
             "labels": "names", "values": "values", "column": "y", "by": "x", "data_frame": "data", "data": "data",
             "tick_labels": "names", "r": "y", "theta": "x", "locations": "names", "lat": "y", "lon": "x"}


@dataclass(slots=True)
class _Clause:
    """One chart sentence in the making; consecutive calls drawing the same chart merge into its series."""

    noun: str
    family: str
    roles: dict[str, str]
    series: list[str] = field(default_factory=list)
    loop: str = ""


def plot_description(prog: Program, charts: tuple[ChartCall, ...]) -> str:
    sentences = [s for s in (_layout(prog),) if s]
    clauses: list[_Clause] = []
    for chart in charts:
        clause = _clause(prog, chart)
        last = clauses[-1] if clauses else None
        if last and not clause.loop and not last.loop and (last.noun, last.roles.get("x")) == (
                clause.noun, clause.roles.get("x")) and clause.family not in _FIELDS + ("pie",):
            last.series += clause.series or [clause.roles.get("y", "")]
        else:
            clause.series = clause.series or [clause.roles.get("y", "")]
            clauses.append(clause)
    for clause in clauses:
        if clause.family == "bar" and len([s for s in clause.series if s]) > 1 and "stacked" not in clause.noun:
            clause.noun = f"grouped {clause.noun}"
    for i, clause in enumerate(clauses[:MAX_CHART_SENTENCES]):
        sentences.append(("Draw " if i == 0 else "Add ") + _clause_text(clause) + ".")
    if len(clauses) > MAX_CHART_SENTENCES:
        sentences.append(f"Add {plural(len(clauses) - MAX_CHART_SENTENCES, 'more chart')} of the same data.")
    sentences += _details(prog, charts)
    return " ".join(sentences)


def generic_plot_description(kinds: tuple[str, ...]) -> str:
    nouns = [_KIND_NOUNS[k] for k in kinds if k in _KIND_NOUNS]
    return f"Draw a {join(nouns)}." if nouns else "Draw a chart of the data."


def _layout(prog: Program) -> str:
    for call in prog.calls:
        if call.name.endswith(("pyplot.subplots", "<figure>.subplots")) or call.name == "plotly.subplots.make_subplots":
            rows = prog.number(call.arg(0) or call.kw("nrows") or call.kw("rows")) or 1
            cols = prog.number(call.arg(1) or call.kw("ncols") or call.kw("cols")) or 1
            if rows * cols > 1:
                shared = [a for a in "xy" if prog.literal(call.kw(f"share{a}") or call.kw(f"shared_{a}axes")) in (
                    True, "all", "col", "row")]
                share = f", sharing the {join(shared)} axis" if shared else ""
                return f"Lay out {int(rows * cols)} panels in {_grid(rows, cols)}{share}."
        if call.name == "matplotlib.pyplot.subplot" and call.nargs >= 2:
            rows, cols = prog.number(call.arg(0)), prog.number(call.arg(1))
            if rows and cols and rows * cols > 1:
                return f"Lay out {int(rows * cols)} panels in {_grid(rows, cols)}."
        facet = prog.string(call.kw("facet_col") or call.kw("col") or call.kw("facet_row") or call.kw("row"))
        if facet and (call.owner in ("plotly.express", "seaborn")):
            wrap = prog.number(call.kw("facet_col_wrap") or call.kw("col_wrap"))
            return f"Draw one panel per {facet}{f', wrapping after {num(wrap)} panels' if wrap else ''}."
        if prog.literal(call.kw("subplots")) is True:
            return "Draw each column in its own panel."
    return ""


def _grid(rows: float, cols: float) -> str:
    return f"{plural(int(rows), 'row')} and {plural(int(cols), 'column')}"


def _clause(prog: Program, chart: ChartCall) -> _Clause:
    call, kinds = chart.call, chart.kinds
    method = call.method
    main = [k for k in kinds if k not in ("3d", "map", "polar", "errorbar")] or list(kinds)
    family = next((k for k in ("step", "area", "heatmap", "contour", "hist", "density", "box", "violin", "pie",
                               "bar", "scatter", "line", "errorbar", "other") if k in main), main[0])
    family = "3d" if "3d" in kinds and family in ("other", "contour", "heatmap") or kinds == ("3d",) else family
    horizontal = method == "barh" or prog.string(call.kw("orientation")) in ("h", "horizontal") or prog.string(
        call.kw("kind")) == "barh" or prog.literal(call.kw("vert")) is False
    noun = _NOUNS.get(method) or _NOUNS.get(prog.string(call.kw("kind")) or "") or _KIND_NOUNS[family]
    if horizontal and "horizontal" not in noun:
        noun = f"horizontal {noun}"
    if family == "bar" and _stacked(prog, call):
        noun = f"stacked {noun}"
    if family == "pie" and (call.kw("hole") is not None or dict_value(call.kw("wedgeprops"), "width") is not None):
        noun = "donut chart"
    for kind, adjective in (("3d", "3D"), ("polar", "polar")):
        if kind in kinds and adjective not in noun:
            noun = f"{adjective} {noun}"
    if "map" in kinds and "map" not in noun:
        noun += " on a map"
    if "errorbar" in kinds and "error" not in noun:
        noun += " with error bars"
    ys = prog.literal(call.kw("y")) if isinstance(call.kw("y"), (ast.List, ast.Tuple)) else None
    series = [str(y) for y in ys] if isinstance(ys, list) and len(ys) > 1 else [
        s for s in (prog.string(call.kw("label")) or prog.string(call.kw("name")),) if s]
    roles = _roles(prog, chart, family)
    if horizontal and chart.library == "pandas" and "x" in roles:  # pandas puts its x (the categories) upright
        roles["x"], roles["y"] = roles.get("y", ""), roles["x"]
    return _Clause(noun, family, roles, series, _loop_phrase(prog, call.loop))


def _stacked(prog: Program, call: Call) -> bool:
    return (call.kw("bottom") is not None or prog.literal(call.kw("stacked")) is True
            or prog.string(call.kw("barmode")) in ("stack", "relative")
            or any(prog.string(c.kw("barmode")) in ("stack", "relative") for c in prog.calls
                   if c.method == "update_layout"))


def _roles(prog: Program, chart: ChartCall, family: str) -> dict[str, str]:
    """What each visual channel shows: x, y, z, hue, size, style, names, values, data."""
    call = chart.call
    roles: dict[str, str] = {}
    if chart.library in ("matplotlib",) or call.owner == "seaborn" and call.method in ("heatmap", "clustermap"):
        args = [a for a in call.node.args if prog.string(a) is None]
        order = _POSITIONAL.get(call.method, ())
        if call.method in _GRID_METHODS:
            order = ("x", "y", "z") if len(args) >= 3 else ("z",)
        if call.method == "scatter" and "3d" in chart.kinds:
            order = ("x", "y", "z")
        if call.method == "stackplot" and len(args) > 2:
            roles["y"] = join(prog.label(a) for a in args[1:])
        for role, arg in zip(order, args):
            roles.setdefault(role, prog.label(arg))
        for key, role in (("c", "hue"), ("s", "size")):
            if call.kw(key) is not None and prog.literal(call.kw(key)) is None:
                roles[role] = prog.label(call.kw(key))
    elif chart.library == "pandas":
        roles["data"], roles["x"] = _pandas_source(prog, call)
    elif call.owner in ("plotly.express", "seaborn") and call.arg(0) is not None:
        roles["data"] = prog.label(call.arg(0))
    for k in call.node.keywords:
        role = _KEYWORDS.get(k.arg or "") or ("hue" if k.arg == "color" and call.owner == "plotly.express" else "")
        if role and prog.label(k.value):
            roles[role] = prog.label(k.value)
    if family == "pie" and "names" not in roles and "x" in roles:
        roles["names"] = roles["x"]
    return {k: v for k, v in roles.items() if v}


def _pandas_source(prog: Program, call: Call) -> tuple[str, str]:
    """The frame a pandas plot draws, and the column it is indexed by: `df.set_index("month").plot.area()`
    draws df with month on the x axis."""
    node: ast.expr = call.node.func
    index = ""
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Call):
            if callee(node) == "set_index" and node.args:
                index = prog.label(node.args[0])
            node = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        elif node.attr == "plot" or node is call.node.func or isinstance(node.value, ast.Call):
            node = node.value
        else:
            break
    return prog.label(node), index


def _loop_phrase(prog: Program, loop: ast.expr | None) -> str:
    if loop is None:
        return ""
    if isinstance(loop, ast.Call):
        method = callee(loop)
        if method == "groupby" and loop.args:
            return f"one per {prog.label(loop.args[0])} group"
        if method in ("items", "keys", "values") and isinstance(loop.func, ast.Attribute):
            return f"one per entry of {prog.label(loop.func.value)}"
        if method in ("sorted", "set", "unique", "enumerate", "zip", "list", "reversed") and loop.args:
            inner = _loop_phrase(prog, loop.args[0])
            return inner.replace("one per item", "one per distinct item") if method in ("set", "unique") else inner
        if method == "range":
            return "one per step of the loop"
    if isinstance(loop, ast.Attribute) and loop.attr == "columns":
        return f"one per column of {prog.label(loop.value)}"
    name = prog.label(loop)
    return f"one per item of {name}" if name else "one per loop step"


def _clause_text(c: _Clause) -> str:
    r, series = c.roles, [s for s in c.series if s]
    ys = join(series) if len(series) > 1 else r.get("y", "") or (series[0] if series else "")
    count = f" ({len(series)} series)" if len(series) > 1 else ""
    article = "an" if c.noun[0] in "aeiou" else "a"
    head = f"{article} {c.noun}"
    if c.family == "pie":
        body = f"{head} of {r.get('values', ys) or 'the values'}" + (f" by {r['names']}" if r.get("names") else "")
    elif c.family in _FIELDS:
        body = f"{head} of {r.get('z') or r.get('data') or ys or 'the grid values'}"
        body += f" over {r['x']} and {r['y']}" if r.get("x") and r.get("y") else ""
    elif c.family in ("hist", "density", "step") and not (r.get("x") and r.get("y")):
        body = f"{head} of {r.get('x') or ys or r.get('data') or 'the data'}{count}"
    elif c.family in _CATEGORICAL and r.get("x") and ys:
        body = f"{head} with {r['x']} on the x axis and {ys} on the y axis{count}"
    elif r.get("x") and ys and r.get("z"):
        body = f"{head} of {r['x']}, {ys} and {r['z']} on the x, y and z axes"
    elif r.get("x") and ys:
        body = f"{head} of {ys}{count} against {r['x']}"
    else:
        what = ys or r.get("data", "")
        body = f"{head}{' of ' + what if what else ''}{count}"
    if r.get("data") and r["data"] not in body and c.family not in _FIELDS:
        body += f" from {r['data']}"
    for role, text in (("hue", "coloured by {}"), ("size", "with marker size by {}"), ("style", "marker style by {}")):
        if r.get(role):
            body += ", " + text.format(r[role])
    return body + (f", {c.loop}" if c.loop else "")


_DETAILS: tuple[tuple[str, Callable[[object], str]], ...] = (
    ("bins", lambda v: f"Use {num(v)} bins." if isinstance(v, int) else ""),
    ("nbins", lambda v: f"Use {num(v)} bins." if isinstance(v, int) else ""),
    ("levels", lambda v: f"Use {num(v)} contour levels." if isinstance(v, int) else ""),
    ("gridsize", lambda v: f"Use a grid of {num(v)} hexagons across." if isinstance(v, int) else ""),
    ("kde", lambda v: "Overlay a kernel density curve." if v is True else ""),
    ("density", lambda v: "Normalise the histogram to a density." if v is True else ""),
    ("stat", lambda v: f"Show the {v} on the y axis." if isinstance(v, str) else ""),
    ("cumulative", lambda v: "Make it cumulative." if v is True else ""),
    ("multiple", lambda v: f"Show the groups {_MULTIPLE[v]}." if v in _MULTIPLE else ""),
    ("element", lambda v: "Draw the histogram as an outline." if v in ("step", "poly") else ""),
    ("trendline", lambda v: f"Add a {v.upper() if v == 'ols' else v} trend line." if isinstance(v, str) else ""),
    ("errorbar", lambda v: f"Show error bars of the {_ERRORBARS.get(v, v)}." if isinstance(v, str) else ""),
    ("histtype", lambda v: "Draw the histogram as an outline." if v == "step" else ""),
    ("showfliers", lambda v: "Hide the outliers." if v is False else ""),
    ("showmeans", lambda v: "Mark the means." if v is True else ""),
    ("notch", lambda v: "Notch the boxes." if v is True else ""),
    ("box_visible", lambda v: "Show a box inside each violin." if v is True else ""),
    ("meanline_visible", lambda v: "Show the mean line." if v is True else ""),
    ("inner", lambda v: f"Show {v} marks inside each violin." if isinstance(v, str) else ""),
    ("points", lambda v: f"Show {'all the' if v == 'all' else 'the outlying'} points." if isinstance(v, str) else ""),
    ("boxpoints", lambda v: f"Show {'all the' if v == 'all' else 'the outlying'} points." if isinstance(v, str) else ""),
    ("boxmean", lambda v: "Mark the means." if v is True else ""),
    ("autopct", lambda v: "Show each slice's percentage on it." if isinstance(v, str) else ""),
    ("text_auto", lambda v: "Write the values on the marks." if v is True or isinstance(v, str) else ""),
    ("annot", lambda v: "Write the value in each cell." if v is True else ""),
    ("where", lambda v: f"Put the steps {'after' if v == 'post' else 'before' if v == 'pre' else 'centred on'} "
                        "each point." if isinstance(v, str) else ""),
)
_MULTIPLE = {"stack": "stacked", "dodge": "side by side", "layer": "layered", "fill": "stacked to full height"}
_ERRORBARS = {"sd": "standard deviation", "se": "standard error", "ci": "confidence interval", "pi": "percentile interval"}


def _details(prog: Program, charts: tuple[ChartCall, ...]) -> list[str]:
    out: list[str] = []
    for chart in charts:
        texts = [render(prog.literal(chart.call.kw(key))) for key, render in _DETAILS if chart.call.kw(key) is not None]
        if any(_is_none(chart.call.kw(key)) for key in ("errorbar", "ci")):
            texts.append("Leave out error bars.")
        out += [t for t in texts if t and t not in out]
    return out


def _is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
