"""grid stage (not built yet)."""
