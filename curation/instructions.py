"""The five-part instruction of the VisCoder recipe (setup, data description, data preview,
plot description, style description), written by rules from what the code literally says.

Every fact comes from the syntax tree: literal arguments, variable and column names, dict
keys; nothing is run or guessed, so the text is faithful to the code and the same code always
gets the same text. It describes rather than quotes code. An LLM may rewrite it later
(curation.llm), with this text as its draft of facts.

The parts are written in their own modules: curation.data_description, curation.data_preview,
curation.plot_description and curation.style_description (shared wording in curation.phrasing);
the setup part, the template and describe() live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from viscode.curation.data_description import data_description
from viscode.curation.data_preview import data_preview
from viscode.curation.phrasing import join
from viscode.curation.plot_description import generic_plot_description, plot_description
from viscode.curation.style_description import style_description
from viscode.curation.tags import Tags, chart_calls

from viscode.codefacts import Program, analyse

PARTS = ("setup", "data_description", "data_preview", "plot_description", "style_description")
HEADINGS = ("Setup", "Data description", "Data preview", "Plot description", "Style description")
LEAD = "Write a Python program that draws the plot described below."


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
        return Instruction(_setup_text(tags.library, [], ""), "", "", generic_plot_description(tags.chart_kinds), "")
    charts = chart_calls(prog)
    return Instruction(_setup(prog, tags.library), data_description(prog), data_preview(prog),
                       plot_description(prog, charts) or generic_plot_description(tags.chart_kinds),
                       style_description(prog, charts))


# -- setup --------------------------------------------------------------------------------------
_HELPERS = {"numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "polars": "polars", "geopandas": "geopandas",
            "cartopy": "cartopy", "statsmodels": "statsmodels", "sklearn": "scikit-learn", "networkx": "networkx",
            "xarray": "xarray"}


def _setup(prog: Program, library: str) -> str:
    helpers = [_HELPERS[m] for m in prog.imports if m in _HELPERS and not (m == "pandas" and library == "pandas")]
    plotly = join(p for p, prefix in (("plotly express", "plotly.express"), ("graph objects", "plotly.graph_objects"),
                                      ("make_subplots", "plotly.subplots"), ("figure factory", "plotly.figure_factory"))
                  if any(c.name.startswith(prefix) for c in prog.calls))
    return _setup_text(library, helpers, plotly)


def _setup_text(library: str, helpers: list[str], plotly: str) -> str:
    data = f", with {join(helpers)} for the data" if helpers else ""
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
