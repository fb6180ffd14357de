"""``lpsgd bench``: lpsgd.fast against numpy's casts, the peers and lpsgd.reference."""

from __future__ import annotations

import argparse
import json
import sys

from lpsgd.commands._args import (FORMAT_SPEC_HELP, add_format_option, add_int_option,
                                  add_seed_option, check_new_file, write_new_file)

HELP = "time lpsgd.fast against numpy casts, ml_dtypes, pychop and lpsgd.reference"

DESCRIPTION = """\
Time the quantisers side by side in one run: for each format and rounding mode, one
float64 array of --size values is quantised by lpsgd.fast, numpy's own casts (float16,
float32), ml_dtypes and pychop (where they offer that format and mode), round-robin for
--repeat rounds; lpsgd.reference is timed on --reference-size values. The table gives
min and median ns per element and the ratio of min times against lpsgd.fast (>1 is
slower). Peers that are not installed are named as skipped (pip install 'lpsgd[peers]').
Peers are only timed on the presets they offer; a custom format (e5m7, binary16:nosub)
times lpsgd.fast and lpsgd.reference alone.

With --check, each peer's claims are also checked against the exact semantics
(lpsgd.testing.check_quantizer) and the mismatch counts are printed.

--json FILE must be a new file in an existing, writable folder: that is checked before
anything is timed, and the file is written atomically at the end, never replacing a file.

""" + FORMAT_SPEC_HELP + """

Examples:
  lpsgd bench                                   # the representative set, all modes
  lpsgd bench --format fp16 --format bf16 --rounding nearest_even --rounding stochastic
  lpsgd bench --format e4m3:fn --peer ml_dtypes --size 1000000 --repeat 11
  lpsgd bench --size 1000 --repeat 3 --check --json bench.json

Exit status: 0 on success, 2 for bad arguments (nothing timed, nothing written)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_int_option(parser, "--size", default=100_000, min_value=1,
                   help="elements per timed call, >= 1 (default: 100000)")
    add_int_option(parser, "--repeat", default=7, min_value=1, metavar="R",
                   help="timed rounds per implementation, >= 1 (default: 7)")
    add_format_option(parser, action="append", default=None,
                      help="format to time (repeatable; default: a representative set of "
                           "presets); see Formats above")
    parser.add_argument("--rounding", action="append", default=None, metavar="MODE",
                        help="rounding mode to time (repeatable; default: all nine)")
    parser.add_argument("--peer", action="append", default=None, metavar="NAME",
                        help="peer to include (repeatable; default: all)")
    add_int_option(parser, "--reference-size", default=200, min_value=0,
                   help="elements per lpsgd.reference call, >= 0 (default: 200; 0 skips "
                        "it)")
    add_seed_option(parser, default=0, help="seed of the inputs and the stochastic modes, "
                                            "0 <= N <= 2^64 - 1 (default: 0)")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the table (and --check results) as JSON to this new "
                             "file (never overwritten)")
    parser.add_argument("--check", action="store_true",
                        help="also check every peer claim with lpsgd.testing.check_quantizer")


def run(args: argparse.Namespace) -> int:
    from lpsgd.peers import benchmark, check_peers
    from lpsgd.rounding import rounding_mode

    # Every check before the (slow) timing: a bad destination must not cost a run.
    if args.json is not None:
        check_new_file("--json", args.json)
    formats = args.format  # Formats, resolved at parse time
    modes = None if args.rounding is None else [rounding_mode(m, "--rounding").value
                                                for m in args.rounding]

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    table = benchmark(size=args.size, repeat=args.repeat, formats=formats, modes=modes,
                      peers=args.peer, reference_size=min(args.reference_size, args.size),
                      seed=args.seed, progress=progress)
    print(table.text())
    out = {"bench": table.as_dict()}
    if args.check:
        report = check_peers(args.peer, formats=formats, modes=modes, seed=args.seed,
                             progress=progress)
        print()
        print(report.table())
        out["check"] = report.as_dict()
    if args.json is not None:
        write_new_file("--json", args.json, json.dumps(out, indent=2, default=str) + "\n")
    return 0
