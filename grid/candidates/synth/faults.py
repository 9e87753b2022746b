"""Deliberate faults: the kinds, the realistic wrong names and keyword typos they use, and
planting one in a program at a place its builder recorded. Every fault makes the program raise
in the pinned library versions, so whatever runs them sees failures as well as figures."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .builders import Prog

FAULTS = ("wrong_column", "wrong_kwarg", "bad_api", "missing_import", "shape_mismatch", "mixed_libraries",
          "wrong_dtype")

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

_WRONG_NAMES = {"matplotlib": _MPL_BAD, "seaborn": _SNS_BAD, "plotly.express": _PX_BAD,
                "plotly.graph_objects": _GO_BAD, "pandas": _PD_BAD}


def wrong_name(r: random.Random, library: str, call: str) -> str:
    """A realistic misspelling of `library`'s plotting call `call`."""
    return r.choice(_WRONG_NAMES[library][call])


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


def plant(b: Prog, preferred: str) -> str | None:
    """Plant one fault: the preferred kind where this program has a place for it."""
    body = "\n".join(b.setup + b.data + b.plot + b.out)
    used = [line for line in b.imports if re.search(rf"(?<![\w.]){re.escape(line.split()[-1])}[.(]", body)]
    options: dict[str, list] = {k: v for k, v in b.sites.items() if v}
    if used:
        options["missing_import"] = used
    if b.mixes:
        options["mixed_libraries"] = b.mixes
    if not options:
        return None
    kind = preferred if preferred in options else b.r.choice(sorted(options))
    site = b.r.choice(options[kind])
    if kind == "missing_import":
        b.imports.remove(site)
    elif kind == "mixed_libraries":
        b.plot.append(site[0])
        if site[1]:
            b.imp(site[1])
    else:
        sec, i, old, new = site
        line = sec[i]
        if kind == "wrong_kwarg":
            typo = b.r.choice(_KWARG_TYPOS[old]).replace("'", b.q)
            head = line[: len(line) - len(new)]
            sec[i] = f"{head}{'' if head.endswith('(') else ', '}{typo}{new}"
        elif kind == "wrong_column":
            sec[i] = line.replace(b.s(old), b.s(_misspell(b.r, old)), 1)
        else:
            sec[i] = line.replace(old, new, 1)
    return kind
