"""``lpsgd bench``: lpsgd.fast against numpy's casts, the peers and lpsgd.reference."""

from __future__ import annotations

import argparse
import json
import sys

from lpsgd.errors import InvalidArgument

HELP = "time lpsgd.fast against numpy casts, ml_dtypes, pychop and lpsgd.reference"

DESCRIPTION = """\
Time the quantisers side by side in one run: for each format and rounding mode, one
float64 array of --size values is quantised by lpsgd.fast, numpy's own casts (float16,
float32), ml_dtypes and pychop (where they offer that format and mode), round-robin for
--repeat rounds; lpsgd.reference is timed on --reference-size values. The table gives
min and median ns per element and the ratio of min times against lpsgd.fast (>1 is
slower). Peers that are not installed are named as skipped (pip install 'lpsgd[peers]').

With --check, each peer's claims are also checked against the exact semantics
(lpsgd.testing.check_quantizer) and the mismatch counts are printed.

Exit status: 0 on success, 2 for bad arguments."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", default="100000", metavar="N",
                        help="elements per timed call (default: 100000)")
    parser.add_argument("--repeat", default="7", metavar="R",
                        help="timed rounds per implementation (default: 7)")
    parser.add_argument("--format", action="append", default=None, metavar="NAME",
                        help="format to time (repeatable; default: a representative set)")
    parser.add_argument("--rounding", action="append", default=None, metavar="MODE",
                        help="rounding mode to time (repeatable; default: all nine)")
    parser.add_argument("--peer", action="append", default=None, metavar="NAME",
                        help="peer to include (repeatable; default: all)")
    parser.add_argument("--reference-size", default="200", metavar="N",
                        help="elements per lpsgd.reference call (default: 200; 0 skips it)")
    parser.add_argument("--seed", default="0", metavar="N", help="seed of the inputs")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the table (and --check results) as JSON")
    parser.add_argument("--check", action="store_true",
                        help="also check every peer claim with lpsgd.testing.check_quantizer")


def _int(name: str, text: str, min_value: int) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise InvalidArgument(f"Expected {name} to be an integer but got {name}={text!r}")
    if value < min_value:
        raise InvalidArgument(f"Expected {name} >= {min_value} but got {name}={value}")
    return value


def run(args: argparse.Namespace) -> int:
    from lpsgd.formats import as_format
    from lpsgd.peers import benchmark, check_peers
    from lpsgd.rounding import rounding_mode

    size = _int("--size", args.size, 1)
    repeat = _int("--repeat", args.repeat, 1)
    reference_size = _int("--reference-size", args.reference_size, 0)
    seed = _int("--seed", args.seed, 0)
    formats = None if args.format is None else [as_format(f, "--format").label
                                                 for f in args.format]
    modes = None if args.rounding is None else [rounding_mode(m, "--rounding").value
                                                for m in args.rounding]

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    table = benchmark(size=size, repeat=repeat, formats=formats, modes=modes, peers=args.peer,
                      reference_size=min(reference_size, size), seed=seed, progress=progress)
    print(table.text())
    out = {"bench": table.as_dict()}
    if args.check:
        report = check_peers(args.peer, formats=formats, modes=modes, seed=seed,
                             progress=progress)
        print()
        print(report.table())
        out["check"] = report.as_dict()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2, default=str)
    return 0
