# The two commands of the README. Both run the idempotent set-up first.
.PHONY: setup demo test perf

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/viscode demo

test: setup
	.venv/bin/python -m pytest -q -m "slow or not slow"

perf: setup
	.venv/bin/python perf/sandbox_speed.py
	.venv/bin/python perf/grid_speed.py
	.venv/bin/python perf/curation_speed.py
	test -f demo-output/curated/manifest.json || .venv/bin/viscode demo
	.venv/bin/python perf/train_speed.py --data demo-output/curated
	.venv/bin/python perf/bench_speed.py
