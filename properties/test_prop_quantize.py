"""Properties of the quantisers: conformance and invariants (the format semantics of
lpsgd.formats and lpsgd.reference.quantize).

* fast.quantize == reference.quantize bit for bit (signed zeros and NaN included), for
  deterministic modes and, given the same seed or uniforms, for stochastic ones;
* the SGD engine with quantised gradients (lpsgd.fast.sgd) == the exact engine
  (lpsgd.reference.sgd) bit for bit on the iterates and the quantised directions, every
  mode, as long as the exact iterates are float64 values;
* idempotence, monotonicity, sign symmetry (where the mode has it), error within half a
  spacing (nearest modes) or one spacing (directed, odd, stochastic);
* stochastic rounding: every sample is one of the two neighbours, and the frequency of
  the upper one matches its exact probability (frac for "stochastic", 1/2 for
  "stochastic_equal") within a Hoeffding radius whose false-alarm rate is at most
  ALPHA per check, whatever the probability.

Each property is a factory of the implementations it checks: ``quantize`` (the fast
quantiser, default :func:`lpsgd.fast.quantize`) and ``reference_quantize`` (default
:func:`lpsgd.reference.quantize`); ``test_x = x()`` runs it on lpsgd's own, and a mutant
or a user's quantiser is passed in (``x(quantize=mine)()``).  The engine property passes
its quantisers into the engines' quantize transforms, so the quantiser checked is the one
the engines run.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import lpsgd.fast as fast
import lpsgd.reference as reference
import lpsgd.shrinkage as shrinkage
import lpsgd.strategies as lst
from lpsgd.bitwise import count_mismatches
from lpsgd.fast import sgd as fast_sgd
from lpsgd.formats import Format
from lpsgd.objectives import DiagonalQuadratic
from lpsgd.reference import sgd as reference_sgd
from lpsgd.rounding import DETERMINISTIC_MODES, ROUNDING_MODES, RoundingMode
from lpsgd.suite import compare

#: False-alarm probability of one statistical check (Hoeffding, valid for every p).
ALPHA = 1e-9
#: Samples per stochastic check.
N_SAMPLES = 4000
#: Hoeffding radius: P(|p_hat - p| >= T) <= 2 exp(-2 N T^2) = ALPHA.
HOEFFDING_T = math.sqrt(math.log(2 / ALPHA) / (2 * N_SAMPLES))

# The reference is exact (mpmath), so the bit-for-bit checks use fewer, larger examples.
_REF_EXAMPLES = lst.scaled_examples(0.5, minimum=20)


def _hexes(x) -> list[str]:
    return [float(v).hex() for v in np.asarray(x, dtype=np.float64).ravel()]


def _assert_worst_mode(name: str, x, fmt, pairs: dict, claim: str, *, elementwise=True,
                       **context) -> None:
    """pairs: mode -> (got, want).  One comparison per example: the mode with the most
    mismatching elements (bit-equality rule of lpsgd.bitwise), all modes counted.
    ``elementwise``: got and want are quantisations of ``x`` element by element (the
    message then shows the input of the first mismatch)."""
    __tracebackhide__ = True
    bad = {r: count_mismatches(got, want) for r, (got, want) in pairs.items()}
    worst = max(bad, key=bad.get)
    got, want = pairs[worst]
    compare.assert_no_mismatch(
        name, got, want, inputs=x if elementwise else None, claim=f"{name}: {claim}",
        context={"fmt": repr(fmt), "rounding": worst, "x": _hexes(x),
                 "mismatches_by_mode": {r: n for r, n in bad.items() if n}, **context})


# -- conformance --------------------------------------------------------------------------

@st.composite
def _format_and_values(draw, *, min_size: int = 8, max_size: int = 32, **format_kwargs):
    fmt = draw(lst.formats(**format_kwargs))
    x = draw(lst.value_arrays(fmt, min_size=min_size, max_size=max_size))
    return fmt, x


@st.composite
def _format_and_ties(draw):
    fmt = draw(lst.formats())
    x = draw(st.lists(lst.ties_for(fmt), min_size=4, max_size=16))
    return fmt, np.array(x, dtype=np.float64)


_CONFORMS = "fast.quantize == reference.quantize bit for bit"


def fast_matches_reference(*, quantize=fast.quantize, reference_quantize=reference.quantize):
    @settings(max_examples=_REF_EXAMPLES)
    @given(_format_and_values())
    def test_fast_matches_reference(fmt_x):
        """Deterministic modes: the fast path returns the reference's bits.

        Every deterministic mode is checked on each drawn array: ties, overflow and
        underflow cases are rare in a draw, so each one found is used for all modes.
        """
        fmt, x = fmt_x
        pairs = {r: (quantize(x, fmt, r), reference_quantize(x, fmt, r))
                 for r in DETERMINISTIC_MODES}
        _assert_worst_mode("test_fast_matches_reference", x, fmt, pairs, _CONFORMS)
    return test_fast_matches_reference


test_fast_matches_reference = fast_matches_reference()


#: Disagreements the properties above found (format, mode, inputs); each stays a test.
REGRESSIONS = [
    # M = 0: the last significand bit is an exponent bit (ties to even, round to odd).
    (Format(3, 0, subnormals=False, inf=False, nan=False), "nearest_even", [-12.0, 0.5]),
    (Format(3, 0, subnormals=False), "odd", [float.fromhex("0x1.0000000000001p-1"), -3.0]),
    # float64 subnormal inputs into a format whose smallest magnitude is N_min = 2.
    (Format(1, 0, subnormals=False, inf=False, nan=False), "up", [5e-324, -5e-324]),
    (Format(1, 0, subnormals=False, inf=False, nan=False), "down", [5e-324, -5e-324]),
    (Format(1, 0, subnormals=False, inf=False, nan=False), "odd", [5e-324, -5e-324]),
]


def fast_matches_reference_regressions(*, quantize=fast.quantize,
                                       reference_quantize=reference.quantize):
    @pytest.mark.parametrize(("fmt", "rounding", "values"), REGRESSIONS,
                             ids=[f"{f.label}-{r}" for f, r, _ in REGRESSIONS])
    def test_fast_matches_reference_regressions(fmt, rounding, values):
        """Counterexamples found by the conformance properties, kept as plain tests."""
        x = np.array(values, dtype=np.float64)
        _assert_worst_mode("test_fast_matches_reference_regressions", x, fmt,
                           {rounding: (quantize(x, fmt, rounding),
                                       reference_quantize(x, fmt, rounding))}, _CONFORMS)
    return test_fast_matches_reference_regressions


test_fast_matches_reference_regressions = fast_matches_reference_regressions()


def fast_matches_reference_ties(*, quantize=fast.quantize,
                                reference_quantize=reference.quantize):
    @settings(max_examples=_REF_EXAMPLES)
    @given(_format_and_ties())
    def test_fast_matches_reference_ties(fmt_x):
        """Exact ties (and their float64 neighbours) alone, where nearest modes differ."""
        fmt, x = fmt_x
        modes = ("nearest_even", "nearest_away", "nearest_zero", "odd")
        pairs = {r: (quantize(x, fmt, r), reference_quantize(x, fmt, r)) for r in modes}
        _assert_worst_mode("test_fast_matches_reference_ties", x, fmt, pairs, _CONFORMS)
    return test_fast_matches_reference_ties


test_fast_matches_reference_ties = fast_matches_reference_ties()


def fast_matches_reference_stochastic(*, quantize=fast.quantize,
                                      reference_quantize=reference.quantize):
    @settings(max_examples=_REF_EXAMPLES)
    @given(_format_and_values(), lst.rounding_modes(deterministic=False),
           st.integers(0, 2 ** 32 - 1))
    def test_fast_matches_reference_stochastic(fmt_x, rounding, seed):
        """Stochastic modes: the same seed gives the same bits in both paths."""
        fmt, x = fmt_x
        got = quantize(x, fmt, rounding, rng=np.random.default_rng(seed))
        want = reference_quantize(x, fmt, rounding, rng=np.random.default_rng(seed))
        _assert_worst_mode("test_fast_matches_reference_stochastic", x, fmt,
                           {rounding: (got, want)}, _CONFORMS, seed=seed)
    return test_fast_matches_reference_stochastic


test_fast_matches_reference_stochastic = fast_matches_reference_stochastic()


def fast_matches_reference_uniforms(*, quantize=fast.quantize,
                                    reference_quantize=reference.quantize):
    @settings(max_examples=_REF_EXAMPLES)
    @given(st.data(), lst.rounding_modes(deterministic=False))
    def test_fast_matches_reference_uniforms(data, rounding):
        """Stochastic modes with explicit uniforms (including u = 0 and u near 1)."""
        fmt = data.draw(lst.formats(), label="fmt")
        x = data.draw(lst.value_arrays(fmt, max_size=16), label="x")
        u = np.array(data.draw(st.lists(st.one_of(st.just(0.0), st.just(0.5),
                                                  st.just(float(np.nextafter(1.0, 0.0))),
                                                  st.floats(0.0, 1.0, exclude_max=True)),
                                        min_size=x.size, max_size=x.size), label="uniforms"))
        got = quantize(x, fmt, rounding, uniforms=u)
        want = reference_quantize(x, fmt, rounding, uniforms=u)
        _assert_worst_mode("test_fast_matches_reference_uniforms", x, fmt,
                           {rounding: (got, want)}, _CONFORMS, uniforms=_hexes(u))
    return test_fast_matches_reference_uniforms


test_fast_matches_reference_uniforms = fast_matches_reference_uniforms()


def fast_matches_reference_stress(*, quantize=fast.quantize,
                                  reference_quantize=reference.quantize):
    @settings(max_examples=lst.scaled_examples(0.25, minimum=10))
    @given(lst.formats(max_exp_bits=5, max_man_bits=4),
           lst.rounding_modes(deterministic=True))
    def test_fast_matches_reference_stress(fmt, rounding):
        """The deterministic stress set of a format (lpsgd.stress) in one array."""
        import lpsgd.stress as stress

        with np.errstate(over="ignore"):  # nextafter(float64 max, inf) = inf is intended
            x = np.asarray(stress.stress_values(fmt, max_values=512), dtype=np.float64)
        got = quantize(x, fmt, rounding)
        want = reference_quantize(x, fmt, rounding)
        _assert_worst_mode("test_fast_matches_reference_stress", x, fmt,
                           {rounding: (got, want)}, _CONFORMS)
    return test_fast_matches_reference_stress


test_fast_matches_reference_stress = fast_matches_reference_stress()


# -- the SGD engines with quantised gradients ------------------------------------------------

_ENGINE_LAMBDAS = (0.5, 1.0, 2.0)


@st.composite
def _engine_case(draw):
    """A diagonal quadratic (eigenvalues powers of two, minimiser 0) whose first gradient
    components are the format's hard values (ties, edges, stress values), and a stepsize
    that is a power of two: every product of the iteration is exact in float64, so the
    float64 engine can agree with the exact one bit for bit while the exact iterates are
    float64 values."""
    fmt = draw(lst.formats(max_exp_bits=6, max_man_bits=6))
    d = draw(st.integers(1, 4))
    lams = [draw(st.sampled_from(_ENGINE_LAMBDAS)) for _ in range(d)]
    # No float64 subnormals: half of one is not a float64, and the gradient lam w must be.
    g1 = [draw(st.one_of(lst.ties_for(fmt),
                         lst.values_for(fmt, allow_nan=False, allow_infinity=False,
                                        allow_overflow=False))
               .filter(lambda v: v == 0 or abs(v) >= 2.0 ** -1000))
          for _ in range(d)]
    w1 = [g / lam for g, lam in zip(g1, lams)]  # exact: lam is a power of two
    mu = 2.0 ** -draw(st.integers(1, 4))
    K = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return fmt, lams, w1, mu, K, seed


def _float64_prefix(its: np.ndarray) -> int:
    """How many leading exact iterates (object array (K, 1, d) of mpf) are float64 values."""
    n = 0
    for w in its[:, 0, :]:
        if not all(mpmath.isfinite(v) and mpmath.mpf(float(v)) == v for v in w):
            break
        n += 1
    return n


def sgd_quantized_matches_reference(*, quantize=fast.quantize,
                                    reference_quantize=reference.quantize):
    # Each example runs both engines in all nine modes; the quantiser itself is checked
    # element by element above, so fewer examples suffice here.
    @settings(max_examples=lst.scaled_examples(0.25, minimum=10))
    @given(_engine_case())
    def test_sgd_quantized_matches_reference(case):
        """lpsgd.fast.sgd with ``gradient=quantize(fmt, mode)`` follows lpsgd.reference.sgd
        bit for bit, every mode (stochastic ones from the same seed: both engines draw the
        same uniforms), on the iterates and the quantised directions, while the exact
        iterates are float64 values (the float64 engine then rounds nothing).  The exact
        engine holds mpf numbers, which have no signed zero: zeros compare equal whatever
        their sign (``+ 0.0`` on both sides)."""
        fmt, lams, w1, mu, K, seed = case
        F = DiagonalQuadratic(lams)
        pairs, kept = {}, {}
        for rounding in ROUNDING_MODES:
            kw = {"K": K, "mu": mu, "runs": 1, "seed": seed, "trajectory": True}
            res = fast_sgd.run(F, w1, gradient=fast_sgd.quantize(fmt, rounding,
                                                                 quantizer=quantize), **kw)
            ref = reference_sgd.run(F, w1, gradient=reference_sgd.quantize(
                fmt, rounding, quantizer=reference_quantize), **kw)
            n = _float64_prefix(ref.iterates)
            steps = min(n, K - 1)
            got = np.concatenate([res.iterates[:n].ravel(), res.directions[:steps].ravel()])
            want = np.concatenate([ref.iterates[:n].ravel(), ref.directions[:steps].ravel()])
            pairs[rounding] = (got + 0.0, np.array([float(v) for v in want]) + 0.0)
            kept[rounding] = n
        note(f"fmt={fmt!r} lambdas={lams} w1={w1} mu={mu} K={K} seed={seed} "
             f"float64 iterates compared per mode: {kept}")
        _assert_worst_mode("test_sgd_quantized_matches_reference", np.asarray(w1), fmt, pairs,
                           "fast.sgd == reference.sgd bit for bit (iterates, directions)",
                           elementwise=False, lambdas=lams, w1=_hexes(w1), mu=mu, K=K,
                           seed=seed, iterates_compared=kept)
    return test_sgd_quantized_matches_reference


test_sgd_quantized_matches_reference = sgd_quantized_matches_reference()


# -- invariants (fast path) ---------------------------------------------------------------
# Each example checks every mode on the same values: a defect confined to one mode is met
# by every example that reaches its values, not only by the examples that drew that mode.

def quantize_idempotent(*, quantize=fast.quantize):
    @given(_format_and_values(max_size=48))
    def test_quantize_idempotent(fmt_x):
        """Q(Q(x)) == Q(x) for every deterministic mode: values of the format are fixed
        points."""
        fmt, x = fmt_x
        pairs = {}
        for rounding in DETERMINISTIC_MODES:
            once = quantize(x, fmt, rounding)
            pairs[rounding] = (quantize(once, fmt, rounding), once)
        _assert_worst_mode("test_quantize_idempotent", x, fmt, pairs, "Q(Q(x)) == Q(x)")
    return test_quantize_idempotent


test_quantize_idempotent = quantize_idempotent()


def quantize_monotone(*, quantize=fast.quantize):
    @given(_format_and_values(max_size=48))
    def test_quantize_monotone(fmt_x):
        """x <= y implies Q(x) <= Q(y), every deterministic mode (NaN results, from NaN or
        fn-format overflow, skipped)."""
        fmt, x = fmt_x
        x = np.sort(x[~np.isnan(x)])
        drops = {}
        for rounding in DETERMINISTIC_MODES:
            q = quantize(x, fmt, rounding)
            keep = ~np.isnan(q)
            xs, qs = x[keep], q[keep]
            drops[rounding] = (xs, qs, np.flatnonzero(qs[1:] < qs[:-1]))
        worst = max(drops, key=lambda r: drops[r][2].size)
        xs, qs, d = drops[worst]
        context = {"fmt": repr(fmt), "rounding": worst, "x": _hexes(x)}
        if d.size:
            i = int(d[0])
            context.update(first_drop={"x": xs[i], "y": xs[i + 1], "Q(x)": qs[i],
                                       "Q(y)": qs[i + 1]})
        compare.assert_upper("test_quantize_monotone",
                             sum(v[2].size for v in drops.values()), 0,
                             rtol=compare.EXACT, context=context,
                             claim="test_quantize_monotone: pairs x <= y with Q(x) > Q(y) "
                                   "<= 0")
    return test_quantize_monotone


test_quantize_monotone = quantize_monotone()


def quantize_sign_symmetric(*, quantize=fast.quantize):
    @given(_format_and_values(max_size=48))
    def test_quantize_sign_symmetric(fmt_x):
        """Q(-x) == -Q(x) for sign-symmetric modes; up(-x) == -down(x) for the directed
        pair."""
        fmt, x = fmt_x
        pairs = {}
        for rounding in DETERMINISTIC_MODES:
            mirror = {"up": "down", "down": "up"}.get(rounding, rounding)
            assert RoundingMode(rounding).is_sign_symmetric == (mirror == rounding)
            pairs[rounding] = (quantize(-x, fmt, rounding), -quantize(x, fmt, mirror))
        _assert_worst_mode("test_quantize_sign_symmetric", x, fmt, pairs,
                           "Q(-x) == -Q'(x) (Q' = Q, or the mirrored directed mode)")
    return test_quantize_sign_symmetric


test_quantize_sign_symmetric = quantize_sign_symmetric()


def _spacing(fmt: Format, mag: Fraction) -> Fraction:
    """Distance between the two format values around the magnitude ``mag`` (|x| <= X_max).

    Below N_min it is s with subnormals and N_min without (the gap to zero).
    """
    if mag < fmt.n_min:
        return fmt.subnormal_spacing if fmt.subnormals else fmt.n_min
    e = mag.numerator.bit_length() - mag.denominator.bit_length()
    if Fraction(2) ** e > mag:
        e -= 1
    return Fraction(2) ** (e - fmt.man_bits)


def quantize_error_within_spacing(*, quantize=fast.quantize):
    @given(_format_and_values(max_size=48), st.integers(0, 2 ** 32 - 1))
    def test_quantize_error_within_spacing(fmt_x, seed):
        """|Q(x) - x| <= spacing/2 (nearest modes) or <= spacing (others), |x| <= X_max,
        for every mode (stochastic ones seeded by ``seed``).

        The one exception of the format semantics: without subnormals a magnitude below
        N_min may flush to zero from anywhere in (0, N_min), so there the bound is the
        full gap N_min.
        """
        fmt, x = fmt_x
        x = x[np.isfinite(x)]
        x = x[np.abs(x) <= float(fmt.x_max)]
        if x.size == 0:
            return
        results = [_error_and_allowed(quantize, fmt, x, rounding, seed)
                   for rounding in ROUNDING_MODES]
        _, err, allowed, rounding, ctx = max(results, key=lambda r: r[0])
        compare.assert_upper("test_quantize_error_within_spacing", err, allowed,
                             rtol=compare.EXACT,
                             context={"fmt": repr(fmt), "rounding": rounding, "seed": seed,
                                      **ctx},
                             claim="test_quantize_error_within_spacing: |Q(x) - x| <= "
                                   "allowed (spacing/2 nearest, spacing otherwise)")
    return test_quantize_error_within_spacing


test_quantize_error_within_spacing = quantize_error_within_spacing()


def _error_and_allowed(quantize, fmt, x, rounding, seed):
    """(ratio, |Q(x) - x|, allowed, mode, where) at the x of largest |Q(x) - x| / allowed
    (exact rationals)."""
    mode = RoundingMode(rounding)
    kw = {"rng": np.random.default_rng(seed)} if mode.is_stochastic else {}
    q = quantize(x, fmt, rounding, **kw)
    worst = (Fraction(-1), Fraction(0), Fraction(1), -1)
    for i, (xi, qi) in enumerate(zip(x, q)):
        if not math.isfinite(qi):
            raise AssertionError(f"fmt={fmt!r} rounding={rounding}: finite x={xi!r} <= X_max "
                                 f"gave Q(x)={qi!r}")
        mag = abs(Fraction(float(xi)))
        gap = _spacing(fmt, mag)
        half = mode.is_nearest and (fmt.subnormals or mag >= fmt.n_min)
        allowed = gap / 2 if half else gap
        err = abs(Fraction(float(qi)) - Fraction(float(xi)))
        if err / allowed > worst[0]:
            worst = (err / allowed, err, allowed, i)
    r, err, allowed, i = worst
    ctx = {"x": float(x[i]).hex(), "q": float(q[i]).hex()}
    return r, err, allowed, rounding, ctx


# -- stochastic rounding statistics -------------------------------------------------------

@st.composite
def _stochastic_case(draw):
    fmt = draw(lst.formats())
    x_max = float(fmt.x_max)
    # Stress values (ties, edges, subnormals) and generic in-range values, which are
    # rarely representable, so most draws exercise the randomness.
    x = draw(st.one_of(
        lst.values_for(fmt, allow_nan=False, allow_infinity=False, allow_overflow=False),
        st.floats(-x_max, x_max)))
    return fmt, x


def _neighbours(reference_quantize, fmt: Format, x: float) -> tuple[float, float]:
    """The format values just below and just above x (exact reference, directed modes)."""
    arr = np.array([x])
    lo = float(reference_quantize(arr, fmt, "down")[0])
    hi = float(reference_quantize(arr, fmt, "up")[0])
    return lo, hi


def stochastic_rounding_distribution(*, quantize=fast.quantize,
                                     reference_quantize=reference.quantize):
    @settings(max_examples=lst.scaled_examples(0.5, minimum=20))
    @given(_stochastic_case(), lst.rounding_modes(deterministic=False),
           st.integers(0, 2 ** 32 - 1))
    def test_stochastic_rounding_distribution(case, rounding, seed):
        """Samples lie on the two neighbours; P(upper magnitude) matches its exact value.

        For "stochastic" that probability is frac = (|x| - |lo|)/(|hi| - |lo|) (so
        E[Q(x)] = x, unbiased, and Var = frac (1 - frac) spacing^2 <= spacing^2 / 4); for
        "stochastic_equal" it is 1/2.  The check |p_hat - p| <= HOEFFDING_T has
        false-alarm probability at most ALPHA.
        """
        fmt, x = case
        lo, hi = _neighbours(reference_quantize, fmt, x)
        if lo == hi or not (math.isfinite(lo) and math.isfinite(hi)):
            return  # representable (returned unchanged) or at the edge of the range
        if not fmt.subnormals and abs(x) < float(fmt.n_min):
            return  # flush to zero decides, not the randomness
        # The spread of the two outcomes is the quantum Theorem 7's constants are built on.
        quantum = shrinkage.profile(fmt, rounding).quantum(x)
        assert Fraction(hi) - Fraction(lo) == quantum, (
            f"fmt={fmt!r} x={x!r}: neighbours {lo!r}, {hi!r} are "
            f"{float(Fraction(hi) - Fraction(lo))!r} apart but "
            f"profile.quantum(x)={float(quantum)!r}")
        small, large = (lo, hi) if abs(lo) <= abs(hi) else (hi, lo)
        if rounding == "stochastic":
            p = float((abs(Fraction(x)) - abs(Fraction(small)))
                      / (abs(Fraction(large)) - abs(Fraction(small))))
        else:
            p = 0.5
        samples = quantize(np.full(N_SAMPLES, x), fmt, rounding,
                           rng=np.random.default_rng(seed))
        off = np.flatnonzero((samples != lo) & (samples != hi))
        if off.size:
            raise AssertionError(f"fmt={fmt!r} rounding={rounding} x={x!r}: sample "
                                 f"{samples[off[0]]!r} is not a neighbour ({lo!r}, {hi!r})")
        p_hat = float(np.mean(samples == large))
        mean = float(np.mean(samples))
        note(f"fmt={fmt!r} rounding={rounding} x={x!r} seed={seed} lo={lo!r} hi={hi!r} "
             f"p={p!r} p_hat={p_hat!r} mean={mean!r} radius={HOEFFDING_T}")
        compare.assert_upper("test_stochastic_rounding_distribution", abs(p_hat - p),
                             HOEFFDING_T, rtol=compare.EXACT,
                             context={"fmt": repr(fmt), "rounding": rounding,
                                      "x": float(x).hex(), "seed": seed, "p": p,
                                      "p_hat": p_hat, "alpha": ALPHA, "n": N_SAMPLES},
                             claim="test_stochastic_rounding_distribution: |p_hat - p| <= "
                                   f"Hoeffding radius (false-alarm rate {ALPHA})")
    return test_stochastic_rounding_distribution


test_stochastic_rounding_distribution = stochastic_rounding_distribution()
