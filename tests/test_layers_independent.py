"""fast == reference compares two implementations: lpsgd.fast imports nothing of lpsgd.reference.

What both layers share (argument checks, the scaled layout, result checks, the checks of
the expectation arguments) lives in neutral modules (lpsgd._quantize_common,
lpsgd._expectations_common, lpsgd._engine_common); the rounding decisions are made in
each layer on its own.  The fast scaled quantiser's exact fallback (its own rational
rounding) is checked here against the reference's.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import lpsgd
import lpsgd.fast.scaled as fast_scaled
from lpsgd.formats import PRESETS, Format
from lpsgd.reference.scaled import round_exact
from lpsgd.rounding import ROUNDING_MODES, RoundingMode

FAST = Path(lpsgd.__file__).parent / "fast"


def _reference_imports(source: str) -> list[str]:
    """Every import of lpsgd.reference (at any depth, also ``from lpsgd import reference``
    and ``importlib.import_module("lpsgd.reference...")``) in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("lpsgd.reference")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("lpsgd.reference"):
                found.append(node.module)
            elif node.module == "lpsgd":
                found += [f"lpsgd.{a.name}" for a in node.names if a.name == "reference"]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and node.args[0].value.startswith("lpsgd.reference")):
            found.append(node.args[0].value)
    return found


def test_the_check_sees_every_form_of_import():
    sources = ["from lpsgd.reference.quantize import rounds_up",
               "import lpsgd.reference.scaled as rs",
               "from lpsgd import formats, reference",
               "def f():\n    from lpsgd.reference import expectations\n",
               "import importlib\nm = importlib.import_module('lpsgd.reference.sgd')"]
    for src in sources:
        assert _reference_imports(src), src
    assert _reference_imports("from lpsgd._quantize_common import prepare\n"
                              "from lpsgd import fast\n# lpsgd.reference is the twin") == []


@pytest.mark.parametrize("path", sorted(FAST.glob("*.py")), ids=lambda p: p.name)
def test_fast_imports_nothing_from_reference(path):
    assert _reference_imports(path.read_text()) == [], path.name


def _rationals(rng: np.random.Generator, f: Format, n: int) -> list[Fraction]:
    """Exact rationals around the grid of f: grid points, midpoints, one part in 2^60 off
    either, random fractions with odd denominators, and values below N_min."""
    out = []
    for _ in range(n):
        e = int(rng.integers(f.e_min - 3, f.e_max + 2))
        q = Fraction(2) ** (max(e, f.e_min) - f.man_bits)
        k = int(rng.integers(0, 2 ** (f.man_bits + 1)))
        base = Fraction(k) * q
        jitter = q / 2 ** 60
        den = int(rng.integers(1, 1000)) * 2 + 1
        out += [base, base + q / 2, base + q / 2 + jitter, base + q / 2 - jitter,
                base + q * Fraction(int(rng.integers(1, den)), den)]
    return [v for v in out if v >= 0]


@pytest.mark.parametrize("name", ["float4_e2m1fn", "float6_e2m3fn", "float8_e4m3fn",
                                  "float8_e5m2"])
def test_the_fast_exact_fallback_agrees_with_the_reference(name):
    """Two exact roundings written independently (integers in lpsgd.fast.scaled, Fraction
    arithmetic in lpsgd.reference.scaled) give the same magnitude in every mode."""
    f = PRESETS[name]
    rng = np.random.default_rng(3)
    values = _rationals(rng, f, 40)
    flush = Format(f.exp_bits, f.man_bits, subnormals=False)
    for mode in map(RoundingMode, ROUNDING_MODES):
        for fmt in (f, flush):
            for v in values:
                for neg in (False, True):
                    u = float(rng.random()) if mode.is_stochastic else None
                    got = fast_scaled._round_rational(v, neg, fmt, mode, u)
                    assert got == round_exact(v, neg, fmt, mode, u), (fmt, mode, v, neg, u)


def test_a_wrong_fallback_would_differ():
    """The comparison above separates roundings that differ only at ties."""
    f = PRESETS["float4_e2m1fn"]
    tie = Fraction(5, 2)  # halfway between 2 and 3
    even = fast_scaled._round_rational(tie, False, f, RoundingMode.NEAREST_EVEN, None)
    away = round_exact(tie, False, f, RoundingMode.NEAREST_AWAY, None)
    assert (even, away) == (2, 3)
