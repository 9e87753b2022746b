"""train stage (not built yet)."""
