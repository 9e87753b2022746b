"""Import the plotting stack and draw one plot of each common kind, so the lazy
caches (fonts, mathtext, colormaps, pandas accessors, plotly validators) are filled
once in the warm supervisor instead of in every snippet."""

from __future__ import annotations

import gc
import io


def warm_up() -> list[str]:
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    import PIL.Image  # noqa: F401
    import plotly.express as px
    import plotly.graph_objects as go
    import plotly.io as pio
    import seaborn as sns

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": np.arange(20), "y": rng.normal(size=20), "g": list("ab") * 10})

    def render(fig) -> None:
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)

    for draw in (
        lambda ax: ax.plot(df.x, df.y, label="y"),
        lambda ax: ax.bar(df.g, df.y),
        lambda ax: ax.scatter(df.x, df.y, c=df.y, cmap="viridis"),
        lambda ax: ax.hist(df.y, bins=5),
        lambda ax: ax.pie([1, 2, 3], labels=list("abc"), autopct="%1.0f%%"),
        lambda ax: ax.imshow(rng.random((4, 4))),
        lambda ax: ax.boxplot([df.y, df.y * 2]),
        lambda ax: ax.fill_between(df.x, df.y),
    ):
        fig, ax = plt.subplots()
        draw(ax)
        ax.set_title("$\\alpha$ title")
        ax.set_xlabel("x")
        ax.legend()
        fig.tight_layout()
        render(fig)
    for draw in (
        lambda: sns.barplot(data=df, x="g", y="y"),
        lambda: sns.histplot(data=df, x="y", kde=True),
        lambda: sns.scatterplot(data=df, x="x", y="y", hue="g"),
        lambda: sns.boxplot(data=df, x="g", y="y"),
        lambda: sns.heatmap(df[["x", "y"]].corr(), annot=True),
        lambda: df.plot(x="x", y="y"),
    ):
        fig = plt.figure()
        draw()
        render(fig)
    sns.set_theme()
    sns.reset_defaults()
    for fig in (px.bar(df, x="g", y="y"), px.scatter(df, x="x", y="y", color="g"),
                go.Figure(go.Scatter(x=df.x, y=df.y)), px.line(df, x="x", y="y"), px.pie(df, names="g")):
        pio.to_json(fig)
    plt.close("all")
    gc.collect()
    gc.freeze()  # keep the warm heap out of the children's collections (fewer copied pages)
    return ["numpy", "pandas", "matplotlib", "seaborn", "plotly", "PIL"]
