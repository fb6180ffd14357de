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

Wherever a command takes a format (quantize --format, bench --format), it also accepts
an alias (fp16, bf16, half, ...; --aliases lists them and what each means, ambiguous
ones included) and an eXmY[:flag...] spec for a custom format; lpsgd quantize --help
describes the syntax.

Examples:
  lpsgd formats
  lpsgd formats --hex      # exact constants as hex floats
  lpsgd formats --aliases  # every alias, and the preset it names (or "ambiguous: ...")

Exit status: 0 on success, 2 for bad arguments."""

_COLUMNS = ("name", "E", "M", "bias", "e_min", "e_max", "N_min", "s", "X_max", "u", "kind")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hex", action="store_true",
                        help="print N_min, s, X_max and u as exact hex floats")
    parser.add_argument("--aliases", action="store_true",
                        help="list the format aliases instead, with what each one means")


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
    if args.aliases:
        from lpsgd.commands._args import alias_table

        _print([("alias", "means"), *alias_table()], right=False)
        return 0
    _print([_COLUMNS, *rows(args.hex)], right=True)
    return 0


def _print(table: list[tuple[str, ...]], *, right: bool) -> None:
    """Aligned columns; the first left-aligned, the others right-aligned when ``right``."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.rjust(w) if i and right else c.ljust(w) for i, (c, w) in
                        enumerate(zip(r, widths))).rstrip())
