"""Inputs built to break quantisers, for any format (deterministic for a given seed).

A quantiser that is right on random normal numbers can still be wrong on ties, at binade
edges, at the subnormal and overflow boundaries, on signed zeros or on NaN.
:func:`stress_values` lists exactly those inputs for a format, as float64 values:

* every code of formats of at most 16 bits (including both zeros, inf and NaN when the
  format has them), and every midpoint (tie) between neighbouring codes;
* for wider formats, the same points in selected binades: the first binades, the
  binades around 1, the last binades, and a few chosen with the seed;
* binade edges 2^e, the values just below them (the largest grid point of the binade
  below, the tie with it), the top of each binade;
* the subnormal and underflow boundaries: s, s/2 (the tie with zero), 3s/2, N_min,
  N_min - s, N_min - s/2;
* the overflow boundaries: X_max, X_max + q/2 (the overflow threshold of round to
  nearest), X_max + q, 2^(e_max + 1), the largest float64;
* float64 values with random significands in binades chosen by the seed;
* the float64 neighbours (nextafter up and down in magnitude) of every point above;
* +-0, +-inf, NaN, and both signs of everything.

Points that are not float64 values (for formats wider than binary64) are left out.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np

from lpsgd._validate import check_int
from lpsgd.formats import Format, as_format

__all__ = ["stress_values"]

_F64_MAX = Fraction(np.finfo(np.float64).max.item())
_F64_TINY = Fraction(2) ** -1074


def _exact_float(v: Fraction) -> float | None:
    """v as a float64 if it is one exactly, else None."""
    if v > _F64_MAX or (v != 0 and v < _F64_TINY):
        return None
    fv = float(v)
    return fv if Fraction(fv) == v else None


def _boundary_points(f: Format, rng: np.random.Generator,
                     extra_binades: int) -> tuple[list[Fraction], list[Fraction]]:
    """Positive exact points of interest for ``f``: (range boundaries, binade points)."""
    m = f.man_bits
    two = Fraction(2)

    def q(e: int) -> Fraction:  # spacing of the format in the binade [2^e, 2^(e+1))
        return two ** (max(e, f.e_min) - m)

    pts: list[Fraction] = []
    # Points far outside the float64 range are skipped before they are computed (a
    # format with 30 exponent bits has constants of hundreds of millions of bits).
    if f.e_min - m >= -1100:
        s, nmin = f.subnormal_spacing, f.n_min
        pts += [s, s / 2, 3 * s / 2, 2 * s, nmin, nmin - s, nmin - s / 2, nmin + s,
                nmin + s / 2]
    if f.e_max <= 1025:
        # overflow: X_max, the ties around it, the next grid point, the next power of two
        xmax, top_q = f.x_max, q(f.e_max)
        pts += [xmax, xmax - top_q, xmax - top_q / 2, xmax + top_q / 2, xmax + top_q,
                two ** (f.e_max + 1), 2 * xmax, f.overflow_threshold]
    edges, pts = pts, []
    binades = {f.e_min, f.e_min + 1, -2, -1, 0, 1, 2, f.e_max - 1, f.e_max}
    lo = max(f.e_min - m - 2, -1074)
    hi = min(f.e_max + 2, 1023)
    binades |= {int(e) for e in rng.integers(lo, hi + 1, size=extra_binades)}
    for e in sorted(binades):
        if e < max(f.e_min - m - 2, -1080) or e > min(f.e_max + 1, 1024):
            continue
        p, qe, qb = two ** e, q(e), q(e - 1)
        pts += [p, p + qe, p + qe / 2, p - qb, p - qb / 2,        # binade edge and ties
                2 * p - qe, 2 * p - qe / 2]                        # binade top, tie above
        # a few grid points of the binade chosen by the seed, and the ties above them
        for n in rng.integers(0, max(1, 2 ** min(m, 62)), size=3):
            g = p + int(n) * qe
            pts += [g, g + qe / 2]
    return [v for v in edges if v > 0], [v for v in pts if v > 0]


def _positive_grid(f: Format) -> np.ndarray:
    """Every finite value >= 0 of a format of at most 16 bits, ascending (vectorised)."""
    m = f.man_bits
    sub = np.arange(2 ** m if f.subnormals else 1, dtype=np.float64)
    parts = [np.ldexp(sub, f.e_min - m)]
    sig = np.arange(2 ** m, 2 ** (m + 1), dtype=np.float64)
    for e in range(f.e_min, f.e_max + 1):
        parts.append(np.ldexp(sig, e - m))
    grid = np.concatenate(parts)
    return grid[grid <= float(f.x_max)]


def stress_values(fmt: Format | str, *, seed: int = 0,
                  max_values: int | None = None) -> np.ndarray:
    """Hard float64 inputs for quantising to ``fmt`` (see the module docstring).

    Args:
        fmt: a Format or preset name.
        seed: picks the extra binades and grid points, and the subsample.
        max_values: at most this many values, taken tier by tier: (0) specials and the
            subnormal/overflow boundaries with their neighbours, (1) binade edges, grid
            points and random values with their neighbours, (2) every code and tie of
            small formats; the first tier that does not fit is sampled with the seed.

    Returns:
        A 1-d float64 array without duplicates (by bit pattern), deterministic for
        (fmt, seed, max_values).
    """
    f = as_format(fmt)
    seed = check_int("seed", seed, min_value=0)
    if max_values is not None:
        max_values = check_int("max_values", max_values, min_value=1)
    return _cached(f, seed, max_values).copy()


@functools.lru_cache(maxsize=64)
def _cached(f: Format, seed: int, max_values: int | None) -> np.ndarray:
    rng = np.random.default_rng(seed)

    def floats(points: list[Fraction]) -> list[float]:
        return [v for v in (_exact_float(p) for p in points) if v is not None]

    def with_neighbours(v: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            v = np.concatenate([v, np.nextafter(v, np.inf), np.nextafter(v, 0.0)])
        return v[np.isfinite(v) & (v > 0)]

    def both_signs(v: np.ndarray) -> np.ndarray:
        return np.concatenate([v, -v])

    edge_pts, binade_pts = _boundary_points(f, rng, 6)
    # tier 0: specials, the subnormal/underflow and overflow boundaries, float64 extremes
    edges = floats(edge_pts) + [5e-324, float(np.finfo(np.float64).tiny),
                                float(np.finfo(np.float64).max)]
    tier0 = np.concatenate([[0.0, np.inf, np.nan], with_neighbours(np.array(edges))])
    # tier 1: binade edges and grid points, plus float64 values with random 53-bit
    # significands in random binades (for wide formats, where grid points and ties are
    # rarely float64)
    lo = max(f.e_min - f.man_bits - 2, -1074)
    hi = min(f.e_max + 2, 1023)
    randoms = np.ldexp(1.0 + rng.integers(0, 2 ** 52, size=32) / 2.0 ** 52,
                       rng.integers(lo, hi + 1, size=32))
    tier1 = with_neighbours(np.concatenate([np.array(floats(binade_pts)), randoms]))
    # tier 2: every code and tie (with neighbours) of formats of at most 16 bits
    tier2 = np.empty(0, dtype=np.float64)
    if f.total_bits <= 16:
        grid = _positive_grid(f)
        a, b = grid[:-1], grid[1:]
        with np.errstate(under="ignore"):
            mid = a + (b - a) / 2
            exact = (mid - a == (b - a) / 2) & (b - mid == (b - a) / 2)
        mid = mid[exact]
        tier2 = np.concatenate([grid, mid, np.nextafter(mid, np.inf), np.nextafter(mid, 0.0)])
        tier2 = tier2[tier2 > 0]

    out: list[np.ndarray] = []
    seen = np.empty(0, dtype=np.uint64)
    room = max_values
    for tier in (tier0, tier1, tier2):
        t = _unique(both_signs(tier))
        t = t[~np.isin(t.view(np.uint64), seen)]
        if room is not None and len(t) > room:
            t = t[np.sort(rng.choice(len(t), size=room, replace=False))]
        out.append(t)
        seen = np.concatenate([seen, t.view(np.uint64)])
        if room is not None:
            room -= len(t)
            if room == 0:
                break
    return np.concatenate(out)


def _unique(v: np.ndarray) -> np.ndarray:
    """Distinct values by bit pattern (keeps -0.0 and 0.0 apart, one NaN), sorted by bits."""
    bits = np.unique(np.ascontiguousarray(v, dtype=np.float64).view(np.uint64))
    out = bits.view(np.float64)
    nan = np.isnan(out)
    if nan.sum() > 1:
        out = np.concatenate([out[~nan], [np.nan]])
    return out
