import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 4 * np.pi, 200)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x, np.sin(x), label="sin(x)", color="tab:blue")
ax.plot(x, np.cos(x), label="cos(x)", color="tab:orange", linestyle="--")
ax.set_title("Sine and cosine")
ax.set_xlabel("x (radians)")
ax.set_ylabel("value")
ax.legend()
plt.show()
