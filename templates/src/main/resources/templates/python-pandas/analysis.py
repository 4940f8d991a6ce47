"""Penguin measurements: the mean of each measure by species and sex (results/summary.csv) and body mass against
flipper length (results/plot.png)."""
import os

import matplotlib

matplotlib.use("Agg")  # draw to files: there is no display in the container
import matplotlib.pyplot as plt
import pandas as pd

DATA = "data/penguins.csv"
RESULTS = "results"
MEASURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]

# Reproducible figures: SVG ids from a fixed salt instead of a random one, and (at savefig) no 'Software' entry,
# which would change with matplotlib's version. The PNG has no date unless one is asked for.
plt.rcParams["svg.hashsalt"] = "labenv"

penguins = pd.read_csv(DATA)
groups = penguins.groupby(["species", "sex"], sort=True)
summary = groups[MEASURES].mean()
summary.insert(0, "n", groups.size())
os.makedirs(RESULTS, exist_ok=True)
summary.reset_index().to_csv(os.path.join(RESULTS, "summary.csv"), index=False, float_format="%.2f")

fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
for species, rows in penguins.groupby("species", sort=True):
    ax.scatter(rows["flipper_length_mm"], rows["body_mass_g"], label=species, s=18, alpha=0.8)
ax.set_xlabel("flipper length (mm)")
ax.set_ylabel("body mass (g)")
ax.set_title("Penguins: body mass against flipper length")
ax.legend(title="species")
fig.tight_layout()
fig.savefig(os.path.join(RESULTS, "plot.png"), metadata={"Software": None})

print(f"{len(penguins)} penguins, {len(summary)} groups")
print(summary.round(1).to_string())
