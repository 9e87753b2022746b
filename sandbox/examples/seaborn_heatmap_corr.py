import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

rng = np.random.default_rng(0)
data = pd.DataFrame(rng.normal(size=(100, 5)), columns=list("ABCDE"))
data["F"] = data["A"] * 0.8 + rng.normal(scale=0.3, size=100)
plt.figure(figsize=(6, 5))
sns.heatmap(data.corr(), annot=True, fmt=".2f", cmap="coolwarm", vmin=-1, vmax=1)
plt.title("Correlation matrix")
plt.show()
