"""Statistical checks of the stochastic modes, with a stated false-alarm rate.

For an inexact x between neighbours lo < |x| < hi, one stochastic rounding is hi with
probability p = frac = (|x| - lo)/(hi - lo) ("stochastic") or p = 1/2
("stochastic_equal"), else lo.  Over N independent draws the count of hi is
Binomial(N, p).  Bernstein's inequality bounds
P(|k/N - p| >= t) <= 2 exp(-N t^2 / (2 p (1 - p) + 2 t / 3)); we choose t so that this
is ALPHA = 1e-9 per value (valid for every p, also tiny ones where a normal z-test
would not be), so the whole file false-alarms with probability below 1e-6.  The draws
are seeded, so a run is reproducible.

p = frac being matched is exactly E[Q(x)] = x (unbiasedness); the variance of the
two-point result, p (1 - p) (hi - lo)^2, is checked against the exact bound of the
shrinkage profile, quantum(x)^2 / 4.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.formats import Format
from lpsgd.shrinkage import profile
from lpsgd.stress import stress_values

ALPHA = 1e-9
N_DRAWS = 20_000
FMT = Format(4, 3)  # float8_e4m3-like, with subnormals: every regime in 8 bits


def bernstein_radius(n: int, p: float, alpha: float = ALPHA) -> float:
    """t with 2 exp(-n t^2 / (2 p (1-p) + 2 t / 3)) = alpha (solves the quadratic)."""
    log_term = math.log(2 / alpha)
    v = p * (1 - p)
    return (log_term / 3 + math.sqrt(log_term ** 2 / 9 + 2 * n * log_term * v)) / n


def _inexact_values() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite, in-range, inexact inputs with their exact neighbours lo < |x| < hi."""
    x = stress_values(FMT, seed=3)
    x = x[np.isfinite(x) & (np.abs(x) <= float(FMT.x_max)) & (x != 0)]
    a = np.abs(x)
    lo = reference.quantize(a, FMT, "toward_zero")
    hi = reference.quantize(a, FMT, "up")
    keep = lo != hi
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(np.flatnonzero(keep), size=80, replace=False))
    return x[idx], lo[idx], hi[idx]


@pytest.mark.parametrize("mode", ["stochastic", "stochastic_equal"])
def test_probability_of_rounding_up(mode: str) -> None:
    x, lo, hi = _inexact_values()
    samples = fast.quantize(np.broadcast_to(x, (N_DRAWS, x.size)).copy(), FMT, mode,
                            rng=np.random.default_rng(2024))
    mags = np.abs(samples)
    assert np.all((mags == lo) | (mags == hi)), "a result is not one of the two neighbours"
    assert np.all(np.signbit(samples) == np.signbit(x))
    k = (mags == hi).sum(axis=0)
    worst = 0.0
    for j in range(x.size):
        frac = (Fraction(abs(float(x[j]))) - Fraction(float(lo[j]))) / (
            Fraction(float(hi[j])) - Fraction(float(lo[j])))
        p = float(frac) if mode == "stochastic" else 0.5
        t = bernstein_radius(N_DRAWS, p)
        dev = abs(k[j] / N_DRAWS - p)
        worst = max(worst, dev / t)
        assert dev <= t, (f"x={float(x[j]).hex()} p={p} observed {k[j]}/{N_DRAWS}: "
                          f"|p_hat - p|={dev:.3g} > t={t:.3g} (false-alarm rate {ALPHA})")
    assert worst > 0.0  # the draws really vary


def test_unbiased_mean_and_variance_bound() -> None:
    """E[Q(x)] = x within the Bernstein radius (in value terms), Var <= quantum^2/4."""
    x, lo, hi = _inexact_values()
    prof = profile(FMT, "stochastic")
    samples = fast.quantize(np.broadcast_to(x, (N_DRAWS, x.size)).copy(), FMT, "stochastic",
                            rng=np.random.default_rng(99))
    mean = samples.mean(axis=0)
    for j in range(x.size):
        a, l_, h = Fraction(abs(float(x[j]))), Fraction(float(lo[j])), Fraction(float(hi[j]))
        p = (a - l_) / (h - l_)
        exact_var = p * (1 - p) * (h - l_) ** 2
        assert exact_var <= prof.variance_bound(a)
        t = bernstein_radius(N_DRAWS, float(p)) * float(h - l_)
        assert abs(mean[j] - float(x[j])) <= t + 4 * np.finfo(float).eps * abs(float(x[j]))


def test_reference_draws_have_the_same_distribution() -> None:
    """The reference's stochastic rounding matches p on a few values (fewer draws)."""
    x = np.array([1 + 2.0 ** -5, 1 + 2.0 ** -4, -(3 * 2.0 ** -10)])  # p = 1/4, 1/2, 1/2
    n = 3000
    samples = reference.quantize(np.broadcast_to(x, (n, 3)).copy(), FMT, "stochastic",
                                 rng=np.random.default_rng(1))
    lo = np.array([1.0, 1.0, 2.0 ** -9])
    k = (np.abs(samples) != lo).sum(axis=0)
    for j, p in enumerate([0.25, 0.5, 0.5]):
        assert abs(k[j] / n - p) <= bernstein_radius(n, p)


def test_representable_values_never_move() -> None:
    x = np.concatenate([c for c in [FMT.codes()]])
    x = x[np.isfinite(x)]
    for mode in ("stochastic", "stochastic_equal"):
        for seed in range(3):
            got = fast.quantize(x, FMT, mode, rng=np.random.default_rng(seed))
            assert np.array_equal(got.view(np.uint64), x.view(np.uint64))
