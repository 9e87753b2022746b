"""The data description part of the instruction: a sentence for each variable the program prepares (seeded
random draws, ranges, dates, files read, DataFrames and what is derived from them), read from the syntax tree."""

from __future__ import annotations

import ast

from viscode.curation.phrasing import join, num, plural, quote
from viscode.curation.tags import value_count

from viscode.codefacts import AXES_ROLES, Binding, Call, Program, callee

MAX_DATA_SENTENCES = 12
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


def data_description(prog: Program) -> str:
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
        sentences = [*sentences[:MAX_DATA_SENTENCES], f"Then prepare {plural(more, 'more variable')} the same way."]
    return " ".join(sentences)


def _seed(prog: Program) -> str:
    for call in prog.calls:
        if call.name in ("numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.seed", "random.seed",
                         "torch.manual_seed"):
            seed = prog.number(call.arg(0) or call.kw("seed"))
            if seed is not None:
                return f"Seed the random number generator with {num(seed)} so the data are reproducible."
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
    if names[0] in references(value):  # an update: told only for data already described
        return f"Then {'rescale' if _is_scaling(value) else 'update'} {join(names)}." if names[0] in described else ""
    phrase = _value_phrase(prog, value)
    if not phrase:
        return ""
    described.update(names)
    extra = ""
    if len(names) == 1 and prog.roles.get(names[0]) == "frame" and names[0] in columns and "columns" not in phrase:
        extra = f" It has the columns {join(columns[names[0]][:12])}."
    return f"{join(names)} {'holds' if len(names) == 1 else 'hold'} {phrase}.{extra}"


def _column_sentence(prog: Program, target: ast.Subscript, value: ast.expr, columns: dict[str, list[str]]) -> str:
    col = prog.string(target.slice)
    if not col or not isinstance(target.value, ast.Name) or prog.roles.get(target.value.id) != "frame":
        return ""
    frame = target.value.id
    if col in _references_columns(prog, value):
        return f"Then {'rescale' if _is_scaling(value) else 'recompute'} the column {col} of {frame}."
    const = prog.literal(value)
    what = f"set to {num(const)} in every row" if isinstance(const, (int, float, str)) else _value_phrase(prog, value)
    return f"Add the column {col} to {frame}{', ' + what if what else ''}."


def references(node: ast.AST) -> list[str]:
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
            return f"{plural(len(value), 'named list')} ({join(keys)}) of {lengths.pop()} values{each}"
        return f"{plural(len(value), 'named value')} ({join(keys)})"
    if not isinstance(value, (list, tuple)) or not value:
        return ""
    n = len(value)
    if all(isinstance(v, str) for v in value):
        return f"{plural(n, 'text label')}"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        if all(type(v) is int for v in value) and n > 2 and list(value) == list(range(value[0], value[0] + n)):
            return f"the integers from {value[0]} to {value[-1]}"
        return f"{plural(n, 'number')} between {num(min(value))} and {num(max(value))}"
    if all(isinstance(v, (list, tuple)) for v in value) and len({len(v) for v in value}) == 1:
        return f"a {n} x {len(value[0])} table of values"
    return plural(n, "value")


def _dict_phrase(prog: Program, node: ast.Dict) -> str:
    keys = [k for k in (prog.string(k) for k in node.keys) if k]
    if not keys or not node.values:
        return ""
    first = _value_phrase(prog, node.values[0], brief=True)
    return f"{plural(len(keys), 'named series')} ({join(keys[:6])}){', each ' + first if first else ''}"


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
        over = join(prog.label(a) for a in call.node.args)
        return f"a coordinate grid{' over ' + over if over else ''}"
    if name == "pandas.date_range":
        return _dates_phrase(prog, call)
    if method in _READ_FORMATS and (call.owner in ("pandas", "numpy", "polars", "geopandas")):
        path = prog.string(call.arg(0) or call.kw("filepath_or_buffer") or call.kw("fname"))
        where = f" {quote(path)}" if path and method != "read_sql" else ""
        return f"the data read from the {_READ_FORMATS[method]}{where}"
    if name == "seaborn.load_dataset":
        return f"seaborn's example dataset {quote(prog.string(call.arg(0)) or 'of the name given')}"
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
        phrase = f"a DataFrame with the columns {join(keys[:12])}{f' ({rows} rows)' if rows else ''}"
        values = list(data.values)
        if all(prog.literal(v) is not None for v in values):
            return phrase + " of inline values"
        if all(isinstance(v, ast.Name) for v in values):
            same = [v.id for v in values if isinstance(v, ast.Name)] == keys
            return phrase + (", from the variables of the same names" if same else
                             f", from {join(prog.label(v) for v in values)}")
        by_phrase: dict[str, list[str]] = {}
        for key, value in zip(keys, values):
            if not isinstance(value, ast.Name) and prog.literal(value) is None:
                what = _value_phrase(prog, value, brief=True)
                if what:
                    by_phrase.setdefault(what, []).append(key)
        parts = [f"{join(cols)} {'holds' if len(cols) == 1 else 'each hold'} {what}" for what, cols in by_phrase.items()]
        return phrase + (f", where {'; '.join(parts[:6])}" if parts else "")
    cols = prog.literal(call.kw("columns"))
    rows = prog.label(call.kw("index"))
    source = prog.label(data)
    out = "a DataFrame" + (f" built from {source}" if source else "")
    if isinstance(cols, (list, tuple)) and cols:
        out += f" with the columns {join(str(c) for c in cols[:12])}"
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
        count = f"{num(size)} "
    elif isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(s, int) for s in size):
        count = f"a {size[0]} x {size[1]} grid of "
    a, b = (prog.number(call.arg(0) or call.kw("loc") or call.kw("low")),
            prog.number(call.arg(1) or call.kw("scale") or call.kw("high")))
    if method == "choice":
        picks = prog.literal(call.arg(0))
        among = join(str(p) for p in picks[:6]) if isinstance(picks, (list, tuple)) else prog.label(call.arg(0))
        return f"{count}random picks{' from ' + among if among else ''}"
    if method in ("integers", "randint"):
        span = f" between {num(a)} and {num(b)}" if a is not None and b is not None and not brief else ""
        return f"{count}random integers{span}"
    params = ""
    if not brief and a is not None and b is not None:
        if method in ("normal", "gauss"):
            params = f" with mean {num(a)} and standard deviation {num(b)}"
        elif method == "uniform":
            params = f" between {num(a)} and {num(b)}"
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
        return f"{plural(count, 'value')} from {num(start)} in steps of {num(step)}"
    start, stop = prog.number(first), prog.number(call.arg(1))
    spacing = "evenly spaced" if call.method == "linspace" else "logarithmically spaced"
    bounds = f" from {num(start)} to {num(stop)}" if start is not None and stop is not None else ""
    return f"{num(count) + ' ' if count else ''}{spacing} values{bounds}"


def _dates_phrase(prog: Program, call: Call) -> str:
    periods = prog.number(call.kw("periods"))
    freq = _FREQUENCIES.get(prog.string(call.kw("freq")) or "D", "regularly spaced")
    start = prog.string(call.arg(0) or call.kw("start"))
    end = prog.string(call.arg(1) or call.kw("end"))
    count = f"{num(periods)} " if periods is not None else ""
    span = f" from {start}" + (f" to {end}" if end else "") if start else ""
    return f"{count}{freq} dates{span}"


def _melt_phrase(prog: Program, call: Call) -> str:
    source = prog.label(call.node.func.value) if isinstance(call.node.func, ast.Attribute) else ""
    ids = prog.literal(call.kw("id_vars"))
    cols = [*(ids if isinstance(ids, list) else [ids] if isinstance(ids, str) else []),
            prog.string(call.kw("var_name")) or "variable", prog.string(call.kw("value_name")) or "value"]
    return f"the long form of {source or 'the table'}, with the columns {join(cols)}"


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
    of_cols = f" the {'column' if len(set(cols)) == 1 else 'columns'} {join(cols[:8])} of" if cols and verb else ""
    return f"{verb}{of_cols} {source}" if verb else f"a table derived from {source}"


def _derived_phrase(prog: Program, node: ast.expr) -> str:
    refs = [n for n in references(node) if n in prog.names and not isinstance(prog.values.get(n), ast.Constant)
            and prog.roles.get(n) not in _PLOT_ROLES and prog.roles.get(n) != "rng"]
    calls = [prog.call_of(n) for n in ast.walk(node) if isinstance(n, ast.Call)]
    funcs = [_MATH[c.method] for c in calls if c and c.method in _MATH]
    noisy = any(c and c.name.startswith(("numpy.random.", "<rng>.", "random.")) for c in calls)
    if not refs and not funcs and not noisy:
        return ""
    out = "values computed" + (f" from {join(refs[:6])}" if refs else "")
    out += f" using the {join(funcs)}" if funcs else ""
    return out + (", plus random noise" if noisy and (refs or funcs) else " from random draws" if noisy else "")
