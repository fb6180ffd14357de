"""``lpsgd findings``: the paper's three findings on real data, written as a report folder."""

from __future__ import annotations

import argparse
import sys

from lpsgd.commands._args import FORMAT_SPEC_HELP, add_int_option, add_seed_option

HELP = "check shrinkage, slowdown and floors of low-precision gradients on real data"

DESCRIPTION = """\
Run minibatch SGD with quantised gradients on a real problem, R seeded runs per format
and rounding mode plus the float64 baseline (and full-gradient descent for every
deterministic mode), then check the paper's three findings:

  F1  low precision shrinks gradients: the measured q^ = <Q(g), g>/||g||^2 is below 1
      for truncation (and for round-to-nearest where gradients underflow), falls as
      mantissa/exponent bits fall, and equals 1 within noise for stochastic rounding;
  F2  the slowdown (iterations to eps relative to float64) against the model's
      prediction from the measured q_min (Theorem 1's rate ratio) and 1/q_min;
  F3  the floor against mantissa bits, and against Theorems 1, 5, 6 and 7 (8 and 9
      for block-scaled formats).

Scaled formats (--format mxfp8_e4m3, mxfp4_e2m1, their _rceil twins, mxint8, nvfp4, ...)
quantise each gradient in blocks along its d components; the report then says how much
underflow block scaling removes (each unscaled format against its scaled twin: e4m3 and
mxfp8_e4m3, e2m1 and mxfp4_e2m1) and which theorem applies: Theorem 8 to full-gradient
descent with an MX format, Theorem 9 to stochastic rounding with rule ceil or rceil;
under the floor rule (block maxima clipped) and for NVFP4 the report names the
assumption that fails instead.

Where a theorem's assumptions hold exactly (full-gradient descent with deterministic
rounding: Theorems 5 and 6; stochastic rounding: Theorem 7 with the finite sum's own
sampling constants) its bound is checked; elsewhere the report compares prediction and
observation and says which assumption fails. Statistical checks use Z standard errors
with a Bonferroni correction: the chance of any false "contradicted" is at most 1%.

--problem is a bundled problem (breast_cancer: logistic regression, diabetes: ridge
least squares, digits: logistic regression even vs odd; all shipped with scikit-learn,
features standardised, lambda = 0.01) or your own data file: CSV (comma separated, an
optional header row, the LAST column is the label) or .npz (arrays X and y); give
--loss logistic (labels 0/1) or --loss least_squares with a file.

--out must be a new (or empty) folder; it is checked before anything runs and the
report is built under a temporary name and renamed at the end: report.md, report.html,
results.json and four plots (q^ along training, gap curves with bands, observed vs
predicted slowdown, floor vs mantissa bits). Every number replays from --seed.

""" + FORMAT_SPEC_HELP + """

Examples:
  lpsgd findings                                   # breast cancer, 5 formats x 3 modes
  lpsgd findings --problem my_data.csv --loss logistic --format fp8 --format e4m3fn
  lpsgd findings --problem digits --format bf16 --format e2m1 --rounding stochastic
  lpsgd findings --format e4m3fn --format mxfp8_e4m3 --format e2m1 --format mxfp4_e2m1
  lpsgd findings --problem data.npz --loss least_squares --runs 64 --steps 1000 \\
      --seed 3 --out reports/my-data-seed3

Exit status: 0 when no theorem bound is violated and no statistical check contradicts a
finding; 1 otherwise; 2 for bad arguments or a bad data file (nothing written)."""

DEFAULT_RUNS = 32
DEFAULT_STEPS = 600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problem", default="breast_cancer", metavar="NAME_OR_FILE",
                        help="bundled problem (breast_cancer, diabetes, digits) or a .csv / "
                             ".npz data file (default: breast_cancer)")
    parser.add_argument("--loss", default=None, metavar="{logistic,least_squares}",
                        help="the loss for a data file: logistic (labels 0/1) or "
                             "least_squares")
    from lpsgd.commands.quantize import QuantizeFormat

    parser.add_argument("--format", action="append", default=None, metavar="FORMAT",
                        type=QuantizeFormat(parser.prog),
                        help="gradient format (repeatable; default: bfloat16, binary16, "
                             "float8_e5m2, float8_e4m3fn, float4_e2m1fn): an element format "
                             "(see Formats below) or a scaled preset such as mxfp8_e4m3, "
                             "mxfp4_e2m1, mxfp4_e2m1_rceil, mxint8 or nvfp4")
    parser.add_argument("--rounding", action="append", default=None, metavar="MODE",
                        help="rounding mode (repeatable; default: nearest_even, toward_zero, "
                             "stochastic)")
    add_int_option(parser, "--runs", default=DEFAULT_RUNS, min_value=2, metavar="R",
                   help=f"seeded runs per configuration, >= 2 (default: {DEFAULT_RUNS})")
    add_int_option(parser, "--steps", default=DEFAULT_STEPS, min_value=4, metavar="K",
                   help=f"SGD steps per run, >= 4 (default: {DEFAULT_STEPS})")
    add_int_option(parser, "--batch", default=32, min_value=1, metavar="B",
                   help="minibatch size, >= 1 (default: 32)")
    add_seed_option(parser, help="seed of every run, 0 <= N <= 2^64 - 1 (default: 0)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="the report folder to create (must not exist, or be empty); "
                             "default reports/<UTC timestamp>-findings-seed<N>")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar on stderr")


def _command_line(args: argparse.Namespace, out) -> str:
    parts = ["lpsgd findings", f"--problem {args.problem}"]
    if args.loss:
        parts.append(f"--loss {args.loss}")
    for f in args.format or []:
        parts.append(f"--format {f.label}")
    for m in args.rounding or []:
        parts.append(f"--rounding {m}")
    parts += [f"--runs {args.runs}", f"--steps {args.steps}", f"--batch {args.batch}",
              f"--seed {args.seed}", f"--out {out}"]
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    import os

    from lpsgd import data, findings
    from lpsgd.errors import InvalidArgument
    from lpsgd.report.output import check_destination, default_report_dir, staging
    from lpsgd.rounding import rounding_mode

    # Every check before any work: bad arguments and bad files cost nothing and write nothing.
    if args.loss is not None and args.loss not in data.LOSSES:
        raise InvalidArgument(f"Unknown --loss={args.loss!r}; valid values are: "
                              f"{', '.join(data.LOSSES)}")
    modes = (findings.DEFAULT_ROUNDINGS if args.rounding is None
             else tuple(rounding_mode(m, "--rounding").value for m in args.rounding))
    formats = findings.DEFAULT_FORMATS if args.format is None else tuple(args.format)
    out = args.out if args.out is not None else default_report_dir("findings", args.seed)
    dest = check_destination(out, create_parent=args.out is None)
    problem = data.load_problem(args.problem, loss=args.loss)
    config = findings.FindingsConfig(problem=problem, formats=formats, roundings=modes,
                                     runs=args.runs, steps=args.steps, batch=args.batch,
                                     seed=args.seed).validated()
    # the stepsize rule refuses modes with unbounded q_hi (up, odd) before any run
    findings.admissible_stepsize(problem, config.formats, config.roundings, config.batch)

    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=None, desc="findings", unit="run", file=sys.stderr, leave=True,
                   dynamic_ncols=True)

    def progress(done: int, total: int, label: str) -> None:
        if bar is not None:
            bar.total = total
            bar.set_postfix_str(label, refresh=False)
            bar.update(1)

    try:
        result = findings.run_findings(config, progress=progress,
                                       command=_command_line(args, os.fspath(dest)))
    finally:
        if bar is not None:
            bar.close()
    with staging(dest) as tmp:
        findings.write_report(result, tmp)
    n_bad = sum(c.status in ("violated", "contradicted") for c in result.checks)
    print(f"{'PASS' if result.ok else 'FAIL'}: {len(result.checks) - n_bad}/"
          f"{len(result.checks)} checks without a violation or contradiction "
          f"({result.seconds:.1f} s); report written to {dest}/report.html")
    return 0 if result.ok else 1
