"""Properties of the quantisers (FORMATS.md): conformance and invariants.

* fast.quantize == reference.quantize bit for bit (signed zeros and NaN included), for
  deterministic modes and, given the same seed or uniforms, for stochastic ones;
* idempotence, monotonicity, sign symmetry (where the mode has it), error within half a
  spacing (nearest modes) or one spacing (directed, odd, stochastic);
* stochastic rounding: every sample is one of the two neighbours, and the frequency of
  the upper one matches its exact probability (frac for "stochastic", 1/2 for
  "stochastic_equal") within a Hoeffding radius whose false-alarm rate is at most
  ALPHA per check, whatever the probability.

Every call goes through the module (``fast.quantize``), so a mutant monkeypatched into
:mod:`lpsgd.fast` is what runs.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import lpsgd.fast as fast
import lpsgd.record as record
import lpsgd.reference as reference
import lpsgd.shrinkage as shrinkage
import lpsgd.strategies as lst
from lpsgd.formats import Format
from lpsgd.rounding import DETERMINISTIC_MODES, ROUNDING_MODES, RoundingMode

#: False-alarm probability of one statistical check (Hoeffding, valid for every p).
ALPHA = 1e-9
#: Samples per stochastic check.
N_SAMPLES = 4000
#: Hoeffding radius: P(|p_hat - p| >= T) <= 2 exp(-2 N T^2) = ALPHA.
HOEFFDING_T = math.sqrt(math.log(2 / ALPHA) / (2 * N_SAMPLES))

# The reference is exact (mpmath), so the bit-for-bit checks use fewer, larger examples.
_REF_EXAMPLES = lst.scaled_examples(0.5, minimum=20)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise: same value and same sign bit, or both NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))


def _mismatch_note(x, got, want, fmt, rounding) -> str:
    bad = np.flatnonzero(~_same(got, want))
    i = int(bad[0])
    return (f"{bad.size} mismatches; first: fmt={fmt!r} rounding={rounding} "
            f"x={float(x[i]).hex()} ({float(x[i])!r}) ACTUAL={float(got[i])!r} "
            f"DESIRED={float(want[i])!r}")


def _assert_same(name: str, x, got, want, fmt, rounding, **context) -> None:
    __tracebackhide__ = True
    ok = _same(got, want)
    record.observe(name, int((~ok).sum()), 0, fmt=repr(fmt), rounding=rounding,
                   x=[float(v).hex() for v in np.asarray(x)], **context)
    if not ok.all():
        msg = _mismatch_note(np.asarray(x), got, want, fmt, rounding)
        note(msg)
        raise AssertionError(f"{name}: fast.quantize != reference.quantize: {msg}")


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


@settings(max_examples=_REF_EXAMPLES)
@given(_format_and_values())
def test_fast_matches_reference(fmt_x):
    """Deterministic modes: the fast path returns the reference's bits.

    Every deterministic mode is checked on each drawn array: ties, overflow and
    underflow cases are rare in a draw, so each one found is used for all modes.
    """
    fmt, x = fmt_x
    got = {r: fast.quantize(x, fmt, r) for r in DETERMINISTIC_MODES}
    want = {r: reference.quantize(x, fmt, r) for r in DETERMINISTIC_MODES}
    worst = max(DETERMINISTIC_MODES, key=lambda r: int((~_same(got[r], want[r])).sum()))
    _assert_same("test_fast_matches_reference", x, got[worst], want[worst], fmt, worst)


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


@pytest.mark.parametrize(("fmt", "rounding", "values"), REGRESSIONS,
                         ids=[f"{f.label}-{r}" for f, r, _ in REGRESSIONS])
def test_fast_matches_reference_regressions(fmt, rounding, values):
    """Counterexamples found by the conformance properties, kept as plain tests."""
    x = np.array(values, dtype=np.float64)
    _assert_same("test_fast_matches_reference_regressions", x, fast.quantize(x, fmt, rounding),
                 reference.quantize(x, fmt, rounding), fmt, rounding)


@settings(max_examples=_REF_EXAMPLES)
@given(_format_and_ties())
def test_fast_matches_reference_ties(fmt_x):
    """Exact ties (and their float64 neighbours) alone, where nearest modes differ."""
    fmt, x = fmt_x
    modes = ("nearest_even", "nearest_away", "nearest_zero", "odd")
    got = {r: fast.quantize(x, fmt, r) for r in modes}
    want = {r: reference.quantize(x, fmt, r) for r in modes}
    worst = max(modes, key=lambda r: int((~_same(got[r], want[r])).sum()))
    _assert_same("test_fast_matches_reference_ties", x, got[worst], want[worst], fmt, worst)


@settings(max_examples=_REF_EXAMPLES)
@given(_format_and_values(), lst.rounding_modes(deterministic=False),
       st.integers(0, 2 ** 32 - 1))
def test_fast_matches_reference_stochastic(fmt_x, rounding, seed):
    """Stochastic modes: the same seed gives the same bits in both paths."""
    fmt, x = fmt_x
    got = fast.quantize(x, fmt, rounding, rng=np.random.default_rng(seed))
    want = reference.quantize(x, fmt, rounding, rng=np.random.default_rng(seed))
    _assert_same("test_fast_matches_reference_stochastic", x, got, want, fmt, rounding,
                 seed=seed)


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
    got = fast.quantize(x, fmt, rounding, uniforms=u)
    want = reference.quantize(x, fmt, rounding, uniforms=u)
    _assert_same("test_fast_matches_reference_uniforms", x, got, want, fmt, rounding,
                 uniforms=[float(v).hex() for v in u])


@settings(max_examples=lst.scaled_examples(0.25, minimum=10))
@given(lst.formats(max_exp_bits=5, max_man_bits=4), lst.rounding_modes(deterministic=True))
def test_fast_matches_reference_stress(fmt, rounding):
    """The deterministic stress set of a format (lpsgd.stress) in one array."""
    import lpsgd.stress as stress

    with np.errstate(over="ignore"):  # nextafter(float64 max, inf) = inf is intended
        x = np.asarray(stress.stress_values(fmt, max_values=512), dtype=np.float64)
    got = fast.quantize(x, fmt, rounding)
    want = reference.quantize(x, fmt, rounding)
    _assert_same("test_fast_matches_reference_stress", x, got, want, fmt, rounding)


# -- invariants (fast path) ---------------------------------------------------------------
# Each example checks every mode on the same values: a defect confined to one mode is met
# by every example that reaches its values, not only by the examples that drew that mode.

def _assert_every_mode(name, x, fmt, pairs):
    """pairs: mode -> (got, want).  Fails on the mode with the most mismatches."""
    __tracebackhide__ = True
    bad = {r: int((~_same(got, want)).sum()) for r, (got, want) in pairs.items()}
    worst = max(bad, key=bad.get)
    record.observe(name, sum(bad.values()), 0, fmt=repr(fmt), rounding=worst,
                   x=[float(v).hex() for v in np.asarray(x)])
    if bad[worst]:
        got, want = pairs[worst]
        msg = _mismatch_note(np.asarray(x), got, want, fmt, worst)
        note(msg)
        raise AssertionError(f"{name}: {msg}")


@given(_format_and_values(max_size=48))
def test_quantize_idempotent(fmt_x):
    """Q(Q(x)) == Q(x) for every deterministic mode: values of the format are fixed points."""
    fmt, x = fmt_x
    pairs = {}
    for rounding in DETERMINISTIC_MODES:
        once = fast.quantize(x, fmt, rounding)
        pairs[rounding] = (fast.quantize(once, fmt, rounding), once)
    _assert_every_mode("test_quantize_idempotent", x, fmt, pairs)


@given(_format_and_values(max_size=48))
def test_quantize_monotone(fmt_x):
    """x <= y implies Q(x) <= Q(y), every deterministic mode (NaN results, from NaN or
    fn-format overflow, skipped)."""
    fmt, x = fmt_x
    x = np.sort(x[~np.isnan(x)])
    drops = {}
    for rounding in DETERMINISTIC_MODES:
        q = fast.quantize(x, fmt, rounding)
        keep = ~np.isnan(q)
        xs, qs = x[keep], q[keep]
        drops[rounding] = (xs, qs, np.flatnonzero(qs[1:] < qs[:-1]))
    worst = max(drops, key=lambda r: drops[r][2].size)
    xs, qs, d = drops[worst]
    record.observe("test_quantize_monotone", sum(v[2].size for v in drops.values()), 0,
                   fmt=repr(fmt), rounding=worst, x=[float(v).hex() for v in x])
    if d.size:
        i = int(d[0])
        msg = (f"fmt={fmt!r} rounding={worst}: x={xs[i]!r} <= y={xs[i + 1]!r} but "
               f"Q(x)={qs[i]!r} > Q(y)={qs[i + 1]!r}")
        note(msg)
        raise AssertionError(msg)


@given(_format_and_values(max_size=48))
def test_quantize_sign_symmetric(fmt_x):
    """Q(-x) == -Q(x) for sign-symmetric modes; up(-x) == -down(x) for the directed pair."""
    fmt, x = fmt_x
    pairs = {}
    for rounding in DETERMINISTIC_MODES:
        mirror = {"up": "down", "down": "up"}.get(rounding, rounding)
        assert RoundingMode(rounding).is_sign_symmetric == (mirror == rounding)
        pairs[rounding] = (fast.quantize(-x, fmt, rounding), -fast.quantize(x, fmt, mirror))
    _assert_every_mode("test_quantize_sign_symmetric", x, fmt, pairs)


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


@given(_format_and_values(max_size=48), st.integers(0, 2 ** 32 - 1))
def test_quantize_error_within_spacing(fmt_x, seed):
    """|Q(x) - x| <= spacing/2 (nearest modes) or <= spacing (others), |x| <= X_max, for
    every mode (stochastic ones seeded by ``seed``).

    Exception stated by FORMATS.md: without subnormals a magnitude below N_min may flush
    to zero from anywhere in (0, N_min), so there the bound is the full gap N_min.
    """
    fmt, x = fmt_x
    x = x[np.isfinite(x)]
    x = x[np.abs(x) <= float(fmt.x_max)]
    if x.size == 0:
        return
    results = [_error_over_spacing(fmt, x, rounding, seed) for rounding in ROUNDING_MODES]
    worst, rounding, ctx = max(results, key=lambda r: r[0])
    record.observe("test_quantize_error_within_spacing", worst, 1.0, fmt=repr(fmt),
                   rounding=rounding, seed=seed, **ctx)
    if worst > 1:
        msg = f"fmt={fmt!r} rounding={rounding} seed={seed}: error/allowed={worst} at {ctx}"
        note(msg)
        raise AssertionError(msg)


def _error_over_spacing(fmt, x, rounding, seed):
    """The largest |Q(x) - x| / allowed over x, the mode, and where it was reached."""
    mode = RoundingMode(rounding)
    kw = {"rng": np.random.default_rng(seed)} if mode.is_stochastic else {}
    q = fast.quantize(x, fmt, rounding, **kw)
    worst, worst_i = 0.0, -1
    for i, (xi, qi) in enumerate(zip(x, q)):
        if not math.isfinite(qi):
            raise AssertionError(f"fmt={fmt!r} rounding={rounding}: finite x={xi!r} <= X_max "
                                 f"gave Q(x)={qi!r}")
        mag = abs(Fraction(float(xi)))
        gap = _spacing(fmt, mag)
        half = mode.is_nearest and (fmt.subnormals or mag >= fmt.n_min)
        allowed = gap / 2 if half else gap
        r = float(abs(Fraction(float(qi)) - Fraction(float(xi))) / allowed)
        if r > worst:
            worst, worst_i = r, i
    ctx = {}
    if worst_i >= 0:
        ctx = {"x": float(x[worst_i]).hex(), "q": float(q[worst_i]).hex()}
    return worst, rounding, ctx


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


def _neighbours(fmt: Format, x: float) -> tuple[float, float]:
    """The format values just below and just above x (exact reference, directed modes)."""
    arr = np.array([x])
    lo = float(reference.quantize(arr, fmt, "down")[0])
    hi = float(reference.quantize(arr, fmt, "up")[0])
    return lo, hi


@settings(max_examples=lst.scaled_examples(0.5, minimum=20))
@given(_stochastic_case(), lst.rounding_modes(deterministic=False),
       st.integers(0, 2 ** 32 - 1))
def test_stochastic_rounding_distribution(case, rounding, seed):
    """Samples lie on the two neighbours; P(upper magnitude) matches its exact value.

    For "stochastic" that probability is frac = (|x| - |lo|)/(|hi| - |lo|) (so E[Q(x)] = x,
    unbiased, and Var = frac (1 - frac) spacing^2 <= spacing^2 / 4); for
    "stochastic_equal" it is 1/2.  The check |p_hat - p| <= HOEFFDING_T has false-alarm
    probability at most ALPHA.
    """
    fmt, x = case
    lo, hi = _neighbours(fmt, x)
    if lo == hi or not (math.isfinite(lo) and math.isfinite(hi)):
        return  # representable (returned unchanged) or at the edge of the range
    if not fmt.subnormals and abs(x) < float(fmt.n_min):
        return  # flush to zero decides, not the randomness
    # The spread of the two outcomes is the quantum Theorem 7's constants are built on.
    quantum = shrinkage.profile(fmt, rounding).quantum(x)
    assert Fraction(hi) - Fraction(lo) == quantum, (
        f"fmt={fmt!r} x={x!r}: neighbours {lo!r}, {hi!r} are {float(Fraction(hi) - Fraction(lo))!r}"
        f" apart but profile.quantum(x)={float(quantum)!r}")
    small, large = (lo, hi) if abs(lo) <= abs(hi) else (hi, lo)
    if rounding == "stochastic":
        p = float((abs(Fraction(x)) - abs(Fraction(small)))
                  / (abs(Fraction(large)) - abs(Fraction(small))))
    else:
        p = 0.5
    samples = fast.quantize(np.full(N_SAMPLES, x), fmt, rounding,
                            rng=np.random.default_rng(seed))
    off = np.flatnonzero((samples != lo) & (samples != hi))
    if off.size:
        raise AssertionError(f"fmt={fmt!r} rounding={rounding} x={x!r}: sample "
                             f"{samples[off[0]]!r} is not a neighbour ({lo!r}, {hi!r})")
    p_hat = float(np.mean(samples == large))
    dev = abs(p_hat - p)
    mean = float(np.mean(samples))
    note(f"fmt={fmt!r} rounding={rounding} x={x!r} seed={seed} lo={lo!r} hi={hi!r} "
         f"p={p!r} p_hat={p_hat!r} mean={mean!r} radius={HOEFFDING_T}")
    record.observe("test_stochastic_rounding_distribution", dev, HOEFFDING_T,
                   fmt=repr(fmt), rounding=rounding, x=float(x).hex(), seed=seed, p=p,
                   p_hat=p_hat)
    assert dev <= HOEFFDING_T, (
        f"P(round up in magnitude) off by {dev} > {HOEFFDING_T} (false-alarm rate {ALPHA})")
