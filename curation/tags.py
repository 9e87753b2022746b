"""Library, chart kinds and data origin of a plotting program, from its syntax tree: the
tags researchers filter the curated data by, and the facts the instructions start from.

Chart kinds come from the drawing calls of matplotlib (pyplot and Axes), seaborn, plotly
express and graph_objects, pandas `.plot` and the map toolkits, one fixed vocabulary for all.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from viscode.codefacts import AXES_ROLES, Call, Program, analyse, callee, dict_value
from viscode.codetext import plotting_libraries

CHART_KINDS = ("3d", "area", "bar", "box", "contour", "density", "errorbar", "heatmap", "hist", "line", "map", "pie",
               "polar", "scatter", "step", "violin", "other")
LIBRARIES = ("plotly", "seaborn", "pandas", "matplotlib", "other")
DATA_ORIGINS = ("file", "generated", "inline")
GENERATED_MIN_VALUES = 20  # linspace/arange this long make data; shorter ones are positions and ticks

_MPL = {
    "plot": ("line",), "semilogx": ("line",), "semilogy": ("line",), "loglog": ("line",), "plot_date": ("line",),
    "psd": ("line",), "magnitude_spectrum": ("line",), "bar": ("bar",), "barh": ("bar",), "broken_barh": ("bar",),
    "scatter": ("scatter",), "hist": ("hist",), "hist2d": ("density",), "hexbin": ("density",), "boxplot": ("box",),
    "bxp": ("box",), "violinplot": ("violin",), "imshow": ("heatmap",), "matshow": ("heatmap",),
    "pcolormesh": ("heatmap",), "pcolor": ("heatmap",), "tripcolor": ("heatmap",), "specgram": ("heatmap",),
    "spy": ("heatmap",), "pie": ("pie",), "fill_between": ("area",), "fill_betweenx": ("area",),
    "stackplot": ("area",), "contour": ("contour",), "contourf": ("contour",), "tricontour": ("contour",),
    "tricontourf": ("contour",), "errorbar": ("errorbar",), "step": ("step",), "stairs": ("step",), "ecdf": ("step",),
    "plot_surface": ("3d",), "plot_wireframe": ("3d",), "plot_trisurf": ("3d",), "bar3d": ("3d", "bar"),
    "scatter3D": ("3d", "scatter"), "plot3D": ("3d", "line"), "contour3D": ("3d", "contour"), "voxels": ("3d",),
    "polar": ("polar", "line"), "stem": ("other",), "quiver": ("other",), "streamplot": ("other",),
    "eventplot": ("other",), "barbs": ("other",), "triplot": ("other",),
}
_MAP_METHODS = frozenset({"coastlines", "add_feature", "stock_img", "drawcoastlines", "drawcountries", "drawstates",
                          "drawmapboundary", "fillcontinents", "bluemarble", "shadedrelief", "etopo"})
_SNS = {
    "barplot": ("bar",), "countplot": ("bar",), "lineplot": ("line",), "scatterplot": ("scatter",),
    "stripplot": ("scatter",), "swarmplot": ("scatter",), "regplot": ("scatter",), "lmplot": ("scatter",),
    "residplot": ("scatter",), "pairplot": ("hist", "scatter"), "histplot": ("hist",), "distplot": ("density", "hist"),
    "kdeplot": ("density",), "rugplot": ("density",), "ecdfplot": ("step",), "boxplot": ("box",),
    "boxenplot": ("box",), "violinplot": ("violin",), "heatmap": ("heatmap",), "clustermap": ("heatmap",),
    "pointplot": ("errorbar", "line"),
}
_SNS_FIGURE_KINDS = {  # figure-level functions: kind= picks the chart, the first entry is the default
    "relplot": {"scatter": ("scatter",), "line": ("line",)},
    "displot": {"hist": ("hist",), "kde": ("density",), "ecdf": ("step",)},
    "catplot": {"strip": ("scatter",), "swarm": ("scatter",), "box": ("box",), "boxen": ("box",),
                "violin": ("violin",), "bar": ("bar",), "count": ("bar",), "point": ("errorbar", "line")},
    "jointplot": {"scatter": ("hist", "scatter"), "kde": ("density",), "hist": ("hist",), "hex": ("density",),
                  "reg": ("hist", "scatter"), "resid": ("scatter",)},
}
_PX = {
    "bar": ("bar",), "bar_polar": ("bar", "polar"), "timeline": ("bar",), "funnel": ("bar",), "line": ("line",),
    "line_3d": ("3d", "line"), "line_polar": ("line", "polar"), "line_geo": ("line", "map"),
    "line_mapbox": ("line", "map"), "line_map": ("line", "map"), "scatter": ("scatter",),
    "scatter_3d": ("3d", "scatter"), "scatter_polar": ("polar", "scatter"), "scatter_geo": ("map", "scatter"),
    "scatter_mapbox": ("map", "scatter"), "scatter_map": ("map", "scatter"), "scatter_matrix": ("scatter",),
    "scatter_ternary": ("scatter",), "strip": ("scatter",), "histogram": ("hist",), "box": ("box",),
    "violin": ("violin",), "pie": ("pie",), "area": ("area",), "density_heatmap": ("density",),
    "density_contour": ("density",), "density_mapbox": ("density", "map"), "density_map": ("density", "map"),
    "imshow": ("heatmap",), "choropleth": ("map",), "choropleth_mapbox": ("map",), "choropleth_map": ("map",),
    "ecdf": ("step",), "funnel_area": ("other",), "treemap": ("other",), "sunburst": ("other",),
    "icicle": ("other",), "parallel_coordinates": ("other",), "parallel_categories": ("other",),
    "line_ternary": ("other",),
}
_GO = {
    "Bar": ("bar",), "Barpolar": ("bar", "polar"), "Waterfall": ("bar",), "Funnel": ("bar",), "Surface": ("3d",),
    "Mesh3d": ("3d",), "Cone": ("3d",), "Volume": ("3d",), "Isosurface": ("3d",), "Streamtube": ("3d",),
    "Histogram": ("hist",), "Histogram2d": ("density",), "Histogram2dContour": ("density",), "Box": ("box",),
    "Violin": ("violin",), "Pie": ("pie",), "Heatmap": ("heatmap",), "Image": ("heatmap",), "Contour": ("contour",),
    "Choropleth": ("map",), "Choroplethmapbox": ("map",), "Choroplethmap": ("map",), "Densitymapbox": ("density", "map"),
    "Densitymap": ("density", "map"), "Splom": ("scatter",), "Candlestick": ("other",), "Ohlc": ("other",),
    "Sankey": ("other",), "Treemap": ("other",), "Sunburst": ("other",), "Icicle": ("other",),
    "Funnelarea": ("other",), "Parcoords": ("other",), "Parcats": ("other",), "Indicator": ("other",),
    "Table": ("other",),
}
_GO_TRACES = {"Scatter": (), "Scattergl": (), "Scatter3d": ("3d",), "Scattergeo": ("map",),
              "Scattermapbox": ("map",), "Scattermap": ("map",), "Scatterpolar": ("polar",),
              "Scatterpolargl": ("polar",), "Scatterternary": ()}
_PD = {"line": ("line",), "bar": ("bar",), "barh": ("bar",), "hist": ("hist",), "box": ("box",), "kde": ("density",),
       "density": ("density",), "area": ("area",), "pie": ("pie",), "scatter": ("scatter",), "hexbin": ("density",)}
_PD_PLOTTING = {"scatter_matrix": ("hist", "scatter"), "parallel_coordinates": ("line",), "andrews_curves": ("line",),
                "autocorrelation_plot": ("line",), "lag_plot": ("scatter",), "radviz": ("scatter",),
                "bootstrap_plot": ("hist",)}
_FF = {"create_distplot": ("density", "hist"), "create_annotated_heatmap": ("heatmap",)}
_STEP_SHAPES = frozenset({"hv", "vh", "hvh", "vhv"})
_FILE_READERS = ("pandas.read_", "polars.read_", "polars.scan_", "numpy.loadtxt", "numpy.genfromtxt", "numpy.load",
                 "numpy.fromfile", "seaborn.load_dataset", "plotly.express.data.", "geopandas.read_file",
                 "xarray.open_", "matplotlib.pyplot.imread", "matplotlib.image.imread", "matplotlib.cbook.get_sample",
                 "sklearn.datasets.load_", "sklearn.datasets.fetch_", "json.load", "urllib.request.urlopen",
                 "requests.get", "PIL.Image.open", "scipy.io.loadmat", "vega_datasets.data", "datasets.load_dataset",
                 "h5py.File", "netCDF4.Dataset", "geopandas.datasets.get_path")
_GENERATORS = ("numpy.random.", "random.", "<rng>.", "sklearn.datasets.make_", "torch.rand")


@dataclass(frozen=True, slots=True)
class Tags:
    library: str                  # primary plotting library, one of LIBRARIES
    chart_kinds: tuple[str, ...]  # sorted, from CHART_KINDS
    data_origin: str              # one of DATA_ORIGINS


@dataclass(frozen=True, slots=True)
class ChartCall:
    """A call that draws: which library draws it and the chart kinds it makes."""

    call: Call
    library: str
    kinds: tuple[str, ...]


def tag(code: str) -> Tags:
    """Tags of one program; code that does not parse gets Tags("other", (), "inline")."""
    prog = analyse(code)
    if prog is None:
        return Tags("other", (), "inline")
    charts = chart_calls(prog)
    kinds = tuple(sorted({k for c in charts for k in c.kinds}))
    return Tags(_library(prog, charts), kinds, data_origin(prog))


def chart_calls(prog: Program) -> tuple[ChartCall, ...]:
    """Every drawing call of a program, in source order."""
    out = []
    for call in prog.calls:
        found = _classify(prog, call)
        if found:
            out.append(ChartCall(call, *found))
    return tuple(out)


def _library(prog: Program, charts: tuple[ChartCall, ...]) -> str:
    """The library that draws, by priority; the imports decide where nothing recognisably draws."""
    drawing = {c.library for c in charts}
    if not drawing & {"plotly", "seaborn", "pandas", "matplotlib"}:
        drawing = set(plotting_libraries(prog.tree)) or drawing
    for lib in ("plotly", "seaborn"):
        if lib in drawing:
            return lib
    if "pandas" in drawing and "matplotlib" not in drawing:
        return "pandas"
    return "matplotlib" if drawing & {"matplotlib", "pandas"} else "other"


def _classify(prog: Program, call: Call) -> tuple[str, tuple[str, ...]] | None:
    owner, method = call.owner, call.method
    if owner == "seaborn" or (owner.startswith("<grid>") and method.startswith("map")):
        return _seaborn(prog, call)
    if owner == "plotly.express":
        kinds = _PX.get(method)
        return ("plotly", _plotly_extras(prog, call, kinds)) if kinds else None
    if owner == "plotly.graph_objects":
        return _graph_object(prog, call)
    if owner == "plotly.figure_factory" and method.startswith("create_"):
        return "plotly", _FF.get(method, ("other",))
    if owner == "pandas.plotting" and method in _PD_PLOTTING:
        return "pandas", _PD_PLOTTING[method]
    if owner == "<basemap>" or (owner == "<geoaxes>" and method in _MAP_METHODS):
        return "matplotlib", tuple(sorted({"map", *_MPL.get(method, ())}))
    if owner == "<geoframe>" and method == "plot":
        return "matplotlib", ("map",)
    if call.name == "folium.Map":
        return "other", ("map",)
    pandas = _pandas_kinds(prog, call)
    if pandas:
        return "pandas", pandas
    if owner == "matplotlib.pyplot" or owner.startswith("<") and owner[1:-1] in AXES_ROLES or (
            owner.isidentifier() and method in _MPL and method not in ("plot", "hist")):  # an unbound Axes
        return _matplotlib(prog, call, owner[1:-1] if owner.startswith("<") else "axes")
    return None


def _matplotlib(prog: Program, call: Call, role: str) -> tuple[str, tuple[str, ...]] | None:
    kinds = _MPL.get(call.method)
    if not kinds:
        return None
    if call.method == "plot":
        kinds = _line_kinds(prog, call)
    extra = {"axes3d": "3d", "polar": "polar", "geoaxes": "map"}.get(role)
    return "matplotlib", tuple(sorted({*kinds, extra} - {None}))


def _line_kinds(prog: Program, call: Call) -> tuple[str, ...]:
    """plt.plot draws points only with a marker-only format or no line style, steps with a steps draw style."""
    if (prog.string(call.kw("drawstyle")) or prog.string(call.kw("ds")) or "").startswith("steps"):
        return ("step",)
    fmt = next((prog.string(a) for a in call.node.args if prog.string(a) is not None), None)
    style = prog.string(call.kw("linestyle") or call.kw("ls"))
    if fmt is not None and fmt and not any(c in fmt for c in "-:") and any(c in fmt for c in ".,ov^<>1234sp*hH+xXDd|_"):
        return ("scatter",)
    return ("scatter",) if style in ("", "None", "none", " ") else ("line",)


def _pandas_kinds(prog: Program, call: Call) -> tuple[str, ...] | None:
    """`df.plot(kind=...)`, `df.plot.bar()`, `df.hist()`, `df.boxplot()` on anything that is not Axes or a module."""
    owner, method = call.owner, call.method
    root = owner.split(".")[0]
    if not owner or root.startswith("<") and root not in ("<frame>", "<?>") or "." in owner and not owner.endswith(".plot"):
        return None
    if root in ("numpy", "matplotlib", "seaborn", "plotly", "pandas"):
        return None
    if "pandas" not in prog.imports and root != "<frame>":
        return None
    if owner.endswith(".plot") and method in _PD:
        kinds = _PD[method]
    elif method == "plot" and not owner.endswith(".plot"):
        kinds = _PD.get(prog.string(call.kw("kind")) or "line", ("other",))
    elif method in ("hist", "boxplot") and "." not in owner:
        kinds = ("hist",) if method == "hist" else ("box",)
    else:
        return None
    if call.kw("yerr") is not None or call.kw("xerr") is not None:
        kinds = (*kinds, "errorbar")
    if (prog.string(call.kw("drawstyle")) or "").startswith("steps"):
        kinds = ("step",)
    return tuple(sorted(set(kinds)))


def _seaborn(prog: Program, call: Call) -> tuple[str, tuple[str, ...]] | None:
    method = call.method
    if method.startswith("map"):  # FacetGrid.map(sns.histplot, ...), map_dataframe(plt.scatter, ...)
        func = call.arg(0)
        inner = func.attr if isinstance(func, ast.Attribute) else ""
        kinds = _SNS.get(inner) or _MPL.get(inner)
        return ("seaborn", kinds) if kinds else None
    if method in _SNS_FIGURE_KINDS:
        table = _SNS_FIGURE_KINDS[method]
        kind = prog.string(call.kw("kind"))
        return "seaborn", table.get(kind or "", next(iter(table.values())))
    kinds = _SNS.get(method)
    if not kinds:
        return None
    if method == "histplot" and prog.literal(call.kw("kde")) is True:
        kinds = ("density", "hist")
    return "seaborn", kinds


def _plotly_extras(prog: Program, call: Call, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """Error bars and step-shaped lines that keywords add to a plotly chart."""
    extra = set(kinds)
    if any(call.kw(k) is not None for k in ("error_x", "error_y", "error_x_minus", "error_y_minus")):
        extra.add("errorbar")
    shape = prog.string(call.kw("line_shape")) or prog.string(dict_value(call.kw("line"), "shape"))
    if shape in _STEP_SHAPES:
        extra = extra - {"line"} | {"step"}
    return tuple(sorted(extra))


def _graph_object(prog: Program, call: Call) -> tuple[str, tuple[str, ...]] | None:
    method = call.method
    if method in _GO:
        return "plotly", _plotly_extras(prog, call, _GO[method])
    if method not in _GO_TRACES:
        return None
    mode = prog.string(call.kw("mode")) or ("markers" if _GO_TRACES[method] == ("map",) else "lines")  # plotly defaults
    base = {"line"} if "lines" in mode else {"scatter"} if "markers" in mode else {"other"}
    fill = prog.string(call.kw("fill"))
    if (fill and fill != "none") or call.kw("stackgroup") is not None:
        base = {"area"}
    return "plotly", _plotly_extras(prog, call, tuple(base | set(_GO_TRACES[method])))


def data_origin(prog: Program) -> str:
    """file when the program reads data, generated when it draws random numbers or long
    computed ranges, inline when its data are literals."""
    generated = False
    for call in prog.calls:
        name = call.name
        if name.startswith(_FILE_READERS) and not _reads_inline_text(call):
            return "file"
        if name == "open" and _opens_for_reading(prog, call):
            return "file"
        if name.endswith((".read_text", ".read_bytes")):
            return "file"
        generated = generated or name.startswith(_GENERATORS) or name.endswith(".rvs") or _long_range(prog, call)
    return "generated" if generated else "inline"


def _reads_inline_text(call: Call) -> bool:
    """pd.read_csv(io.StringIO(text)) reads a string the program holds."""
    first = call.arg(0)
    return isinstance(first, ast.Call) and callee(first) in ("StringIO", "BytesIO")


def _opens_for_reading(prog: Program, call: Call) -> bool:
    mode = prog.string(call.arg(1)) or prog.string(call.kw("mode")) or "r"
    return not set(mode) & set("wax")


def _long_range(prog: Program, call: Call) -> bool:
    """numpy linspace/arange/logspace making at least GENERATED_MIN_VALUES values from literals."""
    method = call.method
    if call.owner != "numpy" or method not in ("linspace", "arange", "logspace", "geomspace"):
        return False
    count = value_count(prog, call)
    return count is not None and count >= GENERATED_MIN_VALUES


def value_count(prog: Program, call: Call) -> int | None:
    """How many values numpy's linspace/logspace/geomspace/arange call makes, where literal."""
    if call.method != "arange":
        count = prog.number(call.arg(2) or call.kw("num"))
        return int(count) if count is not None else 50 if call.nargs == 2 else None
    nums = [prog.number(a) for a in call.node.args]
    if not nums or len(nums) > 3 or any(n is None for n in nums):
        return None
    start, stop, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) > 2 else 1)
    return max(0, math.ceil((stop - start) / step)) if step else None
