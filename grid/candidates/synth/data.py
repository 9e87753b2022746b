"""Themed data for the templates: series over time, numbers or categories, samples per
group, related points, labelled grids, closed-form surfaces and pie shares, as inline
literals or draws from a seeded numpy generator, in arrays, dicts or frames. Each records
where a shape or dtype fault could go."""

from __future__ import annotations

from .builders import Cols, Prog, fmt, literal, numbers
from .themes import DAYS, MONTHS


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") and word[-2] not in "aeiou" else word + "s"


def _quoted(values: str, q: str) -> str:
    """Numbers turned into text, as when they come from a scraped table."""
    return literal([f"{q}{x}{q}" for x in values.strip("[]").split(", ")])


def _values(b: Prog, measure: tuple, n: int, sz: str, *, walk: bool = False, positive: bool = False) -> str:
    """A column of values: a literal list, or a draw from the generator sized by sz."""
    r = b.r
    _, base, spread, _ = measure
    if b.inline:
        return literal(numbers(r, base, spread, n, walk=walk))
    rng = b.gen()
    if positive or not walk:
        u = r.random()
        if base >= 20 and u < 0.4:
            return f"{rng}.integers({fmt(base - spread)}, {fmt(base + spread)}, {sz})"
        if u < 0.7:
            return f"{rng}.uniform({fmt(base - spread)}, {fmt(base + spread)}, {sz})"
        return f"{rng}.normal({fmt(base)}, {fmt(spread / 3)}, {sz}).round({0 if base >= 100 else 1})"
    u = r.random()
    if u < 0.35:
        return f"{fmt(base)} + {rng}.normal(0, {fmt(spread / 5)}, {sz}).cumsum()"
    if u < 0.65:
        cycles = r.choice((2, 4, 6))
        return (f"{fmt(base)} + {fmt(spread)} * np.sin(np.linspace(0, {cycles} * np.pi, {sz}))"
                f" + {rng}.normal(0, {fmt(spread / 4)}, {sz})")
    if u < 0.85:
        return f"np.linspace({fmt(base - spread)}, {fmt(base + spread)}, {sz}) + {rng}.normal(0, {fmt(spread / 4)}, {sz})"
    return f"{rng}.normal({fmt(base)}, {fmt(spread / 2)}, {sz})"


def _shape_site(b: Prog, sec: list[str], i: int, expr: str, sz: str) -> None:
    """One column a value short: a list loses its last item, a draw one sample."""
    if expr.startswith("["):
        items = expr[1:-1].split(", ")
        if len(items) > 1:
            b.sites["shape_mismatch"].append((sec, i, expr, literal(items[:-1])))
    elif f", {sz})" in expr:
        b.sites["shape_mismatch"].append((sec, i, expr, expr.replace(f", {sz})", f", {sz} - 1)", 1)))


def _text_values(b: Prog, expr: str) -> str:
    if expr.startswith("["):
        return _quoted(expr, b.q)
    return f"{expr}.astype(str)" if expr.startswith(b.rng + ".") else f"({expr}).astype(str)"


def _rescale(b: Prog, col: str, ref: str, expr: str, line: int, container: str) -> str:
    """Scale one measure after it is defined (the place a text-typed column fails);
    returns the axis label suffix."""
    big = any(m[0] == col and m[1] >= 1000 for m in b.t.measures)
    if container == "frame":
        rhs = f"{ref} / 1000" if big else f"{ref} / {ref}.max()"
        b.add(b.data, f"{ref} = {rhs}")
    elif container == "array":
        b.add(b.data, f"{ref} = {ref} / 1000" if big else f"{ref} = {ref} / {ref}.max()")
    else:
        v = b.name("v", "x", "value")
        b.add(b.data, f"{ref} = [{v} / 1000 for {v} in {ref}]" if big else f"{ref} = [{v} / max({ref}) for {v} in {ref}]")
    b.sites["wrong_dtype"].append((b.data, line, expr, _text_values(b, expr)))
    return " (thousands)" if big else " (share of max)"


def _frame_line(b: Prog, var: str, entries: list[tuple[str, str]]) -> int:
    """`var = pd.DataFrame({...})`, on one line or one column per line."""
    b.imp("import pandas as pd")
    body = ", ".join(f"{b.s(k)}: {v}" for k, v in entries)
    if len(body) < 80:
        return b.assign(var, f"pd.DataFrame({{{body}}})")
    inner = "".join(f"\n    {b.s(k)}: {v}," for k, v in entries)
    return b.assign(var, f"pd.DataFrame({{{inner}\n}})")


def _frame_name(b: Prog) -> str:
    return b.name("df", "df", "df", "data", "frame", b.t.name, f"{b.t.name}_df", "table")


def series(b: Prog, k: int, xkind: str, *, frame: bool, checked: bool = True, positive: bool = False,
            max_n: int = 365) -> Cols:
    """x (dates, numbers or categories) and k measures over it."""
    r, t = b.r, b.t
    ms = r.sample(t.measures, k)
    if xkind == "cat":
        n = r.randint(3, 8)
        xname, xlabel = t.group, t.group.capitalize()
        xv = b.name(_plural(t.group), "labels", "categories", "names")
        b.assign(xv, b.strs(r.sample(t.cats, n)))
        sz = f"len({xv})"
    else:
        n = r.randint(5, 12) if b.inline else r.choice(tuple(v for v in (12, 24, 30, 48, 60, 90, 120, 180, 365)
                                                             if v <= max_n))
        sz = str(n) if b.inline else b.n(n, "n_points", "periods", "n_steps")
        if xkind == "time":
            b.imp("import pandas as pd")
            xname, xlabel = t.time, t.time.replace("_", " ").capitalize()
            xexpr = f"pd.date_range({b.s(t.start)}, periods={sz}, freq={b.s(t.freq)})"
        elif b.inline:
            start = r.choice((1, 2010, 1995))
            xname, xlabel = ("year", "Year") if start > 1 else (r.choice(("step", "trial", "week_no")), "Step")
            xexpr = r.choice((f"list(range({start}, {start + n}))", literal([str(start + j) for j in range(n)])))
        else:
            b.imp("import numpy as np")
            xname, xlabel = r.choice((("t", "Time (s)"), ("step", "Step"), ("distance_km", "Distance (km)")))
            xexpr = r.choice((f"np.arange({sz})", f"np.linspace(0, {r.choice((1, 10, 60, 100))}, {sz})"))
        if xkind == "time":
            xv = b.name("x", _plural(xname), _plural(xname), "dates")
        else:
            xv = "" if frame else b.name("x", "t", "xs")
        if xv:
            b.assign(xv, xexpr)
    exprs = [_values(b, m, n, sz, walk=xkind != "cat", positive=positive) for m in ms]
    names = [m[0] for m in ms]
    labels = [m[3] for m in ms]
    if frame:
        df = _frame_name(b)
        entries = [(xname, xv or xexpr)] + list(zip(names, exprs))
        i = _frame_line(b, df, entries)
        refs = [f"{df}[{b.s(c)}]" for c in names]
        for e in exprs:
            _shape_site(b, b.data, i, e, sz)
        cols = Cols(f"{df}[{b.s(xname)}]", xname, names, refs, labels, df, xlabel, n=n, sz=sz)
        lines = [i] * k
    else:
        wrap = b.inline and r.random() < 0.4
        if wrap:
            b.imp("import numpy as np")
        lines = [b.assign(c, f"np.array({e})" if wrap else e) for c, e in zip(names, exprs)]
        if checked:
            for i, e in zip(lines, exprs):
                _shape_site(b, b.data, i, e, sz)
        cols = Cols(xv, xname, names, list(names), labels, "", xlabel, n=n, sz=sz)
    if b.transform:
        container = "frame" if frame else "array" if not b.inline or wrap else "list"
        cols.labels[0] += _rescale(b, names[0], cols.refs[0], exprs[0], lines[0], container)
    return cols


def samples(b: Prog, k: int, form: str) -> Cols:
    """Samples of one measure for k groups: one array (k=1), a dict of arrays, or a
    wide or long frame."""
    r, t = b.r, b.t
    m = r.choice(t.measures)
    col, base, spread, label = m
    groups = r.sample(t.cats, k)
    n = r.randint(8, 20) if b.inline else r.choice((50, 100, 200, 300, 500))
    sz = str(n) if b.inline else b.n(n, "n_per_group", "n_samples", "size")
    exprs = []
    for _ in groups:
        mu, sd = base + spread * (r.random() - 0.5) * 1.5, spread * r.uniform(0.4, 1.0)
        if b.inline:
            exprs.append(literal(numbers(r, mu, sd, n)))
        else:
            rng = b.gen()
            exprs.append(f"{rng}.normal({fmt(mu)}, {fmt(sd)}, {sz})" if r.random() < 0.8 else
                         f"{rng}.gamma({r.choice((2, 4, 9))}, {fmt(mu / 4)}, {sz})")
    if form == "single":
        i = b.assign(col, exprs[0])
        cols = Cols("", col, [col], [col], [label], "", label)
        if b.transform:
            cols.labels[0] += _rescale(b, col, col, exprs[0], i, "list" if b.inline else "array")
        return cols
    if form == "dict":
        var = b.name("samples", "groups", f"{col}_by_{t.group}", "data")
        body = ", ".join(f"{b.s(g)}: {e}" for g, e in zip(groups, exprs))
        b.assign(var, f"{{{body}}}" if len(body) < 80 else
                 "{" + "".join(f"\n    {b.s(g)}: {e}," for g, e in zip(groups, exprs)) + "\n}")
        return Cols(f"list({var})", t.group, groups, [f"list({var}.values())"], [label], "", label,
                     {"dict": var})
    wide = b.name("wide", "by_group", "samples") if form == "long" else _frame_name(b)
    i = _frame_line(b, wide, list(zip(groups, exprs)))
    for e in exprs[1:]:
        _shape_site(b, b.data, i, e, sz)
    if form == "wide":
        return Cols("", t.group, groups, [f"{wide}[{b.s(g)}]" for g in groups], [label], wide, label)
    df = _frame_name(b)
    b.assign(df, f"{wide}.melt(var_name={b.s(t.group)}, value_name={b.s(col)})")
    cols = Cols(f"{df}[{b.s(t.group)}]", t.group, [col], [f"{df}[{b.s(col)}]"], [label], df, label)
    if b.transform:
        cols.labels[0] += _rescale(b, col, cols.refs[0], exprs[0], i, "frame")
    return cols


def points(b: Prog, *, frame: bool, checked: bool = True, grouped: bool = False, third: bool = False,
            max_n: int = 2000) -> Cols:
    """Two related measures (and optionally a group and a third measure) for a scatter."""
    r, t = b.r, b.t
    mx, my, mz = r.sample(t.measures, 3)
    n = r.randint(8, 16) if b.inline else r.choice(tuple(v for v in (40, 80, 150, 300, 600, 1000, 2000) if v <= max_n))
    slope = (my[2] / mx[2]) * r.choice((-0.8, -0.4, 0.5, 0.9))
    if b.inline:
        xs = numbers(r, mx[1], mx[2], n)
        ys = [my[1] + slope * (float(x) - mx[1]) + my[2] * (r.random() - 0.5) * 0.6 for x in xs]
        xe, ye = literal(xs), literal([str(round(y)) if my[1] >= 100 else f"{y:.2f}" for y in ys])
        ze = literal(numbers(r, mz[1], mz[2], n))
        ge = b.strs([r.choice(t.cats[:4]) for _ in range(n)])
        sz = str(n)
    else:
        rng, sz = b.gen(), b.n(n, "n_points", "n_obs", "N")
        xe = f"{rng}.normal({fmt(mx[1])}, {fmt(mx[2])}, {sz})"
        ye = f"{fmt(my[1])} + {fmt(slope)} * ({mx[0]} - {fmt(mx[1])}) + {rng}.normal(0, {fmt(my[2] / 2)}, {sz})"
        ze = f"{rng}.uniform({fmt(mz[1] - mz[2])}, {fmt(mz[1] + mz[2])}, {sz})"
        ge = f"{rng}.choice({b.strs(t.cats[:4])}, {sz})"
    names = [mx[0], my[0]] + ([mz[0]] if third else [])
    exprs = [xe, ye] + ([ze] if third else [])
    if grouped:
        names.append(t.group)
        exprs.append(ge)
    if frame and b.inline:
        df = _frame_name(b)
        i = _frame_line(b, df, list(zip(names, exprs)))
        for e in exprs:
            _shape_site(b, b.data, i, e, sz)
        lines = [i, i]
    else:
        lines = [b.assign(c, e) for c, e in zip(names, exprs)]
        if checked or frame:
            _shape_site(b, b.data, lines[1], ye, sz)
        if frame:
            df = _frame_name(b)
            _frame_line(b, df, [(c, c) for c in names])
    refs = [f"{df}[{b.s(c)}]" for c in names] if frame else list(names)
    cols = Cols(refs[0], mx[0], names[1:], refs[1:], [my[3]] + ([mz[3]] if third else []), df if frame else "",
                 mx[3])
    if b.transform:
        container = "frame" if frame else "list" if b.inline else "array"
        cols.labels[0] += _rescale(b, my[0], refs[1], ye, lines[1], container)
    return cols


def matrix(b: Prog, *, frame: bool) -> Cols:
    """A small labelled grid of values (inline or drawn), optionally as a labelled frame."""
    r, t = b.r, b.t
    rows = r.sample(t.cats, r.randint(3, 7))
    cols = list(r.choice((MONTHS[: r.randint(4, 12)], DAYS, [m[0] for m in t.measures])))
    rv, cv = b.name("rows", "row_labels", _plural(t.group)), b.name("cols", "col_labels", "columns")
    b.imp("import numpy as np")
    if b.inline:
        m = r.choice(t.measures)
        row_literals = [literal(numbers(r, m[1], m[2], len(cols))) for _ in rows]
        body = ", ".join(row_literals)
        zexpr = f"np.array([{body}])" if len(body) < 90 else "np.array([\n    " + ",\n    ".join(row_literals) + ",\n])"
    else:
        rng = b.gen()
        zexpr = r.choice((f"{rng}.random((len({rv}), len({cv})))", f"{rng}.integers(0, 100, size=(len({rv}), len({cv})))",
                          f"{rng}.normal(0, 1, (len({rv}), len({cv}))).round(2)"))
    ri = b.assign(rv, b.strs(rows))
    b.assign(cv, b.strs(cols))
    z = b.name("values", "grid", "z", "matrix")
    b.assign(z, zexpr)
    if frame:
        df = b.name("table", "df", "heat", "pivot")
        b.imp("import pandas as pd")
        b.assign(df, f"pd.DataFrame({z}, index={rv}, columns={cv})")
        if b.inline:
            b.sites["shape_mismatch"].append((b.data, ri, b.strs(rows), b.strs(rows[:-1])))
        return Cols(cv, "", [], [df], [""], df, "", {"rows": rv})
    return Cols(cv, "", [], [z], [""], "", "", {"rows": rv})


def surface(b: Prog) -> tuple[str, str]:
    """X, Y, Z on a grid from a closed-form function; returns the names of the 1-D axes."""
    r = b.r
    b.inline = False  # computed, whatever the program's other data looks like
    b.imp("import numpy as np")
    m = r.choice((30, 40, 50, 60, 80))
    lim = r.choice((2, 3, 4))
    xs, ys = b.name("x", "xs", "u"), b.name("y", "ys", "v")
    b.assign(xs, f"np.linspace(-{lim}, {lim}, {m})")
    b.assign(ys, f"np.linspace(-{lim}, {lim}, {m + r.choice((0, 10))})")
    b.defined.append("X")
    b.defined.append("Y")
    b.add(b.data, f"X, Y = np.meshgrid({xs}, {ys})")
    b.assign("Z", r.choice(("np.exp(-(X**2 + Y**2) / 2)", "np.sin(X) * np.cos(Y)", "X * np.exp(-X**2 - Y**2)",
                            "np.sin(np.sqrt(X**2 + Y**2))", "X**2 - Y**2", "np.cos(X) + np.sin(Y) * 0.5")))
    return xs, ys


def pie_parts(b: Prog, *, frame: bool, checked: bool = True) -> Cols:
    """Categories and positive amounts for a pie."""
    r, t = b.r, b.t
    m = r.choice(t.measures)
    k = r.randint(3, 7)
    cats = r.sample(t.cats, k)
    if b.inline:
        vals = literal([str(r.randint(5, 60)) for _ in cats])
    else:
        vals = f"{b.gen()}.integers(5, 60, {k})"
    if frame:
        df = _frame_name(b)
        i = _frame_line(b, df, [(t.group, b.strs(cats)), (m[0], vals)])
        _shape_site(b, b.data, i, vals, str(k))
        return Cols(f"{df}[{b.s(t.group)}]", t.group, [m[0]], [f"{df}[{b.s(m[0])}]"], [m[3]], df)
    lv = b.name("labels", _plural(t.group), "names")
    b.assign(lv, b.strs(cats))
    vv = b.name("sizes", "shares", m[0], "values")
    i = b.assign(vv, vals)
    if checked:
        _shape_site(b, b.data, i, vals, str(k))
    return Cols(lv, t.group, [m[0]], [vv], [m[3]])
