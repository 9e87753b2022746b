"""What every stage needs to know about a piece of Python source: its normalized form,
its stable id, and which plotting libraries it uses.

Ids are digests of the normalized code, so the same program harvested twice (or
written with other comments, blank lines or quote style) gets the same id on every
machine and every version.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize

PLOTTING_LIBRARIES = ("matplotlib", "seaborn", "plotly", "pandas")
_TOP_LEVEL = {"matplotlib": "matplotlib", "pylab": "matplotlib", "seaborn": "seaborn", "plotly": "plotly"}
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENCODING, tokenize.ENDMARKER}


def normalize(code: str) -> str:
    """Code as a stream of tokens, one space apart: comments, layout and string-quote
    style removed. Falls back to whitespace-collapsed text where tokenizing fails."""
    try:
        parts = []
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in _SKIP:
                if tok.type == tokenize.NEWLINE:
                    parts.append(";")
                continue
            if tok.type == tokenize.STRING:
                parts.append(_canonical_string(tok.string))
            else:
                parts.append(tok.string)
        return " ".join(parts)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return " ".join(code.split())


def _canonical_string(literal: str) -> str:
    quote = literal[0]
    if quote in "'\"" and literal[1:2] != quote and "\\" not in literal:  # plain 'x' or "x": its text is the value
        return repr(literal[1:-1])
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal  # f-strings and the like keep their text
    return repr(value)


def code_id(code: str) -> str:
    """Stable id: the first 16 hex digits of sha256 over the normalized code."""
    return hashlib.sha256(normalize(code).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def plotting_libraries(tree: ast.AST) -> list[str]:
    """Plotting libraries a parsed program uses, in PLOTTING_LIBRARIES order.

    matplotlib, seaborn and plotly count when imported; pandas counts only when its
    plotting API is called (`.plot(`, `.plot.<kind>(`, `.hist(`, `.boxplot(`,
    `pandas.plotting`) in a program that imports pandas.
    """
    found: set[str] = set()
    imports_pandas = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        for name in names:
            top = name.split(".")[0]
            if top in _TOP_LEVEL:
                found.add(_TOP_LEVEL[top])
            if top == "pandas":
                imports_pandas = True
                if name.startswith("pandas.plotting"):
                    found.add("pandas")
    if imports_pandas and _calls_pandas_plotting(tree):
        found.add("pandas")
    return [lib for lib in PLOTTING_LIBRARIES if lib in found]


def _calls_pandas_plotting(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr, owner = node.func.attr, node.func.value
        if attr == "plot" and not _is_module(owner, ("plt", "pyplot", "matplotlib", "ax", "axes", "sns", "px", "go")):
            return True
        if isinstance(owner, ast.Attribute) and owner.attr == "plot":  # df.plot.bar(...)
            return True
        if attr in ("hist", "boxplot") and not _is_module(owner, ("plt", "pyplot", "ax", "axes", "np", "numpy")):
            return True
        if attr in ("scatter_matrix", "parallel_coordinates", "andrews_curves", "lag_plot", "autocorrelation_plot"):
            return True
    return False


def _is_module(node: ast.AST, names: tuple[str, ...]) -> bool:
    """Whether a call's receiver looks like a plotting module or axes, not a frame."""
    if isinstance(node, ast.Name):
        return node.id in names or node.id.startswith("ax")
    if isinstance(node, ast.Subscript):  # axes[0].plot(...)
        return _is_module(node.value, names)
    if isinstance(node, ast.Attribute):
        return node.attr in names
    return False
