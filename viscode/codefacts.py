"""Facts about a plotting program read from its syntax tree alone (it is never run): what
its names are bound to, and every call with its receiver resolved, so that tagging and
instruction writing see `plt.bar`, `ax.bar` and `axes[0].bar` as one kind of call, and
repair plants its faults at the calls, frames and columns this one analysis finds.

Receivers are resolved to roles (`<axes>`, `<frame>`, `<pfigure>`, ...) from the
assignments that made them; conventional aliases (`plt`, `sns`, `px`, ...) resolve even
where the import is missing, because failing programs are tagged too (repair asks for
the program's own imports only).
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType, UnionType

AXES_ROLES = frozenset({"axes", "axes3d", "polar", "geoaxes"})
_CONVENTIONAL = {"plt": "matplotlib.pyplot", "sns": "seaborn", "px": "plotly.express", "go": "plotly.graph_objects",
                 "np": "numpy", "pd": "pandas", "gpd": "geopandas", "ccrs": "cartopy.crs", "pio": "plotly.io",
                 "mpl": "matplotlib"}
_RENAMES = {"pylab": "matplotlib.pyplot", "plotly.graph_objs": "plotly.graph_objects"}
_SNS_GRIDS = frozenset({"FacetGrid", "PairGrid", "JointGrid", "catplot", "displot", "relplot", "lmplot", "jointplot",
                        "pairplot", "clustermap"})  # seaborn's figure-level functions and grids: they return a grid
_PD_FRAMES = frozenset({"DataFrame", "Series", "concat", "merge", "pivot_table", "crosstab", "melt", "json_normalize",
                        "get_dummies"})
_FRAME_METHODS = frozenset({"melt", "pivot", "pivot_table", "reset_index", "copy", "query", "assign", "dropna",
                            "fillna", "sort_values", "head", "tail", "merge", "rename", "set_index", "drop", "sample",
                            "astype", "round", "agg", "aggregate", "mean", "sum", "median", "count", "size",
                            "describe", "corr", "join", "nlargest", "nsmallest", "stack", "unstack", "transpose",
                            "iloc", "loc", "groupby", "resample", "rolling", "to_frame", "explode", "drop_duplicates"})
# methods of a frame that return a frame (or a grouping of one)
_MPL_AXES = frozenset({"matplotlib.pyplot.gca", "matplotlib.pyplot.subplot", "matplotlib.pyplot.axes",
                       "matplotlib.pyplot.subplot2grid", "<figure>.add_subplot", "<figure>.add_axes", "<figure>.gca"})
_MPL_FIGURES = frozenset({"matplotlib.pyplot.figure", "matplotlib.pyplot.gcf"})
_RNGS = frozenset({"numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator"})
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)
MAX_RANGE = 100_000  # range(...) longer than this is not expanded into a literal
_BUILTINS = frozenset(dir(builtins))
_COLUMN_KEYWORDS = frozenset({"x", "y", "z", "hue", "color", "size", "style", "names", "values", "column", "by",
                             "facet_col", "facet_row", "col", "row", "text", "hover_name", "error_y", "error_x"})
_PASS_ATTRS = frozenset({"values", "flat", "T", "str", "dt"})
_PASS_METHODS = frozenset({"to_numpy", "tolist", "keys", "values", "items", "unique", "dropna", "astype", "flatten",
                           "ravel", "sort_values", "copy", "reset_index", "to_list"})
_PASS_FUNCS = frozenset({"list", "tuple", "sorted", "set", "array", "asarray", "ravel", "reversed", "Series"})
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
               ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow, ast.Mod: operator.mod}


@dataclass(frozen=True, slots=True)
class Call:
    """One call, its callee named with receivers replaced by roles: "matplotlib.pyplot.bar",
    "<axes>.bar", "<frame>.plot.bar", "seaborn.barplot"; unknown receivers keep their name."""

    name: str
    node: ast.Call
    loop: ast.expr | None  # the iterable of the innermost enclosing `for`, None outside loops

    @property
    def owner(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def method(self) -> str:
        return self.name.rpartition(".")[2]

    def kw(self, key: str) -> ast.expr | None:
        return next((k.value for k in self.node.keywords if k.arg == key), None)

    def arg(self, i: int) -> ast.expr | None:
        args = [a for a in self.node.args if not isinstance(a, ast.Starred)]
        return args[i] if i < len(args) else None

    @property
    def nargs(self) -> int:
        return len(self.node.args)


@dataclass(frozen=True, slots=True)
class Binding:
    """`target = value` as written (tuple targets not split), and whether it sits in a loop."""

    target: ast.expr
    value: ast.expr
    in_loop: bool


@dataclass(frozen=True, slots=True)
class Program:
    """A parsed program with its names resolved; the questions tagging and describing ask of it."""

    tree: ast.Module
    imports: tuple[str, ...]        # top-level modules imported, first import first
    roles: Mapping[str, str]        # variable -> axes | axes3d | polar | geoaxes | figure | grid | pfigure | frame ...
    values: Mapping[str, ast.expr]  # the first value bound to each plain name outside loops
    calls: tuple[Call, ...]         # in source order
    bindings: tuple[Binding, ...]   # in source order
    by_node: Mapping[int, Call]     # id of an ast.Call -> its Call
    names: frozenset[str]           # every name an assignment binds (tuple targets included)
    aliases: Mapping[str, str]      # imported name -> the dotted path it stands for
    nodes: tuple[ast.AST, ...]      # every node of the tree, in ast.walk order
    resolver: _Analyser = field(repr=False, compare=False)

    def role_of(self, node: ast.expr) -> str:
        """What an expression holds: a bound name's role, an element of axes, what a call returns."""
        return self.resolver.role_of(node)

    def dotted(self, node: ast.expr) -> str | None:
        """`plt.bar` as "matplotlib.pyplot.bar": an attribute chain with only its imported root resolved
        (no roles, no conventional aliases); None where the chain does not start at a name."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        return ".".join([self.aliases.get(node.id, node.id), *reversed(parts)])

    def assigned(self, node: ast.AST | None, kind: type | UnionType) -> ast.expr | None:
        """The first value of type `kind` assigned to the name `node`, if `node` is such a name."""
        if not isinstance(node, ast.Name):
            return None
        return next((b.value for b in self.bindings if isinstance(b.target, ast.Name) and b.target.id == node.id
                     and isinstance(b.value, kind)), None)

    def defined_columns(self) -> frozenset[str]:
        """Strings the program itself makes DataFrame columns: frame dict keys, melt names, assigned columns."""
        found: set[str] = set()
        for node in self.nodes:
            if isinstance(node, ast.Call):
                name = (self.dotted(node.func) or "").rpartition(".")[2]
                if name == "DataFrame":
                    for arg in [*node.args[:1], *(k.value for k in node.keywords if k.arg == "data")]:
                        found.update(_string_constants(self._dict_keys(arg)))
                for kw in node.keywords:
                    if kw.arg in ("var_name", "value_name", "columns", "names") or kw.arg == "name" and name in (
                            "reset_index", "to_frame", "Series"):
                        found.update(_string_constants(kw.value))
                    if kw.arg == "columns" and isinstance(kw.value, ast.Dict):
                        found.update(_string_constants(kw.value.values))
                    if name == "assign" and kw.arg:
                        found.add(kw.arg)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                found.update(_string_constants(node.slice))
        return frozenset(found)

    def _dict_keys(self, node: ast.expr) -> list[ast.expr]:
        """Keys of a dict literal, given directly or through the name it was assigned to."""
        node = self.assigned(node, ast.Dict) or node
        if isinstance(node, ast.Dict):
            return [k for k in node.keys if k is not None]
        if isinstance(node, ast.List):  # records: [{"a": 1}, {"a": 2}]
            return [k for item in node.elts if isinstance(item, ast.Dict) for k in item.keys if k is not None]
        return []

    def call_of(self, node: ast.AST | None) -> Call | None:
        return self.by_node.get(id(node)) if isinstance(node, ast.Call) else None

    def label(self, node: ast.AST | None, depth: int = 0) -> str:
        """What a plotted expression is called: a column name, a variable, the list of strings given."""
        if node is None or depth > 6:
            return ""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else ""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Subscript):
            return self.string(node.slice) or self.label(node.value, depth + 1)
        if isinstance(node, ast.Attribute):
            if node.attr in ("index", "columns"):
                base = self.label(node.value, depth + 1)
                return f"the {node.attr} of {base}" if base else ""
            return self.label(node.value, depth + 1) if node.attr in _PASS_ATTRS else node.attr
        if isinstance(node, (ast.List, ast.Tuple)):
            names = [n for n in (self.label(e, depth + 1) for e in node.elts) if n]
            return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
        if isinstance(node, ast.Call):
            inner = node.func.value if isinstance(node.func, ast.Attribute) and callee(node) in _PASS_METHODS \
                else node.args[0] if node.args and callee(node) in _PASS_FUNCS else None
            return self.label(inner, depth + 1)
        if isinstance(node, ast.BinOp):
            return self.label(node.left, depth + 1) or self.label(node.right, depth + 1)
        return ""

    def frame_columns(self) -> dict[str, list[str]]:
        """Columns each DataFrame variable is seen with: keys of the dict it is built from,
        string subscripts, and column keywords of plotting calls given the frame as data."""
        found: list[tuple[int, int, str, str]] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                    and self.roles.get(node.value.id) == "frame":
                for col in _strings(self.literal(node.slice)):
                    found.append((node.lineno, node.col_offset, node.value.id, col))
        for call in self.calls:
            if call.name == "pandas.DataFrame" and isinstance(call.arg(0), ast.Dict):
                target = self._target_of(call.node)
                for key in call.arg(0).keys:  # type: ignore[union-attr]
                    if target and isinstance(key, ast.Constant) and isinstance(key.value, str):
                        found.append((key.lineno, key.col_offset, target, key.value))
            data = call.kw("data") if call.kw("data") is not None else call.arg(0)
            if isinstance(data, ast.Name) and self.roles.get(data.id) == "frame":
                for k in call.node.keywords:
                    if k.arg in _COLUMN_KEYWORDS:
                        found.extend((k.value.lineno, k.value.col_offset, data.id, c)
                                     for c in _strings(self.literal(k.value)))
        out: dict[str, list[str]] = {}
        for _, _, frame, col in sorted(found):
            if col not in out.setdefault(frame, []):
                out[frame].append(col)
        return out

    def _target_of(self, value: ast.expr) -> str:
        return next((b.target.id for b in self.bindings if b.value is value and isinstance(b.target, ast.Name)), "")

    def literal(self, node: ast.AST | None, depth: int = 0) -> object:
        """The value of a literal expression (never evaluated otherwise): constants and
        containers, names bound to them, `len(...)`, `range(...)`, `np.array([...])`; None if not literal."""
        if node is None or depth > 4:
            return None
        if isinstance(node, ast.Name):
            return self.literal(self.values.get(node.id), depth + 1)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)) and len(node.args) == 1:
            return self._literal_call(node, depth)
        if isinstance(node, ast.Call) and callee(node) == "range" and not node.keywords:
            bounds = [self.literal(a, depth + 1) for a in node.args]
            if 1 <= len(bounds) <= 3 and all(type(b) is int for b in bounds):
                r = range(*bounds)  # type: ignore[arg-type]
                return list(r) if len(r) <= MAX_RANGE and r.step else None
            return None
        try:
            return ast.literal_eval(node)
        except _LITERAL_ERRORS:
            pass
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) <= 8:  # (len(rows), len(cols)), [a, b]
            items = [self.literal(e, depth + 1) for e in node.elts]
            if all(i is not None for i in items):
                return tuple(items) if isinstance(node, ast.Tuple) else items
        return None

    def _literal_call(self, node: ast.Call, depth: int) -> object:
        fn = callee(node)
        inner = self.literal(node.args[0], depth + 1)
        if fn == "len":
            return len(inner) if isinstance(inner, (list, tuple, dict, str)) else None
        if fn in ("list", "tuple", "array", "asarray") and not node.keywords:
            return list(inner) if isinstance(inner, (list, tuple)) else None
        if fn == "range":
            return list(range(inner)) if type(inner) is int and 0 <= inner <= MAX_RANGE else None
        return None

    def number(self, node: ast.AST | None, depth: int = 0) -> int | float | None:
        """A number written as a literal or simple arithmetic on literals, names bound to them and pi."""
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC and depth < 8:
            left, right = self.number(node.left, depth + 1), self.number(node.right, depth + 1)
            if left is None or right is None or (isinstance(node.op, ast.Pow) and abs(right) > 64):
                return None
            try:
                return _ARITHMETIC[type(node.op)](left, right)
            except (ZeroDivisionError, OverflowError):
                return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.number(node.operand, depth + 1)
            return None if value is None else -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Attribute) and node.attr in ("pi", "e") and isinstance(node.value, ast.Name) \
                and node.value.id in ("np", "numpy", "math"):
            return math.pi if node.attr == "pi" else math.e
        value = self.literal(node)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def string(self, node: ast.AST | None) -> str | None:
        value = self.literal(node)
        return value if isinstance(value, str) else None


def _string_constants(node: ast.expr | list[ast.expr] | None) -> list[str]:
    """The string constants written in a node or list of nodes, inside lists and tuples too."""
    items = node if isinstance(node, list) else [node]
    out = []
    for item in items:
        if isinstance(item, ast.List | ast.Tuple):
            out.extend(_string_constants(item.elts))
        elif isinstance(item, ast.Constant) and isinstance(item.value, str):
            out.append(item.value)
    return out


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _role(roles: Mapping[str, str], name: str) -> str:
    """A variable's role; unbound names like `ax`, `ax1`, `axes` are taken for matplotlib Axes."""
    return roles.get(name) or ("axes" if name.startswith("ax") else "")


def parse(code: str) -> ast.Module | None:
    """The syntax tree, or None where the code does not parse (never raises)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None


@lru_cache(maxsize=64)
def analyse(code: str, *, conventional: bool = True) -> Program | None:
    """Facts of a program, None when it does not parse. Cached: tagging and describing the
    same code parse it once. `conventional=False` resolves names through the program's own
    imports only, for judging a program by what it really imports."""
    tree = parse(code)
    if tree is None:
        return None
    try:
        return _Analyser(tree, conventional).program()
    except RecursionError:  # absurdly nested expressions
        return None


class _Analyser:
    def __init__(self, tree: ast.Module, conventional: bool) -> None:
        self.tree = tree
        self.conventional = conventional
        self.aliases: dict[str, str] = {}
        self.imports: list[str] = []
        self.star = ""
        self.roles: dict[str, str] = {}
        self.assigned: set[str] = set()
        self.functions: set[str] = set()
        self.events: list[tuple[ast.expr, ast.expr, bool, bool]] = []  # target, value, is_for, in_loop
        self.raw_calls: list[tuple[ast.Call, ast.expr | None]] = []

    def program(self) -> Program:
        self._read_imports()
        self._visit(self.tree, None)
        for _ in range(2):  # a second pass lets later bindings inform earlier uses (functions defined first)
            for target, value, is_for, _ in self.events:
                self._bind_loop(target, value) if is_for else self._bind(target, value)
        values: dict[str, ast.expr] = {}
        for target, value, is_for, in_loop in self.events:
            if isinstance(target, ast.Name) and not is_for and not in_loop:
                values.setdefault(target.id, value)
        calls = tuple(Call(self.name(node.func), node, loop) for node, loop in self.raw_calls)
        bindings = tuple(Binding(t, v, in_loop) for t, v, is_for, in_loop in self.events if not is_for)
        return Program(self.tree, tuple(self.imports), MappingProxyType(dict(self.roles)), MappingProxyType(values),
                       calls, bindings, MappingProxyType({id(c.node): c for c in calls}),
                       frozenset(n for b in bindings for n in _names(b.target)), MappingProxyType(dict(self.aliases)),
                       tuple(ast.walk(self.tree)), self)

    # -- collection -----------------------------------------------------------------------
    def _read_imports(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    full = _rename(alias.name)
                    top = alias.name.split(".")[0]
                    self.aliases[alias.asname or top] = full if alias.asname else _rename(top)
                    self._imported(full)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                module = _rename(node.module)
                self._imported(module)
                for alias in node.names:
                    if alias.name == "*":
                        self.star = self.star or (module if module == "matplotlib.pyplot" else "")
                    else:
                        self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _imported(self, module: str) -> None:
        top = module.split(".")[0]
        if top not in self.imports:
            self.imports.append(top)

    def _visit(self, node: ast.AST, loop: ast.expr | None) -> None:
        """Calls and bindings in source order, each with its innermost enclosing loop."""
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self._note(node.target)
            self.events.append((node.target, node.iter, True, loop is not None))
            self._visit(node.iter, loop)
            for child in node.body:
                self._visit(child, node.iter)
            for child in node.orelse:
                self._visit(child, loop)
            return
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                self._note(target)
                self.events.append((target, node.value, False, loop is not None))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self.assigned.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
            self.functions.add(getattr(node, "name", ""))
        elif isinstance(node, ast.ClassDef):
            self.functions.add(node.name)
        elif isinstance(node, ast.Call):
            self.raw_calls.append((node, loop))
        for child in ast.iter_child_nodes(node):
            self._visit(child, loop)

    def _note(self, target: ast.expr) -> None:
        self.assigned.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))

    # -- roles ----------------------------------------------------------------------------
    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, ast.Call) and self.name(value.func).endswith(("pyplot.subplots", "<figure>.subplots")):
                first, *rest = target.elts
                self._set(first, "figure")
                axes = _projection(value) or "axes"
                for element in rest:
                    for name in _names(element):
                        self.roles[name] = axes
            elif isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self._bind(t, v)
            return
        self._set(target, self.role_of(value))

    def _set(self, target: ast.expr, role: str) -> None:
        if isinstance(target, ast.Name) and role:
            self.roles[target.id] = role

    def _bind_loop(self, target: ast.expr, iterable: ast.expr) -> None:
        """`for ax in axes.flat`, `for i, ax in enumerate(axes)`, `for ax, col in zip(axes, cols)`."""
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
            parts = iterable.args
            if iterable.func.id == "enumerate" and len(parts) == 1:
                parts = [ast.Constant(0), parts[0]]
            if iterable.func.id in ("zip", "enumerate") and isinstance(target, ast.Tuple) \
                    and len(target.elts) == len(parts):
                for t, part in zip(target.elts, parts):
                    self._bind_loop(t, part)
            return
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) \
                and iterable.func.attr in ("ravel", "flatten"):
            iterable = iterable.func.value
        elif isinstance(iterable, ast.Attribute) and iterable.attr in ("flat", "T"):
            iterable = iterable.value
        role = self.role_of(iterable)
        if role in AXES_ROLES:
            self._set(target, role)

    def role_of(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name):
            return _role(self.roles, node.id)
        if isinstance(node, ast.Subscript):
            role = self.role_of(node.value)
            return role if role in AXES_ROLES or role in ("frame", "geoframe") else ""
        if isinstance(node, ast.Attribute):
            base = self.role_of(node.value)
            if node.attr in ("ax", "axes") and base in ("grid", "figure"):
                return "axes"
            if node.attr in ("figure", "fig") and (base in AXES_ROLES or base == "grid"):
                return "figure"
            return "frame" if base == "frame" and node.attr in ("T", "loc", "iloc") else ""
        if isinstance(node, ast.Call):
            return self._call_role(self.name(node.func), node)
        return ""

    def _call_role(self, name: str, node: ast.Call) -> str:
        owner, _, method = name.rpartition(".")
        if name in _MPL_FIGURES:
            return "figure"
        if name in _MPL_AXES or (owner in AXES_ROLES and method in ("twinx", "twiny", "inset_axes")):
            return _projection(node) or "axes"
        if method == "Axes3D":
            return "axes3d"
        if name == "seaborn.load_dataset" or owner == "plotly.express.data":
            return "frame"
        if owner == "seaborn":
            return "grid" if method in _SNS_GRIDS else "axes" if method.endswith("plot") or method == "heatmap" else ""
        if owner == "pandas" and (method in _PD_FRAMES or method.startswith("read_")):
            return "frame"
        if owner in ("<frame>", "<geoframe>"):
            return "axes" if method in ("plot", "hist", "boxplot") else owner[1:-1] if method in _FRAME_METHODS else ""
        if owner == "<frame>.plot":
            return "axes"
        if owner.startswith(("plotly.express", "plotly.figure_factory", "<pfigure>")) or name in (
                "plotly.graph_objects.Figure", "plotly.subplots.make_subplots"):
            return "" if ".data" in owner or ".colors" in owner else "pfigure"
        if name in _RNGS:
            return "rng"
        if owner == "geopandas" and method in ("read_file", "GeoDataFrame", "GeoSeries", "read_parquet"):
            return "geoframe"
        return "basemap" if method == "Basemap" else ""

    def name(self, node: ast.expr) -> str:
        """A callee's dotted name with aliases expanded and role-bound receivers replaced."""
        if isinstance(node, ast.Name):
            role = self.roles.get(node.id) or ("" if node.id in self.aliases else _role(self.roles, node.id))
            if role:
                return f"<{role}>"
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id in self.assigned or node.id in self.functions:
                return node.id
            if self.conventional and node.id in _CONVENTIONAL:
                return _CONVENTIONAL[node.id]
            return f"{self.star}.{node.id}" if self.star and node.id not in _BUILTINS else node.id
        if isinstance(node, ast.Attribute):
            return f"{self.name(node.value)}.{node.attr}"
        role = self.role_of(node) if isinstance(node, (ast.Subscript, ast.Call)) else ""
        return f"<{role or '?'}>"


def _rename(module: str) -> str:
    for old, new in _RENAMES.items():
        if module == old or module.startswith(old + "."):
            return new + module[len(old):]
    return module


def _names(node: ast.expr) -> Iterator[str]:
    return (n.id for n in ast.walk(node) if isinstance(n, ast.Name))


def _projection(node: ast.Call) -> str:
    """The Axes role a projection keyword asks for: 3d, polar or a map projection."""
    for k in node.keywords:
        if k.arg == "polar" and isinstance(k.value, ast.Constant) and k.value.value is True:
            return "polar"
        value = dict_value(k.value, "projection") if k.arg == "subplot_kw" else k.value if k.arg == "projection" \
            else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return {"3d": "axes3d", "polar": "polar", "rectilinear": ""}.get(value.value, "geoaxes")
        if value is not None and not isinstance(value, ast.Constant):
            return "geoaxes"  # a projection object: cartopy's and the like
    return ""


def dict_value(node: ast.expr | None, key: str) -> ast.expr | None:
    """The value under `key` in `dict(key=...)` or `{"key": ...}`."""
    if isinstance(node, ast.Call) and callee(node) == "dict":
        return next((k.value for k in node.keywords if k.arg == key), None)
    if isinstance(node, ast.Dict):
        return next((v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and k.value == key),
                    None)
    return None
