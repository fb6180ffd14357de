"""Theorems 5-7 (lpsgd.theory.theorem5/6/7) with real quantisers in the loop.

* Theorems 5 and 6: gradient descent ``w_{k+1} = w_k - mu Q(grad F(w_k))`` on diagonal
  quadratics with a real deterministic quantiser, run EXACTLY: the iterate is kept as a
  rational, the gradient is quantised by the exact reference (which takes mpf inputs
  exactly), so the comparison with the bound needs no tolerance.  The shrinkage
  constants come from :func:`lpsgd.theory.format_shrinkage`.  Initial gradient
  components are drawn from the format's stress values (ties, edges, subnormals), and
  formats are biased to coarse ones (m <= 3), where truncation shrinkage is large.
* Theorem 7: Monte Carlo SGD with stochastic rounding of the gradient
  (``fast.quantize(..., "stochastic", rng=...)``) and bounded additive noise; it fails
  only when ``mean - Z se > bound (1 + rtol)`` at some k (the Monte Carlo comparison of
  :func:`lpsgd.suite.compare.assert_mc_upper`: Z = 5 standard errors, rtol for float64
  arithmetic).

Each property is a factory of the implementations it uses (the theorem, the quantiser),
lpsgd's by default; ``test_x = x()`` runs lpsgd's own.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import assume, event, example, given, note, settings
from hypothesis import strategies as st

import lpsgd.fast as fast
import lpsgd.reference as reference
import lpsgd.strategies as lst
import lpsgd.theory as theory
from lpsgd.formats import preset
from lpsgd.objectives import DiagonalQuadratic
from lpsgd.suite import compare

_GD_MODES = ("toward_zero", "toward_zero", "nearest_even", "nearest_away", "nearest_zero",
             "odd")


def _mpf(v: Fraction) -> mpmath.mpf:
    """The dyadic rational v as an mpf, exactly."""
    n, d = v.numerator, v.denominator
    assert d & (d - 1) == 0, "only dyadic rationals are exact mpf values"
    with mpmath.workprec(max(53, abs(n).bit_length() + 2)):
        return mpmath.ldexp(mpmath.mpf(n), -(d.bit_length() - 1))


def _exact_gd(lams: list[Fraction], e1: list[Fraction], mu: Fraction, fmt, rounding: str,
              K: int, reference_quantize=reference.quantize
              ) -> tuple[list[Fraction], list[list[Fraction]]]:
    """Exact gradient descent on F(w) = 1/2 sum lam_i e_i^2 (e = w - w*), K iterates.

    Returns F(w_k) - F* for k = 1..K and the gradients of the K - 1 steps.
    """
    e = list(e1)
    gaps, grads = [], []
    for k in range(1, K + 1):
        gaps.append(sum((lam * ei * ei for lam, ei in zip(lams, e)), Fraction(0)) / 2)
        if k == K:
            break
        g = [lam * ei for lam, ei in zip(lams, e)]
        qg = reference_quantize(np.array([_mpf(v) for v in g], dtype=object), fmt, rounding)
        grads.append(g)
        e = [ei - mu * Fraction(float(qi)) for ei, qi in zip(e, qg)]
    return gaps, grads


@functools.lru_cache(maxsize=None)
def _normal_grid(fmt) -> list[Fraction]:
    """The format's positive finite values from N_min to X_max, exactly."""
    vals = {Fraction(float(v)) for v in fmt.codes() if math.isfinite(v)}
    return sorted(v for v in vals if fmt.n_min <= v <= fmt.x_max)


@st.composite
def _between_neighbours(draw, fmt):
    """A magnitude strictly inside a gap of the normal grid (never representable): the
    truncation a deterministic mode applies to it is a real shrinkage (rho < 1)."""
    grid = _normal_grid(fmt)
    assume(len(grid) >= 2)  # a format with one normal value has no gap inside [N_min, X_max]
    i = draw(st.integers(0, len(grid) - 2))
    u = draw(st.one_of(st.sampled_from((Fraction(1, 2), Fraction(3, 4), Fraction(7, 8))),
                       st.integers(1, 63).map(lambda j: Fraction(j, 64))))  # dyadic: exact
    return grid[i] + u * (grid[i + 1] - grid[i])


@st.composite
def _gd_case(draw):
    # A third of the draws are the regime where truncation shrinkage is largest and the
    # bound tightest: toward_zero, m <= 1, equal eigenvalues (c = L), mu at its limit.
    hard = draw(st.integers(0, 2)) == 0
    if hard:
        fmt = draw(lst.formats(max_exp_bits=6, max_man_bits=1))
        rounding = "toward_zero"
    else:
        fmt = draw(st.one_of(lst.formats(max_exp_bits=5, max_man_bits=3),
                             lst.formats(max_exp_bits=8, max_man_bits=12)))
        rounding = draw(st.sampled_from(_GD_MODES))
    _, q_hi = theory.format_shrinkage(fmt, rounding, fmt.x_max)
    assume(math.isfinite(q_hi))  # odd with subnormals: rho unbounded near 0
    obj = draw(lst.quadratics(max_dim=4, max_condition=1.0 if hard else 64.0))
    lams = [Fraction(float(v)) for v in obj.lambdas]
    # Initial gradient components on the format's hard values (within [-X_max, X_max]).
    if hard:  # strictly between two neighbours in [N_min, X_max], so rho < 1 under toward_zero
        g1 = [draw(_between_neighbours(fmt)) * draw(st.sampled_from((1, -1))) for _ in lams]
    else:
        g1 = [Fraction(draw(lst.values_for(fmt, allow_nan=False, allow_infinity=False,
                                           allow_overflow=False))) for _ in lams]
    e1 = [g / lam for g, lam in zip(g1, lams)]
    frac = 1.0 if hard else draw(st.one_of(st.just(1.0), st.floats(2.0 ** -4, 1.0)))
    mu = lst.admissible_stepsize(obj.L, q_hi, frac)
    K = draw(st.one_of(st.integers(2, 6), st.integers(2, 30)))
    return fmt, rounding, obj, lams, e1, mu, q_hi, K


def _replay(fmt, rounding, obj, e1, mu, K, **extra) -> dict:
    return {"fmt": repr(fmt), "rounding": rounding,
            "lambdas": [float(v) for v in obj.lambdas], "e1": [str(v) for v in e1],
            "mu": mu, "K": K, **extra}


def _exact_bound(b) -> Fraction:
    """A Bound's exact value (its 256-bit value as a rational when it has none)."""
    if b.exact is not None:
        return b.exact
    man, exp = b.value.man_exp
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def _theorem6_example():
    """Run under every profile and seed: truncation to E2M1 from a gradient strictly inside a
    gap (5.5 -> 4), d = 1, c = L = 1, mu = 1.  Exact descent would reach the minimum in one
    step; truncation leaves (5.5 - 4)^2 / 2 = 1.125 at k = 2, while a Theorem 6 that forgets
    q_lo(t) claims F_t = t^2 / 2 = 0.125 there (t = 0.5)."""
    fmt = preset("float4_e2m1fn")
    _, q_hi = theory.format_shrinkage(fmt, "toward_zero", fmt.x_max)
    obj = DiagonalQuadratic(np.array([1.0]))
    return (fmt, "toward_zero", obj, [Fraction(1)], [Fraction(11, 2)],
            lst.admissible_stepsize(obj.L, q_hi, 1.0), q_hi, 3)


def theorem6_gradient_descent(*, theorem6=theory.theorem6,
                              reference_quantize=reference.quantize):
    @given(_gd_case())
    @example(_theorem6_example())
    def test_theorem6_gradient_descent(case):
        """Theorem 6: F(w_k) - F* <= F_t + (1 - mu c q_lo(t))^(k-1) (gap - F_t), every t.

        Checked for several admissible thresholds t (the smallest surviving magnitude,
        N_min, the smallest nonzero gradient component met, and each binade start above
        them up to X_max) since every t gives a valid bound.
        """
        fmt, rounding, obj, lams, e1, mu, q_hi, K = case
        gaps, grads = _exact_gd(lams, e1, Fraction(mu), fmt, rounding, K, reference_quantize)
        d, L, c = obj.d, obj.L, obj.c
        met = [abs(g) for gs in grads for g in gs if g != 0]
        cands = {fmt.n_min, fmt.smallest_positive, fmt.x_max}
        if met:
            cands.add(min(met))
            cands.add(max(met))
        cands = sorted(t for t in cands if 0 < t <= fmt.x_max)
        note(f"fmt={fmt!r} rounding={rounding} lambdas={lams} e1={e1} mu={mu!r} q_hi={q_hi} "
             f"K={K} gaps={[float(g) for g in gaps]}")
        # Every admissible t gives a valid bound, so their least at each k is one: the
        # check against it is the check against every t (the t reaching it is recorded).
        least: dict[int, tuple] = {}
        for t in cands:
            q_lo, _ = theory.format_shrinkage(fmt, rounding, t)
            if q_lo == 0:
                continue
            for k in range(1, K + 1):
                b = _exact_bound(theorem6(L=L, c=c, d=d, mu=mu, t=t, q_lo=q_lo, q_hi=q_hi,
                                          gap=gaps[0], k=k))
                if k not in least or b < least[k][0]:
                    least[k] = (b, t, q_lo)
        if not least:
            event("no admissible threshold with q_lo > 0")
            return
        compare.assert_upper(
            "test_theorem6_gradient_descent",
            [(k, gaps[k - 1], b) for k, (b, _, _) in sorted(least.items())],
            rtol=compare.EXACT, identity_at_1=True,
            context=_replay(fmt, rounding, obj, e1, mu, K, q_hi=str(q_hi),
                            t_and_q_lo_by_k={k: (float(t), str(q)) for k, (_, t, q)
                                             in least.items()}),
            claim="test_theorem6_gradient_descent: Theorem 6: F(w_k) - F* <= least over t "
                  "of F_t + (1 - mu c q_lo(t))^(k-1) (gap - F_t)")
    return test_theorem6_gradient_descent


test_theorem6_gradient_descent = theorem6_gradient_descent()


def theorem5_gradient_descent(*, theorem5=theory.theorem5,
                              reference_quantize=reference.quantize):
    @given(_gd_case())
    def test_theorem5_gradient_descent(case):
        """Theorem 5: F(w_k) - F* <= (1 - mu c q_lo)^(k-1) (F(w_1) - F*) while no gradient
        component underflows; q_lo = q_lo(t_k), t_k the smallest nonzero component met
        before step k (so every diagonal entry D_j = rho(g_j) used lies in [q_lo, q_hi])."""
        fmt, rounding, obj, lams, e1, mu, q_hi, K = case
        gaps, grads = _exact_gd(lams, e1, Fraction(mu), fmt, rounding, K, reference_quantize)
        note(f"fmt={fmt!r} rounding={rounding} lambdas={lams} e1={e1} mu={mu!r} q_hi={q_hi} "
             f"K={K} gaps={[float(g) for g in gaps]}")
        rows, q_los = [], {}
        t = None
        for k in range(2, K + 1):
            met = [abs(g) for g in grads[k - 2] if g != 0]
            if met:
                t = min(met) if t is None else min(t, min(met))
            if t is None:
                continue  # every gradient so far was exactly 0
            q_lo, _ = theory.format_shrinkage(fmt, rounding, t)
            if q_lo == 0:
                break  # a component underflowed: Theorem 6's territory
            b = theorem5(L=obj.L, c=obj.c, mu=mu, q_lo=q_lo, q_hi=q_hi, gap=gaps[0], k=k)
            rows.append((k, gaps[k - 1], _exact_bound(b)))
            q_los[k] = str(q_lo)
        if not rows:
            event("underflow at the first step")
            return
        compare.assert_upper(
            "test_theorem5_gradient_descent", rows, rtol=compare.EXACT,
            context=_replay(fmt, rounding, obj, e1, mu, K, q_lo_by_k=q_los, q_hi=str(q_hi)),
            claim="test_theorem5_gradient_descent: Theorem 5: F(w_k) - F* <= "
                  "(1 - mu c q_lo)^(k-1) (F(w_1) - F*)")
    return test_theorem5_gradient_descent


test_theorem5_gradient_descent = theorem5_gradient_descent()


# -- Theorem 7: stochastic rounding, Monte Carlo ------------------------------------------

RUNS = 2000


@st.composite
def _sr_case(draw):
    fmt = draw(st.one_of(lst.formats(max_exp_bits=5, max_man_bits=3, subnormals=True),
                         lst.formats(max_exp_bits=8, max_man_bits=10, subnormals=True)))
    obj = draw(lst.quadratics(max_dim=3, centred=True))
    d = obj.d
    s, x_max = fmt.subnormal_spacing, fmt.x_max
    # Gradient scale between a few subnormal spacings and X_max / 8 (powers of two), so
    # the s^2 term of M' matters in some draws and no component reaches X_max.
    lo = max(s.numerator.bit_length() - s.denominator.bit_length(), -1000)
    hi = (x_max / 8).numerator.bit_length() - (x_max / 8).denominator.bit_length() - 1
    assume(lo + 1 <= hi)
    j = draw(st.one_of(st.integers(lo + 1, min(lo + 4, hi)), st.integers(lo + 1, hi)))
    g0 = 2.0 ** j
    offsets = [draw(st.floats(-1.0, 1.0)) for _ in range(d)]
    w1 = [o * g0 / float(lam) for o, lam in zip(offsets, obj.lambdas)]
    half_widths = [draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))) * g0 for _ in range(d)]
    delta = Fraction(1, 4 * 2 ** (2 * fmt.man_bits))
    frac = draw(st.one_of(st.just(1.0), st.floats(2.0 ** -3, 1.0)))
    mu = lst.admissible_stepsize(obj.L, 1 + delta, frac)
    K = draw(st.integers(2, 20))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return fmt, obj, w1, half_widths, mu, K, seed


def theorem7_stochastic_rounding(*, theorem7=theory.theorem7, quantize=fast.quantize):
    @settings(max_examples=lst.scaled_examples(1 / 3, minimum=15))
    @given(_sr_case())
    def test_theorem7_stochastic_rounding(case):
        """Theorem 7: SGD with stochastically rounded gradients obeys Theorem 1 with q = 1
        and (M', M_G') = ((1 + delta) M + d s^2/4, (1 + delta) M_G), delta = 2^(-2m)/4.

        Gradient noise is uniform on [-a_i, a_i] (bounded, so no component exceeds X_max;
        M = sum a_i^2 / 3, M_V = 0).  Runs where some component would exceed X_max are
        discarded (the theorem excludes them).
        """
        fmt, obj, w1, half_widths, mu, K, seed = case
        rng = np.random.default_rng(seed)
        lam = np.asarray(obj.lambdas, dtype=np.float64)
        a = np.asarray(half_widths, dtype=np.float64)
        W = np.tile(np.asarray(w1, dtype=np.float64), (RUNS, 1))
        x_max = float(fmt.x_max)
        gaps = np.empty((K, RUNS))
        for k in range(K):
            gaps[k] = 0.5 * (W * W) @ lam
            if k == K - 1:
                break
            G = W * lam + rng.uniform(-1.0, 1.0, size=W.shape) * a
            assume(np.all(np.abs(G) <= x_max))
            W = W - mu * quantize(G, fmt, "stochastic", rng=rng)
        M = sum(Fraction(float(v)) ** 2 / 3 for v in a)
        gap = sum(Fraction(float(l)) * Fraction(float(w)) ** 2 for l, w in zip(lam, w1)) / 2
        mean = gaps.mean(axis=1)
        se = gaps.std(axis=1, ddof=1) / math.sqrt(RUNS)
        note(f"fmt={fmt!r} lambdas={lam.tolist()} w1={w1} a={a.tolist()} mu={mu!r} K={K} "
             f"seed={seed} mean={mean.tolist()} se={se.tolist()}")
        bounds = [float(theorem7(L=obj.L, c=obj.c, d=obj.d, M=M, M_V=0, fmt=fmt, mu=mu,
                                 gap=gap, k=k)) for k in range(1, K + 1)]
        compare.assert_mc_upper(
            "test_theorem7_stochastic_rounding", mean, se, bounds,
            context={"fmt": repr(fmt), "lambdas": lam.tolist(), "w1": list(w1),
                     "a": a.tolist(), "mu": mu, "K": K, "seed": seed, "runs": RUNS},
            claim="test_theorem7_stochastic_rounding: Theorem 7: mean F(w_k) - F* - z se "
                  "<= Theorem 1's bound with (M', M_G')")
    return test_theorem7_stochastic_rounding


test_theorem7_stochastic_rounding = theorem7_stochastic_rounding()
