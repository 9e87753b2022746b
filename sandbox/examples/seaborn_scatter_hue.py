import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

rng = np.random.default_rng(7)
df = pd.DataFrame({
    "height": rng.normal(170, 10, 150),
    "weight": rng.normal(70, 12, 150),
    "group": rng.choice(["A", "B", "C"], 150),
})
sns.set_theme(style="whitegrid")
sns.scatterplot(data=df, x="height", y="weight", hue="group", palette="deep")
plt.title("Height vs weight by group")
