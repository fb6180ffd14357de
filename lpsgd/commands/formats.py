"""``lpsgd formats``: the preset formats and their constants, derived from (E, M, flags)."""

from __future__ import annotations

import argparse

HELP = "list the preset formats with E, M, bias, e_min, e_max, N_min, s, X_max, u, kind"

DESCRIPTION = """\
List every preset format with its constants, all derived from the exponent
bits E, the stored mantissa bits M and the flags:

  bias = 2^(E-1) - 1, e_min = 1 - bias, N_min = 2^e_min (smallest normal),
  s = 2^(e_min - M) (subnormal spacing), X_max (largest finite), u = 2^-(M+1)
  (unit roundoff), kind: ieee (inf and NaN), fn (no inf, one NaN code), fn_nonan.

Wherever a command takes a format (quantize --format, bench --format), it also accepts
an alias (fp16, bf16, half, ...; --aliases lists them and what each means, ambiguous
ones included) and an eXmY[:flag...] spec for a custom format; lpsgd quantize --help
describes the syntax.

With --scaled it lists the scaled presets instead (blocks sharing a scale): element format,
block size, scale format (e8m0: powers of two; e4m3: NVFP4 block scales under a float32
per-tensor scale), scale rule (floor, ceil, rceil, nearest), emax_f and X_f.

Examples:
  lpsgd formats
  lpsgd formats --hex      # exact constants as hex floats
  lpsgd formats --scaled   # the scaled presets: element, block, scale, rule, emax_f, X_f
  lpsgd formats --aliases  # every alias, and the preset it names (or "ambiguous: ...")

Exit status: 0 on success, 2 for bad arguments."""

_COLUMNS = ("name", "E", "M", "bias", "e_min", "e_max", "N_min", "s", "X_max", "u", "kind")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hex", action="store_true",
                        help="print N_min, s, X_max and u as exact hex floats")
    parser.add_argument("--aliases", action="store_true",
                        help="list the format aliases instead, with what each one means")
    parser.add_argument("--scaled", action="store_true",
                        help="list the scaled presets (MX, NVFP4) instead: element, block "
                             "size, scale format, scale rule, emax_f, X_f")


def rows(hex_floats: bool = False) -> list[tuple[str, ...]]:
    """The table rows (strings), one per preset, in the order of lpsgd.formats.PRESETS."""
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


_SCALED_COLUMNS = ("scaled", "element", "block", "scale", "rule", "emax_f", "X_f")


def scaled_rows(hex_floats: bool = False) -> list[tuple[str, ...]]:
    """The rows of the scaled presets (strings), in the order of lpsgd.formats.PRESETS."""
    from lpsgd.scaled import SCALED_PRESETS

    out = []
    for name, f in SCALED_PRESETS.items():
        xf = float(f.x_f)
        out.append((name, f.element.label, str(f.block_size), f.scale, f.rule,
                    str(f.emax_f), xf.hex() if hex_floats else f"{xf:.6g}"))
    return out


def run(args: argparse.Namespace) -> int:
    if args.aliases:
        from lpsgd.commands._args import alias_table

        _print([("alias", "means"), *alias_table()], right=False)
        return 0
    if args.scaled:
        _print([_SCALED_COLUMNS, *scaled_rows(args.hex)], right=True)
        return 0
    _print([_COLUMNS, *rows(args.hex)], right=True)
    return 0


def _print(table: list[tuple[str, ...]], *, right: bool) -> None:
    """Aligned columns; the first left-aligned, the others right-aligned when ``right``."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.rjust(w) if i and right else c.ljust(w) for i, (c, w) in
                        enumerate(zip(r, widths))).rstrip())
