"""curation stage (not built yet)."""
