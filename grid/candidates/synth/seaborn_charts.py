"""seaborn programs: axes-level charts drawn into a figure or an explicit Axes, and
figure-level grids with one panel per group."""

from __future__ import annotations

from .builders import Prog, chart_title, figsize, overview
from .data import matrix, points, samples, series
from .faults import wrong_name
from .matplotlib_charts import Ax, mpl_output
from .themes import CMAPS, PALETTES


def _sns(b: Prog, fn: str, args: str, cols: tuple[str, ...] | list[str], *, assign: str = "") -> None:
    bad = wrong_name(b.r, "seaborn", fn)
    b.add(b.plot, f"{assign}sns.{fn}({args}{b.extra_ax})", call="mpl", cols=cols, api=(f"sns.{fn}(", f"sns.{bad}("))


def seaborn_program(b: Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import seaborn as sns")
    b.imp("import matplotlib.pyplot as plt")
    u = r.random()
    if u < 0.35:
        b.add(b.setup, f"sns.set_theme(style={b.s(r.choice(('whitegrid', 'darkgrid', 'ticks', 'white')))}"
                       f"{r.choice(('', f', palette={b.s(r.choice(PALETTES))}', ', context=' + b.s('talk')))})",
              api=("sns.set_theme(", "sns.settheme("))
    elif u < 0.5:
        b.add(b.setup, f"sns.set_style({b.s(r.choice(('whitegrid', 'darkgrid', 'ticks')))})")
    elif u < 0.6:
        b.add(b.setup, "sns.set_theme()")
    if kind == "subplots":
        _seaborn_grid(b)
        return
    v = r.random()
    if v < 0.35:
        b.add(b.plot, f"fig, ax = plt.subplots(figsize={figsize(r)})")
        b.fig, b.extra_ax = "fig", ", ax=ax"
        b.mix(f"fig.update_layout(title_text={b.s('Overview')})")
    elif v < 0.65:
        b.add(b.plot, f"plt.figure(figsize={figsize(r)})")
    pal = f", palette={b.s(r.choice(PALETTES))}" if r.random() < 0.4 else ""
    ax = "" if b.extra_ax else r.choice(("", "ax = "))
    hue_group = f", hue={b.s(t.group)}"
    if kind in ("line", "step"):
        if kind == "step":
            d = samples(b, r.randint(1, 4), "long")
            _sns(b, "ecdfplot", f"data={d.frame}, x={b.s(d.names[0])}, hue={b.s(t.group)}{pal}",
                 (d.names[0], t.group), assign=ax)
            xl, yl, title = d.labels[0], "Proportion", chart_title(b, d.labels[0], t.group)
        else:
            k = r.randint(1, 3)
            d = series(b, k, r.choice(("time", "num")), frame=True)
            if k > 1:
                long = b.name("long", "tidy", "melted")
                b.assign(long, f"{d.frame}.melt(id_vars={b.s(d.xname)}, var_name={b.s('measure')}, "
                               f"value_name={b.s('value')})")
                _sns(b, "lineplot", f"data={long}, x={b.s(d.xname)}, y={b.s('value')}, hue={b.s('measure')}"
                     f"{pal}", (d.xname,), assign=ax)
            else:
                marker = f", marker={b.s('o')}" if r.random() < 0.3 else ""
                _sns(b, "lineplot", f"data={d.frame}, x={b.s(d.xname)}, y={b.s(d.names[0])}{marker}",
                     (d.xname, d.names[0]), assign=ax)
            xl, yl, title = d.xlabel, d.labels[0] if k == 1 else "Value", chart_title(b, d.labels[0])
    elif kind in ("bar", "barh", "grouped_bar"):
        if kind == "grouped_bar":
            d = series(b, r.randint(2, 3), "cat", frame=True, positive=True)
            long = b.name("long", "tidy", "melted")
            b.assign(long, f"{d.frame}.melt(id_vars={b.s(d.xname)}, var_name={b.s('measure')}, "
                           f"value_name={b.s('value')})")
            _sns(b, "barplot", f"data={long}, x={b.s(d.xname)}, y={b.s('value')}, hue={b.s('measure')}{pal}",
                 (d.xname,), assign=ax)
            xl, yl = d.xlabel, "Value"
        elif r.random() < 0.5:
            d = series(b, 1, "cat", frame=True, positive=True)
            xy = (d.xname, d.names[0]) if kind == "bar" else (d.names[0], d.xname)
            hue = f", hue={b.s(d.xname)}, legend=False" if pal else ""
            _sns(b, "barplot", f"data={d.frame}, x={b.s(xy[0])}, y={b.s(xy[1])}{hue}{pal}", xy, assign=ax)
            xl, yl = d.xlabel, d.labels[0]
        else:
            d = samples(b, r.randint(2, 5), "long")
            xy = (t.group, d.names[0]) if kind == "bar" else (d.names[0], t.group)
            err = r.choice(("", f", errorbar={b.s('sd')}", ", errorbar=None"))
            _sns(b, "barplot", f"data={d.frame}, x={b.s(xy[0])}, y={b.s(xy[1])}{err}{pal}", xy, assign=ax)
            xl, yl = t.group.capitalize(), d.labels[0]
        if kind == "barh":
            xl, yl = yl, xl
        title = chart_title(b, yl if kind != "barh" else xl, t.group)
    elif kind == "scatter":
        u = r.random()
        d = points(b, frame=True, grouped=u < 0.6, third=u < 0.3, max_n=1000)
        x, y = d.xname, d.names[0]
        if u < 0.75:
            hue = hue_group if u < 0.6 else ""
            size = f", size={b.s(d.names[1])}" if u < 0.3 else ""
            _sns(b, "scatterplot", f"data={d.frame}, x={b.s(x)}, y={b.s(y)}{hue}{size}{pal}"
                 f"{', alpha=0.7' if r.random() < 0.4 else ''}", (x, y), assign=ax)
        else:
            _sns(b, "regplot", f"data={d.frame}, x={b.s(x)}, y={b.s(y)}, ci=None", (x, y), assign=ax)
        xl, yl, title = d.xlabel, d.labels[0], chart_title(b, d.labels[0], d.xlabel.split(" (")[0].lower())
    elif kind in ("hist", "density", "box", "violin", "errorbar"):
        k = r.randint(1, 3) if kind in ("hist", "density") else r.randint(2, 5)
        d = samples(b, k, "long")
        y, g = d.names[0], t.group
        if kind == "hist":
            bins = f", bins={r.choice((15, 20, 30, 40))}" if r.random() < 0.6 else ""
            opts = r.choice(("", ", kde=True", f", element={b.s('step')}", f", multiple={b.s('stack')}",
                             f", stat={b.s('density')}, common_norm=False"))
            _sns(b, "histplot", f"data={d.frame}, x={b.s(y)}{hue_group if k > 1 else ''}{bins}{opts}{pal}",
                 (y, g) if k > 1 else (y,), assign=ax)
            xl, yl = d.labels[0], "Count"
        elif kind == "density":
            fill = ", fill=True" if r.random() < 0.6 else ""
            _sns(b, "kdeplot", f"data={d.frame}, x={b.s(y)}{hue_group if k > 1 else ''}{fill}{pal}",
                 (y, g) if k > 1 else (y,), assign=ax)
            xl, yl = d.labels[0], "Density"
        elif kind == "errorbar":
            _sns(b, "pointplot", f"data={d.frame}, x={b.s(g)}, y={b.s(y)}, errorbar={b.s('sd')}, "
                 f"capsize={r.choice((0.1, 0.2))}", (g, y), assign=ax)
            xl, yl = g.capitalize(), d.labels[0]
        else:
            fn = "boxplot" if kind == "box" else "violinplot"
            opts = (r.choice(("", f", inner={b.s('quart')}", f", inner={b.s('box')}", ", cut=0")) if kind == "violin"
                    else r.choice(("", ", showfliers=False", ", width=0.5")))
            hue = f", hue={b.s(g)}, legend=False" if pal else ""
            _sns(b, fn, f"data={d.frame}, x={b.s(g)}, y={b.s(y)}{hue}{opts}{pal}", (g, y), assign=ax)
            if r.random() < 0.3:
                _sns(b, "stripplot", f"data={d.frame}, x={b.s(g)}, y={b.s(y)}, color={b.s('black')}, size=3, "
                     f"alpha=0.5", (g, y))
            xl, yl = g.capitalize(), d.labels[0]
        title = chart_title(b, d.labels[0], g)
    elif kind == "heatmap":
        if r.random() < 0.5:
            d = matrix(b, frame=True)
            _sns(b, "heatmap", f"{d.frame}, cmap={b.s(r.choice(CMAPS))}"
                 f"{r.choice(('', ', annot=True', ', annot=True, fmt=' + b.s('.1f'), ', linewidths=0.5'))}", (),
                 assign=ax)
        else:
            d = series(b, r.randint(3, 5), "num", frame=True)
            corr = b.name("corr", "corr_matrix", "correlations")
            b.add(b.plot, f"{corr} = {d.frame}[{b.strs(d.names)}].corr()", cols=d.names)
            _sns(b, "heatmap", f"{corr}, annot=True, fmt={b.s('.2f')}, cmap={b.s('coolwarm')}, vmin=-1, vmax=1",
                 (), assign=ax)
        xl, yl, title = "", "", overview(b)
    if ax or b.extra_ax:
        b.mix(f"ax.update_layout(title_text={b.s(title)})")
        b.mix("ax.show()")
    Ax(b, "ax" if ax or b.extra_ax else "plt", b.fig).decorate(title, xl, yl, grid=False)
    mpl_output(b)


def _seaborn_grid(b: Prog) -> None:
    """Figure-level seaborn: one panel per group."""
    r, t = b.r, b.t
    d = samples(b, r.randint(2, 4), "long")
    y, g = d.names[0], t.group
    wrap = f", col_wrap={r.choice((2, 3))}" if r.random() < 0.5 else ""
    grid = b.name("g", "grid", "facets")
    u = r.random()
    if u < 0.4:
        _sns(b, "displot", f"data={d.frame}, x={b.s(y)}, col={b.s(g)}{wrap}, height=3", (y, g), assign=f"{grid} = ")
    elif u < 0.7:
        _sns(b, "catplot", f"data={d.frame}, x={b.s(g)}, y={b.s(y)}, kind={b.s(r.choice(('box', 'violin', 'strip')))}",
             (g, y), assign=f"{grid} = ")
    else:
        b.add(b.plot, f"{grid} = sns.FacetGrid({d.frame}, col={b.s(g)}{wrap}, height=3)", cols=(g,))
        b.add(b.plot, f"{grid}.map_dataframe(sns.histplot, x={b.s(y)})", cols=(y,), call="mpl")
    if r.random() < 0.5:
        b.add(b.plot, f"{grid}.set_axis_labels({b.s(d.labels[0])}, {b.s('Count')})")
    if r.random() < 0.4:
        b.add(b.plot, f"{grid}.figure.suptitle({b.s(chart_title(b, d.labels[0], g))}, y=1.02)")
    b.mix(f"{grid}.update_layout(title_text={b.s('Panels')})")
    b.fig = grid
    mpl_output(b, grid if r.random() < 0.5 else "plt")
