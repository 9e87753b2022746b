"""pandas programs: `DataFrame.plot` and its accessor methods, `hist` and `boxplot` by
group, drawn with matplotlib underneath."""

from __future__ import annotations

import re

from .builders import Prog, chart_title, figsize, fmt
from .data import pie_parts, points, samples, series
from .faults import wrong_name
from .matplotlib_charts import mpl_output
from .themes import CMAPS, COLORS, STYLES


def pandas_program(b: Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import pandas as pd")
    use_plt = r.random() < 0.8
    if use_plt:
        b.imp("import matplotlib.pyplot as plt")
        if r.random() < 0.25:
            b.add(b.setup, f"plt.style.use({b.s(r.choice(STYLES))})")
    opts: list[str] = []
    if kind in ("line", "step", "area", "errorbar", "subplots"):
        k = 1 if kind == "errorbar" else r.randint(2, 4) if kind == "subplots" else r.randint(1, 4)
        d = series(b, k, "num" if kind == "errorbar" else r.choice(("time", "num")), frame=True,
                    positive=kind == "area", max_n=30 if kind == "errorbar" else 365)
        title = chart_title(b, d.labels[0])
        ys = b.s(d.names[0]) if k == 1 else b.strs(d.names)
        cols = [d.xname] + d.names
        if kind == "errorbar":
            err = b.name("err", "sd", "error")
            b.add(b.data, f"{d.frame}[{b.s(err)}] = {fmt(r.uniform(1, 5))}")
            target, opts = f"{d.frame}.plot", [f"x={b.s(d.xname)}", f"y={ys}", f"yerr={b.s(err)}", "capsize=3"]
            cols.append(err)
        elif r.random() < 0.5:
            target = f"{d.frame}.set_index({b.s(d.xname)}).plot.{'area' if kind == 'area' else 'line'}"
            opts = [f"y={ys}"]
        else:
            target, opts = f"{d.frame}.plot", [f"x={b.s(d.xname)}", f"y={ys}"]
            if kind == "area":
                opts.append(f"kind={b.s('area')}")
        if kind == "step":
            opts.append(f"drawstyle={b.s('steps-post')}")
        elif kind == "subplots":
            opts.append("subplots=True" + (", layout=(2, 2)" if k == 4 else ""))
        elif kind == "area" and r.random() < 0.3:
            opts.append("stacked=False")
        elif kind == "line":
            opts.append(r.choice(("", f"marker={b.s('o')}", "grid=True", f"colormap={b.s(r.choice(CMAPS))}",
                                  f"style={b.s('--')}")))
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("bar", "barh", "grouped_bar", "stacked_bar"):
        k = 1 if kind in ("bar", "barh") else r.randint(2, 4)
        d = series(b, k, "cat", frame=True, positive=True)
        title = chart_title(b, d.labels[0], t.group)
        target = f"{d.frame}.plot.{'barh' if kind == 'barh' else 'bar'}"
        opts = [f"x={b.s(d.xname)}", f"y={b.s(d.names[0]) if k == 1 else b.strs(d.names)}"]
        if kind == "stacked_bar":
            opts.append("stacked=True")
        if kind != "barh" and r.random() < 0.6:
            opts.append("rot=0")
        if k == 1 and r.random() < 0.4:
            opts.append(r.choice(("legend=False", f"color={b.s(r.choice(COLORS))}")))
        cols = [d.xname] + d.names
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("scatter", "density"):
        d = points(b, frame=True, third=r.random() < 0.4, max_n=1000)
        x, y = d.xname, d.names[0]
        title = chart_title(b, d.labels[0], d.xlabel.split(" (")[0].lower())
        opts = [f"x={b.s(x)}", f"y={b.s(y)}"]
        if kind == "density":
            target = f"{d.frame}.plot.hexbin"
            opts.append(f"gridsize={r.choice((15, 20, 25))}")
        else:
            target = f"{d.frame}.plot.scatter"
            if len(d.names) > 1:
                opts.append(f"c={b.s(d.names[1])}, colormap={b.s(r.choice(CMAPS))}")
        cols = [x, y]
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("hist", "box"):
        k = r.randint(1, 3) if kind == "hist" else r.randint(2, 5)
        long = r.random() < 0.4
        d = samples(b, k, "long" if long else "wide")
        title = chart_title(b, d.labels[0], t.group)
        if long:
            target = f"{d.frame}.{'hist' if kind == 'hist' else 'boxplot'}"
            opts = [f"column={b.s(d.names[0])}", f"by={b.s(t.group)}"]
            cols = [d.names[0], t.group]
        else:
            target, cols = f"{d.frame}.plot.{kind}", []
            if kind == "hist":
                opts = [f"bins={r.choice((15, 20, 30))}", "alpha=0.6"]
        xl, yl = (d.labels[0], "Frequency") if kind == "hist" else (t.group.capitalize(), d.labels[0])
    else:  # pie
        d = pie_parts(b, frame=True)
        title = chart_title(b, d.labels[0], t.group)
        target = f"{d.frame}.set_index({b.s(d.xname)}).plot.pie"
        opts = [f"y={b.s(d.names[0])}", "legend=False"]
        if r.random() < 0.6:
            opts.append(f"autopct={b.s('%1.0f%%')}")
        cols, xl, yl = [d.xname, d.names[0]], "", ""
    if r.random() < 0.5:
        opts.append(f"figsize={figsize(r)}")
    if kind not in ("hist", "box", "subplots") and r.random() < 0.4:
        opts.append(f"title={b.s(title)}")
    call = f"{target}({', '.join(o for o in opts if o)})"
    assign = r.random() < 0.6 and "by=" not in call and "subplots" not in call
    b.add(b.plot, f"ax = {call}" if assign else call, call="mpl", cols=cols, api=_pandas_api(b, call))
    if assign:
        b.mix(f"ax.update_layout(title_text={b.s(title)})")
        b.mix("ax.show()")
        if r.random() < 0.5:
            if xl and r.random() < 0.5:
                b.add(b.plot, f"ax.set_xlabel({b.s(xl)})", call="text", api=(".set_xlabel(", ".xlabel("))
            if yl:
                b.add(b.plot, f"ax.set_ylabel({b.s(yl)})", call="text", api=(".set_ylabel(", ".ylabel("))
            if "title=" not in call:
                b.add(b.plot, f"ax.set_title({b.s(title)})", call="text", api=(".set_title(", ".title("))
    if use_plt:
        b.mix(f"plt.gcf().update_layout(title_text={b.s('Overview')})")
        mpl_output(b)
    elif assign and r.random() < 0.5:
        b.fig = "ax"
        b.add(b.out, f"ax.figure.savefig({b.s(f'{kind}.png')})")


def _pandas_api(b: Prog, call: str) -> tuple[str, str]:
    """A realistic wrong spelling of the pandas plotting call in `call`."""
    m = re.search(r"\.plot\.(\w+)\(", call)
    if m:
        return f".plot.{m[1]}(", f".plot.{wrong_name(b.r, "pandas", m[1])}("
    if ".hist(" in call:
        return ".hist(", ".histogram("
    if ".boxplot(" in call:
        return ".boxplot(", ".box_plot("
    if "kind=" in call:
        return f"kind={b.s('area')}", f"kind={b.s('stacked_area')}"
    return ".plot(", ".plots("
