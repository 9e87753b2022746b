"""The fault vocabulary against the installed libraries: every wrong name the generator writes or
repair plants is missing where it is called, every name it stands for is there, and every keyword
typo is a keyword no plotting call of its sort takes."""

from __future__ import annotations

import inspect

import matplotlib.axes
import matplotlib.figure
import matplotlib.pyplot as plt
import plotly.express as px
import plotly.graph_objects as go
import pytest
import seaborn as sns
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from mpl_toolkits.mplot3d import Axes3D
from pandas.plotting import PlotAccessor
from viscode.curation import repair
from viscode.grid.candidates.synth import faults as synth_faults

from viscode.faults import (
    FAULT_KINDS,
    REPAIR_KWARG_TYPOS,
    REPAIR_WRONG_NAMES,
    SYNTH_KINDS,
    SYNTH_KWARG_TYPOS,
    SYNTH_WRONG_NAMES,
)

# What the calls of each table are made on.
OWNERS = {"pyplot": (plt,), "axes": (matplotlib.axes.Axes, Axes3D), "figure": (matplotlib.figure.Figure,),
          "seaborn": (sns,), "express": (px,), "go": (go,), "plotly_fig": (go.Figure,), "pandas_plot": (PlotAccessor,),
          "matplotlib": (plt, matplotlib.axes.Axes, Axes3D), "plotly.express": (px,), "plotly.graph_objects": (go,),
          "pandas": (PlotAccessor,)}
TABLES = [(f"repair {owner}", owner, table) for owner, table in REPAIR_WRONG_NAMES.items()] + \
    [(f"synth {library}", library, table) for library, table in SYNTH_WRONG_NAMES.items()]


def test_one_vocabulary_of_kinds():
    assert len(set(FAULT_KINDS)) == len(FAULT_KINDS)
    assert repair.FAULT_KINDS is FAULT_KINDS
    assert synth_faults.FAULTS == SYNTH_KINDS and set(SYNTH_KINDS) < set(FAULT_KINDS)


@pytest.mark.parametrize(("label", "owner", "table"), TABLES, ids=[label for label, _, _ in TABLES])
def test_wrong_names_are_missing_and_right_names_present(label, owner, table):
    owners = OWNERS[owner]
    assert not [good for good in table if not any(hasattr(o, good) for o in owners)], label
    assert not [bad for bads in table.values() for bad in bads if any(hasattr(o, bad) for o in owners)], label
    if owner in ("pandas", "pandas_plot"):  # also passed as df.plot(kind=...)
        assert set(table) <= set(PlotAccessor._all_kinds)
        assert not {bad for bads in table.values() for bad in bads} & set(PlotAccessor._all_kinds)


def _setters(artist: type) -> set[str]:
    return {name[4:] for name in dir(artist) if name.startswith("set_")}


def _parameters(function) -> set[str]:
    return set(inspect.signature(function).parameters)


# The keywords of each plotting call or artist, in the installed versions.
CALLS = {
    **{f"matplotlib {a.__name__}": _setters(a) for a in (Line2D, Rectangle, PathCollection, Text)},
    **{f"matplotlib {f.__name__}": _parameters(f) for f in (plt.figure, plt.savefig, plt.subplots, plt.legend,
                                                            matplotlib.axes.Axes.pie, matplotlib.axes.Axes.hist,
                                                            matplotlib.axes.Axes.bar, matplotlib.axes.Axes.imshow)},
    **{f"express {f.__name__}": _parameters(f) for f in (px.scatter, px.line, px.bar, px.histogram, px.pie, px.box)},
    **{f"go {t.__name__}": set(t()._valid_props) for t in (go.Scatter, go.Bar, go.Pie, go.Layout)},
    "go update_layout": _parameters(go.Figure.update_layout),
    **{f"seaborn {f.__name__}": _parameters(f) for f in (sns.barplot, sns.lineplot, sns.scatterplot, sns.histplot,
                                                         sns.heatmap, sns.boxplot, sns.kdeplot)},
}
# The calls each sort of generator typo is added to.
SYNTH_SORTS = {"mpl": ("matplotlib Line2D", "matplotlib Rectangle", "matplotlib PathCollection"),
               "text": ("matplotlib Text",), "px": tuple(c for c in CALLS if c.startswith("express")),
               "go": ("go Scatter", "go Bar", "go Pie"), "layout": ("go Layout", "go update_layout")}


def test_synth_keyword_typos_are_taken_by_no_call_of_their_sort():
    for sort, typos in SYNTH_KWARG_TYPOS.items():
        keywords = {typo.split("=")[0] for typo in typos}
        assert not [(call, keywords & CALLS[call]) for call in SYNTH_SORTS[sort] if keywords & CALLS[call]], sort


def test_repair_keyword_typos_are_taken_by_no_call_that_takes_the_keyword():
    for keyword, typos in REPAIR_KWARG_TYPOS.items():
        takers = [call for call, keywords in CALLS.items() if keyword in keywords]
        assert not [(call, set(typos) & CALLS[call]) for call in takers if set(typos) & CALLS[call]], keyword
