"""lpsgd.shrinkage.profile on block-scaled formats: q_lo(t) relative to the block scale,
checked against the block quantiser itself."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import lpsgd.fast as fast
import lpsgd.shrinkage as shrinkage
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.scaled import scaled_preset
from lpsgd.theory.scaled_model import scaled_constants

FLOOR_PRESETS = ("mxfp8_e4m3", "mxfp4_e2m1", "mxfp6_e2m3", "mxfp6_e3m2")


def _grid(fmt) -> np.ndarray:
    """Every positive element value up to X_f, the float64 just below each, and the float64
    just below each midpoint (where nearest modes round down the most)."""
    e = fmt.element
    vals = np.unique(np.abs(np.asarray(fast.quantize(
        np.geomspace(float(e.smallest_positive), float(e.x_max), 20000), e, "nearest_even"))))
    vals = vals[vals > 0]
    mids = (vals[:-1] + vals[1:]) / 2
    return np.concatenate([vals, np.nextafter(vals, 0), np.nextafter(mids, 0)])


def _measured_rho(fmt, mode: str, y: np.ndarray) -> np.ndarray:
    """Q(y)/y for scaled magnitudes y under a block scale of exactly 1 (floor rule: a
    block maximum in [2^emax_f, 2^(emax_f+1)) sets s_B = 1)."""
    anchor = 2.0 ** fmt.emax_f
    out = np.empty_like(y)
    for i, v in enumerate(y):
        block = np.array([v, anchor]) if v < anchor else np.array([v])
        out[i] = float(fast.quantize(block, fmt, mode)[0]) / v
    return out


@pytest.mark.parametrize("name", FLOOR_PRESETS)
@pytest.mark.parametrize("mode", ["toward_zero", "nearest_even"])
def test_q_lo_is_the_infimum_of_the_block_quantiser(name, mode):
    fmt = scaled_preset(name)
    prof = shrinkage.profile(name, mode)
    assert prof == scaled_constants(fmt, mode)
    Y = float(prof.Y)
    y = np.sort(np.concatenate([_grid(fmt), np.geomspace(float(fmt.x_f), Y, 64)[:-1],
                                [np.nextafter(Y, 0)]]))
    y = y[(y > 0) & (y < Y)]
    rho = _measured_rho(fmt, mode, y)
    for t in [float(fmt.element.n_min), 1.0, float(fmt.x_f) / 2, float(fmt.x_f),
              (float(fmt.x_f) + Y) / 2]:
        q = prof.q_lo(Fraction(t))
        seen = rho[y >= t]
        assert seen.min() >= float(q) * (1 - 1e-15), (name, mode, t)
        # reached up to the float64 resolution of the grid of just-below points
        assert seen.min() <= float(q) + 1e-6, (name, mode, t, seen.min(), q)


def test_wrong_profile_is_caught():
    """The comparison above fails for a q_lo that ignores clipping (the floor rule's cap
    X_f / Y): above X_f only clipped magnitudes remain, and their rho is below 1."""
    fmt = scaled_preset("mxfp4_e2m1")
    prof = shrinkage.profile(fmt, "toward_zero")
    t = (float(fmt.x_f) + float(prof.Y)) / 2
    wrong = prof.element_q_lo(Fraction(t))  # 1: no clipping considered
    y = np.linspace(t, float(prof.Y), 50)[:-1]
    assert _measured_rho(fmt, "toward_zero", y).min() < float(wrong)


@pytest.mark.parametrize("args, error, words", [
    (("nvfp4", "toward_zero"), AssumptionError, "e4m3 block scale"),
    (("mxfp4_e2m1", "stochastic"), InvalidArgument, "rounding='stochastic'"),
    (("mxfp9_e9", "toward_zero"), InvalidArgument, "mxfp9_e9"),
])
def test_bad_scaled_arguments(args, error, words):
    with pytest.raises(error, match=words):
        shrinkage.profile(*args)
