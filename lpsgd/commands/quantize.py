"""``lpsgd quantize``: round values to a format and show the bits and the error in ulps."""

from __future__ import annotations

import argparse
from fractions import Fraction

from lpsgd.commands._args import FORMAT_SPEC_HELP, add_format_option, add_seed_option, spec_of

HELP = "round values to a format: result, bit pattern (sign|exponent|mantissa), error in ulps"

DESCRIPTION = """\
Round each VALUE to the format with the rounding mode, exactly (lpsgd.reference.quantize),
and print one line per value:

  value    the input as a float64 (decimal and exact hex)
  result   the rounded value
  bits     the result's bit pattern, sign|exponent|mantissa
  ulps     (result - value) / ulp(value), ulp being the format's spacing at the value
           (2^(max(e, e_min) - M) for |value| in [2^e, 2^(e+1)))

VALUE is a decimal (1.1, 1e-8), a hex float (0x1.8p-3), inf or nan. Start the list with
-- when the first value is negative: lpsgd quantize --format binary16 -- -1.5 2.5

Stochastic modes need --seed N, an integer 0 <= N <= 2^64 - 1
(numpy.random.default_rng(N) draws one uniform per value).

""" + FORMAT_SPEC_HELP + """

Examples:
  lpsgd quantize --format binary16 --rounding nearest_even 0.1 65520
  lpsgd quantize --format fp16 -- -1.5 2.5           # an alias; -- before a negative value
  lpsgd quantize --format float8_e4m3fn --rounding toward_zero --saturate 500
  lpsgd quantize --format e4m3:fn 0.3                 # the same format as float8_e4m3fn
  lpsgd quantize --format e5m7:nosub 1e-6             # a custom format, no subnormals
  lpsgd quantize --format bfloat16 --rounding stochastic --seed 1 0.1 0.1 0.1

Exit status: 0 on success, 2 for bad arguments (nothing is printed on stdout)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lpsgd.rounding import ROUNDING_MODES

    add_format_option(parser, required=True,
                      help="a preset, an alias or an eXmY[:flag...] spec (see Formats above)")
    parser.add_argument("--rounding", default="nearest_even", metavar="MODE",
                        help="rounding mode (default nearest_even): " + ", ".join(ROUNDING_MODES))
    add_seed_option(parser, default=None,
                    help="seed of the uniforms for the stochastic modes (which need it)")
    parser.add_argument("--saturate", action="store_true",
                        help="clamp overflows (and infinite inputs) to +-X_max")
    parser.add_argument("values", nargs="+", metavar="VALUE", help="values to round")


def parse_value(text: str) -> float:
    """A VALUE argument as a float64 (decimal, hex float, inf, nan)."""
    from lpsgd.errors import InvalidArgument

    t = text.strip()
    try:
        if "0x" in t.lower():
            return float.fromhex(t)
        return float(t)
    except ValueError:
        raise InvalidArgument(
            f"Expected VALUE to be a number (decimal, hex float such as 0x1.8p-3, inf or "
            f"nan) but got VALUE={text!r}") from None


def _bits(fmt, value: float) -> str:
    from lpsgd.errors import InvalidArgument

    try:
        code = fmt.encode(value)
    except InvalidArgument:
        return "-"
    text = format(code, f"0{fmt.total_bits}b")
    e, m = fmt.exp_bits, fmt.man_bits
    return f"{text[0]}|{text[1:1 + e]}|{text[1 + e:]}" if m else f"{text[0]}|{text[1:]}"


def _ulps(fmt, x: float, r: float) -> str:
    import math

    if not (math.isfinite(x) and math.isfinite(r)):
        return "-"
    if x == 0:
        return "0"
    a = Fraction(abs(x))
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    ulp = Fraction(2) ** (max(e, fmt.e_min) - fmt.man_bits)
    return f"{float((Fraction(r) - Fraction(x)) / ulp):.6g}"


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from lpsgd import reference
    from lpsgd.errors import InvalidArgument
    from lpsgd.rounding import rounding_mode

    fmt = args.format  # a Format, resolved at parse time
    mode = rounding_mode(args.rounding, "--rounding")
    values = np.array([parse_value(v) for v in args.values], dtype=np.float64)
    kwargs = {}
    if mode.is_stochastic:
        if args.seed is None:
            raise InvalidArgument(f"--rounding {mode.value} needs --seed N (the uniforms "
                                  f"come from numpy.random.default_rng(N))")
        kwargs["rng"] = np.random.default_rng(args.seed)
    elif args.seed is not None:
        raise InvalidArgument(f"--seed is only used by stochastic modes; got "
                              f"--seed={args.seed} with --rounding {mode.value}")
    results = reference.quantize(values, fmt, mode, saturate=args.saturate, **kwargs)
    header = ("value", "hex", "result", "bits", "ulps")
    table = [header]
    for x, r in zip(values.tolist(), results.tolist()):
        table.append((repr(x), x.hex(), repr(r), _bits(fmt, r), _ulps(fmt, x, r)))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    sub = "" if fmt.subnormals else ", no subnormals"
    print(f"# format {fmt.label} (E={fmt.exp_bits}, M={fmt.man_bits}, {fmt.kind}{sub}; "
          f"{spec_of(fmt)}), rounding {mode.value}" + (", saturate" if args.saturate else ""))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0
