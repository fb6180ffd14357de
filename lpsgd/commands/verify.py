"""``lpsgd verify``: run the property suite only; exit status and a one-line summary."""

from __future__ import annotations

import argparse
import sys

from lpsgd.commands._args import add_seed_option
from lpsgd.commands.report import add_profile_argument, add_workers_option
from lpsgd.profiles import EXAMPLES

HELP = "run the property suite only (for CI): exit status and a one-line summary"

DESCRIPTION = f"""\
Run the property suite (properties/ of this checkout) with a Hypothesis profile, print
one summary line, write nothing. Profiles: ci ({EXAMPLES['ci']} examples, derandomized; the
default), dev ({EXAMPLES['dev']}), thorough ({EXAMPLES['thorough']}).
--seed N (an integer, 0 <= N <= 2^64 - 1) seeds the randomized profiles. --workers N
runs the suite on N pytest-xdist worker processes (auto, the default: one per CPU; 1: in
this process); the verdict is the same for any number of workers.

Examples:
  lpsgd verify                        # what CI runs: ci profile, derandomized
  lpsgd verify --profile dev --seed 3 --no-progress
  lpsgd verify --workers 1            # in this process, no workers

Exit status: 0 when every property holds and every mutant is refuted; 1 otherwise;
2 for bad arguments."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile_argument(parser)
    add_seed_option(parser, help="Hypothesis seed for the non-derandomized profiles "
                                 "(default: 0)")
    add_workers_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--suite-dir", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from lpsgd.report.generate import validate_options
    from lpsgd.report.results import summarize_suite
    from lpsgd.report.suite import resolve_workers, run_suite

    profile, seed = validate_options(args.profile, args.seed)
    workers = resolve_workers(args.workers)
    suite = run_suite(profile, seed, suite_dir=args.suite_dir, progress=not args.no_progress,
                      workers=workers)
    s = summarize_suite(suite)
    counts = suite.counts()
    failed = [p["name"] for p in s["properties"] if p["status"] == "fail"]
    unrefuted = [m["name"] for m in s["mutants"] if not m["refuted"]]
    ok = (not failed and not unrefuted and counts["failed"] == 0 and counts["error"] == 0)
    line = (f"{'PASS' if ok else 'FAIL'}: {len(s['properties']) - len(failed)}/"
            f"{len(s['properties'])} properties hold, {len(s['mutants']) - len(unrefuted)}/"
            f"{len(s['mutants'])} mutants refuted, profile {profile} "
            f"(pytest: {suite.pytest_summary or 'no summary'})")
    if failed:
        line += "; failing: " + ", ".join(failed)
    if unrefuted:
        line += "; not refuted: " + ", ".join(unrefuted)
    if suite.collection_errors:
        line += "; collection errors in: " + ", ".join(e["nodeid"] for e in
                                                       suite.collection_errors)
    print(line, file=sys.stdout)
    return 0 if ok else 1
