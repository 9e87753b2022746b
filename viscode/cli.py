"""The `viscode` command: one subcommand per stage, plus `demo` (the main job)."""

from __future__ import annotations

import argparse
import sys

from viscode import command, demo
from viscode.bench import cli as bench_cli
from viscode.curation import cli as curation_cli
from viscode.curation.llm import LLMError
from viscode.grid import cli as grid_cli
from viscode.grid.candidates import cli as candidates_cli
from viscode.grid.cluster import ClusterUnavailable
from viscode.grid.job import GridError
from viscode.llm import EndpointError
from viscode.sandbox import cli as sandbox_cli
from viscode.sandbox.sandbox import SandboxError
from viscode.train import cli as train_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="viscode", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(sub)
    sandbox_cli.add_parser(sub)
    candidates_cli.add_parser(sub)
    grid_cli.add_parser(sub)
    curation_cli.add_parser(sub)
    train_cli.add_parser(sub)
    bench_cli.add_parser(sub)
    return parser


SERVICES = {GridError: "grid stopped", ClusterUnavailable: "grid stopped",
            LLMError: "instruction endpoint unusable", EndpointError: "endpoint unavailable",
            SandboxError: "sandbox unavailable"}


def main(argv: list[str] | None = None) -> int:
    return command.run(build_parser().parse_args(argv), SERVICES)


if __name__ == "__main__":
    sys.exit(main())
