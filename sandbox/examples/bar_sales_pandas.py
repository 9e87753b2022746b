import matplotlib.pyplot as plt
import pandas as pd

sales = pd.DataFrame({
    "region": ["North", "South", "East", "West"],
    "q1": [120, 95, 140, 80],
    "q2": [135, 110, 150, 90],
})
ax = sales.set_index("region").plot(kind="bar", rot=0, figsize=(6, 4), color=["#4c72b0", "#dd8452"])
ax.set_title("Quarterly sales by region")
ax.set_ylabel("units")
plt.tight_layout()
