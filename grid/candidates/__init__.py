"""Candidate sources: what the grid runs, as candidate shards. Real code harvested from files,
archives, notebooks and table dumps, or programs from the synthetic generator; none of it
touches Dask, so it lives apart from the grid proper."""
