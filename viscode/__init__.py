"""viscode: execution-grounded data, training and benchmarks for visualization-code LLMs."""
