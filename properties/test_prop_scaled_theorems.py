"""Theorems 8 and 9 (block-scaled formats) with the real block quantisers in the loop.

* Theorem 8: gradient descent ``w_{k+1} = w_k - mu Q(grad F(w_k))`` on diagonal
  quadratics (d = 2..8, and one block of 16 or 32 in a hard case), Q the exact reference
  block quantiser of an e8m0 :class:`ScaledFormat` with a deterministic element mode.
  The gradient itself is the iterate (``g_{k+1} = g_k - diag(lam) mu Q(g_k)``) kept as a
  rational; the run stops early when a gradient is no longer a float64 (the quantiser's
  input type), so the comparison with the bound needs no tolerance.  Every admissible
  threshold ``t`` gives a bound; several are checked (against their least at each k).  A second property checks the one-step inequality the theorem is built on,
  ``<g, Q(g)> >= q_eff ||g||^2 - q_lo d t^2 4^-127`` and ``||Q(g)||^2 <= q_hi <g, Q(g)>``,
  with the theorem's own constants.
* Theorem 9: Monte Carlo SGD with the fast block quantiser and stochastic element
  rounding (fresh uniforms per run), and a Monte Carlo of the quantiser's moments
  (unbiased; ``E||Q(g) - g||^2 <= delta ||g||^2 + d s_f^2 4^-128``) for every format
  the theorem accepts.  A Monte Carlo check fails only when ``mean - Z se`` exceeds the
  bound (times ``1 + rtol``; :func:`lpsgd.suite.compare.assert_mc_upper`).

Gradients are built block by block on purpose: one dominant component per block (its
scaled value at a binade edge, or in floor's clipped range ``(X_f, Y)``), the others
zero, tiny, or a fraction of the element's subnormal spacing in scaled units (so they
round to zero or carry the largest relative rounding noise); block exponents reach below
``-127``, where the E8M0 scale is clamped.

Each property is a factory of the implementations it uses (the theorem, the quantiser),
lpsgd's by default; ``test_x = x()`` runs lpsgd's own.
"""

from __future__ import annotations

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
from lpsgd.errors import AssumptionError
from lpsgd.formats import Format
from lpsgd.reference.scaled import e8m0_exponent
from lpsgd.scaled import ScaledFormat
from lpsgd.suite import compare

RUNS = 1000

_ELEMENTS = ("float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e4m3fn",
             "float8_e5m2")
_DET_MODES = ("toward_zero", "toward_zero", "nearest_even", "nearest_away", "nearest_zero",
              "odd")
#: Significands of a block's dominant component: binade edges, floor's clipped range.
_DOMINANT = (1.0, 1.0 + 2.0 ** -20, 1.25, 1.5, 1.5 + 2.0 ** -8, 1.75, 1.8125, 1.875,
             1.9375, 2.0 - 2.0 ** -20)


def _frac(v) -> Fraction:
    if isinstance(v, mpmath.mpf):
        man, exp = v.man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(v)


@st.composite
def _element(draw, subnormals=None):
    if draw(st.booleans()):
        return draw(st.sampled_from(_ELEMENTS))
    if subnormals is None:
        return draw(lst.formats(min_exp_bits=2, max_exp_bits=4, max_man_bits=3))
    return draw(lst.formats(min_exp_bits=2, max_exp_bits=4, max_man_bits=3,
                            subnormals=subnormals))


@st.composite
def _scaled_format(draw, rules=("floor", "ceil", "rceil"), subnormals=None):
    element = draw(_element(subnormals))
    rule = draw(st.sampled_from(rules))
    n_b = draw(st.sampled_from((1, 2, 3, 4, 8, 16, 32)))
    return ScaledFormat(element, block_size=n_b, rule=rule)


@st.composite
def _block_gradient(draw, fmt: ScaledFormat, d: int) -> list[float]:
    """d float64 components, built block by block (see the module docstring)."""
    g = [0.0] * d
    s_f = Fraction(fmt.grid.subnormal_spacing)
    for start in range(0, d, fmt.block_size):
        idx = list(range(start, min(start + fmt.block_size, d)))
        E = draw(st.one_of(st.integers(-3, 3), st.integers(-140, 12)))
        u = draw(st.one_of(st.sampled_from(_DOMINANT),
                           st.integers(0, 255).map(lambda j: 1 + j / 256)))
        dom = math.ldexp(u, E)
        s_b = Fraction(2) ** e8m0_exponent(Fraction(dom), fmt)
        top = draw(st.sampled_from(idx))
        for i in idx:
            sign = draw(st.sampled_from((1.0, -1.0)))
            if i == top:
                g[i] = sign * dom
                continue
            kind = draw(st.integers(0, 3))
            if kind == 0:
                v = 0.0
            elif kind == 1:  # a fraction of the subnormal spacing, in scaled units
                w = draw(st.sampled_from((Fraction(1, 2), Fraction(1, 4), Fraction(3, 4),
                                          1 - Fraction(1, 1024), Fraction(3, 2))))
                v = float(s_b * s_f * w)
            elif kind == 2:  # tiny relative to the block maximum
                v = math.ldexp(draw(st.sampled_from((1.0, 1.5, 1.96875))),
                               E - draw(st.integers(1, 30)))
            else:
                v = dom * draw(st.integers(1, 255)) / 256
            g[i] = sign * v
    return g


def _thresholds(fmt: ScaledFormat) -> list[Fraction]:
    """Admissible-looking thresholds t (scaled units): the smallest surviving magnitude,
    N_min, powers of two up to Y, the largest dyadic with loss(t) < 1, X_f."""
    grid = fmt.grid
    consts = theory.scaled_constants(fmt, "toward_zero")
    cands = {Fraction(grid.smallest_positive), Fraction(grid.n_min), fmt.x_f,
             Fraction(grid.smallest_positive) * 3 / 2}
    e = -1 - grid.man_bits + grid.e_min
    while Fraction(2) ** e <= consts.Y:
        cands.add(Fraction(2) ** e)
        e += 1
    t_max = 1 / math.sqrt(fmt.block_size * float(consts.kappa) ** 2)
    cands.add(Fraction(t_max) * (1 - Fraction(1, 2 ** 20)))
    return sorted(t for t in cands if 0 < t <= consts.Y)


def _dyadic_down(x: Fraction, bits: int = 12) -> Fraction:
    """The largest dyadic <= x with ``bits`` significant bits (x itself when dyadic)."""
    if x.denominator & (x.denominator - 1) == 0:
        return x
    e = x.numerator.bit_length() - x.denominator.bit_length() - bits
    return Fraction(math.floor(x / Fraction(2) ** e)) * Fraction(2) ** e


# -- Theorem 8: exact gradient descent ---------------------------------------------------

@st.composite
def _stuck_block(draw):
    """One ceil block whose maximum sits just above the smallest scaled maximum
    2^(emax_f-1), every other component just below the element's subnormal spacing (in
    scaled units), so toward_zero flushes them and they never move: the share of
    ||g||^2 that loss(t) accounts for."""
    fmt = ScaledFormat(Format(2, draw(st.integers(2, 3))),
                       block_size=draw(st.sampled_from((16, 32))), rule="ceil")
    E = draw(st.integers(-3, 3))
    dom = (1 + Fraction(1, 2 ** 20)) * Fraction(2) ** E
    s_b = Fraction(2) ** e8m0_exponent(dom, fmt)
    small = s_b * Fraction(fmt.grid.subnormal_spacing) * (1 - Fraction(1, 1024))
    g = [float(dom)] + [float(small) * draw(st.sampled_from((1.0, -1.0)))
                        for _ in range(fmt.block_size - 1)]
    return fmt, g


@st.composite
def _gd_case(draw):
    kind = draw(st.sampled_from(("stuck", "hard", "free", "free")))
    hard = kind != "free"
    if kind == "stuck":
        fmt, g1 = draw(_stuck_block())
        event("stuck block")
        lam = draw(st.sampled_from((Fraction(1, 2), Fraction(1), Fraction(2))))
        return fmt, "toward_zero", [lam] * len(g1), g1, 1 / lam, draw(st.integers(2, 4))
    fmt = draw(_scaled_format())
    rounding = "toward_zero" if hard else draw(st.sampled_from(_DET_MODES))
    q_hi = theory.scaled_constants(fmt, rounding).q_hi
    assume(not (isinstance(q_hi, float) and math.isinf(q_hi)))
    d = draw(st.integers(2, 8))
    lam_choices = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1),
                   Fraction(3, 2), Fraction(2), Fraction(4))
    if hard:
        lams = [draw(st.sampled_from(lam_choices))] * d
    else:
        lams = [draw(st.sampled_from(lam_choices)) for _ in range(d)]
    g1 = draw(_block_gradient(fmt, d))
    L, c = max(lams), min(lams)
    frac = Fraction(1) if hard else draw(st.sampled_from((Fraction(1), Fraction(3, 4),
                                                          Fraction(1, 2), Fraction(1, 8))))
    mu = _dyadic_down(frac / (L * Fraction(q_hi)))
    K = draw(st.integers(2, 10))
    return fmt, rounding, lams, g1, mu, K


def _exact_gd(fmt, rounding, lams, g1, mu, K, reference_quantize=reference.quantize):
    """Gaps F(w_k) - F* = sum g_i^2 / (2 lam_i) for k = 1..K' (K' <= K: the run stops
    when a gradient is no longer exactly a float64)."""
    g = [Fraction(v) for v in g1]
    gaps = []
    for k in range(1, K + 1):
        gaps.append(sum((gi * gi / (2 * lam) for gi, lam in zip(g, lams)), Fraction(0)))
        if k == K:
            break
        floats = [float(v) for v in g]
        if any(Fraction(f) != v for f, v in zip(floats, g)):
            break
        qg = reference_quantize(np.array(floats), fmt, rounding)
        g = [gi - lam * mu * Fraction(float(qi)) for gi, lam, qi in zip(g, lams, qg)]
    return gaps


def _stuck_example(m: int, n: int):
    fmt = ScaledFormat(Format(2, m), block_size=n, rule="ceil")
    dom = 1 + Fraction(1, 2 ** 20)
    s_b = Fraction(2) ** e8m0_exponent(dom, fmt)
    small = float(s_b * Fraction(fmt.grid.subnormal_spacing) * (1 - Fraction(1, 1024)))
    return (fmt, "toward_zero", [Fraction(1)] * n, [float(dom)] + [small] * (n - 1),
            Fraction(1), 3)


def _bound_exact(b) -> Fraction:
    return b.exact if b.exact is not None else _frac(b.value)


def theorem8_gradient_descent(*, theorem8=theory.theorem8,
                              reference_quantize=reference.quantize):
    @settings(max_examples=lst.scaled_examples(1 / 2, minimum=20))
    @example(_stuck_example(2, 16))
    @example(_stuck_example(3, 32))
    @given(_gd_case())
    def test_theorem8_gradient_descent(case):
        """Theorem 8: F(w_k) - F* <= F_t + (1 - mu c q_eff)^(k-1) (gap - F_t) for every
        admissible t, exact gradient descent with the reference block quantiser."""
        fmt, rounding, lams, g1, mu, K = case
        gaps = _exact_gd(fmt, rounding, lams, g1, mu, K, reference_quantize)
        d, L, c = len(lams), max(lams), min(lams)
        note(f"fmt={fmt!r} rounding={rounding} lambdas={[str(v) for v in lams]} g1={g1} "
             f"mu={mu} K={K} gaps={[float(v) for v in gaps]}")
        # Every admissible t gives a valid bound, so their least at each k is one: the
        # check against it is the check against every t (the t reaching it is recorded).
        least: dict[int, tuple] = {}
        for t in _thresholds(fmt):
            for k in range(1, len(gaps) + 1):
                try:
                    b = _bound_exact(theorem8(L=L, c=c, d=d, mu=mu, t=t, fmt=fmt,
                                              rounding=rounding, gap=gaps[0], k=k))
                except AssumptionError:
                    break
                if k not in least or b < least[k][0]:
                    least[k] = (b, t)
        if not any(k >= 2 for k in least):
            event("no admissible threshold (or a single iterate)")
            return
        compare.assert_upper(
            "test_theorem8_gradient_descent",
            [(k, gaps[k - 1], b) for k, (b, _) in sorted(least.items())],
            rtol=compare.EXACT, identity_at_1=True,
            context={"fmt": repr(fmt), "rounding": rounding, "lambdas": [str(v) for v in lams],
                     "g1": list(g1), "mu": str(mu), "K": K,
                     "t_by_k": {k: str(t) for k, (_, t) in least.items()}},
            claim="test_theorem8_gradient_descent: Theorem 8: F(w_k) - F* <= least over t "
                  "of F_t + (1 - mu c q_eff)^(k-1) (gap - F_t)")
    return test_theorem8_gradient_descent


test_theorem8_gradient_descent = theorem8_gradient_descent()


@st.composite
def _clipped_block(draw):
    """A floor-scaled block whose maximum lies in the clipped range (X_f, 2^(emax_f+1))
    and dominates: the other components are zero or far below it."""
    element = draw(st.sampled_from(_ELEMENTS[1:]))
    d = draw(st.integers(1, 4))
    fmt = ScaledFormat(element, block_size=draw(st.sampled_from((d, 8, 32))), rule="floor")
    top = 2 - Fraction(1, 2 ** draw(st.integers(3, 30)))
    assume(top * 2 ** fmt.emax_f > fmt.x_f)
    E = draw(st.integers(-135, 10))
    g = [math.ldexp(float(top), E)]
    g += [math.ldexp(draw(st.sampled_from((0.0, 1.0, 1.5))), E - draw(st.integers(8, 30)))
          for _ in range(d - 1)]
    return fmt, [v * draw(st.sampled_from((1.0, -1.0))) for v in g]


@st.composite
def _step_case(draw):
    if draw(st.sampled_from(("clipped", "free", "free"))) == "clipped":
        fmt, g = draw(_clipped_block())
        event("clipped block")
    else:
        fmt = draw(_scaled_format())
        g = draw(_block_gradient(fmt, draw(st.integers(1, 8))))
    rounding = draw(st.sampled_from(_DET_MODES))
    q_hi = theory.scaled_constants(fmt, rounding).q_hi
    assume(not (isinstance(q_hi, float) and math.isinf(q_hi)))
    return fmt, rounding, g


def theorem8_step_certificate(*, theorem8=theory.theorem8,
                              reference_quantize=reference.quantize):
    @example((ScaledFormat("float8_e4m3fn", block_size=1), "nearest_even", [1.9375]))
    @example((ScaledFormat("float6_e2m3fn", block_size=4), "nearest_even",
              [-1.96875, 0.0, 2e-9]))
    @given(_step_case())
    def test_theorem8_step_certificate(case):
        """The one-step inequalities behind Theorem 8, with its constants (terms q_lo,
        q_eff, q_hi): for Q the reference block quantiser and every admissible t,
        ``<g, Q(g)> >= q_eff ||g||^2 - q_lo d t^2 4^-127`` and
        ``||Q(g)||^2 <= q_hi <g, Q(g)>``.  The constants are the Bound's 256-bit terms, so
        the comparison allows their rounding (``MP256_RTOL``).
        """
        fmt, rounding, g = case
        d = len(g)
        qg = reference_quantize(np.array(g), fmt, rounding)
        G = [Fraction(v) for v in g]
        Qg = [Fraction(float(v)) for v in qg]
        inner = sum((a * b for a, b in zip(G, Qg)), Fraction(0))
        norm2 = sum((a * a for a in G), Fraction(0))
        qnorm2 = sum((b * b for b in Qg), Fraction(0))
        assume(norm2 > 0)
        note(f"fmt={fmt!r} rounding={rounding} g={g} Q(g)={[float(v) for v in qg]} "
             f"<g,Qg>/||g||^2={float(inner / norm2)!r}")
        rows, legend = [], {}
        for t in _thresholds(fmt):
            try:
                b = theorem8(L=1, c=1, d=d, mu=Fraction(1, 2 ** 30), t=t, fmt=fmt,
                             rounding=rounding, gap=1, k=1)
            except AssumptionError:
                continue
            q_lo, q_eff, q_hi = (_frac(b.terms[n]) for n in ("q_lo", "q_eff", "q_hi"))
            need = q_eff * norm2 - q_lo * d * t * t / Fraction(4) ** 127
            # row labels: 2i + 1 the inner-product inequality at the i-th t, 2i + 2 the norm
            i = len(legend) // 2
            legend[2 * i + 1] = (f"q_eff ||g||^2 - q_lo d t^2 4^-127 <= <g,Qg> at t={t} "
                                 f"(q_lo={float(q_lo)!r}, q_eff={float(q_eff)!r})")
            legend[2 * i + 2] = f"||Q(g)||^2 <= q_hi <g,Qg> at t={t} (q_hi={float(q_hi)!r})"
            rows += [(2 * i + 1, need, inner), (2 * i + 2, qnorm2, q_hi * inner)]
        if not rows:
            event("no admissible threshold")
            return
        compare.assert_upper(
            "test_theorem8_step_certificate", rows, rtol=compare.MP256_RTOL,
            context={"fmt": repr(fmt), "rounding": rounding, "g": list(g), "rows": legend},
            claim="test_theorem8_step_certificate: Theorem 8's step inequalities (k: the "
                  "row of 'rows')")
    return test_theorem8_step_certificate


test_theorem8_step_certificate = theorem8_step_certificate()


# -- Theorem 9: stochastic rounding, Monte Carlo -----------------------------------------

def _theorem9_terms(fmt: ScaledFormat, d: int, theorem9=theory.theorem9) -> dict | None:
    """theorem9's terms for a trivial problem, or None when it refuses ``fmt``."""
    try:
        b = theorem9(L=1, c=1, d=d, M=0, M_V=0, fmt=fmt, mu=Fraction(1, 2 ** 30),
                            gap=0, k=1)
    except AssumptionError:
        return None
    return b.terms


def _sr_sigma_bound(fmt: ScaledFormat, g: list[float]) -> np.ndarray:
    """Per component, s_B times half the element spacing at min(|g_i|/s_B, X_f)."""
    grid = fmt.grid
    s_f = Fraction(grid.subnormal_spacing)
    out = []
    for start in range(0, len(g), fmt.block_size):
        block = [Fraction(v) for v in g[start:start + fmt.block_size]]
        a = max(abs(v) for v in block)
        s_b = Fraction(2) ** e8m0_exponent(a, fmt) if a > 0 else Fraction(0)
        for v in block:
            if v == 0 or s_b == 0:
                out.append(0.0)
                continue
            y = min(abs(v) / s_b, fmt.x_f)
            e = y.numerator.bit_length() - y.denominator.bit_length()
            if Fraction(2) ** e > y:
                e -= 1
            out.append(float(s_b * max(Fraction(2) ** (e - grid.man_bits), s_f) / 2))
    return np.array(out)


@st.composite
def _moments_case(draw):
    fmt = draw(_scaled_format())
    d = draw(st.integers(1, 8))
    return fmt, draw(_block_gradient(fmt, d)), draw(st.integers(0, 2 ** 32 - 1))


def theorem9_quantiser_moments(*, theorem9=theory.theorem9, quantize=fast.quantize):
    @settings(max_examples=lst.scaled_examples(1 / 2, minimum=20))
    @example((ScaledFormat("float8_e4m3fn", block_size=1), [1.9375], 0))
    @example((ScaledFormat("float4_e2m1fn", block_size=4), [0.1, -1.875, 0.3, 0.0], 1))
    @given(_moments_case())
    def test_theorem9_quantiser_moments(case):
        """For every format Theorem 9 accepts: E[Q(g)] = g and
        ``E||Q(g) - g||^2 <= delta ||g||^2 + d s_f^2 4^-128`` (delta from theorem9), Monte
        Carlo over fresh uniforms with the fast block quantiser."""
        fmt, g, seed = case
        d = len(g)
        terms = _theorem9_terms(fmt, d, theorem9)
        if terms is None:
            event("format refused by Theorem 9")
            return
        delta = float(terms["delta"])
        s_f = float(fmt.grid.subnormal_spacing)
        rng = np.random.default_rng(seed)
        gv = np.array(g)
        Q = quantize(np.tile(gv, (RUNS, 1)), fmt, "stochastic", rng=rng)
        err = Q - gv
        mean, se = err.mean(axis=0), err.std(axis=0, ddof=1) / math.sqrt(RUNS)
        sq = (err * err).sum(axis=1)
        bound = delta * float(gv @ gv) + d * s_f * s_f * 4.0 ** -128
        note(f"fmt={fmt!r} g={g} seed={seed} bias={mean.tolist()} se={se.tolist()} "
             f"E||Q-g||^2={sq.mean()!r} bound={bound!r}")
        # The allowed deviation of a mean uses the largest standard deviation stochastic
        # rounding can have at that value (half its spacing, in unscaled units), not the
        # sample's: a rare rounding direction (probability 2^-20, say) leaves a sample with
        # no spread and a mean off by p * spacing, which is no evidence of bias.  Rows
        # 1..d: |mean Q(g)_i - g_i| against 0 (float64 rounding of Q - g allowed);
        # row d + 1: the second moment against its bound.
        sigma = _sr_sigma_bound(fmt, g)
        compare.assert_mc_upper(
            "test_theorem9_quantiser_moments",
            [*np.abs(mean), sq.mean()], [*(sigma / math.sqrt(RUNS)),
                                         sq.std(ddof=1) / math.sqrt(RUNS)],
            [*(compare.MC_RTOL * np.abs(gv)), bound], identity_at_1=False,
            context={"fmt": repr(fmt), "g": list(g), "seed": seed, "runs": RUNS,
                     "delta": delta},
            claim="test_theorem9_quantiser_moments: Q unbiased (k = i <= d: |E Q(g)_i - g_i| "
                  "<= 0, else Q biased) and E||Q(g) - g||^2 <= delta ||g||^2 + "
                  "d s_f^2 4^-128 (k = d + 1)")
    return test_theorem9_quantiser_moments


test_theorem9_quantiser_moments = theorem9_quantiser_moments()


@st.composite
def _noisiest_block(draw):
    """One ceil/rceil block with the largest relative rounding noise: its maximum just
    above the smallest scaled maximum (2^(emax_f-1) or X_f/2) and every other component
    at half the element's subnormal spacing (variance s_f^2/4 each, in scaled units)."""
    element = draw(st.sampled_from(("float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn")))
    n = draw(st.sampled_from((4, 8, 16)))
    fmt = ScaledFormat(element, block_size=n, rule=draw(st.sampled_from(("ceil", "rceil"))))
    base = Fraction(1) if fmt.rule == "ceil" else fmt.x_f / 2 ** fmt.emax_f
    E = draw(st.one_of(st.integers(-3, 3), st.integers(-135, 10)))
    dom = base * (1 + Fraction(1, 2 ** 20)) * Fraction(2) ** E
    s_b = Fraction(2) ** e8m0_exponent(dom, fmt)
    small = s_b * Fraction(fmt.grid.subnormal_spacing) / 2
    g = [float(dom)] + [float(small)] * (n - 1)
    return fmt, [v * draw(st.sampled_from((1.0, -1.0))) for v in g]


@st.composite
def _sgd_case(draw):
    kind = draw(st.sampled_from(("noisiest", "hard", "free", "free")))
    hard = kind != "free"
    lam_choices = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
    if kind == "noisiest":
        fmt, g1 = draw(_noisiest_block())
        event("noisiest block")
        d = len(g1)
    else:
        fmt = draw(_scaled_format(rules=("ceil", "rceil"), subnormals=True))
        d = draw(st.integers(2, 8))
        g1 = draw(_block_gradient(fmt, d))
    lams = ([draw(st.sampled_from(lam_choices))] * d if hard
            else [draw(st.sampled_from(lam_choices)) for _ in range(d)])
    scale = max(abs(v) for v in g1)
    assume(scale > 0)
    half = ([0.0] * d if hard else
            [draw(st.sampled_from((0.0, 0.0, 0.1, 0.5, 1.0))) * scale for _ in range(d)])
    frac = 1.0 if hard else draw(st.sampled_from((1.0, 0.5, 0.125)))
    K = draw(st.integers(2, 8))
    return fmt, lams, g1, half, frac, K, draw(st.integers(0, 2 ** 32 - 1))


_E2M1_CEIL8 = ScaledFormat("float4_e2m1fn", block_size=8, rule="ceil")


def theorem9_stochastic_rounding(*, theorem9=theory.theorem9, quantize=fast.quantize):
    @settings(max_examples=lst.scaled_examples(1 / 2, minimum=20))
    @example((_E2M1_CEIL8, [1.0] * 8, [1 + 2.0 ** -20] + [0.125] * 7, [0.0] * 8, 1.0, 3, 0))
    @given(_sgd_case())
    def test_theorem9_stochastic_rounding(case):
        """Theorem 9: SGD with stochastically rounded block-scaled gradients (scales from
        the stochastic gradient itself) obeys Theorem 1 with q = 1 and (M', M_G').
        Gradient noise uniform on [-a_i, a_i] (M = sum a_i^2 / 3, M_V = 0);
        mu = frac / (L M_G')."""
        fmt, lams, g1, half, frac, K, seed = case
        d = len(lams)
        terms = _theorem9_terms(fmt, d, theorem9)
        assume(terms is not None)
        lam = np.array(lams)
        L, c = max(lams), min(lams)
        # 1/(L M_G') from theorem9's own (256-bit) term, just below it in float64
        mu = float(Fraction(frac) / (Fraction(L) * _frac(terms["M_G_prime"]))) * (1 - 1e-12)
        rng = np.random.default_rng(seed)
        a = np.array(half)
        W = np.tile(np.array(g1) / lam, (RUNS, 1))  # w - w*, so grad F = lam (w - w*)
        gaps = np.empty((K, RUNS))
        for k in range(K):
            gaps[k] = 0.5 * (W * W) @ lam
            if k == K - 1:
                break
            G = W * lam + rng.uniform(-1.0, 1.0, size=W.shape) * a
            W = W - mu * quantize(G, fmt, "stochastic", rng=rng)
        M = sum(Fraction(float(v)) ** 2 / 3 for v in a)
        gap = sum(Fraction(v) * (Fraction(gi) / Fraction(v)) ** 2
                  for v, gi in zip(lams, g1)) / 2
        mean = gaps.mean(axis=1)
        se = gaps.std(axis=1, ddof=1) / math.sqrt(RUNS)
        note(f"fmt={fmt!r} lambdas={lams} g1={g1} a={half} mu={mu!r} K={K} seed={seed} "
             f"mean={mean.tolist()} se={se.tolist()}")
        bounds = [float(theorem9(L=L, c=c, d=d, M=M, M_V=0, fmt=fmt, mu=mu, gap=gap, k=k))
                  for k in range(1, K + 1)]
        compare.assert_mc_upper(
            "test_theorem9_stochastic_rounding", mean, se, bounds,
            context={"fmt": repr(fmt), "lambdas": lams, "g1": list(g1), "a": half, "mu": mu,
                     "K": K, "seed": seed, "runs": RUNS},
            claim="test_theorem9_stochastic_rounding: Theorem 9: mean F(w_k) - F* - z se <= "
                  "Theorem 1's bound with (M', M_G')")
    return test_theorem9_stochastic_rounding


test_theorem9_stochastic_rounding = theorem9_stochastic_rounding()
