"""bench stage: PandasPlotBench-compatible scoring of any model, every attempt in the sandbox,
with VisCoder's self-debug rounds and an optional judge."""
