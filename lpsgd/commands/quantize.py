"""``lpsgd quantize``: round values to a format and show the bits and the error in ulps.

With a scaled format (MX, NVFP4) the values are one row of blocks: each line also shows
the element code and the block, and a second table gives every block's maximum, scale
and scale code (lpsgd.reference.scaled.encode)."""

from __future__ import annotations

import argparse
from fractions import Fraction

from lpsgd.commands._args import (
    FORMAT_SPEC_HELP,
    FormatOption,
    UsageError,
    add_seed_option,
    spec_of,
)

HELP = ("round values to a format: result, bit pattern (sign|exponent|mantissa), error in "
        "ulps; for a scaled format also the block scales")

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

Scaled formats (FORMAT may also be one of these; lpsgd formats --scaled lists them):
  """ + "{SCALED}" + """
  The VALUEs are one row: blocks of the preset's size (a shorter last block is a block
  of its own). Each line adds the element's code and its block; a second table gives,
  per block, its largest magnitude a_B, the scale (2^e for
  E8M0 scales; the E4M3 block scale s_B for nvfp4, with the per-tensor scale S), the
  scale's code (E8M0: e + 127, 255 for NaN; E4M3: its bit pattern) and the exponent e.
  ulps are counted on the element grid at value / scale (E8M0 scales only). Elements are
  always clamped to the element's largest magnitude, so --saturate does not apply.

Examples:
  lpsgd quantize --format binary16 --rounding nearest_even 0.1 65520
  lpsgd quantize --format fp16 -- -1.5 2.5           # an alias; -- before a negative value
  lpsgd quantize --format float8_e4m3fn --rounding toward_zero --saturate 500
  lpsgd quantize --format e4m3:fn 0.3                 # the same format as float8_e4m3fn
  lpsgd quantize --format e5m7:nosub 1e-6             # a custom format, no subnormals
  lpsgd quantize --format bfloat16 --rounding stochastic --seed 1 0.1 0.1 0.1
  lpsgd quantize --format mxfp4_e2m1 -- 0.3 -1.7 5.9 0.01   # values and block scales
  lpsgd quantize --format mxfp8_e4m3 -- 511.99 1 0.5 -3e-4   # 511.99 clamps to 448
  lpsgd quantize --format nvfp4 --rounding toward_zero 1 2 3 100

Exit status: 0 on success, 2 for bad arguments (nothing is printed on stdout)."""


def _scaled_names() -> str:
    import textwrap

    from lpsgd.scaled import SCALED_PRESETS

    return "\n  ".join(textwrap.wrap(" ".join(SCALED_PRESETS), 86))


DESCRIPTION = DESCRIPTION.replace("{SCALED}", _scaled_names())


def _likeness(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, a, b.lower()).ratio()


class QuantizeFormat:
    """argparse ``type`` of ``--format``: a scaled preset name, else an element format
    resolved as every command resolves it (unknown names suggest the closest of both)."""

    def __init__(self, prog: str) -> None:
        self.prog = prog
        self.element = FormatOption(prog, "--format")
        self.__name__ = "format"

    def __call__(self, text: str):
        from lpsgd._validate import closest
        from lpsgd.scaled import SCALED_PRESETS

        if isinstance(text, str) and text.strip() in SCALED_PRESETS:
            return SCALED_PRESETS[text.strip()]
        try:
            return self.element(text)
        except UsageError as exc:
            if not exc.message.startswith("Unknown --format="):
                raise
            message, *element_hint = exc.message.split(". Did you mean")
            message += f"; or a scaled preset ({', '.join(SCALED_PRESETS)})"
            t = str(text).strip().lower()
            starts = [n for n in SCALED_PRESETS if n.startswith(t)] if t else []
            hint = starts[0] if starts else closest(t, SCALED_PRESETS)
            other = element_hint[0].strip(" ?'") if element_hint else None
            if other is not None and not starts and (
                    hint is None or _likeness(t, other) >= _likeness(t, hint)):
                hint = other
            if hint is not None:
                message += f". Did you mean {hint!r}?"
            raise UsageError(self.prog, message) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lpsgd.rounding import ROUNDING_MODES

    parser.add_argument("--format", required=True, metavar="FORMAT",
                        type=QuantizeFormat(parser.prog),
                        help="a preset, an alias or an eXmY[:flag...] spec (see Formats "
                             "above), or a scaled preset such as mxfp4_e2m1 or nvfp4")
    parser.add_argument("--rounding", default="nearest_even", metavar="MODE",
                        help="rounding mode (default nearest_even): " + ", ".join(ROUNDING_MODES))
    add_seed_option(parser, default=None,
                    help="seed of the uniforms for the stochastic modes (which need it)")
    parser.add_argument("--saturate", action="store_true",
                        help="clamp overflows (and infinite inputs) to +-X_max (element "
                             "formats only)")
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


def _uniforms(mode, seed, n: int):
    """The uniforms of a stochastic mode (numpy.random.default_rng(seed), one per value)."""
    import numpy as np

    from lpsgd.errors import InvalidArgument

    if mode.is_stochastic:
        if seed is None:
            raise InvalidArgument(f"--rounding {mode.value} needs --seed N (the uniforms "
                                  f"come from numpy.random.default_rng(N))")
        return np.random.default_rng(seed).random(n)
    if seed is not None:
        raise InvalidArgument(f"--seed is only used by stochastic modes; got "
                              f"--seed={seed} with --rounding {mode.value}")
    return None


def _print_table(table: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _element_code(sf, code: int) -> str:
    """An element code as bits: sign|exponent|mantissa, or two's complement for int."""
    if sf.kind == "int":
        return format(code, f"0{sf.element.bits}b")
    e, m = sf.element.exp_bits, sf.element.man_bits
    text = format(code, f"0{sf.element.total_bits}b")
    return f"{text[0]}|{text[1:1 + e]}|{text[1 + e:]}" if m else f"{text[0]}|{text[1:]}"


def _run_scaled(args, fmt, mode, values) -> int:
    import math

    import numpy as np

    from lpsgd import reference
    from lpsgd.errors import InvalidArgument
    from lpsgd.reference.scaled import encode

    if args.saturate:
        raise InvalidArgument(f"--saturate is for element formats; a scaled format "
                              f"({fmt.label}) always clamps its elements to +-X_f")
    sf = fmt
    u = _uniforms(mode, args.seed, values.size)
    kw = {} if u is None else {"uniforms": u}
    results = reference.quantize(values, sf, mode, **kw)
    enc = encode(values, sf, mode, **kw)
    k = sf.block_size
    e8m0 = sf.scale == "e8m0"
    nan_block = np.isnan(enc.scales)
    table = [("value", "hex", "result", "code", "block", "ulps")]
    for i, (x, r) in enumerate(zip(values.tolist(), results.tolist())):
        b = i // k
        code = "-" if nan_block[b] else _element_code(sf, int(enc.codes[i]))
        ulps = "-"
        if e8m0 and not nan_block[b]:
            e = int(enc.exponents[b])
            ulps = _ulps(sf.grid, math.ldexp(x, -e), math.ldexp(r, -e))
        table.append((repr(x), x.hex(), repr(r), code, str(b), ulps))
    elem = sf.element.label
    print(f"# format {sf.label} (element {elem}, blocks of {k}, scale {sf.scale}, rule "
          f"{sf.rule}), rounding {mode.value}")
    _print_table(table)
    print()
    if not e8m0:
        print(f"# per-tensor scale S = {enc.tensor_scale!r} ({float(enc.tensor_scale).hex()}); "
              f"result = element * s_B / S")
    blocks = [("block", "elements", "a_B", "scale", "scale_code", "e")]
    for b in range(enc.scales.size):
        lo, hi = b * k, min((b + 1) * k, values.size)
        a_b = float(np.max(np.abs(values[lo:hi])))
        scale = float(enc.scales[b])
        if e8m0:
            code = str(int(enc.scale_codes[b]))
            e = "-" if nan_block[b] else str(int(enc.exponents[b]))
            shown = "nan" if nan_block[b] else f"2^{e}"
        else:
            code = format(int(enc.scale_codes[b]), "08b")
            shown, e = repr(scale), "-"
        blocks.append((str(b), f"{lo}..{hi - 1}", repr(a_b), shown, code, e))
    _print_table(blocks)
    return 0


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from lpsgd import reference
    from lpsgd.rounding import rounding_mode
    from lpsgd.scaled import ScaledFormat

    fmt = args.format  # a Format or a ScaledFormat, resolved at parse time
    mode = rounding_mode(args.rounding, "--rounding")
    values = np.array([parse_value(v) for v in args.values], dtype=np.float64)
    if isinstance(fmt, ScaledFormat):
        return _run_scaled(args, fmt, mode, values)
    u = _uniforms(mode, args.seed, values.size)
    kwargs = {} if u is None else {"uniforms": u}
    results = reference.quantize(values, fmt, mode, saturate=args.saturate, **kwargs)
    header = ("value", "hex", "result", "bits", "ulps")
    table = [header]
    for x, r in zip(values.tolist(), results.tolist()):
        table.append((repr(x), x.hex(), repr(r), _bits(fmt, r), _ulps(fmt, x, r)))
    sub = "" if fmt.subnormals else ", no subnormals"
    print(f"# format {fmt.label} (E={fmt.exp_bits}, M={fmt.man_bits}, {fmt.kind}{sub}; "
          f"{spec_of(fmt)}), rounding {mode.value}" + (", saturate" if args.saturate else ""))
    _print_table(table)
    return 0
