"""``lpsgd formats``: the preset formats and their constants, derived from (E, M, flags)."""

from __future__ import annotations

import argparse

HELP = "list the preset formats with E, M, bias, e_min, e_max, N_min, s, X_max, u, kind"

DESCRIPTION = """\
List every preset format (FORMATS.md) with its constants, all derived from the exponent
bits E, the stored mantissa bits M and the flags:

  bias = 2^(E-1) - 1, e_min = 1 - bias, N_min = 2^e_min (smallest normal),
  s = 2^(e_min - M) (subnormal spacing), X_max (largest finite), u = 2^-(M+1)
  (unit roundoff), kind: ieee (inf and NaN), fn (no inf, one NaN code), fn_nonan.

Aliases (fp16, bf16, ...) are accepted wherever a format name is.

Examples:
  lpsgd formats
  lpsgd formats --hex      # exact constants as hex floats"""

_COLUMNS = ("name", "E", "M", "bias", "e_min", "e_max", "N_min", "s", "X_max", "u", "kind")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hex", action="store_true",
                        help="print N_min, s, X_max and u as exact hex floats")


def rows(hex_floats: bool = False) -> list[tuple[str, ...]]:
    """The table rows (strings), one per preset, in FORMATS.md order."""
    from lpsgd.formats import PRESETS

    def num(v) -> str:
        x = float(v)
        return x.hex() if hex_floats else f"{x:.6g}"

    out = []
    for name, f in PRESETS.items():
        out.append((name, str(f.exp_bits), str(f.man_bits), str(f.bias), str(f.e_min),
                    str(f.e_max), num(f.n_min), num(f.subnormal_spacing), num(f.x_max),
                    num(f.unit_roundoff), f.kind))
    return out


def run(args: argparse.Namespace) -> int:
    table = [_COLUMNS, *rows(args.hex)]
    widths = [max(len(r[i]) for r in table) for i in range(len(_COLUMNS))]
    for r in table:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                        enumerate(zip(r, widths))).rstrip())
    return 0
