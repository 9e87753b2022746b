"""The grid: harvest candidate snippets, run each once on a Dask cluster in warm sandboxes."""
