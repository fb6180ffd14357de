"""The closed forms of lpsgd.shrinkage checked by brute force with the reference quantiser.

For small formats (E = 2 with M in {0..3}, E = 3 with M in {0..2}; subnormals on/off;
IEEE and both fn kinds)
the candidate inputs are every grid point, every midpoint, and their neighbours at a
relative offset of 2^-24 of the local spacing (both signs).  Q(x)/x on those points must
respect each claimed bound (sound) and come within 2^-16 of it (tight), and the
smallest surviving magnitude must match both sides of the claim.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lpsgd import reference
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd.shrinkage import norm_ratio, profile, projection_shrinkage

EPS = 2.0 ** -24
TIGHT = Fraction(1, 2 ** 16)


def _small_formats() -> list[Format]:
    out = []
    for e, m_max in ((2, 3), (3, 2)):
        for m in range(m_max + 1):
            for sub in (True, False):
                for inf, nan in ((True, True), (False, True), (False, False)):
                    try:
                        out.append(Format(e, m, subnormals=sub, inf=inf, nan=nan))
                    except InvalidArgument:
                        pass
    return out


FORMATS = _small_formats()


def _candidates(f: Format) -> np.ndarray:
    """Positive candidates <= X_max: grid points, midpoints, and their near neighbours."""
    s = float(f.subnormal_spacing)
    grid = [j * s for j in range(2 ** f.man_bits)]  # subnormal grid, even when flushed
    for e in range(f.e_min, f.e_max + 1):
        grid += [(2 ** f.man_bits + k) * 2.0 ** (e - f.man_bits) for k in range(2 ** f.man_bits)]
    grid = np.array(sorted(g for g in grid if g <= float(f.x_max)))
    sp = np.diff(grid)
    mids = grid[:-1] + sp / 2
    pts = [grid, mids]
    for c, d in ((grid[:-1], sp), (grid[1:], sp), (mids, sp)):
        pts += [c + EPS * d, c - EPS * d]
    v = np.unique(np.concatenate(pts))
    return v[(v > 0) & (v <= float(f.x_max))]


def _outcomes(f: Format, mode: RoundingMode, x: np.ndarray) -> list[np.ndarray]:
    """Every possible result: one for deterministic modes, both neighbours for stochastic."""
    if not mode.is_stochastic:
        return [reference.quantize(x, f, mode.value)]
    return [reference.quantize(x, f, mode.value, uniforms=np.full(x.shape, u))
            for u in (0.0, np.nextafter(1.0, 0.0))]


@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("f", FORMATS, ids=lambda f: f.label)
def test_profile_against_brute_force(f: Format, mode: str) -> None:
    m = RoundingMode(mode)
    prof = profile(f, mode)
    pos = _candidates(f)
    x = np.concatenate([pos, -pos])
    outs = _outcomes(f, m, x)
    # exact ratios Q(x)/x (a float64 division would round)
    pairs = [(abs(Fraction(float(xi))), Fraction(float(oi)) / Fraction(float(xi)), oi != 0)
             for o in outs for xi, oi in zip(x, o)]
    ratios = [r for _, r, _ in pairs]

    # q_hi: sound, and approached (or exceeded any bound when infinite)
    top = max(ratios)
    if prof.q_hi == math.inf:
        assert top > 2 ** 20, (prof, top)
    else:
        assert top <= prof.q_hi, (prof.q_hi, top)
        assert top >= prof.q_hi * (1 - TIGHT), (prof.q_hi, top)

    # smallest surviving magnitude
    lowest = min(a for a, _, alive in pairs if alive)
    ss = prof.smallest_surviving
    assert lowest >= ss
    assert lowest <= ss + TIGHT * max(ss, f.subnormal_spacing)
    if ss > 0:
        at = _outcomes(f, m, np.array([float(ss), -float(ss)]))
        assert bool(any((o != 0).any() for o in at)) == prof.survives_at_infimum

    # q_lo(t) for t at (a sample of) every candidate magnitude: sound and tight
    pairs.sort(key=lambda p: p[0])
    suffix: list[Fraction] = [Fraction(0)] * len(pairs)
    best = None
    for i in range(len(pairs) - 1, -1, -1):
        best = pairs[i][1] if best is None else min(best, pairs[i][1])
        suffix[i] = best
    mags = [a for a, _, _ in pairs]
    for i in range(0, len(pairs), max(1, len(pairs) // 150)):
        t = mags[i]
        first = mags.index(t)  # every sample with |x| >= t
        observed = suffix[first]
        claim = prof.q_lo(t)
        assert observed >= claim, (float(t), claim, observed)
        assert observed <= claim + TIGHT, (float(t), claim, observed)


def test_known_values() -> None:
    """Hand-derived values for binary16 (M = 10, s = 2^-24, N_min = 2^-14)."""
    ne = profile("binary16", "nearest_even")
    assert ne.smallest_surviving == Fraction(1, 2 ** 25) and not ne.survives_at_infimum
    assert ne.q_hi == 2
    assert ne.q_lo(1.0) == Fraction(2 ** 11, 2 ** 11 + 1)
    tz = profile("binary16", "toward_zero")
    assert tz.q_lo(2.0 ** -24) == Fraction(1, 2)  # the piece [s, 2s)
    assert tz.q_lo(1.0) == Fraction(2 ** 10, 2 ** 10 + 1)
    sr = profile("binary16", "stochastic")
    assert sr.quantum(1.5) == Fraction(1, 2 ** 10)
    assert sr.variance_bound(1.5) == Fraction(1, 2 ** 22)
    assert sr.quantum(0.0) == Fraction(1, 2 ** 24)
    assert profile("binary16", "up").q_hi == math.inf
    # t may be an int, a numpy float or an mpf (used exactly)
    import mpmath
    assert tz.q_lo(mpmath.mpf(1) / 3) == tz.q_lo(np.float32(0.25)) == tz.q_lo(1)


def test_profile_bad_arguments() -> None:
    with pytest.raises(InvalidArgument, match="t="):
        profile("binary16", "nearest_even").q_lo(1e6)
    with pytest.raises(InvalidArgument, match="t="):
        profile("binary16", "nearest_even").q_lo(0.0)
    with pytest.raises(InvalidArgument, match="t=nan"):
        profile("binary16", "nearest_even").q_lo(float("nan"))
    with pytest.raises(InvalidArgument, match="stochastic"):
        profile("binary16", "nearest_even").quantum(1.0)
    with pytest.raises(InvalidArgument, match="rounding"):
        profile("binary16", "nearest")


def test_projection_and_norm_ratio() -> None:
    g = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    qg = np.array([[3.0, 4.0], [0.5, 2.0], [0.0, 0.0]])
    proj = projection_shrinkage(qg, g)
    assert proj[0] == 1.0 and proj[1] == 0.5 and np.isnan(proj[2])
    ratio = norm_ratio(qg, g)
    assert ratio[0] == 1.0 and ratio[1] == math.sqrt(4.25) and np.isnan(ratio[2])
    # the residual Q(g) - q^ g is orthogonal to g
    rng = np.random.default_rng(0)
    v = rng.standard_normal(64)
    from lpsgd import fast
    qv = fast.quantize(v, "float8_e4m3fn", "toward_zero")
    e = qv - projection_shrinkage(qv, v) * v
    assert abs(e @ v) <= 1e-12 * (v @ v)
    assert projection_shrinkage(qv, v) <= 1.0  # toward zero never grows a component
    with pytest.raises(InvalidArgument, match="same shape"):
        norm_ratio(np.ones(3), np.ones(4))
