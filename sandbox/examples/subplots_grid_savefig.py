import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(1)
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
axes[0, 0].hist(rng.normal(size=500), bins=30, color="steelblue")
axes[0, 0].set_title("Histogram")
axes[0, 1].boxplot([rng.normal(size=100), rng.normal(1, 2, size=100)])
axes[0, 1].set_title("Box plot")
axes[1, 0].pie([30, 45, 25], labels=["a", "b", "c"], autopct="%1.0f%%")
axes[1, 0].set_title("Pie")
axes[1, 1].fill_between(np.arange(10), rng.random(10).cumsum(), alpha=0.5)
axes[1, 1].set_title("Area")
fig.tight_layout()
fig.savefig("grid.png", dpi=80)
plt.close(fig)
