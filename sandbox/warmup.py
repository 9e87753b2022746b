"""Import the plotting stack and draw one plot of each common kind, so the lazy
caches (fonts at each size and weight, mathtext, colormaps, unit converters, pandas
and seaborn plotting internals, plotly validators) are filled once in the warm
supervisor instead of again in every snippet's fresh child."""

from __future__ import annotations

import ctypes
import functools
import gc
import io
import os
import sys
import warnings


def _matplotlib_kinds(plt, np, df):
    rng = np.random.default_rng(0)
    dates = np.arange("2024-01", "2024-07", dtype="datetime64[M]")
    return (
        lambda ax: ax.plot(df.x, df.y, "o-", label="y"),
        lambda ax: ax.bar(df.g, df.y, label="bar"),
        lambda ax: ax.barh(["a", "b"], [1, 2]),
        lambda ax: ax.scatter(df.x, df.y, c=df.y, cmap="viridis", s=df.x + 5),
        lambda ax: ax.hist(df.y, bins=5, alpha=0.5),
        lambda ax: ax.pie([1, 2, 3], labels=list("abc"), autopct="%1.0f%%", explode=(0, 0.1, 0)),
        lambda ax: ax.figure.colorbar(ax.imshow(rng.random((4, 4)), cmap="magma"), ax=ax),
        lambda ax: ax.boxplot([df.y, df.y * 2]),
        lambda ax: ax.violinplot([df.y, df.y * 2]),
        lambda ax: ax.fill_between(df.x, df.y, alpha=0.3),
        lambda ax: ax.stackplot(df.x, df.y.abs(), df.y.abs()),
        lambda ax: ax.errorbar(df.x, df.y, yerr=0.1, capsize=3),
        lambda ax: ax.step(df.x, df.y),
        lambda ax: ax.contourf(*np.meshgrid(range(5), range(5)), rng.random((5, 5))),
        lambda ax: ax.quiver([0, 1], [0, 1], [1, 1], [1, 0]),
        lambda ax: ax.plot(dates, range(len(dates))),
        lambda ax: (ax.set_yscale("log"), ax.plot([1, 10, 100])),
        lambda ax: (ax.twinx().plot(df.x, df.y, color="r"), ax.grid(True, linestyle="--")),
        lambda ax: ax.annotate("peak", xy=(1, 1), xytext=(2, 2), arrowprops={"arrowstyle": "->"}),
        lambda ax: ax.table(cellText=[["1", "2"]], loc="bottom"),
    )


def _keep_fonts_across_fork() -> None:
    """matplotlib empties its FreeType font cache in every forked child, because two
    processes reading one font file at once would share its file offset. The supervisor
    never renders while its child runs, so its direct children may keep the warm fonts
    (reloading them cost ~25 ms per snippet); deeper forks, such as a snippet's own
    multiprocessing, still start with an empty cache."""
    import matplotlib.font_manager as fm

    supervisor = os.getpid()
    cached = functools.lru_cache(64)(fm._get_font.__wrapped__)

    def clear_in_deeper_forks() -> None:
        if os.getppid() != supervisor:
            cached.cache_clear()

    os.register_at_fork(after_in_child=clear_in_deeper_forks)
    fm._get_font = cached


IMMORTAL_REFCNT = 0xFFFFFFFF  # CPython 3.12+, 64-bit: increments and decrements skip such objects


def _immortalize_warm_objects() -> None:
    """Mark every object of the warm heap immortal, as CPython marks its own static ones.
    A child touching a warm object then no longer writes its reference count, which
    would copy the object's whole page: a quarter fewer copied pages per snippet. The
    supervisor never frees these objects anyway; what a snippet creates stays mortal."""
    if sys.version_info < (3, 12) or sys.maxsize < 2**32:
        return
    seen: set[int] = set()
    for holder in gc.get_objects():
        for obj in (holder, *gc.get_referents(holder)):
            address = id(obj)
            if address not in seen:
                seen.add(address)
                refcnt = ctypes.c_int64.from_address(address)
                if refcnt.value & 0x80000000 == 0:  # not immortal yet
                    refcnt.value = IMMORTAL_REFCNT


MADV_COLLAPSE = 25
HUGE = 2 * 1024 * 1024


def _collapse_heap_into_huge_pages() -> None:
    """Back the warm heap with 2 MB pages. Each snippet's fork then copies a few hundred
    page-middle entries instead of ~50,000 page-table entries, and its exit tears down
    as few; a page a child writes is still copied 4 KB at a time. Saves ~5 ms per
    snippet. Only what exists now is collapsed: the heap a snippet grows keeps 4 KB pages.
    Kernels without MADV_COLLAPSE (before 6.1) just decline."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        anonymous = len(fields) < 6 or fields[5] == "[heap]"
        if not (fields[1].startswith("rw") and anonymous):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        start, end = (start + HUGE - 1) & ~(HUGE - 1), end & ~(HUGE - 1)
        if end > start:
            libc.madvise(start, end - start, MADV_COLLAPSE)


def warm_up() -> list[str]:
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    import PIL.Image  # noqa: F401
    import plotly.express as px
    import plotly.graph_objects as go
    import plotly.io as pio
    import seaborn as sns
    from mpl_toolkits.mplot3d import Axes3D  # noqa: F401

    _keep_fonts_across_fork()

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": np.arange(20), "y": rng.normal(size=20), "g": list("ab") * 10,
                       "d": pd.date_range("2024-01-01", periods=20)})
    positive = df.assign(y=df.y.abs())

    def render(fig) -> None:
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)

    def attempt(step) -> None:
        """Warm-up is best effort: a plot kind a library version no longer supports
        must not keep the supervisor from starting."""
        try:
            step()
        except Exception:
            plt.close("all")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        def axes_plot(draw) -> None:
            fig, ax = plt.subplots(figsize=(6, 4))
            draw(ax)
            ax.set_title("$\\alpha$ title", fontsize=14, fontweight="bold")
            ax.set_xlabel("x", fontsize=12)
            ax.set_ylabel("y")
            ax.legend(loc="best")
            fig.suptitle("suptitle")
            fig.tight_layout()
            render(fig)

        def surface() -> None:
            fig = plt.figure()
            fig.add_subplot(projection="3d").plot_surface(*np.meshgrid(range(4), range(4)), rng.random((4, 4)))
            render(fig)

        def polar() -> None:
            fig = plt.figure()
            fig.add_subplot(projection="polar").plot([0, 1, 2], [1, 2, 1])
            render(fig)

        def figure_plot(draw) -> None:
            fig = plt.figure()
            draw()
            render(fig)

        for draw in _matplotlib_kinds(plt, np, df):
            attempt(lambda draw=draw: axes_plot(draw))
        attempt(surface)
        attempt(polar)
        for kind in ("line", "bar", "barh", "hist", "box", "area"):
            attempt(lambda kind=kind: render(positive[["x", "y"]].plot(kind=kind, title=kind).figure))
        attempt(lambda: render(df.plot(kind="scatter", x="x", y="y").figure))
        attempt(lambda: render(df.set_index("d")["y"].plot().figure))
        attempt(lambda: render(positive.groupby("g")["y"].sum().plot(kind="pie", autopct="%.0f%%").figure))
        for style in ("whitegrid", "darkgrid", "ticks"):
            sns.set_theme(style=style)
            for draw in (
                lambda: sns.barplot(data=df, x="g", y="y", hue="g"),
                lambda: sns.countplot(data=df, x="g"),
                lambda: sns.lineplot(data=df, x="x", y="y", hue="g", marker="o"),
                lambda: sns.scatterplot(data=df, x="x", y="y", hue="g", size="x"),
                lambda: sns.histplot(data=df, x="y", kde=True, hue="g"),
                lambda: sns.kdeplot(data=df, x="y", fill=True),
                lambda: sns.boxplot(data=df, x="g", y="y"),
                lambda: sns.violinplot(data=df, x="g", y="y"),
                lambda: sns.stripplot(data=df, x="g", y="y"),
                lambda: sns.regplot(data=df, x="x", y="y"),
                lambda: sns.heatmap(df[["x", "y"]].corr(), annot=True, cmap="coolwarm"),
            ):
                attempt(lambda draw=draw: figure_plot(draw))
        attempt(lambda: render(sns.pairplot(df[["x", "y", "g"]], hue="g").figure))
        attempt(lambda: render(sns.catplot(data=df, x="g", y="y", kind="bar").figure))
        sns.reset_defaults()
        plt.style.use("default")
    for fig in (px.bar(df, x="g", y="y", color="g"), px.scatter(df, x="x", y="y", color="g"),
                px.line(df, x="d", y="y"), px.histogram(df, x="y"), px.box(df, x="g", y="y"),
                px.pie(df, names="g"), px.imshow(rng.random((4, 4))),
                go.Figure(go.Scatter(x=df.x, y=df.y, mode="lines+markers")),
                go.Figure(go.Heatmap(z=rng.random((4, 4))))):
        attempt(lambda fig=fig: pio.to_json(fig.update_layout(title="t", xaxis_title="x"), validate=False))
    plt.close("all")
    gc.collect()
    _immortalize_warm_objects()
    gc.freeze()  # keep the warm heap out of the children's collections (fewer copied pages)
    _collapse_heap_into_huge_pages()
    return ["numpy", "pandas", "matplotlib", "seaborn", "plotly", "PIL"]
