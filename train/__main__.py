"""`python -m viscode.train {init,run} ...`: what `accelerate launch -m viscode.train` starts on every
process; the same subcommands as `viscode train`, without importing the other stages."""

import argparse
import sys

from viscode.train import cli

from viscode import command


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m viscode.train", description=cli.__doc__)
    cli.add_subcommands(parser.add_subparsers(dest="train_command", required=True))
    return command.run(parser.parse_args())


if __name__ == "__main__":  # not when a tokenizing process (spawned) imports this module as its main
    sys.exit(main())
