"""The grid: run each candidate snippet once on a Dask cluster in warm sandboxes; candidate
sources (harvest, the generator) live beside it in `viscode.grid.candidates`."""
