"""The ``lpsgd`` command line.

Each subcommand lives in ``lpsgd/commands/<name>.py`` and provides ``HELP`` (one line),
``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> int`` (the exit status).
Heavy imports happen inside ``run`` so that ``lpsgd --help`` stays fast.  Options are
parsed with the shared types of ``lpsgd/commands/_args.py`` (integers, formats), and every
bad command line, argparse's own errors included, prints ``lpsgd COMMAND: error: ...`` and
returns 2 before any work is done.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lpsgd.commands._args import Parser, UsageError
from lpsgd.errors import InvalidArgument

COMMANDS = ("report", "verify", "quantize", "formats", "bench", "findings")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lpsgd",
        description="Property-based verification of SGD in low precision: exact and fast "
                    "quantisers, executable convergence theorems, and reports.",
        epilog="Run 'lpsgd COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version",
                        version=f"lpsgd {importlib.import_module('lpsgd').__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"lpsgd.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet in this checkout
            if exc.name != f"lpsgd.commands.{name}":
                raise
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named after the command they were given to, not after "lpsgd"
            raise UsageError(f"lpsgd {args.command}",
                             f"unrecognized arguments: {' '.join(extra)}")
    except UsageError as exc:
        print(f"{exc.prog}: error: {exc.message}", file=sys.stderr)
        print(f"(run '{exc.prog} --help' for the options and examples)", file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except InvalidArgument as exc:
        print(f"lpsgd {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lpsgd {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
