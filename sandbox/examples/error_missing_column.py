import matplotlib.pyplot as plt
import pandas as pd

df = pd.DataFrame({"year": [2020, 2021, 2022], "revenue": [1.2, 1.8, 2.4]})
plt.plot(df["year"], df["profit"])
plt.title("Profit over time")
