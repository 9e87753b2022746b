"""The style description part of the instruction: titles, axis labels, legend, colours, marks, grid, ticks,
scales, notes, colour bar, figure size, theme and layout, in one fixed order."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from viscode.curation.phrasing import join, num, plural, quote
from viscode.curation.tags import ChartCall

from viscode.codefacts import Binding, Call, Program, dict_value

_ORDER = ("title", "labels", "legend", "colour", "marks", "grid", "ticks", "scale", "notes", "colourbar", "size",
          "theme", "layout")
_MARKERS = {"o": "circles", "s": "squares", "^": "triangles", "v": "downward triangles", ".": "dots", "x": "crosses",
            "X": "crosses", "D": "diamonds", "d": "thin diamonds", "*": "stars", "+": "plus signs", "p": "pentagons",
            "h": "hexagons", "<": "left triangles", ">": "right triangles", "circle": "circles", "square": "squares",
            "diamond": "diamonds", "cross": "crosses"}
_DASHES = {"--": "dashed", ":": "dotted", "-.": "dash-dotted", "dashed": "dashed", "dotted": "dotted",
           "dashdot": "dash-dotted", "dash": "dashed", "dot": "dotted"}
_COLOUR_KEYS = ("color", "colors", "c", "facecolor", "marker_color", "line_color", "fillcolor")
_COLOUR_LETTERS = {"b": "blue", "g": "green", "r": "red", "c": "cyan", "m": "magenta", "y": "yellow", "k": "black",
                   "w": "white"}
_MAP_KEYS = ("cmap", "colormap", "colorscale", "color_continuous_scale", "palette")
_LEGEND_PLACES = {"upper left": "upper left", "upper right": "upper right", "lower left": "lower left",
                  "lower right": "lower right", "center left": "centre left", "center right": "centre right",
                  "upper center": "upper centre", "lower center": "lower centre", "center": "centre"}


@dataclass(slots=True)
class _Style:
    """Style facts found so far, rendered in one fixed order."""

    prog: Program
    titles: list[str] = field(default_factory=list)
    overall: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    colours: list[str] = field(default_factory=list)
    facts: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in _ORDER})

    def add(self, category: str, sentence: str) -> None:
        """Keep each sentence once; the figure has one size, the first one set."""
        if sentence and sentence not in self.facts[category] and not (category == "size" and self.facts[category]):
            self.facts[category].append(sentence)

    def title(self, node: ast.AST | None, overall: bool = False) -> None:
        text = self.prog.string(node)
        if text and text.strip():
            (self.overall if overall else self.titles).append(text)

    def label(self, axis: str, node: ast.AST | None) -> None:
        text = self.prog.string(node)
        if text and text.strip():
            self.labels.setdefault(axis, text)

    def text(self) -> str:
        titles = list(dict.fromkeys(self.titles))
        if len(titles) == 1:
            self.facts["title"].insert(0, f"Title the chart {quote(titles[0])}.")
        elif titles:
            self.facts["title"].insert(0, f"Title the panels {join(quote(t) for t in titles[:6])}.")
        if self.overall:
            verb = "Give the figure the overall title" if titles else "Title the figure"
            self.facts["title"].append(f"{verb} {quote(self.overall[0])}.")
        if self.labels:
            parts = [f"the {axis} axis {quote(text)}" for axis, text in sorted(self.labels.items())]
            self.facts["labels"].insert(0, f"Label {join(parts)}.")
        if self.colours:
            self.facts["colour"].insert(0, f"Colour the marks {join(self.colours[:6])}.")
        return " ".join(s for k in _ORDER for s in self.facts[k])


def style_description(prog: Program, charts: tuple[ChartCall, ...]) -> str:
    style = _Style(prog)
    chart_nodes = {id(c.call.node) for c in charts}
    for call in prog.calls:
        handler = _HANDLERS.get(call.method)
        if handler and (call.owner.startswith(("<", "matplotlib", "seaborn", "plotly")) or call.owner.isidentifier()):
            handler(style, call)
        _keywords(style, call, id(call.node) in chart_nodes)
    for binding in prog.bindings:
        _settings(style, binding)
    return style.text()


def _keywords(style: _Style, call: Call, draws: bool) -> None:
    """Style keywords any call may carry: figure size, template, title; the marks' look on drawing calls."""
    prog = style.prog
    size = prog.literal(call.kw("figsize"))
    if isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(v, (int, float)) for v in size):
        style.add("size", f"Make the figure {num(size[0])} by {num(size[1])} inches.")
    width, height = prog.number(call.kw("width")), prog.number(call.kw("height"))
    if width and height and width > 50 and (call.method in ("update_layout", "write_image") or draws):
        style.add("size", f"Make the figure {num(width)} by {num(height)} pixels.")
    template = prog.string(call.kw("template"))
    if template:
        style.add("theme", f"Use the plotly template {quote(template)}.")
    if prog.string(call.kw("layout")) == "constrained" or prog.literal(call.kw("constrained_layout")) is True:
        style.add("layout", "Use a constrained layout.")
    if call.method != "legend" and call.kw("title") is not None and call.owner != "plotly.graph_objects":
        style.title(call.kw("title") if prog.string(call.kw("title")) else dict_value(call.kw("title"), "text"))
    if prog.literal(call.kw("legend")) is False or prog.literal(call.kw("showlegend")) is False:
        style.add("legend", "Hide the legend.")
    for axis in ("x", "y"):
        if prog.literal(call.kw(f"log_{axis}") or call.kw(f"log{axis}")) is True:
            style.add("scale", f"Use a logarithmic {axis} axis.")
    if not draws:
        return
    _colours(style, call)
    _marks(style, call)


def _colours(style: _Style, call: Call) -> None:
    prog = style.prog
    colours: list[str] = []
    if call.owner != "plotly.express":  # there `color` names a column
        for key in _COLOUR_KEYS:
            value = prog.literal(call.kw(key))
            colours += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(
                value, list) else []
        for key in ("marker", "line"):
            colour = prog.string(dict_value(call.kw(key), "color"))
            colours += [colour] if colour else []
    style.colours += [_COLOUR_LETTERS.get(c, c) for c in colours]
    edge = prog.string(call.kw("edgecolor") or call.kw("edgecolors"))
    if edge and edge != "none":
        style.add("colour", f"Give the marks {edge} edges.")
    for key in _MAP_KEYS:
        value = prog.string(call.kw(key))
        if value:
            kind = "palette" if key == "palette" else "colour map"
            style.add("colour", f"Use the {quote(value)} {kind}.")
    sequence = call.kw("color_discrete_sequence")
    if isinstance(sequence, ast.Attribute):
        style.add("colour", f"Use the {sequence.attr} colour sequence.")
    if prog.literal(call.kw("cbar")) is False:
        style.add("colourbar", "Leave out the colour bar.")
    if prog.literal(call.kw("showscale") or dict_value(call.kw("marker"), "showscale")) is True:
        style.add("colourbar", "Show the colour scale.")


def _marks(style: _Style, call: Call) -> None:
    prog = style.prog
    fmt = next((prog.string(a) for a in call.node.args if prog.string(a)), None) if call.method in (
        "plot", "errorbar", "semilogy", "semilogx", "loglog") else prog.string(call.kw("fmt"))
    marker = prog.string(call.kw("marker")) or prog.string(dict_value(call.kw("marker"), "symbol"))
    dash = prog.string(call.kw("linestyle") or call.kw("ls") or call.kw("dash")) or prog.string(
        dict_value(call.kw("line"), "dash")) or (prog.string(call.kw("style")) if call.method == "plot" else None)
    if fmt:
        marker = marker or next((ch for ch in fmt if ch in _MARKERS), None)
        dash = dash or next((d for d in ("--", "-.", ":") if d in fmt), None)
    if marker in _MARKERS:
        style.add("marks", f"Mark the points with {_MARKERS[marker]}.")
    mode = prog.string(call.kw("mode")) or ""
    if "lines" in mode and "markers" in mode or prog.literal(call.kw("markers")) is True:
        style.add("marks", "Show markers on the lines.")
    if dash in _DASHES:
        style.add("marks", f"Draw {_DASHES[dash]} lines.")
    width = prog.number(call.kw("linewidth") or call.kw("lw") or call.kw("line_width")
                        or dict_value(call.kw("line"), "width"))
    if width:
        style.add("marks", f"Use a line width of {num(width)}.")
    alpha = prog.number(call.kw("alpha") or call.kw("opacity") or dict_value(call.kw("marker"), "opacity"))
    if alpha is not None and 0 < alpha < 1:
        style.add("marks", f"Make the marks partly transparent (opacity {num(alpha)}).")
    size = prog.number(call.kw("s") or call.kw("markersize") or call.kw("ms") or dict_value(call.kw("marker"), "size"))
    if size:
        style.add("marks", f"Use a marker size of {num(size)}.")
    if prog.number(call.kw("capsize")):
        style.add("marks", "Put caps on the error bars.")


def _settings(style: _Style, binding: Binding) -> None:
    """Assignments that style: rcParams entries, plotly's default template."""
    prog, target = style.prog, binding.target
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) \
            and target.value.attr == "rcParams":
        _rc(style, {prog.string(target.slice): prog.literal(binding.value)})
    elif isinstance(target, ast.Attribute) and target.attr == "default" and isinstance(target.value, ast.Attribute) \
            and target.value.attr == "templates" and prog.string(binding.value):
        style.add("theme", f"Use the plotly template {quote(prog.string(binding.value) or '')}.")


def _rc(style: _Style, params: object) -> None:
    if not isinstance(params, dict):
        return
    size = params.get("figure.figsize")
    if isinstance(size, (list, tuple)) and len(size) == 2:
        style.add("size", f"Make the figure {num(size[0])} by {num(size[1])} inches.")
    font = params.get("font.size")
    if isinstance(font, (int, float)):
        style.add("theme", f"Set the base font size to {num(font)}.")


def _on_title(style: _Style, call: Call) -> None:
    overall = call.method == "suptitle"
    style.title(call.arg(0) or call.kw("label") or call.kw("t"), overall)
    size = style.prog.number(call.kw("fontsize") or call.kw("size"))
    if size:
        style.add("title", f"Set the {'overall ' if overall else ''}title in font size {num(size)}.")


def _on_axis_label(style: _Style, call: Call) -> None:
    style.label(call.method.removeprefix("set_")[0], call.arg(0) or call.kw("xlabel") or call.kw("ylabel"))


def _on_set(style: _Style, call: Call) -> None:
    """ax.set(title=..., xlabel=..., yscale="log"), g.set_axis_labels(x, y); sns.set(...) is a theme."""
    if call.owner == "seaborn":
        _on_theme(style, call)
        return
    if call.method == "set_axis_labels":
        style.label("x", call.arg(0))
        style.label("y", call.arg(1))
        return
    style.title(call.kw("title"))
    for axis in "xyz":
        style.label(axis, call.kw(f"{axis}label"))
        if style.prog.string(call.kw(f"{axis}scale")) == "log":
            style.add("scale", f"Use a logarithmic {axis} axis.")


def _on_layout(style: _Style, call: Call) -> None:
    """plotly's update_layout / update_xaxes / update_yaxes."""
    prog = style.prog
    style.title(call.kw("title_text"))
    if call.method == "update_layout":
        for axis in "xy":
            style.label(axis, call.kw(f"{axis}axis_title") or call.kw(f"{axis}axis_title_text")
                        or dict_value(dict_value(call.kw(f"{axis}axis"), "title"), "text")
                        or dict_value(call.kw(f"{axis}axis"), "title"))
        legend_title = prog.string(call.kw("legend_title_text") or call.kw("legend_title"))
        if legend_title:
            style.add("legend", f"Title the legend {quote(legend_title)}.")
        font = prog.number(call.kw("font_size") or dict_value(call.kw("font"), "size"))
        if font:
            style.add("theme", f"Set the base font size to {num(font)}.")
        return
    axis = call.method[len("update_")]
    style.label(axis, call.kw("title_text") or call.kw("title"))
    angle = prog.number(call.kw("tickangle"))
    if angle:
        style.add("ticks", f"Tilt the {axis} tick labels by {num(abs(angle))} degrees.")
    if prog.string(call.kw("type")) == "log":
        style.add("scale", f"Use a logarithmic {axis} axis.")
    if prog.literal(call.kw("showgrid")) is True:
        style.add("grid", f"Show {axis} grid lines.")


def _on_legend(style: _Style, call: Call) -> None:
    prog = style.prog
    place = _LEGEND_PLACES.get(prog.string(call.kw("loc") or call.arg(0)) or "")
    text = "Show a legend" + (f" in the {place}" if place else "")
    title = prog.string(call.kw("title"))
    text += f" titled {quote(title)}" if title else ""
    columns = prog.number(call.kw("ncol") or call.kw("ncols"))
    text += f" in {plural(int(columns), 'column')}" if columns and columns > 1 else ""
    text += " without a frame" if prog.literal(call.kw("frameon")) is False else ""
    style.add("legend", text + ".")


def _on_grid(style: _Style, call: Call) -> None:
    prog = style.prog
    if prog.literal(call.arg(0) if call.arg(0) is not None else call.kw("visible")) is False:
        return
    axis = prog.string(call.kw("axis"))
    lines = {"y": " of horizontal lines", "x": " of vertical lines"}.get(axis or "", "")
    dash = _DASHES.get(prog.string(call.kw("linestyle") or call.kw("ls")) or "")
    alpha = prog.number(call.kw("alpha"))
    look = ", ".join(w for w in (dash, "faint" if alpha is not None and alpha < 0.5 else "") if w)
    style.add("grid", f"Add a {look + ' ' if look else ''}grid{lines}.")


def _on_ticks(style: _Style, call: Call) -> None:
    prog = style.prog
    axis = "x" if "x" in call.method else "y" if "y" in call.method else prog.string(call.kw("axis")) or "x"
    angle = prog.number(call.kw("rotation") or call.kw("labelrotation"))
    if angle:
        style.add("ticks", f"Rotate the {axis} tick labels by {num(angle)} degrees.")
    labels = call.kw("labels") or (call.arg(1) if call.method in ("xticks", "yticks", "set_xticks", "set_yticks")
                                   else call.arg(0) if call.method.endswith("ticklabels") else None)
    name = prog.label(labels)
    if name and call.method != "tick_params":
        style.add("ticks", f"Label the {axis} ticks with {name}.")


def _on_scale(style: _Style, call: Call) -> None:
    axes = {"loglog": "xy", "semilogx": "x", "semilogy": "y"}.get(call.method)
    if axes is None and style.prog.string(call.arg(0)) == "log":
        axes = "x" if "x" in call.method else "y"
    for axis in axes or "":
        style.add("scale", f"Use a logarithmic {axis} axis.")


def _on_limits(style: _Style, call: Call) -> None:
    prog = style.prog
    low, high = prog.number(call.arg(0) or call.kw("left") or call.kw("bottom")), prog.number(
        call.arg(1) or call.kw("right") or call.kw("top"))
    axis = "x" if "x" in call.method else "y" if "y" in call.method else "z"
    if low is not None and high is not None:
        style.add("scale", f"Show the {axis} axis from {num(low)} to {num(high)}.")


def _on_annotation(style: _Style, call: Call) -> None:
    text = {"bar_label": "Label each bar with its value.", "clabel": "Label the contour lines with their values.",
            "annotate": "Annotate points of interest with text."}.get(call.method)
    style.add("notes", text or ("Write a text label in each cell." if call.loop is not None else "Add a text note."))


def _on_reference(style: _Style, call: Call) -> None:
    prog = style.prog
    direction = "horizontal" if call.method in ("axhline", "hlines", "axhspan", "add_hline") else "vertical"
    shape = "band" if call.method.endswith("span") else "reference line"
    dash = _DASHES.get(prog.string(call.kw("linestyle") or call.kw("ls")) or "")
    colour = prog.string(call.kw("color") or call.kw("c"))
    look = " ".join(w for w in (dash, colour) if w)
    where = prog.number(call.arg(0) if call.arg(0) is not None else call.kw("y") or call.kw("x"))
    style.add("notes", f"Draw a {look + ' ' if look else ''}{direction} {shape}"
                       f"{f' at {num(where)}' if where is not None and shape != 'band' else ''}.")


def _on_colorbar(style: _Style, call: Call) -> None:
    label = style.prog.string(call.kw("label"))
    horizontal = style.prog.string(call.kw("orientation")) == "horizontal"
    style.add("colourbar", f"Add a {'horizontal ' if horizontal else ''}colour bar"
                           f"{' labelled ' + quote(label) if label else ''}.")


_THEME_ARGS = {"set_theme": ("context", "style", "palette"), "set": ("context", "style", "palette"),
               "set_style": ("style",), "set_context": ("context",), "set_palette": ("palette",)}


def _on_theme(style: _Style, call: Call) -> None:
    prog = style.prog
    if call.method == "use" and call.owner.endswith("style"):
        name = prog.string(call.arg(0))
        style.add("theme", f"Use the matplotlib style sheet {quote(name)}." if name else "")
        return
    if call.owner != "seaborn":
        return
    if call.method == "despine":
        style.add("theme", "Remove the top and right spines.")
        return
    positional = _THEME_ARGS.get(call.method, ())
    values = {key: prog.string(call.kw(key) or (call.arg(positional.index(key)) if key in positional else None))
              for key in ("style", "palette", "context")}
    parts = [f"the {quote(v)} {key}" for key, v in values.items() if v]
    style.add("theme", f"Use the seaborn theme with {join(parts)}." if parts else "Use the seaborn default theme.")


def _on_misc(style: _Style, call: Call) -> None:
    prog = style.prog
    method = call.method
    if method == "tight_layout":
        style.add("layout", "Use a tight layout.")
    elif method == "autofmt_xdate":
        style.add("ticks", "Slant the date labels on the x axis.")
    elif method in ("invert_yaxis", "invert_xaxis"):
        style.add("scale", f"Invert the {method[7]} axis.")
    elif method == "view_init":
        elev, azim = prog.number(call.arg(0) or call.kw("elev")), prog.number(call.arg(1) or call.kw("azim"))
        if elev is not None and azim is not None:
            style.add("scale", f"View the 3D plot from an elevation of {num(elev)} degrees and an azimuth of "
                               f"{num(azim)} degrees.")
    elif method in ("axis", "set_aspect") and prog.string(call.arg(0)) in ("equal", "off"):
        style.add("scale", "Keep equal scales on both axes." if prog.string(call.arg(0)) == "equal" else
                  "Hide the axes.")
    elif method == "update" and call.owner.endswith("rcParams"):
        _rc(style, prog.literal(call.arg(0)))
    elif method == "rc" and prog.string(call.arg(0)) == "font" and prog.number(call.kw("size")):
        style.add("theme", f"Set the base font size to {num(prog.number(call.kw('size')) or 0)}.")
    elif method == "subplots_adjust":
        style.add("layout", "Adjust the spacing around the panels.")


_HANDLERS: dict[str, Callable[[_Style, Call], None]] = {
    "title": _on_title, "set_title": _on_title, "suptitle": _on_title,
    "xlabel": _on_axis_label, "ylabel": _on_axis_label, "set_xlabel": _on_axis_label, "set_ylabel": _on_axis_label,
    "set_zlabel": _on_axis_label, "set": _on_set, "set_axis_labels": _on_set,
    "update_layout": _on_layout, "update_xaxes": _on_layout, "update_yaxes": _on_layout,
    "legend": _on_legend, "grid": _on_grid,
    "xticks": _on_ticks, "yticks": _on_ticks, "set_xticks": _on_ticks, "set_yticks": _on_ticks,
    "set_xticklabels": _on_ticks, "set_yticklabels": _on_ticks, "tick_params": _on_ticks,
    "xscale": _on_scale, "yscale": _on_scale, "set_xscale": _on_scale, "set_yscale": _on_scale,
    "loglog": _on_scale, "semilogx": _on_scale, "semilogy": _on_scale,
    "xlim": _on_limits, "ylim": _on_limits, "set_xlim": _on_limits, "set_ylim": _on_limits, "set_zlim": _on_limits,
    "text": _on_annotation, "annotate": _on_annotation, "bar_label": _on_annotation, "clabel": _on_annotation,
    "axhline": _on_reference, "axvline": _on_reference, "hlines": _on_reference, "vlines": _on_reference,
    "axhspan": _on_reference, "axvspan": _on_reference, "colorbar": _on_colorbar, "add_annotation": _on_annotation,
    "add_hline": _on_reference, "add_vline": _on_reference,
    "use": _on_theme, "set_theme": _on_theme, "set_style": _on_theme, "set_palette": _on_theme,
    "set_context": _on_theme, "despine": _on_theme,
    "tight_layout": _on_misc, "autofmt_xdate": _on_misc, "invert_yaxis": _on_misc, "invert_xaxis": _on_misc,
    "view_init": _on_misc, "axis": _on_misc, "set_aspect": _on_misc, "update": _on_misc, "rc": _on_misc,
    "subplots_adjust": _on_misc,
}
