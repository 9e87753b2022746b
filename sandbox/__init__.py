"""Run untrusted plotting snippets in isolation (nsjail) and capture what they draw."""
