"""The five-part instruction of the VisCoder recipe (setup, data description, data preview,
plot description, style description), written by rules from what the code literally says.

Every fact comes from the syntax tree: literal arguments, variable and column names, dict
keys; nothing is run or guessed, so the text is faithful to the code and the same code always
gets the same text. It describes rather than quotes code. An LLM may rewrite it later
(curation.llm), with this text as its draft of facts.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from viscode.curation.codefacts import AXES_ROLES, Binding, Call, Program, analyse, callee, dict_value
from viscode.curation.tags import ChartCall, Tags, chart_calls, value_count

PARTS = ("setup", "data_description", "data_preview", "plot_description", "style_description")
HEADINGS = ("Setup", "Data description", "Data preview", "Plot description", "Style description")
LEAD = "Write a Python program that draws the plot described below."
MAX_DATA_SENTENCES = 12
MAX_CHART_SENTENCES = 6
PREVIEW_ROWS = 3
PREVIEW_COLUMNS = 6


@dataclass(frozen=True, slots=True)
class Instruction:
    """The five parts, kept apart so that an LLM can rewrite them one by one and rows can be filtered by them."""

    setup: str
    data_description: str
    data_preview: str
    plot_description: str
    style_description: str

    def text(self) -> str:
        """The parts under one fixed numbered template, empty parts left out (as PandasPlotBench numbers its sections)."""
        lines = [LEAD]
        for part, heading in zip(PARTS, HEADINGS):
            body = getattr(self, part).strip()
            if body:
                separator = "\n" if "\n" in body else " "
                lines.append(f"{len(lines)}. {heading}:{separator}{body}")
        return "\n".join(lines)


def describe(code: str, tags: Tags) -> Instruction:
    """The rule-based instruction for one program; code that does not parse gets generic text from its tags."""
    prog = analyse(code)
    if prog is None:
        return Instruction(_setup_text(tags.library, [], ""), "", "", _generic_plot(tags.chart_kinds), "")
    charts = chart_calls(prog)
    return Instruction(_setup(prog, tags.library), _data_description(prog), _preview(prog),
                       _plot(prog, charts) or _generic_plot(tags.chart_kinds), _style(prog, charts))


# -- wording helpers ----------------------------------------------------------------------------
def _join(items: Iterable[str]) -> str:
    unique = list(dict.fromkeys(i for i in items if i))
    return " and ".join(unique) if len(unique) < 3 else ", ".join(unique[:-1]) + " and " + unique[-1]


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _quote(text: str) -> str:
    return f'"{" ".join(text.split())}"'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- setup --------------------------------------------------------------------------------------
_HELPERS = {"numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "polars": "polars", "geopandas": "geopandas",
            "cartopy": "cartopy", "statsmodels": "statsmodels", "sklearn": "scikit-learn", "networkx": "networkx",
            "xarray": "xarray"}


def _setup(prog: Program, library: str) -> str:
    helpers = [_HELPERS[m] for m in prog.imports if m in _HELPERS and not (m == "pandas" and library == "pandas")]
    plotly = _join(p for p, prefix in (("plotly express", "plotly.express"), ("graph objects", "plotly.graph_objects"),
                                       ("make_subplots", "plotly.subplots"), ("figure factory", "plotly.figure_factory"))
                   if any(c.name.startswith(prefix) for c in prog.calls))
    return _setup_text(library, helpers, plotly)


def _setup_text(library: str, helpers: list[str], plotly: str) -> str:
    data = f", with {_join(helpers)} for the data" if helpers else ""
    if library == "matplotlib":
        return f"Use Python and matplotlib for plotting{data}. Draw with pure matplotlib; do not use seaborn."
    if library == "seaborn":
        return f"Use Python and seaborn, on top of matplotlib, for plotting{data}."
    if library == "plotly":
        via = f" ({plotly})" if plotly else ""
        return f"Use Python and plotly{via} for plotting{data}. Do not use matplotlib."
    if library == "pandas":
        return f"Use Python and the plotting methods of pandas DataFrames (drawn by matplotlib){data}."
    return f"Use Python{data.replace(', with', ' with')}."


# -- data description ---------------------------------------------------------------------------
_PLOT_ROLES = AXES_ROLES | {"figure", "grid", "pfigure", "basemap"}
_PLOTTING = ("matplotlib", "seaborn", "plotly", "<axes", "<figure>", "<grid>", "<pfigure>", "<polar>", "<geoaxes>",
             "<basemap>", "folium", "cartopy", "mpl_toolkits")
_DATA_CALLS = ("seaborn.load_dataset", "plotly.express.data.", "matplotlib.cbook.", "matplotlib.pyplot.imread",
               "matplotlib.image.imread")
_HELPER_ARRAYS = frozenset({"zeros", "ones", "zeros_like", "ones_like", "empty", "full"})
_DISTRIBUTIONS = {
    "normal": ("a normal distribution", 2), "gauss": ("a normal distribution", 2),
    "standard_normal": ("a standard normal distribution", 0), "randn": ("a standard normal distribution", 0),
    "uniform": ("a uniform distribution", 2), "random": ("a uniform distribution on [0, 1)", 0),
    "rand": ("a uniform distribution on [0, 1)", 0), "integers": ("", 2), "randint": ("", 2), "choice": ("", 1),
    "gamma": ("a gamma distribution", 2), "poisson": ("a Poisson distribution", 1),
    "exponential": ("an exponential distribution", 1), "lognormal": ("a log-normal distribution", 2),
    "beta": ("a beta distribution", 2), "binomial": ("a binomial distribution", 2),
    "multivariate_normal": ("a multivariate normal distribution", 2), "laplace": ("a Laplace distribution", 2),
    "logistic": ("a logistic distribution", 2), "weibull": ("a Weibull distribution", 1),
    "chisquare": ("a chi-square distribution", 1), "triangular": ("a triangular distribution", 3),
}
_MATH = {"sin": "sine", "cos": "cosine", "tan": "tangent", "exp": "exponential", "log": "logarithm",
         "log10": "logarithm", "sqrt": "square root", "abs": "absolute value", "tanh": "tanh", "cumsum": "running sum",
         "power": "power", "arctan": "arctangent", "arctan2": "arctangent", "sinc": "sinc", "cumprod": "running product"}
_FREQUENCIES = {"D": "daily", "B": "business-day", "W": "weekly", "M": "monthly", "MS": "monthly", "ME": "monthly",
                "Q": "quarterly", "QS": "quarterly", "QE": "quarterly", "Y": "yearly", "YS": "yearly", "YE": "yearly",
                "A": "yearly", "AS": "yearly", "h": "hourly", "H": "hourly", "min": "minute", "T": "minute",
                "s": "second", "S": "second"}
_READ_FORMATS = {"read_csv": "CSV file", "read_excel": "Excel file", "read_json": "JSON file",
                 "read_parquet": "Parquet file", "read_table": "text file", "read_sql": "SQL query",
                 "read_html": "HTML tables", "read_feather": "Feather file", "read_pickle": "pickle file",
                 "read_fwf": "fixed-width text file", "loadtxt": "text file", "genfromtxt": "text file",
                 "load": "numpy file", "read_file": "geographic data file"}
_FRAME_VERBS = {"corr": "the correlation matrix of", "cov": "the covariance matrix of", "pivot": "a pivot of",
                "pivot_table": "a pivot table of", "groupby": "a grouped summary of", "resample": "a resampling of",
                "rolling": "a rolling summary of", "describe": "summary statistics of", "value_counts": "the counts of",
                "crosstab": "a cross-tabulation of", "sort_values": "a sorted copy of", "query": "a filtered copy of",
                "dropna": "a filtered copy of", "head": "the first rows of", "tail": "the last rows of",
                "sample": "a random sample of", "set_index": "a re-indexed copy of", "stack": "a stacked form of",
                "unstack": "a wide form of", "merge": "a merge of", "join": "a join of", "assign": "an extended copy of"}


def _data_description(prog: Program) -> str:
    sentences = [s for s in (_seed(prog),) if s]
    columns = prog.frame_columns()
    described: set[str] = set()
    for binding in prog.bindings:
        if binding.in_loop:
            continue
        sentence = _binding_sentence(prog, binding, described, columns)
        if sentence and sentence not in sentences:
            sentences.append(sentence)
    if len(sentences) > MAX_DATA_SENTENCES:
        more = len(sentences) - MAX_DATA_SENTENCES
        sentences = [*sentences[:MAX_DATA_SENTENCES], f"Then prepare {_plural(more, 'more variable')} the same way."]
    return " ".join(sentences)


def _seed(prog: Program) -> str:
    for call in prog.calls:
        if call.name in ("numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.seed", "random.seed",
                         "torch.manual_seed"):
            seed = prog.number(call.arg(0) or call.kw("seed"))
            if seed is not None:
                return f"Seed the random number generator with {_num(seed)} so the data are reproducible."
    return ""


def _binding_sentence(prog: Program, binding: Binding, described: set[str], columns: dict[str, list[str]]) -> str:
    target, value = binding.target, binding.value
    if isinstance(target, ast.Subscript):
        return _column_sentence(prog, target, value, columns)
    names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    call = prog.call_of(value)
    if not names or any(prog.roles.get(n) in _PLOT_ROLES for n in names) or (
            call and call.name.startswith(_PLOTTING) and not call.name.startswith(_DATA_CALLS)):
        return ""
    if names[0] in _references(value):  # an update: told only for data already described
        return f"Then {'rescale' if _is_scaling(value) else 'update'} {_join(names)}." if names[0] in described else ""
    phrase = _value_phrase(prog, value)
    if not phrase:
        return ""
    described.update(names)
    extra = ""
    if len(names) == 1 and prog.roles.get(names[0]) == "frame" and names[0] in columns and "columns" not in phrase:
        extra = f" It has the columns {_join(columns[names[0]][:12])}."
    return f"{_join(names)} {'holds' if len(names) == 1 else 'hold'} {phrase}.{extra}"


def _column_sentence(prog: Program, target: ast.Subscript, value: ast.expr, columns: dict[str, list[str]]) -> str:
    col = prog.string(target.slice)
    if not col or not isinstance(target.value, ast.Name) or prog.roles.get(target.value.id) != "frame":
        return ""
    frame = target.value.id
    if col in _references_columns(prog, value):
        return f"Then {'rescale' if _is_scaling(value) else 'recompute'} the column {col} of {frame}."
    const = prog.literal(value)
    what = f"set to {_num(const)} in every row" if isinstance(const, (int, float, str)) else _value_phrase(prog, value)
    return f"Add the column {col} to {frame}{', ' + what if what else ''}."


def _references(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _references_columns(prog: Program, node: ast.AST) -> list[str]:
    return [prog.string(n.slice) or "" for n in ast.walk(node) if isinstance(n, ast.Subscript)]


def _is_scaling(node: ast.expr) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)) or isinstance(node, ast.ListComp)


def _value_phrase(prog: Program, node: ast.expr, brief: bool = False) -> str:
    """A noun phrase for what an expression holds, or "" where it is not data."""
    if isinstance(node, ast.Constant):
        return ""
    literal = prog.literal(node)
    if literal is not None:
        return _literal_phrase(literal)
    if isinstance(node, ast.Dict):
        return _dict_phrase(prog, node)
    call = prog.call_of(node)
    if call is not None:
        phrase = _call_phrase(prog, call, brief)
        if phrase is not None:
            return phrase
    return _derived_phrase(prog, node)


def _literal_phrase(value: object) -> str:
    if isinstance(value, dict):
        keys = [str(k) for k in value][:6]
        lengths = {len(v) for v in value.values() if isinstance(v, (list, tuple))}
        if len(lengths) == 1 and len(lengths) == len({type(v) for v in value.values()}):
            each = " each" if len(value) > 1 else ""
            return f"{_plural(len(value), 'named list')} ({_join(keys)}) of {lengths.pop()} values{each}"
        return f"{_plural(len(value), 'named value')} ({_join(keys)})"
    if not isinstance(value, (list, tuple)) or not value:
        return ""
    n = len(value)
    if all(isinstance(v, str) for v in value):
        return f"{_plural(n, 'text label')}"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        if all(type(v) is int for v in value) and n > 2 and list(value) == list(range(value[0], value[0] + n)):
            return f"the integers from {value[0]} to {value[-1]}"
        return f"{_plural(n, 'number')} between {_num(min(value))} and {_num(max(value))}"
    if all(isinstance(v, (list, tuple)) for v in value) and len({len(v) for v in value}) == 1:
        return f"a {n} x {len(value[0])} table of values"
    return _plural(n, "value")


def _dict_phrase(prog: Program, node: ast.Dict) -> str:
    keys = [k for k in (prog.string(k) for k in node.keys) if k]
    if not keys or not node.values:
        return ""
    first = _value_phrase(prog, node.values[0], brief=True)
    return f"{_plural(len(keys), 'named series')} ({_join(keys[:6])}){', each ' + first if first else ''}"


def _call_phrase(prog: Program, call: Call, brief: bool) -> str | None:
    """Phrases for the calls that make data; None where the call is not one of them."""
    name, method = call.name, call.method
    if name == "pandas.DataFrame":
        return _frame_phrase(prog, call)
    if name.startswith(("numpy.random.", "<rng>.", "random.")) and method in _DISTRIBUTIONS:
        return _random_phrase(prog, call, brief)
    if name.startswith(("numpy.random.", "<rng>.")):
        return "" if method in ("default_rng", "seed", "RandomState") else "random values"
    if call.owner == "numpy" and method in ("linspace", "logspace", "geomspace", "arange"):
        return _range_phrase(prog, call)
    if call.owner == "numpy" and method in _HELPER_ARRAYS:
        return ""
    if name == "numpy.meshgrid":
        over = _join(prog.label(a) for a in call.node.args)
        return f"a coordinate grid{' over ' + over if over else ''}"
    if name == "pandas.date_range":
        return _dates_phrase(prog, call)
    if method in _READ_FORMATS and (call.owner in ("pandas", "numpy", "polars", "geopandas")):
        path = prog.string(call.arg(0) or call.kw("filepath_or_buffer") or call.kw("fname"))
        where = f" {_quote(path)}" if path and method != "read_sql" else ""
        return f"the data read from the {_READ_FORMATS[method]}{where}"
    if name == "seaborn.load_dataset":
        return f"seaborn's example dataset {_quote(prog.string(call.arg(0)) or 'of the name given')}"
    if call.owner == "plotly.express.data":
        return f"plotly's example dataset {method}"
    if call.owner in ("<frame>", "<?>") and method == "melt":
        return _melt_phrase(prog, call)
    if call.owner == "<frame>" or (call.owner == "pandas" and method in _FRAME_VERBS):
        return _frame_method_phrase(prog, call)
    if isinstance(call.node.func, ast.Attribute) and method in ("round", "cumsum", "astype", "clip", "reshape") \
            and isinstance(call.node.func.value, ast.Call):
        inner = _value_phrase(prog, call.node.func.value, brief)
        suffix = {"round": ", rounded", "cumsum": ", summed up as a running total", "astype": ", converted"}.get(method)
        return f"{inner}{suffix or ''}" if inner else None
    return None


def _frame_phrase(prog: Program, call: Call) -> str:
    data = call.arg(0) if call.arg(0) is not None else call.kw("data")
    if isinstance(data, ast.Dict):
        keys = [prog.string(k) or "" for k in data.keys]
        rows = next((r for r in (_size_of(prog, v) for v in data.values) if r), None)
        phrase = f"a DataFrame with the columns {_join(keys[:12])}{f' ({rows} rows)' if rows else ''}"
        values = list(data.values)
        if all(prog.literal(v) is not None for v in values):
            return phrase + " of inline values"
        if all(isinstance(v, ast.Name) for v in values):
            same = [v.id for v in values if isinstance(v, ast.Name)] == keys
            return phrase + (", from the variables of the same names" if same else
                             f", from {_join(prog.label(v) for v in values)}")
        by_phrase: dict[str, list[str]] = {}
        for key, value in zip(keys, values):
            if not isinstance(value, ast.Name) and prog.literal(value) is None:
                what = _value_phrase(prog, value, brief=True)
                if what:
                    by_phrase.setdefault(what, []).append(key)
        parts = [f"{_join(cols)} {'holds' if len(cols) == 1 else 'each hold'} {what}" for what, cols in by_phrase.items()]
        return phrase + (f", where {'; '.join(parts[:6])}" if parts else "")
    cols = prog.literal(call.kw("columns"))
    rows = prog.label(call.kw("index"))
    source = prog.label(data)
    out = "a DataFrame" + (f" built from {source}" if source else "")
    if isinstance(cols, (list, tuple)) and cols:
        out += f" with the columns {_join(str(c) for c in cols[:12])}"
    elif call.kw("columns") is not None:
        out += f" with the columns named by {prog.label(call.kw('columns'))}"
    return out + (f", rows labelled by {rows}" if rows else "")


def _size_of(prog: Program, node: ast.expr) -> int | None:
    literal = prog.literal(node)
    if isinstance(literal, (list, tuple)):
        return len(literal)
    call = prog.call_of(node)
    if call is None:
        return None
    if call.method in _DISTRIBUTIONS:
        return prog.number(call.arg(_DISTRIBUTIONS[call.method][1]) or call.kw("size"))  # type: ignore[return-value]
    if call.owner == "numpy" and call.method in ("linspace", "arange", "logspace"):
        return value_count(prog, call)
    return None


def _random_phrase(prog: Program, call: Call, brief: bool) -> str:
    method = call.method
    dist, size_at = _DISTRIBUTIONS[method]
    size_node = call.kw("size") or (call.arg(size_at) if method not in ("rand", "randn") else None)
    size = prog.literal(size_node)
    if method in ("rand", "randn") and call.nargs:
        size = tuple(prog.number(a) for a in call.node.args)
    count = ""
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        count = f"{_num(size)} "
    elif isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(s, int) for s in size):
        count = f"a {size[0]} x {size[1]} grid of "
    a, b = (prog.number(call.arg(0) or call.kw("loc") or call.kw("low")),
            prog.number(call.arg(1) or call.kw("scale") or call.kw("high")))
    if method == "choice":
        picks = prog.literal(call.arg(0))
        among = _join(str(p) for p in picks[:6]) if isinstance(picks, (list, tuple)) else prog.label(call.arg(0))
        return f"{count}random picks{' from ' + among if among else ''}"
    if method in ("integers", "randint"):
        span = f" between {_num(a)} and {_num(b)}" if a is not None and b is not None and not brief else ""
        return f"{count}random integers{span}"
    params = ""
    if not brief and a is not None and b is not None:
        if method in ("normal", "gauss"):
            params = f" with mean {_num(a)} and standard deviation {_num(b)}"
        elif method == "uniform":
            params = f" between {_num(a)} and {_num(b)}"
    return f"{count}random values from {dist}{params}"


def _range_phrase(prog: Program, call: Call) -> str:
    count = value_count(prog, call)
    first = call.arg(0)
    if call.method == "arange":
        inner = first.args[0] if isinstance(first, ast.Call) and callee(first) == "len" and first.args else None
        if inner is not None and call.nargs == 1:
            return f"one position for each item of {prog.label(inner)}"
        start = prog.number(first) if call.nargs > 1 else 0
        step = prog.number(call.arg(2)) if call.nargs > 2 else 1
        if count is None or start is None or step is None:
            return "a range of evenly spaced values"
        if isinstance(start, int) and step == 1:
            return f"the integers from {start} to {start + count - 1}"
        return f"{_plural(count, 'value')} from {_num(start)} in steps of {_num(step)}"
    start, stop = prog.number(first), prog.number(call.arg(1))
    spacing = "evenly spaced" if call.method == "linspace" else "logarithmically spaced"
    bounds = f" from {_num(start)} to {_num(stop)}" if start is not None and stop is not None else ""
    return f"{_num(count) + ' ' if count else ''}{spacing} values{bounds}"


def _dates_phrase(prog: Program, call: Call) -> str:
    periods = prog.number(call.kw("periods"))
    freq = _FREQUENCIES.get(prog.string(call.kw("freq")) or "D", "regularly spaced")
    start = prog.string(call.arg(0) or call.kw("start"))
    end = prog.string(call.arg(1) or call.kw("end"))
    count = f"{_num(periods)} " if periods is not None else ""
    span = f" from {start}" + (f" to {end}" if end else "") if start else ""
    return f"{count}{freq} dates{span}"


def _melt_phrase(prog: Program, call: Call) -> str:
    source = prog.label(call.node.func.value) if isinstance(call.node.func, ast.Attribute) else ""
    ids = prog.literal(call.kw("id_vars"))
    cols = [*(ids if isinstance(ids, list) else [ids] if isinstance(ids, str) else []),
            prog.string(call.kw("var_name")) or "variable", prog.string(call.kw("value_name")) or "value"]
    return f"the long form of {source or 'the table'}, with the columns {_join(cols)}"


def _frame_method_phrase(prog: Program, call: Call) -> str:
    chain, node = [], call.node
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        chain.append(node.func.attr)
        node = node.func.value
        while isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node, ast.Call):
            node = node.value
    source = prog.label(node) or "the data"
    verb = next((_FRAME_VERBS[m] for m in chain if m in _FRAME_VERBS), "")
    cols = [c for c in _references_columns(prog, call.node) if c]
    of_cols = f" the {'column' if len(set(cols)) == 1 else 'columns'} {_join(cols[:8])} of" if cols and verb else ""
    return f"{verb}{of_cols} {source}" if verb else f"a table derived from {source}"


def _derived_phrase(prog: Program, node: ast.expr) -> str:
    refs = [n for n in _references(node) if n in prog.names and not isinstance(prog.values.get(n), ast.Constant)
            and prog.roles.get(n) not in _PLOT_ROLES and prog.roles.get(n) != "rng"]
    calls = [prog.call_of(n) for n in ast.walk(node) if isinstance(n, ast.Call)]
    funcs = [_MATH[c.method] for c in calls if c and c.method in _MATH]
    noisy = any(c and c.name.startswith(("numpy.random.", "<rng>.", "random.")) for c in calls)
    if not refs and not funcs and not noisy:
        return ""
    out = "values computed" + (f" from {_join(refs[:6])}" if refs else "")
    out += f" using the {_join(funcs)}" if funcs else ""
    return out + (", plus random noise" if noisy and (refs or funcs) else " from random draws" if noisy else "")


# -- data preview -------------------------------------------------------------------------------
def _preview(prog: Program) -> str:
    """Inline data only: the first rows of literal DataFrames, then the literal lists and dicts."""
    blocks: list[str] = []
    shown: set[str] = set()
    lists: list[tuple[str, list]] = []
    for binding in prog.bindings:
        if binding.in_loop or not isinstance(binding.target, ast.Name):
            continue
        name, value = binding.target.id, binding.value
        call = prog.call_of(value)
        if call is not None and call.name == "pandas.DataFrame" and isinstance(call.arg(0), ast.Dict):
            table = _frame_table(prog, call.arg(0))  # type: ignore[arg-type]
            if table:
                blocks.append(f"{name}:\n{table}")
                shown.update(_references(call.node))
            continue
        literal = prog.literal(value) if not isinstance(value, ast.Constant) else None
        if isinstance(literal, (list, tuple)) and len(literal) > 1:
            lists.append((name, list(literal)))
        elif isinstance(literal, dict) and literal:
            blocks.append(f"{name}:\n" + "\n".join(f"{k}: {_values(v)}" for k, v in list(literal.items())[:4]))
    lists = [(n, v) for n, v in lists if n not in shown]
    while lists:
        name, values = lists.pop(0)
        if all(isinstance(v, (list, tuple)) for v in values):
            blocks.append(f"{name}:\n" + "\n".join(_values(row) for row in values[:PREVIEW_ROWS - 1]))
            continue
        same = [(n, v) for n, v in lists if len(v) == len(values) and not isinstance(v[0], (list, tuple))]
        if not any(_numeric(v) for v in (values, *[v for _, v in same])):
            same = []  # lists of labels alone (rows and columns of a grid) are no table
        if same:
            lists = [item for item in lists if item not in same]
            blocks.append(_table([name, *[n for n, _ in same]], [values, *[v for _, v in same]]))
        else:
            blocks.append(f"{name}: {_values(values)}")
    return "\n".join(blocks[:4])


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _frame_table(prog: Program, data: ast.Dict) -> str:
    headers, columns = [], []
    for key, value in zip(data.keys, data.values):
        literal = prog.literal(value)
        if prog.string(key) and isinstance(literal, (list, tuple)) and literal:
            headers.append(prog.string(key) or "")
            columns.append(list(literal))
    return _table(headers, columns) if headers else ""


def _table(headers: list[str], columns: list[list]) -> str:
    headers, columns = headers[:PREVIEW_COLUMNS], columns[:PREVIEW_COLUMNS]
    rows = max(len(c) for c in columns)
    lines = [" | ".join(headers)]
    lines += [" | ".join(_cell(c[i]) if i < len(c) else "" for c in columns) for i in range(min(rows, PREVIEW_ROWS))]
    if rows > PREVIEW_ROWS:
        lines.append(f"... ({rows} rows)")
    return "\n".join(lines)


def _cell(value: object) -> str:
    text = _num(value) if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _values(values: object) -> str:
    if not isinstance(values, (list, tuple)):
        return _cell(values)
    shown = ", ".join(_cell(v) for v in values[:PREVIEW_ROWS])
    return f"{shown}, ... ({len(values)} values)" if len(values) > PREVIEW_ROWS else shown


# -- plot description ---------------------------------------------------------------------------
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


def _plot(prog: Program, charts: tuple[ChartCall, ...]) -> str:
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
        sentences.append(f"Add {_plural(len(clauses) - MAX_CHART_SENTENCES, 'more chart')} of the same data.")
    sentences += _details(prog, charts)
    return " ".join(sentences)


def _generic_plot(kinds: tuple[str, ...]) -> str:
    nouns = [_KIND_NOUNS[k] for k in kinds if k in _KIND_NOUNS]
    return f"Draw a {_join(nouns)}." if nouns else "Draw a chart of the data."


def _layout(prog: Program) -> str:
    for call in prog.calls:
        if call.name.endswith(("pyplot.subplots", "<figure>.subplots")) or call.name == "plotly.subplots.make_subplots":
            rows = prog.number(call.arg(0) or call.kw("nrows") or call.kw("rows")) or 1
            cols = prog.number(call.arg(1) or call.kw("ncols") or call.kw("cols")) or 1
            if rows * cols > 1:
                shared = [a for a in "xy" if prog.literal(call.kw(f"share{a}") or call.kw(f"shared_{a}axes")) in (
                    True, "all", "col", "row")]
                share = f", sharing the {_join(shared)} axis" if shared else ""
                return f"Lay out {int(rows * cols)} panels in {_grid(rows, cols)}{share}."
        if call.name == "matplotlib.pyplot.subplot" and call.nargs >= 2:
            rows, cols = prog.number(call.arg(0)), prog.number(call.arg(1))
            if rows and cols and rows * cols > 1:
                return f"Lay out {int(rows * cols)} panels in {_grid(rows, cols)}."
        facet = prog.string(call.kw("facet_col") or call.kw("col") or call.kw("facet_row") or call.kw("row"))
        if facet and (call.owner in ("plotly.express", "seaborn")):
            wrap = prog.number(call.kw("facet_col_wrap") or call.kw("col_wrap"))
            return f"Draw one panel per {facet}{f', wrapping after {_num(wrap)} panels' if wrap else ''}."
        if prog.literal(call.kw("subplots")) is True:
            return "Draw each column in its own panel."
    return ""


def _grid(rows: float, cols: float) -> str:
    return f"{_plural(int(rows), 'row')} and {_plural(int(cols), 'column')}"


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
            roles["y"] = _join(prog.label(a) for a in args[1:])
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
    ys = _join(series) if len(series) > 1 else r.get("y", "") or (series[0] if series else "")
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
    ("bins", lambda v: f"Use {_num(v)} bins." if isinstance(v, int) else ""),
    ("nbins", lambda v: f"Use {_num(v)} bins." if isinstance(v, int) else ""),
    ("levels", lambda v: f"Use {_num(v)} contour levels." if isinstance(v, int) else ""),
    ("gridsize", lambda v: f"Use a grid of {_num(v)} hexagons across." if isinstance(v, int) else ""),
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


# -- style description --------------------------------------------------------------------------
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
            self.facts["title"].insert(0, f"Title the chart {_quote(titles[0])}.")
        elif titles:
            self.facts["title"].insert(0, f"Title the panels {_join(_quote(t) for t in titles[:6])}.")
        if self.overall:
            verb = "Give the figure the overall title" if titles else "Title the figure"
            self.facts["title"].append(f"{verb} {_quote(self.overall[0])}.")
        if self.labels:
            parts = [f"the {axis} axis {_quote(text)}" for axis, text in sorted(self.labels.items())]
            self.facts["labels"].insert(0, f"Label {_join(parts)}.")
        if self.colours:
            self.facts["colour"].insert(0, f"Colour the marks {_join(self.colours[:6])}.")
        return " ".join(s for k in _ORDER for s in self.facts[k])


def _style(prog: Program, charts: tuple[ChartCall, ...]) -> str:
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
        style.add("size", f"Make the figure {_num(size[0])} by {_num(size[1])} inches.")
    width, height = prog.number(call.kw("width")), prog.number(call.kw("height"))
    if width and height and width > 50 and (call.method in ("update_layout", "write_image") or draws):
        style.add("size", f"Make the figure {_num(width)} by {_num(height)} pixels.")
    template = prog.string(call.kw("template"))
    if template:
        style.add("theme", f"Use the plotly template {_quote(template)}.")
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
            style.add("colour", f"Use the {_quote(value)} {kind}.")
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
        style.add("marks", f"Use a line width of {_num(width)}.")
    alpha = prog.number(call.kw("alpha") or call.kw("opacity") or dict_value(call.kw("marker"), "opacity"))
    if alpha is not None and 0 < alpha < 1:
        style.add("marks", f"Make the marks partly transparent (opacity {_num(alpha)}).")
    size = prog.number(call.kw("s") or call.kw("markersize") or call.kw("ms") or dict_value(call.kw("marker"), "size"))
    if size:
        style.add("marks", f"Use a marker size of {_num(size)}.")
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
        style.add("theme", f"Use the plotly template {_quote(prog.string(binding.value) or '')}.")


def _rc(style: _Style, params: object) -> None:
    if not isinstance(params, dict):
        return
    size = params.get("figure.figsize")
    if isinstance(size, (list, tuple)) and len(size) == 2:
        style.add("size", f"Make the figure {_num(size[0])} by {_num(size[1])} inches.")
    font = params.get("font.size")
    if isinstance(font, (int, float)):
        style.add("theme", f"Set the base font size to {_num(font)}.")


def _on_title(style: _Style, call: Call) -> None:
    overall = call.method == "suptitle"
    style.title(call.arg(0) or call.kw("label") or call.kw("t"), overall)
    size = style.prog.number(call.kw("fontsize") or call.kw("size"))
    if size:
        style.add("title", f"Set the {'overall ' if overall else ''}title in font size {_num(size)}.")


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
            style.add("legend", f"Title the legend {_quote(legend_title)}.")
        font = prog.number(call.kw("font_size") or dict_value(call.kw("font"), "size"))
        if font:
            style.add("theme", f"Set the base font size to {_num(font)}.")
        return
    axis = call.method[len("update_")]
    style.label(axis, call.kw("title_text") or call.kw("title"))
    angle = prog.number(call.kw("tickangle"))
    if angle:
        style.add("ticks", f"Tilt the {axis} tick labels by {_num(abs(angle))} degrees.")
    if prog.string(call.kw("type")) == "log":
        style.add("scale", f"Use a logarithmic {axis} axis.")
    if prog.literal(call.kw("showgrid")) is True:
        style.add("grid", f"Show {axis} grid lines.")


def _on_legend(style: _Style, call: Call) -> None:
    prog = style.prog
    place = _LEGEND_PLACES.get(prog.string(call.kw("loc") or call.arg(0)) or "")
    text = "Show a legend" + (f" in the {place}" if place else "")
    title = prog.string(call.kw("title"))
    text += f" titled {_quote(title)}" if title else ""
    columns = prog.number(call.kw("ncol") or call.kw("ncols"))
    text += f" in {_plural(int(columns), 'column')}" if columns and columns > 1 else ""
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
        style.add("ticks", f"Rotate the {axis} tick labels by {_num(angle)} degrees.")
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
        style.add("scale", f"Show the {axis} axis from {_num(low)} to {_num(high)}.")


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
                       f"{f' at {_num(where)}' if where is not None and shape != 'band' else ''}.")


def _on_colorbar(style: _Style, call: Call) -> None:
    label = style.prog.string(call.kw("label"))
    horizontal = style.prog.string(call.kw("orientation")) == "horizontal"
    style.add("colourbar", f"Add a {'horizontal ' if horizontal else ''}colour bar"
                           f"{' labelled ' + _quote(label) if label else ''}.")


_THEME_ARGS = {"set_theme": ("context", "style", "palette"), "set": ("context", "style", "palette"),
               "set_style": ("style",), "set_context": ("context",), "set_palette": ("palette",)}


def _on_theme(style: _Style, call: Call) -> None:
    prog = style.prog
    if call.method == "use" and call.owner.endswith("style"):
        name = prog.string(call.arg(0))
        style.add("theme", f"Use the matplotlib style sheet {_quote(name)}." if name else "")
        return
    if call.owner != "seaborn":
        return
    if call.method == "despine":
        style.add("theme", "Remove the top and right spines.")
        return
    positional = _THEME_ARGS.get(call.method, ())
    values = {key: prog.string(call.kw(key) or (call.arg(positional.index(key)) if key in positional else None))
              for key in ("style", "palette", "context")}
    parts = [f"the {_quote(v)} {key}" for key, v in values.items() if v]
    style.add("theme", f"Use the seaborn theme with {_join(parts)}." if parts else "Use the seaborn default theme.")


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
            style.add("scale", f"View the 3D plot from an elevation of {_num(elev)} degrees and an azimuth of "
                               f"{_num(azim)} degrees.")
    elif method in ("axis", "set_aspect") and prog.string(call.arg(0)) in ("equal", "off"):
        style.add("scale", "Keep equal scales on both axes." if prog.string(call.arg(0)) == "equal" else
                  "Hide the axes.")
    elif method == "update" and call.owner.endswith("rcParams"):
        _rc(style, prog.literal(call.arg(0)))
    elif method == "rc" and prog.string(call.arg(0)) == "font" and prog.number(call.kw("size")):
        style.add("theme", f"Set the base font size to {_num(prog.number(call.kw('size')) or 0)}.")
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
