"""plotly programs: plotly express on frames, and graph_objects traces added one by one
(subplots with make_subplots); both share the layout and output lines."""

from __future__ import annotations

from .builders import Prog, chart_title, fmt, overview
from .data import matrix, pie_parts, points, samples, series, surface
from .faults import wrong_name
from .themes import COLORS, SCALES, TEMPLATES


def _plotly_layout(b: Prog, title: str, xl: str, yl: str) -> None:
    r = b.r
    parts = []
    if r.random() < 0.6:
        parts.append(f"title={b.s(title)}")
    if xl and r.random() < 0.5:
        parts.append(f"xaxis_title={b.s(xl)}")
    if yl and r.random() < 0.5:
        parts.append(f"yaxis_title={b.s(yl)}")
    if r.random() < 0.3:
        parts.append(f"template={b.s(r.choice(TEMPLATES))}")
    if r.random() < 0.2:
        parts.append(f"width={r.choice((600, 700, 800, 900))}, height={r.choice((400, 450, 500))}")
    if parts:
        b.add(b.plot, f"fig.update_layout({', '.join(parts)})", call="layout",
              api=("update_layout(", r.choice(("update_layouts(", "layout_update("))))
    if r.random() < 0.1:
        b.add(b.plot, f"fig.update_xaxes(tickangle={r.choice((30, 45, -45))})", api=("update_xaxes(", "update_xaxis("))


def _plotly_output(b: Prog) -> None:
    r = b.r
    b.fig = "fig"
    b.mix(f"fig.savefig({b.s('figure.png')})")
    b.mix("fig.tight_layout()")
    b.mix(f"fig.suptitle({b.s('Overview')})")
    b.mix("plt.imshow(fig)", "import matplotlib.pyplot as plt")
    u = r.random()
    if u < 0.65:
        b.add(b.out, "fig.show()")
    elif u < 0.8:
        b.add(b.out, f"fig.write_image({b.s(r.choice(('figure.png', f'{b.kind}.png', 'chart.png')))})")
    elif u < 0.9:
        b.imp("import plotly.io as pio")
        b.add(b.out, "pio.show(fig)")
    else:
        b.add(b.out, f"fig.write_image({b.s('chart.png')}, width={r.choice((800, 1000))}, height=500)")
        b.add(b.out, "fig.show()")


def _px(b: Prog, fn: str, args: str, cols: tuple[str, ...] | list[str]) -> None:
    bad = wrong_name(b.r, "plotly.express", fn)
    b.add(b.plot, f"fig = px.{fn}({args})", call="px", cols=cols, api=(f"px.{fn}(", f"px.{bad}("))


def plotly_express_program(b: Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import plotly.express as px")
    if r.random() < 0.15:
        b.imp("import plotly.io as pio")
        b.add(b.setup, f"pio.templates.default = {b.s(r.choice(TEMPLATES))}")
    ttl = r.random() < 0.5
    if kind in ("line", "step", "area", "errorbar"):
        k = 1 if kind == "errorbar" else r.randint(1, 3)
        d = series(b, k, "num" if kind == "errorbar" else r.choice(("time", "num")), frame=True,
                    positive=kind == "area", max_n=30 if kind == "errorbar" else 365)
        title = chart_title(b, d.labels[0])
        y = b.s(d.names[0]) if k == 1 else b.strs(d.names)
        extra = f", title={b.s(title)}" if ttl else ""
        if kind == "step":
            extra += f", line_shape={b.s('hv')}"
        elif kind == "line" and r.random() < 0.3:
            extra += ", markers=True"
        if kind == "errorbar":
            err = b.name("err", "error", "sd")
            b.add(b.data, f"{d.frame}[{b.s(err)}] = {fmt(r.uniform(1, 5))}")
            _px(b, r.choice(("scatter", "line")), f"{d.frame}, x={b.s(d.xname)}, y={y}, error_y={b.s(err)}{extra}",
                (d.xname, d.names[0], err))
        else:
            _px(b, "area" if kind == "area" else "line", f"{d.frame}, x={b.s(d.xname)}, y={y}{extra}",
                [d.xname] + d.names[:k == 1])
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("bar", "barh", "grouped_bar", "stacked_bar"):
        k = 1 if kind in ("bar", "barh") else r.randint(2, 4)
        d = series(b, k, "cat", frame=True, positive=True)
        title = chart_title(b, d.labels[0], t.group)
        extra = f", title={b.s(title)}" if ttl else ""
        if kind == "barh":
            args = f"{d.frame}, x={b.s(d.names[0])}, y={b.s(d.xname)}, orientation={b.s('h')}"
        elif k == 1:
            args = f"{d.frame}, x={b.s(d.xname)}, y={b.s(d.names[0])}"
            if r.random() < 0.4:
                args += f", color={b.s(d.xname)}"
        else:
            mode = b.s("group" if kind == "grouped_bar" else r.choice(("stack", "relative")))
            args = f"{d.frame}, x={b.s(d.xname)}, y={b.strs(d.names)}, barmode={mode}"
        if r.random() < 0.3 and k == 1:
            args += ", text_auto=True"
        _px(b, "bar", args + extra, [d.xname] + d.names[:k == 1])
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("scatter", "density", "3d"):
        u = r.random()
        d = points(b, frame=True, grouped=u < 0.5, third=kind == "3d" or u < 0.25)
        x, y = d.xname, d.names[0]
        title = chart_title(b, d.labels[0], d.xlabel.split(" (")[0].lower())
        extra = f", title={b.s(title)}" if ttl else ""
        color = f", color={b.s(t.group)}" if u < 0.5 else ""
        cols = [x, y] + ([t.group] if u < 0.5 else [])
        if kind == "3d":
            _px(b, "scatter_3d", f"{d.frame}, x={b.s(x)}, y={b.s(y)}, z={b.s(d.names[1])}{color}{extra}",
                cols + [d.names[1]])
        elif kind == "density":
            fn = r.choice(("density_heatmap", "density_contour"))
            _px(b, fn, f"{d.frame}, x={b.s(x)}, y={b.s(y)}{extra}", (x, y))
        else:
            size = f", size={b.s(d.names[1])}" if u < 0.25 else ""
            log = ", log_x=True" if r.random() < 0.1 else ""
            _px(b, "scatter", f"{d.frame}, x={b.s(x)}, y={b.s(y)}{color}{size}{log}{extra}", cols)
        xl, yl = d.xlabel, d.labels[0]
    elif kind in ("hist", "box", "violin", "subplots"):
        k = r.randint(1, 3) if kind == "hist" else r.randint(2, 5)
        d = samples(b, k, "long")
        y, g = d.names[0], t.group
        title = chart_title(b, d.labels[0], g)
        extra = f", title={b.s(title)}" if ttl else ""
        if kind == "hist":
            color = f", color={b.s(g)}, barmode={b.s('overlay')}" if k > 1 else ""
            bins = f", nbins={r.choice((20, 30, 40))}" if r.random() < 0.6 else ""
            _px(b, "histogram", f"{d.frame}, x={b.s(y)}{color}{bins}{extra}", (y, g) if k > 1 else (y,))
        elif kind == "subplots":
            fn = r.choice(("histogram", "box"))
            wrap = f", facet_col_wrap={r.choice((2, 3))}" if r.random() < 0.5 else ""
            xy = f"x={b.s(y)}" if fn == "histogram" else f"y={b.s(y)}"
            _px(b, fn, f"{d.frame}, {xy}, facet_col={b.s(g)}{wrap}{extra}", (y, g))
        else:
            pts = r.choice(("", f", points={b.s('all')}", f", points={b.s('outliers')}"))
            box = ", box=True" if kind == "violin" and r.random() < 0.5 else ""
            _px(b, kind, f"{d.frame}, x={b.s(g)}, y={b.s(y)}, color={b.s(g)}{pts}{box}{extra}", (g, y))
        xl, yl = (d.labels[0], "Count") if kind == "hist" else (g.capitalize(), d.labels[0])
    elif kind == "heatmap":
        d = matrix(b, frame=False)
        text = ", text_auto=True" if r.random() < 0.4 else ""
        _px(b, "imshow", f"{d.refs[0]}, x={d.x}, y={d.extra['rows']}, color_continuous_scale={b.s(r.choice(SCALES))}"
            f"{text}", ())
        title, xl, yl = overview(b), "", ""
    else:  # pie
        d = pie_parts(b, frame=True)
        hole = f", hole={r.choice((0.3, 0.4, 0.5))}" if r.random() < 0.4 else ""
        _px(b, "pie", f"{d.frame}, names={b.s(d.xname)}, values={b.s(d.names[0])}{hole}", (d.xname, d.names[0]))
        title, xl, yl = chart_title(b, d.labels[0], t.group), "", ""
    _plotly_layout(b, title, xl, yl)
    _plotly_output(b)


def _go(b: Prog, fn: str, args: str, cols: tuple[str, ...] | list[str] = (), *, to: str = "fig",
        where: str = "") -> None:
    bad = wrong_name(b.r, "plotly.graph_objects", fn)
    b.add(b.plot, f"{to}.add_trace(go.{fn}({args}){where})", call="go", tail=f"){where})", cols=cols,
          api=(f"go.{fn}(", f"go.{bad}("))


def plotly_go_program(b: Prog) -> None:
    r, t, kind = b.r, b.t, b.kind
    b.imp("import plotly.graph_objects as go")
    frame = r.random() < 0.5
    if kind == "subplots":
        b.imp("from plotly.subplots import make_subplots")
        k = r.randint(2, 3)
        d = series(b, k, r.choice(("time", "num")), frame=frame, checked=False)
        titles = ", ".join(b.s(label) for label in d.labels)
        b.add(b.plot, f"fig = make_subplots(rows={k}, cols=1, shared_xaxes=True, subplot_titles=({titles}))")
        for j, (name, ref) in enumerate(zip(d.names, d.refs)):
            _go(b, "Scatter", f"x={d.x}, y={ref}, name={b.s(name)}", cols=(name,) if frame else (),
                where=f", row={j + 1}, col=1")
        _plotly_layout(b, overview(b), "", "")
        _plotly_output(b)
        return
    b.add(b.plot, "fig = go.Figure()")
    title, xl, yl = "", "", ""
    if kind in ("line", "step", "area", "errorbar"):
        k = 1 if kind == "errorbar" else r.randint(1, 4)
        d = series(b, k, "num" if kind == "errorbar" else r.choice(("time", "num")), frame=frame, checked=False,
                    positive=kind == "area", max_n=30 if kind == "errorbar" else 365)
        for name, ref in zip(d.names, d.refs):
            extra = r.choice(("", f", mode={b.s('lines+markers')}", f", line=dict(width={r.choice((1, 2, 3))})"))
            if kind == "step":
                extra = f", line_shape={b.s('hv')}"
            elif kind == "area":
                extra = f", fill={b.s('tozeroy')}" if k == 1 else f", stackgroup={b.s('one')}"
            elif kind == "errorbar":
                extra = f", error_y=dict(type={b.s('data')}, array=[{fmt(r.uniform(1, 4))}] * len({ref}))"
            _go(b, "Scatter", f"x={d.x}, y={ref}, name={b.s(name)}{extra}", cols=(name,) if frame else ())
        title, xl, yl = chart_title(b, d.labels[0]), d.xlabel, d.labels[0]
    elif kind in ("bar", "barh", "grouped_bar", "stacked_bar"):
        k = 1 if kind in ("bar", "barh") else r.randint(2, 4)
        d = series(b, k, "cat", frame=frame, checked=False, positive=True)
        for name, ref in zip(d.names, d.refs):
            xy = f"x={ref}, y={d.x}, orientation={b.s('h')}" if kind == "barh" else f"x={d.x}, y={ref}"
            col = f", marker_color={b.s(r.choice(COLORS[1:]))}" if k == 1 and r.random() < 0.4 else ""
            _go(b, "Bar", f"{xy}, name={b.s(name)}{col}", cols=(name,) if frame else ())
        if k > 1:
            b.add(b.plot, f"fig.update_layout(barmode={b.s('group' if kind == 'grouped_bar' else 'stack')})",
                  call="layout")
        title, xl, yl = chart_title(b, d.labels[0], t.group), d.xlabel, d.labels[0]
    elif kind in ("scatter", "density"):
        d = points(b, frame=frame, checked=False, third=kind == "scatter" and r.random() < 0.4)
        if kind == "density":
            _go(b, "Histogram2dContour", f"x={d.x}, y={d.refs[0]}, colorscale={b.s(r.choice(SCALES))}")
        else:
            marker = (f", marker=dict(size=8, color={d.refs[1]}, colorscale={b.s(r.choice(SCALES))}, showscale=True)"
                      if len(d.refs) > 1 else f", marker=dict(size={r.choice((5, 7, 9))}, opacity=0.7)")
            _go(b, "Scatter", f"x={d.x}, y={d.refs[0]}, mode={b.s('markers')}{marker}")
        title, xl, yl = chart_title(b, d.labels[0], d.xlabel.split(" (")[0].lower()), d.xlabel, d.labels[0]
    elif kind in ("hist", "box", "violin"):
        k = r.randint(1, 3) if kind == "hist" else r.randint(2, 5)
        d = samples(b, k, "wide" if frame else "dict")
        var = d.extra.get("dict", "")
        g, vals = b.name("name", "group", "label"), b.name("values", "vals", "sample")
        fn = {"hist": "Histogram", "box": "Box", "violin": "Violin"}[kind]
        data = "x" if kind == "hist" else "y"
        extra = (", opacity=0.6" if kind == "hist" else ", box_visible=True, meanline_visible=True"
                 if kind == "violin" else r.choice(("", f", boxpoints={b.s('outliers')}", ", boxmean=True")))
        if var:
            b.add(b.plot, f"for {g}, {vals} in {var}.items():")
        else:
            b.add(b.plot, f"for {g} in {d.frame}.columns:")
            vals = f"{d.frame}[{g}]"
        _go(b, fn, f"{data}={vals}, name={g}{extra}", to="    fig")
        if kind == "hist" and k > 1:
            b.add(b.plot, f"fig.update_layout(barmode={b.s('overlay')})", call="layout")
        title, xl, yl = chart_title(b, d.labels[0], t.group), "", d.labels[0]
    elif kind in ("heatmap", "contour", "3d"):
        if kind == "heatmap":
            d = matrix(b, frame=False)
            _go(b, "Heatmap", f"z={d.refs[0]}, x={d.x}, y={d.extra['rows']}, colorscale={b.s(r.choice(SCALES))}")
        else:
            xs, ys = surface(b)
            fn, gx, gy = ("Surface", "X", "Y") if kind == "3d" else ("Contour", xs, ys)
            _go(b, fn, f"z=Z, x={gx}, y={gy}, colorscale={b.s(r.choice(SCALES))}")
        title = overview(b)
    else:  # pie
        d = pie_parts(b, frame=frame, checked=False)
        hole = f", hole={r.choice((0.3, 0.4))}" if r.random() < 0.4 else ""
        _go(b, "Pie", f"labels={d.x}, values={d.refs[0]}{hole}", cols=(d.xname, d.names[0]) if frame else ())
        title = chart_title(b, d.labels[0], t.group)
    _plotly_layout(b, title, xl, yl)
    _plotly_output(b)
