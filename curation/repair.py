"""Faulty variants of working plotting programs: the failing first turn of repair dialogues.

VisCoder's only repair data was generic Code-Feedback; plot-specific repair needs plot-specific
faults. Each variant plants one mistake of a kind models make when writing plotting code (a
near-miss column name, a misspelled keyword or API, a dropped import, arrays of different
lengths, one library's idiom in another's call, a value of the wrong type, an undefined name)
into an existing program found by static analysis alone: nothing here runs any code.

Mutations locate nodes with `ast` and edit the UTF-8 source at their offsets, so the rest of the
program keeps its layout, comments and quotes. A variant always compiles and always differs from
the original, but whether it raises is only known once the grid has run it: keep a variant for a
dialogue only where it failed and the original succeeded.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import math
import random
import tokenize
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from viscode.codefacts import Program, analyse
from viscode.codetext import code_id
from viscode.errors import InputError
from viscode.faults import FAULT_KINDS, REPAIR_KWARG_TYPOS, REPAIR_WRONG_NAMES
from viscode.selfdebug import code_block, feedback_message, trim_traceback

# Keywords whose string value names a column; the ambiguous ones ("color", "size", "style",
# "symbol", "text" also take literal values) count only when the name is a known column.
_COLUMN_KWARGS = frozenset({"x", "y", "z", "hue", "col", "row", "names", "values", "facet_col", "facet_row", "by",
                            "column", "columns", "index", "line_group", "hover_name", "x_vars", "y_vars", "id_vars",
                            "value_vars", "subset", "on", "locations", "lat", "lon", "path", "dimensions",
                            "color", "size", "style", "symbol", "text"})
_AMBIGUOUS_KWARGS = frozenset({"color", "size", "style", "symbol", "text"})
_FRAME_COLUMN_METHODS = frozenset({"groupby", "sort_values", "set_index", "pivot", "pivot_table", "nlargest",
                                   "nsmallest", "explode", "drop_duplicates", "value_counts"})
_MPL_DRAW = frozenset({"plot", "scatter", "bar", "barh", "hist", "fill_between", "step", "errorbar", "boxplot",
                       "violinplot", "pie", "stackplot", "hexbin", "stem", "imshow", "fill_betweenx"})
# Keywords whose sequence values must pair up element for element with the positional data.
_PAIRED_KWARGS = frozenset({"x", "y", "z", "height", "width", "left", "bottom", "labels", "values", "names", "sizes",
                            "explode", "s", "c", "yerr", "xerr", "weights", "y1", "y2", "ticks", "lat", "lon"})
# Where numpy's sized constructors take their length: positional index, or the `size=`/`num=` keyword.
_SIZE_ARGS = {"linspace": 2, "normal": 2, "uniform": 2, "integers": 2, "randint": 2, "lognormal": 2, "binomial": 2,
              "gamma": 2, "beta": 2, "choice": 1, "poisson": 1, "exponential": 1, "rand": 0, "randn": 0,
              "standard_normal": 0, "random": 0, "zeros": 0, "ones": 0}
_SIZE_KEYWORDS = ("size", "num")
_PLOTLY_ON_MPL = {"set_title": ("update_layout", "title"), "set_xlabel": ("update_xaxes", "title_text"),
                  "set_ylabel": ("update_yaxes", "title_text"), "suptitle": ("update_layout", "title")}
_MPL_ON_PLOTLY = {"write_image": "savefig", "write_html": "savefig"}
_NAME_SWAPS = {"df": ("data", "dataframe"), "data": ("df", "dataset"), "fig": ("figure", "plot"),
               "ax": ("axes", "axis"), "x": ("xs", "x_values"), "y": ("ys", "y_values")}
_LIBRARIES = {"matplotlib": "mpl", "seaborn": "sns", "plotly": "plotly"}
_KINDS = {"axes": "mpl_axes", "axes3d": "mpl_axes", "polar": "mpl_axes", "geoaxes": "mpl_axes", "figure": "mpl_figure",
          "grid": "sns_grid", "pfigure": "plotly_fig", "frame": "frame"}  # roles of code facts, as the mutations name them


@dataclass(frozen=True, slots=True)
class Variant:
    """A faulty version of a working program, with the kind of fault planted."""
    source_id: str
    fault: str
    code: str
    id: str


@dataclass(frozen=True, slots=True)
class _Site:
    """One place a fault can go: UTF-8 bytes start..end of the source become any one of `options`."""
    start: int
    end: int
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Program:
    """A program's facts, and what the mutations need besides to edit its source."""
    facts: Program
    data: bytes                     # the source as UTF-8, which ast offsets index
    starts: tuple[int, ...]         # byte offset of each line's start, and of the end
    columns: frozenset[str]         # strings the program defines as DataFrame columns
    bindings: Counter[str]          # how often each name is bound (imports, assignments, parameters, defs)
    quote: str                      # the program's usual string quote


def variants(code: str, source_id: str, *, per_snippet: int = 1, kinds: tuple[str, ...] = FAULT_KINDS) -> list[Variant]:
    """Up to `per_snippet` faulty variants of `code`, each of one kind in `kinds` and different from the rest.

    Kinds are taken in a shuffled round robin, so a snippet's variants spread over the kinds that
    apply rather than following the kind with the most sites. Choices come from a generator
    seeded by `source_id` alone: the same (code, source_id) gives the same variants everywhere.
    Code that does not parse, or where no mutation applies, gives [].
    """
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise InputError(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
    if per_snippet < 0:
        raise InputError(f"per_snippet must be >= 0, got {per_snippet}")
    program = _analyse(code)
    if program is None:
        return []
    rng = random.Random(f"repair:{source_id}")
    pools = {kind: list(dict.fromkeys(_FINDERS[kind](program))) for kind in kinds}
    order = [kind for kind in kinds if pools[kind]]
    rng.shuffle(order)
    seen = {code_id(code)}
    made: list[Variant] = []
    while order and len(made) < per_snippet:
        for kind in list(order):
            mutated = _plant(program, pools[kind], rng, seen)
            if mutated is not None:
                made.append(Variant(source_id, kind, mutated, code_id(mutated)))
                seen.add(code_id(mutated))
            if mutated is None or not pools[kind]:
                order.remove(kind)
            if len(made) == per_snippet:
                break
    return made


def dialogue(instruction: str, faulty: str, error: str, fixed: str) -> list[dict[str, str]]:
    """A repair conversation in VisCoder's self-debug wording: the task, the failing code, its
    (trimmed) error, the working code."""
    return [{"role": "user", "content": instruction},
            {"role": "assistant", "content": code_block(faulty)},
            {"role": "user", "content": feedback_message(trim_traceback(error))},
            {"role": "assistant", "content": code_block(fixed)}]


def _plant(program: _Program, pool: list[_Site], rng: random.Random, seen: set[str]) -> str | None:
    """Draws sites from `pool` (removing them) until one gives new code that compiles."""
    while pool:
        site = pool.pop(rng.randrange(len(pool)))
        text = rng.choice(site.options)
        mutated = (program.data[:site.start] + text.encode() + program.data[site.end:]).decode()
        if code_id(mutated) in seen:
            continue
        try:
            compile(mutated, "<variant>", "exec", dont_inherit=True)  # compiles only; never runs
        except (SyntaxError, ValueError):
            continue
        return mutated
    return None


# ----------------------------------------------------------------------------- analysis


def _analyse(code: str) -> _Program | None:
    facts = analyse(code, conventional=False)
    if facts is None:
        return None
    data = code.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    bindings: Counter[str] = Counter()
    for node in facts.nodes:
        if isinstance(node, ast.Import):
            bindings.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            bindings.update(alias.asname or alias.name for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bindings[node.id] += 1
        elif isinstance(node, ast.arg):
            bindings[node.arg] += 1
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler) and node.name:
            bindings[node.name] += 1
    return _Program(facts, data, tuple(starts), facts.defined_columns(), bindings, _usual_quote(code))


def _usual_quote(code: str) -> str:
    """The quote most of the program's string literals use, so inserted strings match them."""
    try:
        counts = Counter(tok.string.lstrip("rbuRBU")[:1] for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                         if tok.type == tokenize.STRING)
    except (tokenize.TokenError, SyntaxError):
        return '"'
    return "'" if counts["'"] > counts['"'] else '"'


def _root(node: ast.expr) -> str | None:
    node = _chain_root(node)
    return node.id if isinstance(node, ast.Name) else None


def _kind_of(program: _Program, node: ast.expr) -> str | None:
    """What an expression holds, as far as plotting goes: an axes, a figure, a frame..."""
    if isinstance(node, ast.Name) and node.id not in program.facts.roles:
        return _guess_kind(program, node.id)
    return _KINDS.get(program.facts.role_of(node))


def _guess_kind(program: _Program, name: str) -> str | None:
    """Parameters and loop variables have no assignment to go by; their names usually tell."""
    if name.startswith("ax") and "matplotlib" in program.facts.imports:
        return "mpl_axes"
    if name.startswith("fig"):
        mpl, plotly = "matplotlib" in program.facts.imports, "plotly" in program.facts.imports
        return "plotly_fig" if plotly and not mpl else "mpl_figure" if mpl and not plotly else None
    if name == "df" or name.startswith("df_") or name.endswith("_df"):
        return "frame"
    return None


def _chain_root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def _family(program: _Program, call: ast.Call) -> str | None:
    """Which plotting library a call belongs to: mpl, sns, plotly, pandas, or None for other calls."""
    dotted = program.facts.dotted(call.func)
    if dotted and _root(call.func) in program.facts.aliases:
        return _LIBRARIES.get(dotted.split(".")[0])
    if not isinstance(call.func, ast.Attribute):
        return None
    owner = call.func.value
    kind = _kind_of(program, owner)
    if kind in ("mpl_axes", "mpl_figure"):
        return "mpl"
    if kind in ("plotly_fig", "sns_grid"):
        return "plotly" if kind == "plotly_fig" else "sns"
    plots = call.func.attr == "plot" or isinstance(owner, ast.Attribute) and owner.attr == "plot"
    return "pandas" if plots or kind == "frame" and call.func.attr in ("hist", "boxplot") else None


def _calls(program: _Program) -> Iterator[ast.Call]:
    return (node for node in program.facts.nodes if isinstance(node, ast.Call))


# ----------------------------------------------------------------------------- source spans


def _offset(program: _Program, line: int, col: int) -> int:
    return program.starts[line - 1] + col


def _span(program: _Program, node: ast.AST) -> tuple[int, int]:
    return (_offset(program, node.lineno, node.col_offset),  # type: ignore[attr-defined]
            _offset(program, node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]


def _source(program: _Program, node: ast.AST) -> str:
    start, end = _span(program, node)
    return program.data[start:end].decode()


def _name_site(program: _Program, node: ast.Attribute | ast.Name, options: tuple[str, ...]) -> _Site | None:
    """The site of the name an attribute or name node ends with, where the source spells it there."""
    start, end = _span(program, node)
    name = node.attr if isinstance(node, ast.Attribute) else node.id
    start = end - len(name.encode())
    if program.data[start:end] != name.encode() or not options:
        return None
    return _Site(start, end, options)


def _keyword_site(program: _Program, kw: ast.keyword, options: tuple[str, ...]) -> _Site | None:
    start = _offset(program, kw.lineno, kw.col_offset)
    end = start + len(kw.arg or "")
    if not kw.arg or program.data[start:end] != kw.arg.encode() or not options:
        return None
    return _Site(start, end, options)


def _insert_keyword_site(program: _Program, call: ast.Call, options: tuple[str, ...]) -> _Site:
    """Appending `options` (each "name=value") after a call's last argument."""
    parts = [*call.args, *call.keywords]
    if parts:
        end = max(_span(program, part)[1] for part in parts)
        return _Site(end, end, tuple(f", {text}" for text in options))
    end = _span(program, call)[1] - 1  # just before ")"
    return _Site(end, end, options)


def _string(program: _Program, node: ast.Constant, value: str) -> str:
    """A string literal for `value`, quoted the way `node` was where that is simple."""
    text = _source(program, node)
    quote = text[:1]
    if quote in ("'", '"') and text[-1:] == quote and text[1:-1] == node.value and not set(value) & {quote, "\\", "\n"}:
        return f"{quote}{value}{quote}"
    return repr(value)


def _quoted(program: _Program, value: str) -> str:
    return f"{program.quote}{value}{program.quote}"


# ----------------------------------------------------------------------------- fault kinds


def _wrong_column(program: _Program) -> list[_Site]:
    """A column named in a subscript, a plotting keyword or a frame method becomes a near miss."""
    found: list[ast.expr] = []
    for node in program.facts.nodes:
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            owner = node.value
            if isinstance(owner, ast.Attribute) and owner.attr in ("loc", "iloc", "at", "iat"):
                continue
            framed = _framed(program, owner)
            found.extend(c for c in _string_nodes(node.slice) if framed or c.value in program.columns)
        elif isinstance(node, ast.Call):
            found.extend(_column_arguments(program, node))
    sites = []
    for node in found:
        options = tuple(_string(program, node, miss) for miss in _near_misses(node.value, program.columns))
        if options:
            sites.append(_Site(*_span(program, node), options))
    return sites


def _framed(program: _Program, node: ast.expr) -> bool:
    """Whether `node` is a DataFrame or derived from one (`df.groupby("x")`)."""
    return _kind_of(program, node) == "frame" or _kind_of(program, _chain_root(node)) == "frame"


def _column_arguments(program: _Program, call: ast.Call) -> Iterator[ast.Constant]:
    """String arguments naming columns: keywords of calls given a frame, positional arguments of frame methods."""
    framed = any(kw.arg in ("data", "data_frame") for kw in call.keywords) or _family(program, call) == "pandas" \
        or bool(call.args) and _framed(program, call.args[0])
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    on_frame = isinstance(call.func, ast.Attribute) and _framed(program, call.func.value)
    if on_frame and method in _FRAME_COLUMN_METHODS:
        yield from (c for arg in call.args for c in _string_nodes(arg))
    for kw in call.keywords:
        if kw.arg in _COLUMN_KWARGS:
            for c in _string_nodes(kw.value):
                if c.value in program.columns or (framed or on_frame) and kw.arg not in _AMBIGUOUS_KWARGS:
                    yield c


def _string_nodes(node: ast.expr) -> list[ast.Constant]:
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    return [c for c in items if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value]


def _near_misses(name: str, taken: frozenset[str]) -> tuple[str, ...]:
    """The ways a column name is misremembered: case, plural, separators, a transposed letter."""
    candidates = [name.capitalize() if name[0].islower() else name.lower(),
                  name[:-1] if name.endswith("s") and len(name) > 3 else name + "s"]
    if "_" in name:
        candidates += [name.replace("_", ""), name.replace("_", " ")]
    elif " " in name:
        candidates.append(name.replace(" ", "_"))
    candidates.append(_transposed(name))
    return tuple(dict.fromkeys(c for c in candidates if c and c != name and c not in taken))


def _transposed(name: str) -> str:
    """`name` with the two different adjacent letters nearest its middle swapped: the commonest typo."""
    pairs = [j for j in range(1, len(name)) if name[j - 1].isalpha() and name[j].isalpha() and name[j - 1] != name[j]]
    if len(name) < 4 or not pairs:
        return name
    j = min(pairs, key=lambda k: (abs(2 * k - len(name)), k))
    return name[:j - 1] + name[j] + name[j - 1] + name[j + 1:]


def _wrong_kwarg(program: _Program) -> list[_Site]:
    """A plotting call's keyword gets misspelled or swapped for one the call does not take."""
    sites = []
    for call in _calls(program):
        if _family(program, call) is None:
            continue
        taken = {kw.arg for kw in call.keywords}
        for kw in call.keywords:
            if kw.arg is None:
                continue
            typos = REPAIR_KWARG_TYPOS.get(kw.arg) or ((_transposed(kw.arg),) if len(kw.arg) >= 4 else ())
            site = _keyword_site(program, kw, tuple(t for t in typos if t not in taken and t != kw.arg))
            if site:
                sites.append(site)
    return sites


def _bad_api(program: _Program) -> list[_Site]:
    """A plotting function or method called by a wrong, invented or outdated name."""
    sites = []
    for call in _calls(program):
        func = call.func
        if not isinstance(func, ast.Attribute | ast.Name):
            continue
        table = _api_table(program, call)
        name = func.attr if isinstance(func, ast.Attribute) else func.id
        if table is not None:
            bad = REPAIR_WRONG_NAMES[table].get(name) or ((_camel(name),) if "_" in name.strip("_") else ())
            site = _name_site(program, func, bad)
            sites.extend([site] if site else [])
        if _family(program, call) == "pandas":
            sites.extend(_plot_kind_sites(program, call))
    return sites


def _api_table(program: _Program, call: ast.Call) -> str | None:
    dotted = program.facts.dotted(call.func) or ""
    module = dotted.rpartition(".")[0]
    if _root(call.func) in program.facts.aliases:
        return {"matplotlib.pyplot": "pyplot", "seaborn": "seaborn", "plotly.express": "express",
                "plotly.graph_objects": "go", "plotly.graph_objs": "go"}.get(module)
    if not isinstance(call.func, ast.Attribute):
        return None
    owner = call.func.value
    kind = _kind_of(program, owner)
    if kind in ("mpl_axes", "mpl_figure", "plotly_fig"):
        return {"mpl_axes": "axes", "mpl_figure": "figure", "plotly_fig": "plotly_fig"}[kind]
    if isinstance(owner, ast.Attribute) and owner.attr == "plot" and _root(owner) not in program.facts.aliases:
        return "pandas_plot"
    return None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _plot_kind_sites(program: _Program, call: ast.Call) -> list[_Site]:
    """`df.plot(kind="bar")` with a kind pandas does not have."""
    sites = []
    for kw in call.keywords:
        value = kw.value
        if kw.arg == "kind" and isinstance(value, ast.Constant) and value.value in REPAIR_WRONG_NAMES["pandas_plot"]:
            options = tuple(_string(program, value, bad) for bad in REPAIR_WRONG_NAMES["pandas_plot"][value.value])
            sites.append(_Site(*_span(program, value), options))
    return sites


def _missing_import(program: _Program) -> list[_Site]:
    """An import line whose names the program uses, deleted."""
    used = {node.id for node in program.facts.nodes if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    sites = []
    for node in program.facts.nodes:
        if isinstance(node, ast.Import):
            names = [alias.asname or alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names = [alias.asname or alias.name for alias in node.names]
        else:
            continue
        if "*" in names or not used & set(names) or any(program.bindings[name] > 1 for name in names):
            continue
        start, end = _span(program, node)
        line_start, line_end = program.starts[node.lineno - 1], program.starts[node.end_lineno]
        before, after = program.data[line_start:start], program.data[end:line_end].strip()
        if not before.strip() and (not after or after.startswith(b"#")):
            sites.append(_Site(line_start, line_end, ("",)))
    return sites


def _shape_mismatch(program: _Program) -> list[_Site]:
    """Of two arrays that must pair up (columns of one frame, x and y of one call), one gets shorter:
    a literal loses its last element, a sized constructor (`rng.normal(0, 1, n)`) one row."""
    groups: list[list[ast.expr]] = []
    for node in program.facts.nodes:
        if isinstance(node, ast.Call) and (program.facts.dotted(node.func) or "").rpartition(".")[2] == "DataFrame":
            for arg in [*node.args[:1], *(k.value for k in node.keywords if k.arg == "data")]:
                mapping = program.facts.assigned(arg, ast.Dict) or arg
                if isinstance(mapping, ast.Dict):
                    groups.append(mapping.values)
        if isinstance(node, ast.Call) and _family(program, node):
            groups.append([*node.args, *(k.value for k in node.keywords if k.arg in _PAIRED_KWARGS)])
    sites = []
    for group in groups:
        members = [member for member in (_sized(program, node) for node in group) if member]
        keys = Counter(key for key, _ in members)
        sites += [site for key, site in members if keys[key] > 1]
    return sites + _length_sites(program)


def _sized(program: _Program, node: ast.expr) -> tuple[tuple[str, int | str], _Site] | None:
    """An array expression's length (a number, or the name holding it) and the site that shortens it."""
    value = program.facts.assigned(node, ast.List | ast.Tuple | ast.Call) or node
    if isinstance(value, ast.List | ast.Tuple) and len(value.elts) >= 3 and all(map(_is_scalar, value.elts)):
        end = _span(program, value.elts[-1])[1]
        return ("length", len(value.elts)), _Site(_span(program, value.elts[-2])[1], end, ("",))
    size = _size_arg(program, value) if isinstance(value, ast.Call) else None
    if isinstance(size, ast.Constant):
        return ("length", size.value), _Site(*_span(program, size), (str(size.value - 1),))
    if isinstance(size, ast.Name):
        return ("name", size.id), _Site(*_span(program, size), (f"{size.id} - 1",))
    return None


def _is_scalar(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, str)


def _length_sites(program: _Program) -> list[_Site]:
    """linspace/arange whose literal length some other literal sequence or sized array shares."""
    lengths: Counter[int] = Counter()
    for node in program.facts.nodes:
        if isinstance(node, ast.List | ast.Tuple) and len(node.elts) >= 3 and all(map(_is_scalar, node.elts)):
            lengths[len(node.elts)] += 1
        elif isinstance(node, ast.Call):
            size, length = _size_literal(program, node), _arange_length(program, node)
            lengths.update(n for n in (size.value if size else None, length) if n is not None)
    sites = []
    for call in _calls(program):
        dotted = program.facts.dotted(call.func)
        size = _size_literal(program, call) if dotted == "numpy.linspace" else None
        if size is not None and size.value >= 3 and lengths[size.value] > 1:
            sites.append(_Site(*_span(program, size), (str(size.value - 1), str(size.value + 1))))
        length = _arange_length(program, call)
        if length is not None and length >= 3 and lengths[length] > 1:
            stop = call.args[1] if len(call.args) > 1 else call.args[0]
            step = _int_value(call.args[2]) if len(call.args) > 2 else 1
            value = _int_value(stop)
            sites.append(_Site(*_span(program, stop), (str(value - step), str(value + step))))  # type: ignore[operator]
    return sites


def _size_arg(program: _Program, call: ast.Call) -> ast.Constant | ast.Name | None:
    """The int literal or plain name giving the length of a numpy constructor's (or random generator's) result."""
    if not isinstance(call.func, ast.Attribute | ast.Name):
        return None
    name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
    if name not in _SIZE_ARGS or (program.facts.dotted(call.func) or "").split(".")[0] in ("random", "matplotlib"):
        return None  # the stdlib's random.choice/random() take no size
    index = _SIZE_ARGS[name]
    node = next((kw.value for kw in call.keywords if kw.arg in _SIZE_KEYWORDS), None)
    if node is None and len(call.args) > index:
        node = call.args[index]
    if isinstance(node, ast.Name) or isinstance(node, ast.Constant) and type(node.value) is int:
        return node
    return None


def _size_literal(program: _Program, call: ast.Call) -> ast.Constant | None:
    size = _size_arg(program, call)
    return size if isinstance(size, ast.Constant) else None


def _arange_length(program: _Program, call: ast.Call) -> int | None:
    """The length of `np.arange(...)` over int literals."""
    if program.facts.dotted(call.func) != "numpy.arange" or call.keywords or not 1 <= len(call.args) <= 3:
        return None
    values = [_int_value(arg) for arg in call.args]
    if None in values:
        return None
    start, stop, step = ([0, *values, 1] if len(values) == 1 else [*values, 1] if len(values) == 2 else values)
    return max(0, math.ceil((stop - start) / step)) if step else None  # type: ignore[operator]


def _int_value(node: ast.expr) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_value(node.operand)
        return None if inner is None else -inner
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _mixed_libraries(program: _Program) -> list[_Site]:
    """One library's idiom in another's call: seaborn's hue/palette on matplotlib, matplotlib's
    figsize on seaborn or plotly, matplotlib methods on a plotly figure, plotly methods on matplotlib axes."""
    sites: list[_Site] = []
    columns = sorted(program.columns)[:3]
    for call in _calls(program):
        family = _family(program, call)
        taken = {kw.arg for kw in call.keywords}
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        table = _api_table(program, call)
        if family in ("mpl", "pandas") and (name in _MPL_DRAW or table == "pandas_plot"):
            options = [f"hue={_quoted(program, c)}" for c in columns if "hue" not in taken]
            options += [f"palette={_quoted(program, 'Set2')}"] if "palette" not in taken else []
            if options:
                sites.append(_insert_keyword_site(program, call, tuple(options)))
        plots = table == "seaborn" and (name.endswith("plot") or name in ("heatmap", "clustermap"))
        sized = plots or table == "express" or table == "plotly_fig" and name == "update_layout"
        if sized and "figsize" not in taken:
            sites.append(_insert_keyword_site(program, call, ("figsize=(10, 6)", "figsize=(8, 5)")))
        if table == "plotly_fig" and name in _MPL_ON_PLOTLY:
            site = _name_site(program, func, (_MPL_ON_PLOTLY[name],))  # type: ignore[arg-type]
            sites.extend([site] if site else [])
        if table in ("axes", "figure") and name in _PLOTLY_ON_MPL and len(call.args) == 1 and not call.keywords:
            method, key = _PLOTLY_ON_MPL[name]
            site = _name_site(program, func, (name,))  # type: ignore[arg-type]
            if site:
                text = f"{method}({key}={_source(program, call.args[0])})"
                sites.append(_Site(site.start, _span(program, call)[1], (text,)))
    return sites + _figure_method_inserts(program)


def _figure_method_inserts(program: _Program) -> list[_Site]:
    """A matplotlib call on a plotly figure, inserted on its own line before `fig.show()`."""
    sites = []
    for stmt in program.facts.nodes:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            continue
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr == "show" and isinstance(func.value, ast.Name) \
                and _kind_of(program, func.value) == "plotly_fig":
            line_start = program.starts[stmt.lineno - 1]
            indent = program.data[line_start:_offset(program, stmt.lineno, stmt.col_offset)].decode()
            if not indent.strip():
                fig = func.value.id
                options = (f"{indent}{fig}.tight_layout()\n", f"{indent}{fig}.set_size_inches(10, 6)\n")
                sites.append(_Site(line_start, line_start, options))
    return sites


def _wrong_dtype(program: _Program) -> list[_Site]:
    """A value of the wrong type: a number as a string, a figsize as text, a float where a count goes."""
    sites = []
    for call in _calls(program):
        family = _family(program, call)
        for kw in call.keywords if family else ():
            value = kw.value
            number = value.value if isinstance(value, ast.Constant) and type(value.value) in (int, float) else None
            option = None
            numeric = kw.arg in ("alpha", "opacity", "rotation") and number is not None
            if numeric or kw.arg in ("bins", "nbins") and type(number) is int:
                option = _quoted(program, str(number))
            elif kw.arg in ("width", "height") and family == "plotly" and type(number) is int:
                option = _quoted(program, f"{number}px")
            elif kw.arg == "figsize" and isinstance(value, ast.Tuple) and len(value.elts) == 2 \
                    and all(isinstance(e, ast.Constant) and type(e.value) in (int, float) for e in value.elts):
                w, h = (e.value for e in value.elts)  # type: ignore[attr-defined]
                option = _quoted(program, f"{w}x{h}")
            if option:
                sites.append(_Site(*_span(program, value), (option,)))
        size = _size_literal(program, call)
        if size is not None:
            sites.append(_Site(*_span(program, size), (f"{size.value}.0",)))
    return sites


def _undefined_name(program: _Program) -> list[_Site]:
    """A variable used under a near-miss name the program never binds."""
    variables = {node.id for node in program.facts.nodes if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    variables |= {node.arg for node in program.facts.nodes if isinstance(node, ast.arg)}
    taken = set(program.bindings) | set(dir(builtins))
    sites = []
    for node in program.facts.nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in variables:
            options = tuple(n for n in _misnamed(node.id) if n not in taken and n.isidentifier()
                            and not keyword.iskeyword(n))
            site = _name_site(program, node, options)
            sites.extend([site] if site else [])
    return sites


def _misnamed(name: str) -> list[str]:
    """What a variable gets called by mistake: its usual synonym, a plural or singular, one part of it."""
    names = list(_NAME_SWAPS.get(name, ()))
    if len(name) >= 4 and name.isalpha() and name.islower():
        if name.endswith("ies"):
            names.append(name[:-3] + "y")
        elif name.endswith("s"):
            names += [] if name.endswith(("ss", "us", "is")) else [name[:-1]]
        elif name.endswith("y") and name[-2] not in "aeiou":
            names.append(name[:-1] + "ies")
        else:
            names.append(name + "es" if name.endswith(("sh", "ch", "x")) else name + "s")
    if "_" in name.strip("_"):
        parts = [p for p in name.split("_") if len(p) >= 3]
        names += [name.replace("_", ""), *parts[:1], *parts[-1:]]
    return [n for n in names if n != name]


_FINDERS: dict[str, Callable[[_Program], list[_Site]]] = {
    "wrong_column": _wrong_column, "wrong_kwarg": _wrong_kwarg, "bad_api": _bad_api,
    "missing_import": _missing_import, "shape_mismatch": _shape_mismatch, "mixed_libraries": _mixed_libraries,
    "wrong_dtype": _wrong_dtype, "undefined_name": _undefined_name,
}
