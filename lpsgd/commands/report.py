"""``lpsgd report``: run the property suite and the sweeps, write a report folder."""

from __future__ import annotations

import argparse
import re
import sys

from lpsgd.commands._args import IntOption, UsageError, add_seed_option
from lpsgd.profiles import EXAMPLES, HYPOTHESIS_NAMES, PROFILES

HELP = "run the property suite and sweeps; write a report folder (the main job)"

DESCRIPTION = f"""\
Run the property suite (properties/ of this checkout), the fast == reference
conformance matrix and the theory sweeps, then write a NEW folder holding report.md,
report.html (plots beside it), results.json, pytest.log and the PNG plots. The folder is
built under a temporary name and renamed at the end: an interrupted run leaves nothing,
and an existing report is never overwritten. report.md opens with what was verified
against what (the paper, arXiv 2508.07142, the statements' version, the ground truths),
then every statement with its assumptions, provenance, properties and mutants, the
tightness of each inequality, where the bounds are loose and what is not checked.

Profiles (Hypothesis examples per property; properties may scale this down):
  ci        max {EXAMPLES['ci']} examples, derandomized (the seed only drives the sweeps);
            the default, under 15 minutes on 2 cores
  dev       max {EXAMPLES['dev']} examples, randomized from --seed; a quick look
  thorough  max {EXAMPLES['thorough']} examples, randomized from --seed; nightly runs

--seed N is an integer, 0 <= N <= 2^64 - 1. --workers N runs the property suite on N
pytest-xdist worker processes (auto, the default: one per CPU; 1: in this process); the
report is the same for any number of workers. Bad arguments (an unknown profile, a bad
seed or --workers, an --out folder that exists and is not empty, or whose parent is
missing or not writable) are reported before any work is done.

Examples:
  lpsgd report                              # ci profile, seed 0, reports/<timestamp>-ci-seed0
  lpsgd report --profile dev --seed 7       # a quick randomized look
  lpsgd report --profile thorough --seed 1 --out reports/nightly-1
  lpsgd report --workers 1                  # the suite in this process, no workers

Exit status: 0 when every property holds, every mutant is refuted and fast and reference
agree everywhere; 1 otherwise; 2 for bad arguments (nothing written)."""


def add_profile_argument(parser: argparse.ArgumentParser) -> None:
    # Validated in run() (not with argparse choices) so every bad value gets the same
    # "names the argument and the value" message as the library raises.
    names = ", ".join(f"{p} as {HYPOTHESIS_NAMES[p]}" for p in PROFILES)
    parser.add_argument("--profile", default="ci", metavar="{" + ",".join(PROFILES) + "}",
                        help=f"lpsgd's Hypothesis profile (default: ci); registered with "
                             f"Hypothesis under namespaced names: {names}")


class WorkersOption:
    """argparse ``type`` of ``--workers``: ``auto`` or an integer >= 1, with the messages of
    :class:`lpsgd.commands._args.IntOption`
    (``Expected --workers >= 1 but got --workers=0``)."""

    def __init__(self, prog: str, option: str = "--workers") -> None:
        self.prog, self.option = prog, option
        self.integer = IntOption(prog, option, min_value=1)
        self.__name__ = "workers"

    def __call__(self, text: str) -> int | str:
        if isinstance(text, str) and text.strip().lower() == "auto":
            return "auto"
        if not isinstance(text, str) or not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
            name = self.option
            raise UsageError(self.prog, f"Expected {name} to be an integer or 'auto' but "
                                        f"got {name}={text!r}")
        return self.integer(text)


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", default="auto", metavar="N|auto",
                        type=WorkersOption(parser.prog),
                        help="run the property suite on N pytest-xdist worker processes "
                             "(default: auto, one per CPU; 1: in this process)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile_argument(parser)
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="the report folder to create (must not exist, or be empty); "
                             "default reports/<UTC timestamp>-<profile>-seed<N>")
    add_seed_option(parser, help="seed for Hypothesis (non-derandomized profiles) and the "
                                 "sweeps (default: 0)")
    add_workers_option(parser)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars on stderr")
    # For the tests of this command: point at another suite folder / a subset of sweeps.
    parser.add_argument("--suite-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sweeps", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from lpsgd.report.generate import generate, validate_options

    profile, seed = validate_options(args.profile, args.seed)
    sweeps = None
    if args.sweeps is not None:
        sweeps = [s for s in args.sweeps.split(",") if s]
    report = generate(profile, seed, args.out, suite_dir=args.suite_dir,
                      progress=not args.no_progress, sweeps=sweeps, workers=args.workers)
    r = report.results
    n_fail = sum(p["status"] == "fail" for p in r["properties"])
    n_unref = sum(not m["refuted"] for m in r["mutants"])
    print(f"{'PASS' if report.ok else 'FAIL'}: {len(r['properties']) - n_fail}/"
          f"{len(r['properties'])} properties hold, "
          f"{len(r['mutants']) - n_unref}/{len(r['mutants'])} mutants refuted "
          f"(pytest: {r['pytest']['summary'] or 'no summary'}); report written to "
          f"{report.path}/report.html", file=sys.stdout)
    return 0 if report.ok else 1
