"""matplotlib programs: pyplot or the object API; lines, bars, scatter, distributions,
heatmaps, pies, fields, 3-D and panel grids; and the output lines seaborn and pandas share."""

from __future__ import annotations

from collections.abc import Callable

from .builders import Prog, chart_title, figsize, literal, numbers, overview
from .data import matrix, pie_parts, points, samples, series, surface
from .faults import wrong_name
from .themes import CMAPS, COLORS, STYLES


class Ax:
    """A matplotlib target: pyplot's implicit current axes, or an explicit Axes variable."""

    __slots__ = ("b", "fig", "v")

    def __init__(self, b: Prog, v: str, fig: str = "") -> None:
        self.b, self.v, self.fig = b, v, fig

    @property
    def oo(self) -> bool:
        return self.v != "plt"

    def draw(self, fn: str, args: str, *, assign: str = "", typo: bool = True) -> None:
        """A plotting call: a place for a misspelled keyword or method name."""
        b = self.b
        bad = wrong_name(b.r, "matplotlib", fn)
        b.add(b.plot, f"{assign}{self.v}.{fn}({args})", call="mpl" if typo else "", api=(f".{fn}(", f".{bad}("))

    def set(self, what: str, text: str) -> None:
        """title, xlabel, ylabel: `plt.title(...)` or `ax.set_title(...)`."""
        b = self.b
        fn, bad = (f"set_{what}", what) if self.oo else (what, f"set_{what}")
        kw = f", fontsize={b.r.choice((10, 12, 14))}" if b.r.random() < 0.2 else ""
        b.add(b.plot, f"{self.v}.{fn}({b.s(text)}{kw})", call="text", api=(f".{fn}(", f".{bad}("))

    def scale(self, axis: str) -> None:
        fn = f"set_{axis}scale" if self.oo else f"{axis}scale"
        self.b.add(self.b.plot, f"{self.v}.{fn}({self.b.s('log')})")

    def ticks(self, ticks: str, labels: str, rotation: int = 0) -> None:
        rot = f", rotation={rotation}" if rotation else ""
        fn = "set_xticks" if self.oo else "xticks"
        self.b.add(self.b.plot, f"{self.v}.{fn}({ticks}, {labels}{rot})")

    def colorbar(self, mappable: str, label: str) -> None:
        b = self.b
        lab = f", label={b.s(label)}" if label else ""
        if self.oo and self.fig:
            b.add(b.plot, f"{self.fig}.colorbar({mappable}, ax={self.v}{lab})")
        else:
            b.add(b.plot, f"plt.colorbar({mappable}{lab})")

    def legend(self) -> None:
        b, r = self.b, self.b.r
        args = r.choice(("", f"loc={b.s(r.choice(('upper left', 'best', 'lower right', 'upper right')))}",
                         "frameon=False", f"title={b.s(b.t.group.capitalize())}"))
        b.add(b.plot, f"{self.v}.legend({args})", call="text" if args else "")

    def decorate(self, title: str, xlabel: str, ylabel: str, *, legend: bool = False, grid: bool = True) -> None:
        r = self.b.r
        if r.random() < 0.85:
            self.set("title", title)
        if xlabel and r.random() < 0.7:
            self.set("xlabel", xlabel)
        if ylabel and r.random() < 0.75:
            self.set("ylabel", ylabel)
        if legend and r.random() < 0.85:
            self.legend()
        if grid and r.random() < 0.35:
            self.b.add(self.b.plot, r.choice((f"{self.v}.grid(True, alpha=0.3)", f"{self.v}.grid(True)",
                                              f"{self.v}.grid(axis={self.b.s('y')}, linestyle={self.b.s('--')})")))


def _mpl_style(b: Prog) -> None:
    r = b.r
    u = r.random()
    if u < 0.3:
        style = r.choice(STYLES)
        i = b.add(b.setup, f"plt.style.use({b.s(style)})")
        if style.startswith("seaborn-v0_8-"):
            b.sites["bad_api"].append((b.setup, i, "seaborn-v0_8-", "seaborn-"))
    elif u < 0.4:
        b.add(b.setup, f"plt.rcParams[{b.s('figure.figsize')}] = ({r.randint(6, 10)}, {r.randint(3, 6)})")
    elif u < 0.45:
        b.add(b.setup, f"plt.rcParams.update({{{b.s('font.size')}: {r.choice((9, 10, 11, 12))}}})")
    elif u < 0.48:
        b.imp("import matplotlib")
        b.add(b.setup, f"matplotlib.use({b.s('Agg')})")


def _mpl_axes(b: Prog, oo: bool) -> Ax:
    """Figure and axes creation, the object-API or pyplot way."""
    r = b.r
    if oo:
        ax = b.name("ax", "ax", "ax", "axis", "ax1")
        fig = "fig"
        u = r.random()
        if u < 0.5:
            b.add(b.plot, f"{fig}, {ax} = plt.subplots(figsize={figsize(r)})")
        elif u < 0.7:
            b.add(b.plot, f"{fig}, {ax} = plt.subplots()")
        elif u < 0.85:
            b.add(b.plot, f"{fig}, {ax} = plt.subplots(figsize={figsize(r)}, layout={b.s('constrained')})")
        else:
            b.add(b.plot, f"{fig} = plt.figure(figsize={figsize(r)})")
            b.add(b.plot, f"{ax} = {fig}.add_subplot(111)")
        b.fig = fig
        b.mix(f"{fig}.update_layout(title_text={b.s('Overview')})")
        b.mix(f"{ax}.update_xaxes(title_text={b.s('x')})")
        b.mix(f"{fig}.write_image({b.s('figure.png')})")
        b.mix(f"go.Figure({fig}).show()", "import plotly.graph_objects as go")
        return Ax(b, ax, fig)
    u = r.random()
    if u < 0.5:
        b.add(b.plot, f"plt.figure(figsize={figsize(r)})")
    elif u < 0.65:
        b.add(b.plot, f"fig = plt.figure(figsize={figsize(r)})")
        b.fig = "fig"
    b.mix(f"plt.gcf().update_layout(title_text={b.s('Overview')})")
    b.mix(f"plt.gca().update_yaxes(type={b.s('log')})")
    return Ax(b, "plt", b.fig)


def mpl_output(b: Prog, target: str = "plt") -> None:
    r = b.r
    fig = b.fig if b.fig and target == "plt" else ""
    if not any("constrained" in line for line in b.plot) and r.random() < 0.5:
        owner = fig if fig and r.random() < 0.5 else "plt"
        b.add(b.out, f"{owner}.tight_layout()", api=(".tight_layout(", ".tightlayout("))
    u = r.random()
    if u < 0.45:
        b.add(b.out, "plt.show()")
        return
    if u > 0.88:
        return  # the figure left open is the output, as in a notebook
    name = r.choice((f"{b.t.name}_{b.kind}.png", "figure.png", "chart.png", "output.png", f"{b.kind}.png",
                     f"plots/{b.kind}.png"))
    if name.startswith("plots/"):
        b.imp("import os")
        b.add(b.out, f"os.makedirs({b.s('plots')}, exist_ok=True)")
    saver = target if target != "plt" else (fig if fig and r.random() < 0.5 else "plt")
    opts = r.choice(("", ", dpi=100", f", dpi={r.choice((80, 100, 120))}, bbox_inches={b.s('tight')}",
                     f", bbox_inches={b.s('tight')}"))
    b.add(b.out, f"{saver}.savefig({b.s(name)}{opts})")
    if u > 0.75:
        b.add(b.out, "plt.show()")
    elif r.random() < 0.4:
        b.add(b.out, f"plt.close({fig})" if fig == "fig" and saver == fig else "plt.close()")


def _mpl_series(b: Prog, ax: Ax) -> None:
    """line, step, area and errorbar charts over dates or numbers."""
    r, kind = b.r, b.kind
    k = 1 if kind == "errorbar" else r.randint(2, 4) if kind == "area" and r.random() < 0.6 else r.randint(1, 4)
    xkind = "num" if kind == "errorbar" else r.choice(("time", "num"))
    d = series(b, k, xkind, frame=r.random() < 0.4, positive=kind == "area",
                max_n=20 if kind == "errorbar" else 365)
    color = r.random() < 0.4
    if kind == "area" and k > 1:
        labels = f", labels={b.strs(d.names)}" if r.random() < 0.8 else ""
        ax.draw("stackplot", f"{d.x}, {', '.join(d.refs)}{labels}, alpha={r.choice((0.6, 0.8, 0.9))}")
        ax.decorate(chart_title(b, d.labels[0]), d.xlabel, "Total", legend=bool(labels))
    else:
        for name, ref in zip(d.names, d.refs):
            label = f", label={b.s(name)}" if k > 1 or r.random() < 0.3 else ""
            col = f", color={b.s(r.choice(COLORS))}" if color and k == 1 else ""
            if kind == "line":
                marker = f", marker={b.s(r.choice('o.s^'))}" if r.random() < 0.3 else ""
                lw = f", linewidth={r.choice((1, 1.5, 2, 2.5))}" if r.random() < 0.3 else ""
                ax.draw("plot", f"{d.x}, {ref}{label}{col}{marker}{lw}")
            elif kind == "step":
                ax.draw("step", f"{d.x}, {ref}, where={b.s(r.choice(('post', 'mid', 'pre')))}{label}{col}")
            elif kind == "area":
                ax.draw("fill_between", f"{d.x}, {ref}, alpha={r.choice((0.3, 0.4, 0.5))}{label}{col}")
                if r.random() < 0.5:
                    ax.draw("plot", f"{d.x}, {ref}{col}", typo=False)
            else:
                err = b.name("err", "errors", "yerr", "sd")
                b.assign(err, literal(numbers(r, 2, 1, d.n)) if b.inline else f"{b.gen()}.uniform(0.5, 3, {d.sz})")
                ax.draw("errorbar", f"{d.x}, {ref}, yerr={err}, fmt={b.s(r.choice(('o-', 'o', 's--', '.-')))}, "
                        f"capsize={r.choice((2, 3, 4, 5))}{col}")
        ax.decorate(chart_title(b, d.labels[0]), d.xlabel, d.labels[0] if k == 1 else "", legend=k > 1)
    if xkind == "time" and r.random() < 0.6:
        if ax.oo and ax.fig and r.random() < 0.5:
            b.add(b.plot, f"{ax.fig}.autofmt_xdate()")
        else:
            b.add(b.plot, f"{ax.v}.tick_params(axis={b.s('x')}, rotation=45)" if ax.oo else "plt.xticks(rotation=45)")
    if r.random() < 0.12:
        b.imp("import numpy as np")
        b.add(b.plot, f"{ax.v}.axhline(np.mean({d.refs[0]}), color={b.s('gray')}, linestyle={b.s('--')}, "
                      f"linewidth=1)", call="mpl")


def _mpl_bars(b: Prog, ax: Ax) -> None:
    """bar, barh, grouped and stacked bars over categories."""
    r, kind = b.r, b.kind
    k = r.randint(2, 4) if kind in ("grouped_bar", "stacked_bar") else 1
    d = series(b, k, "cat", frame=r.random() < 0.4, positive=True)
    if k == 1:
        fn = "barh" if kind == "barh" else "bar"
        color = f", color={b.s(r.choice(COLORS))}" if r.random() < 0.5 else ""
        edge = f", edgecolor={b.s('black')}" if r.random() < 0.2 else ""
        labels = r.random() < 0.3
        bars = b.name("bars", "container", "rects")
        ax.draw(fn, f"{d.x}, {d.refs[0]}{color}{edge}", assign=f"{bars} = " if labels else "")
        if labels:
            b.add(b.plot, f"{ax.v}.bar_label({bars}, fmt={b.s('%.0f')})")
        if kind == "barh":
            ax.decorate(chart_title(b, d.labels[0], d.xlabel.lower()), d.labels[0], "", grid=True)
            if r.random() < 0.4:
                b.add(b.plot, f"{ax.v}.invert_yaxis()" if ax.oo else "plt.gca().invert_yaxis()")
        else:
            ax.decorate(chart_title(b, d.labels[0], d.xlabel.lower()), d.xlabel, d.labels[0])
            if r.random() < 0.3:
                b.add(b.plot, f"{ax.v}.tick_params(axis={b.s('x')}, rotation=30)" if ax.oo else
                      "plt.xticks(rotation=30)")
        if r.random() < 0.1:
            ax.scale("y" if kind == "bar" else "x")
        return
    b.imp("import numpy as np")
    pos = b.name("x", "pos", "idx", "positions")
    b.add(b.plot, f"{pos} = np.arange(len({d.x}))")
    if kind == "grouped_bar":
        w = b.name("width", "w", "bar_width")
        b.add(b.plot, f"{w} = {round(0.8 / k, 2)}")
        for j, (name, ref) in enumerate(zip(d.names, d.refs)):
            shift = f"{pos} + {j - (k - 1) / 2} * {w}" if k % 2 == 0 or j != (k - 1) // 2 else pos
            ax.draw("bar", f"{shift}, {ref}, {w}, label={b.s(name)}")
        ax.ticks(pos, d.x)
    else:
        bottom = b.name("bottom", "base", "running")
        b.add(b.plot, f"{bottom} = np.zeros(len({d.x}))")
        for name, ref in zip(d.names, d.refs):
            ax.draw("bar", f"{d.x}, {ref}, bottom={bottom}, label={b.s(name)}")
            b.add(b.plot, f"{bottom} = {bottom} + np.asarray({ref})")
    ax.decorate(chart_title(b, d.labels[0], d.xlabel.lower()), d.xlabel, "", legend=True)


def _mpl_scatter(b: Prog, ax: Ax) -> None:
    r = b.r
    u = r.random()
    d = points(b, frame=r.random() < 0.3, third=u < 0.4, grouped=0.4 <= u < 0.6)
    alpha = f", alpha={r.choice((0.5, 0.6, 0.7, 0.8))}" if r.random() < 0.6 else ""
    s = f", s={r.choice((10, 15, 20, 30, 40))}" if r.random() < 0.4 else ""
    if u < 0.4:
        sc = b.name("sc", "points", "scatter", "pts")
        ax.draw("scatter", f"{d.x}, {d.refs[0]}, c={d.refs[1]}, cmap={b.s(r.choice(CMAPS))}{s}{alpha}",
                assign=f"{sc} = ")
        ax.colorbar(sc, d.labels[1])
    elif u < 0.6:
        g = b.name("group", "name", "label", "key")
        b.imp("import numpy as np")
        gref = d.refs[-1]
        mask = f"np.asarray({gref}) == {g}"
        b.add(b.plot, f"for {g} in sorted(set({gref})):")
        b.add(b.plot, f"    {ax.v}.scatter(np.asarray({d.x})[{mask}], np.asarray({d.refs[0]})[{mask}], label={g}{s}{alpha})",
              call="mpl")
    else:
        col = f", color={b.s(r.choice(COLORS))}" if r.random() < 0.5 else ""
        ax.draw("scatter", f"{d.x}, {d.refs[0]}{col}{s}{alpha}")
    ax.decorate(chart_title(b, d.labels[0], d.xlabel.split(" (")[0].lower()), d.xlabel, d.labels[0],
                legend=0.4 <= u < 0.6)


def _mpl_dist(b: Prog, ax: Ax) -> None:
    """hist, box and violin charts of samples."""
    r, kind = b.r, b.kind
    if kind == "hist":
        k = 1 if r.random() < 0.6 else r.randint(2, 3)
        d = samples(b, k, "single" if k == 1 else "dict")
        bins = f", bins={r.choice((10, 15, 20, 30, 40, 50))}" if r.random() < 0.8 else ""
        extra = r.choice(("", f", edgecolor={b.s('white')}", f", histtype={b.s('step')}", ", density=True",
                          f", color={b.s(r.choice(COLORS))}"))
        if k == 1:
            ax.draw("hist", f"{d.refs[0]}{bins}{extra}")
        else:
            g, v = b.name("name", "group", "label"), b.name("values", "vals", "sample")
            b.add(b.plot, f"for {g}, {v} in {d.extra['dict']}.items():")
            b.add(b.plot, f"    {ax.v}.hist({v}{bins}, alpha=0.5, label={g})", call="mpl",
                  api=(".hist(", ".histogram("))
        ax.decorate(chart_title(b, d.labels[0]), d.labels[0], r.choice(("Count", "Frequency", "Density")),
                    legend=k > 1)
        return
    k = r.randint(2, 6)
    d = samples(b, k, r.choice(("dict", "wide")))
    data = d.refs[0] if d.extra else f"[{', '.join(d.refs)}]"
    labels = d.x if d.extra else b.strs(d.names)
    if kind == "box":
        opts = r.choice(("", ", patch_artist=True", ", showfliers=False", ", notch=True",
                         f", orientation={b.s('horizontal')}"))
        b.add(b.plot, f"{ax.v}.boxplot({data}, tick_labels={labels}{opts})", call="mpl",
              api=("tick_labels=", "labels="))
    else:
        ax.draw("violinplot", f"{data}, showmeans={r.choice(('True', 'False'))}, showmedians=True")
        ax.ticks(f"range(1, {k + 1})", labels)
    ax.decorate(chart_title(b, d.labels[0], b.t.group), b.t.group.capitalize(), d.labels[0])


def _mpl_heatmap(b: Prog, ax: Ax) -> None:
    r = b.r
    d = matrix(b, frame=False)
    z, rows, cols = d.refs[0], d.extra["rows"], d.x
    im = b.name("im", "img", "mesh")
    ax.draw("imshow", f"{z}, cmap={b.s(r.choice(CMAPS))}, aspect={b.s('auto')}", assign=f"{im} = ")
    ax.colorbar(im, "")
    ax.ticks(f"range(len({cols}))", cols, r.choice((0, 45)))
    b.add(b.plot, f"{ax.v}.set_yticks(range(len({rows})), {rows})" if ax.oo else f"plt.yticks(range(len({rows})), {rows})")
    if r.random() < 0.5:
        i, j = b.name("i", "row"), b.name("j", "col")
        b.add(b.plot, f"for {i} in range(len({rows})):")
        b.add(b.plot, f"    for {j} in range(len({cols})):")
        b.add(b.plot, f"        {ax.v}.text({j}, {i}, f{b.q}{{{z}[{i}, {j}]:.1f}}{b.q}, ha={b.s('center')}, "
                      f"va={b.s('center')}, fontsize=8)")
    ax.set("title", overview(b))


def _mpl_pie(b: Prog, ax: Ax) -> None:
    r = b.r
    d = pie_parts(b, frame=r.random() < 0.3)
    opts = r.choice(("", f", autopct={b.s('%1.1f%%')}", f", autopct={b.s('%1.0f%%')}, startangle=90",
                     ", startangle=90, wedgeprops=dict(width=0.4)", ", shadow=True"))
    ax.draw("pie", f"{d.refs[0]}, labels={d.x}{opts}")
    if r.random() < 0.5:
        b.add(b.plot, f"{ax.v}.axis({b.s('equal')})")
    if r.random() < 0.8:
        ax.set("title", chart_title(b, d.labels[0], b.t.group))


def _mpl_field(b: Prog, ax: Ax) -> None:
    """contour (a closed-form surface) and density (a 2-D histogram or a numpy KDE)."""
    r = b.r
    cmap = b.s(r.choice(CMAPS))
    if b.kind == "contour":
        surface(b)
        cs = b.name("cs", "cf", "contours")
        ax.draw("contourf", f"X, Y, Z, levels={r.choice((10, 15, 20, 30))}, cmap={cmap}", assign=f"{cs} = ")
        if r.random() < 0.4:
            b.add(b.plot, f"{ax.v}.contour(X, Y, Z, colors={b.s('k')}, linewidths=0.5)")
        ax.colorbar(cs, "")
        ax.decorate(r.choice(("Contour plot", "Level sets", "z = f(x, y)")), "x", "y", grid=False)
        return
    b.inline = False
    d = points(b, frame=False, max_n=600)
    u = r.random()
    if u < 0.35:
        ax.draw("hexbin", f"{d.x}, {d.refs[0]}, gridsize={r.choice((15, 20, 30))}, cmap={cmap}",
                assign="hb = ")
        ax.colorbar("hb", "count")
    elif u < 0.6:
        ax.draw("hist2d", f"{d.x}, {d.refs[0]}, bins={r.choice((20, 30, 40))}, cmap={cmap}", assign="h = ")
        ax.colorbar("h[3]", "count")
    else:
        g = r.choice((40, 50, 60))
        bw = r.choice((0.3, 0.5))
        b.add(b.plot, f"gx, gy = np.meshgrid(np.linspace({d.x}.min(), {d.x}.max(), {g}), "
                      f"np.linspace({d.refs[0]}.min(), {d.refs[0]}.max(), {g}))")
        b.add(b.plot, f"zx = ({d.x} - {d.x}.mean()) / {d.x}.std()")
        b.add(b.plot, f"zy = ({d.refs[0]} - {d.refs[0]}.mean()) / {d.refs[0]}.std()")
        b.add(b.plot, f"gzx = (gx[..., None] - {d.x}.mean()) / {d.x}.std()")
        b.add(b.plot, f"gzy = (gy[..., None] - {d.refs[0]}.mean()) / {d.refs[0]}.std()")
        b.add(b.plot, f"density = np.exp(-((gzx - zx) ** 2 + (gzy - zy) ** 2) / (2 * {bw} ** 2)).sum(axis=-1)")
        ax.draw("contourf", f"gx, gy, density, levels=15, cmap={cmap}", assign="cf = ")
        ax.colorbar("cf", "density")
    ax.decorate(chart_title(b, d.labels[0], d.xlabel.split(" (")[0].lower()), d.xlabel, d.labels[0], grid=False)


def _mpl_3d(b: Prog, oo: bool) -> None:
    r = b.r
    ax = b.name("ax", "ax3d", "ax")
    fig = "fig"
    if oo or r.random() < 0.5:
        b.add(b.plot, f"{fig} = plt.figure(figsize={figsize(r)})")
        b.add(b.plot, f"{ax} = {fig}.add_subplot(projection={b.s('3d')})")
        b.fig = fig
    else:
        b.add(b.plot, f"{ax} = plt.axes(projection={b.s('3d')})")
    a = Ax(b, ax, b.fig)
    cmap = b.s(r.choice(CMAPS))
    if r.random() < 0.6:
        surface(b)
        if r.random() < 0.7:
            a.draw("plot_surface", f"X, Y, Z, cmap={cmap}, edgecolor={b.s('none')}", assign="surf = ")
            if b.fig and r.random() < 0.5:
                b.add(b.plot, f"{b.fig}.colorbar(surf, shrink=0.6)")
        else:
            a.draw("plot_wireframe", f"X, Y, Z, rstride=3, cstride=3, color={b.s(r.choice(COLORS))}")
        labels = ("x", "y", "z")
    else:
        d = points(b, frame=False, third=True, max_n=1000)
        a.draw("scatter", f"{d.x}, {d.refs[0]}, {d.refs[1]}, c={d.refs[1]}, cmap={cmap}")
        labels = (d.xlabel, d.labels[0], d.labels[1])
    if r.random() < 0.7:
        for axis, label in zip("xyz", labels):
            b.add(b.plot, f"{ax}.set_{axis}label({b.s(label)})")
    if r.random() < 0.4:
        b.add(b.plot, f"{ax}.view_init(elev={r.choice((20, 30, 45))}, azim={r.choice((-60, 30, 135))})")
    if r.random() < 0.7:
        a.set("title", r.choice(("Surface", "3D view", chart_title(b, labels[2]))))
    b.mix(f"{ax}.update_layout(scene_camera_eye=dict(x=1.5, y=1.5, z=1))")
    mpl_output(b)


_PANELS = ("plot", "hist", "scatter", "step", "fill_between", "bar")


def _mpl_subplots(b: Prog, oo: bool) -> None:
    """A grid of small panels over the same measures."""
    r = b.r
    k = r.randint(2, 4)
    panels = [r.choice(_PANELS) for _ in range(k)]
    d = series(b, k, "time" if r.random() < 0.5 else "num", frame=r.random() < 0.5,
                checked=not {"hist", "bar"} & set(panels))
    nrows, ncols = r.choice(((1, k), (k, 1))) if k < 4 else (2, 2)
    if oo:
        axes = b.name("axes", "axs", "axes")
        share = r.choice(("", ", sharex=True")) if nrows > 1 else ""
        b.add(b.plot, f"fig, {axes} = plt.subplots({nrows}, {ncols}, figsize={figsize(r)}{share})")
        b.fig = "fig"
        b.mix(f"fig.update_layout(title_text={b.s('Panels')})")
        b.mix(f"{axes}[0].update_traces(marker_size=4)" if nrows == 1 or ncols == 1 else
              f"{axes}[0, 0].update_traces(marker_size=4)")
    for j, (panel, name, ref, label) in enumerate(zip(panels, d.names, d.refs, d.labels)):
        if oo:
            target = Ax(b, f"{axes}[{j}]" if nrows == 1 or ncols == 1 else f"{axes}[{j // 2}, {j % 2}]", "fig")
        else:
            b.add(b.plot, f"plt.subplot({nrows}, {ncols}, {j + 1})")
            target = Ax(b, "plt")
        if panel == "hist":
            target.draw("hist", f"{ref}, bins={r.choice((10, 20, 30))}, color={b.s(r.choice(COLORS))}")
        elif panel == "scatter":
            target.draw("scatter", f"{d.x}, {ref}, s=8")
        elif panel == "fill_between":
            target.draw("fill_between", f"{d.x}, {ref}, alpha=0.4")
        elif panel == "bar":
            target.draw("bar", f"range(len({ref})), {ref}")
        else:
            target.draw(panel, f"{d.x}, {ref}")
        target.set("title", label)
    if not oo:
        b.mix(f"plt.gcf().update_layout(title_text={b.s('Panels')})")
    if r.random() < 0.5:
        b.add(b.plot, f"{'fig' if oo else 'plt'}.suptitle({b.s(overview(b))})")
    mpl_output(b)


_MPL_KINDS: dict[str, Callable[[Prog, Ax], None]] = {
    "line": _mpl_series, "step": _mpl_series, "area": _mpl_series, "errorbar": _mpl_series,
    "bar": _mpl_bars, "barh": _mpl_bars, "grouped_bar": _mpl_bars, "stacked_bar": _mpl_bars,
    "scatter": _mpl_scatter, "hist": _mpl_dist, "box": _mpl_dist, "violin": _mpl_dist,
    "heatmap": _mpl_heatmap, "pie": _mpl_pie, "contour": _mpl_field, "density": _mpl_field,
}


def matplotlib_program(b: Prog, oo: bool) -> None:
    b.imp("import matplotlib.pyplot as plt")
    _mpl_style(b)
    if b.kind == "3d":
        _mpl_3d(b, oo)
    elif b.kind == "subplots":
        _mpl_subplots(b, oo)
    else:
        _MPL_KINDS[b.kind](b, _mpl_axes(b, oo))
        mpl_output(b)
