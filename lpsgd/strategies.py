"""Public Hypothesis strategies for low-precision SGD (the inputs of the property suite).

They follow Hypothesis' own API style: plural nouns, keyword-only ``min_*``/``max_*``
bounds, the whole valid space by default.  Each one is *steered* towards the cases where
the statements of lpsgd.theory are tight or where quantisers break: coarse formats, exact
ties and their float64 neighbours, binade edges, subnormals, overflow, stepsizes at their
admissibility limit, equal eigenvalues, shrinkage factors near their lower bound.

Strategies that build objectives or schedules import :mod:`lpsgd.objectives` /
:mod:`lpsgd.schedules` lazily, so importing this module needs only :mod:`lpsgd.formats`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from lpsgd._validate import check_bool, check_int, check_real
from lpsgd.errors import InvalidArgument
from lpsgd.formats import MAX_EXP_BITS, MAX_MAN_BITS, PRESETS, Format
from lpsgd.rounding import DETERMINISTIC_MODES, ROUNDING_MODES, STOCHASTIC_MODES

__all__ = [
    "formats", "rounding_modes", "values_for", "value_arrays", "ties_for",
    "representable_values", "quadratics", "dense_quadratics", "noise_levels", "stepsizes",
    "diminishing_stepsizes", "shrinkage_levels", "shrinkage_schedules", "QuadraticSGD",
    "quadratic_sgd_problems", "admissible_stepsize", "scaled_examples", "REGIMES",
]

KINDS = ("ieee", "fn", "fn_nonan")
_KIND_FLAGS = {"ieee": (True, True), "fn": (False, True), "fn_nonan": (False, False)}


def _check_range(lo_name: str, lo: Any, hi_name: str, hi: Any) -> None:
    if lo > hi:
        raise InvalidArgument(f"Expected {lo_name} <= {hi_name} but got {lo_name}={lo!r}, "
                              f"{hi_name}={hi!r}")


def scaled_examples(fraction: float = 1.0, *, minimum: int = 10) -> int:
    """``max_examples`` for an expensive property: ``fraction`` of the active profile's.

    Read when the property is decorated, i.e. after pytest has loaded the profile chosen
    with ``--hypothesis-profile``, so ci/dev/thorough all scale the property.
    """
    from hypothesis import settings

    check_real("fraction", fraction, min_value=0, exclude_min=True, max_value=1)
    check_int("minimum", minimum, min_value=1)
    return max(minimum, int(settings.default.max_examples * fraction))


@st.composite
def _drawn(draw: Any, build: Any) -> Any:
    """``build(draw)`` as a strategy.  The strategies below define their generators as
    closures over their (validated) arguments; wrapping them here instead of decorating
    each closure with ``st.composite`` avoids re-inspecting source on every call."""
    return build(draw)


# -- formats and rounding modes ---------------------------------------------------------

def _make_format(exp_bits: int, man_bits: int, subnormals: bool, kind: str) -> Format | None:
    inf, nan = _KIND_FLAGS[kind]
    try:
        return Format(exp_bits, man_bits, subnormals=subnormals, inf=inf, nan=nan)
    except InvalidArgument:  # e.g. an IEEE-like format with one exponent bit
        return None


def formats(*, min_exp_bits: int = 1, max_exp_bits: int = 11, min_man_bits: int = 0,
            max_man_bits: int = 52, presets: bool = True, subnormals: bool | None = None,
            kinds: tuple[str, ...] | None = None,
            fits_binary64: bool = True) -> st.SearchStrategy[Format]:
    """Binary formats: presets and random (E, M) with random flags.

    About a third of the draws are coarse (E <= 5, M <= 3): that is where the shrinkage
    of the bridge statements (lpsgd.theory.formats_bridge) is large and where Theorem 6's mutant is refuted.

    Args:
        min_exp_bits, max_exp_bits: bounds on E.
        min_man_bits, max_man_bits: bounds on M.
        presets: include the preset formats that satisfy the other constraints.
        subnormals: None for both, or only formats with/without gradual underflow.
        kinds: subset of ("ieee", "fn", "fn_nonan"); None for all.
        fits_binary64: only formats whose every value is a float64 (the fast path).
    """
    check_int("min_exp_bits", min_exp_bits, min_value=1, max_value=MAX_EXP_BITS)
    check_int("max_exp_bits", max_exp_bits, min_value=1, max_value=MAX_EXP_BITS)
    check_int("min_man_bits", min_man_bits, min_value=0, max_value=MAX_MAN_BITS)
    check_int("max_man_bits", max_man_bits, min_value=0, max_value=MAX_MAN_BITS)
    _check_range("min_exp_bits", min_exp_bits, "max_exp_bits", max_exp_bits)
    _check_range("min_man_bits", min_man_bits, "max_man_bits", max_man_bits)
    check_bool("presets", presets)
    check_bool("fits_binary64", fits_binary64)
    if subnormals is not None:
        check_bool("subnormals", subnormals)
    kinds = KINDS if kinds is None else tuple(kinds)
    if not kinds or any(k not in KINDS for k in kinds):
        raise InvalidArgument(f"Expected kinds to be a non-empty subset of {KINDS} but got "
                              f"kinds={kinds!r}")

    def ok(fmt: Format | None) -> bool:
        return (fmt is not None and min_exp_bits <= fmt.exp_bits <= max_exp_bits
                and min_man_bits <= fmt.man_bits <= max_man_bits
                and fmt.kind in kinds
                and (subnormals is None or fmt.subnormals == subnormals)
                and (fmt.fits_binary64 or not fits_binary64))

    flags = st.booleans() if subnormals is None else st.just(subnormals)

    def random(e_hi: int, m_hi: int) -> st.SearchStrategy[Format]:
        return st.builds(_make_format,
                         st.integers(min_exp_bits, max(min_exp_bits, e_hi)),
                         st.integers(min_man_bits, max(min_man_bits, m_hi)),
                         flags, st.sampled_from(kinds))

    parts = [random(min(max_exp_bits, 5), min(max_man_bits, 3)),
             random(max_exp_bits, max_man_bits)]
    chosen = [f for f in PRESETS.values() if ok(f)]
    if presets and chosen:
        parts.insert(0, st.sampled_from(chosen))
    strategy = st.one_of(parts).filter(ok)
    # Fail at definition time, not mid-test, when the constraints admit no format.
    if not chosen and not any(
            ok(_make_format(e, m, s, k))
            for e in range(min_exp_bits, min(max_exp_bits, min_exp_bits + 3) + 1)
            for m in (min_man_bits, max_man_bits) for s in (True, False) for k in kinds):
        raise InvalidArgument("formats(): no format satisfies the given bounds and flags")
    return strategy


def rounding_modes(*, deterministic: bool | None = None) -> st.SearchStrategy[str]:
    """Rounding mode names (lpsgd.rounding): all, or only deterministic / only stochastic ones."""
    if deterministic is None:
        return st.sampled_from(ROUNDING_MODES)
    check_bool("deterministic", deterministic)
    return st.sampled_from(DETERMINISTIC_MODES if deterministic else STOCHASTIC_MODES)


# -- values that stress a format --------------------------------------------------------

_F64_MAX_EXP = 1023
_F64_MIN_EXP = -1074


def _as_float(v: Fraction) -> float | None:
    """float(v) if v is exactly a float64, else None."""
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) and Fraction(f) == v else None


@st.composite
def _representable(draw: Any, fmt: Format) -> Fraction:
    """A finite representable magnitude of ``fmt`` as an exact Fraction (zero included)."""
    m = fmt.man_bits
    lo_e = max(fmt.e_min, _F64_MIN_EXP + m + 2)
    hi_e = min(fmt.e_max, _F64_MAX_EXP)
    e = draw(st.one_of(st.just(fmt.e_min), st.just(fmt.e_max),
                       st.integers(min(lo_e, hi_e), hi_e)))
    low = 0 if (e == fmt.e_min and fmt.subnormals) else 2 ** m
    high = fmt.max_significand if e == fmt.e_max else 2 ** (m + 1) - 1
    if e == fmt.e_min and fmt.subnormals:
        sig = draw(st.one_of(st.integers(0, 2 ** m - 1) if m > 0 else st.just(0),
                             st.integers(low, high)))
    else:
        sig = draw(st.integers(low, high))
    return Fraction(sig) * Fraction(2) ** (e - m)


def _ulp_above(fmt: Format, r: Fraction) -> Fraction:
    """Spacing of ``fmt`` just above the magnitude r (r representable, r < X_max)."""
    if r < fmt.n_min:
        return fmt.subnormal_spacing
    e = r.numerator.bit_length() - r.denominator.bit_length()
    if Fraction(2) ** e > r:
        e -= 1
    return Fraction(2) ** (e - fmt.man_bits)


def representable_values(fmt: Format) -> st.SearchStrategy[float]:
    """Finite values of ``fmt`` (both signs, zeros and subnormals included) as float64."""
    def signed(args: tuple[Fraction, bool]) -> float | None:
        mag, neg = args
        f = _as_float(mag)
        if f is None:
            return None
        return -f if neg else f
    return (st.tuples(_representable(fmt), st.booleans()).map(signed)
            .filter(lambda v: v is not None))


def ties_for(fmt: Format) -> st.SearchStrategy[float]:
    """Exact midpoints between neighbouring values of ``fmt`` and their float64 neighbours.

    Includes the tie at the overflow threshold (between X_max and the next power of two)
    and the tie between 0 and the smallest subnormal.  Ties that are not float64 (formats
    with 52 stored bits) are replaced by the float64 values just around them.
    """
    def tie(draw: Any) -> float:
        r = draw(_representable(fmt))
        # r + ulp/2 is the rounding boundary above r; at r = X_max it is the overflow
        # threshold, at r = 0 the underflow tie (N_min/2 without subnormals).
        ulp = fmt.n_min if (r == 0 and not fmt.subnormals) else _ulp_above(fmt, r)
        mid = r + ulp / 2
        where = draw(st.sampled_from(("tie", "below", "above")))
        neg = draw(st.booleans())
        exact = _as_float(mid)
        if exact is None:  # not a float64: take the float64 values around it
            try:
                base = float(mid)
            except OverflowError:
                base = math.inf
            if not math.isfinite(base):
                base = float(np.finfo(np.float64).max)
            out = base if where == "tie" else float(
                math.nextafter(base, -math.inf if where == "below" else math.inf))
        elif where == "tie":
            out = exact
        else:
            out = math.nextafter(exact, -math.inf if where == "below" else math.inf)
        return -out if neg else out
    return _drawn(tie)


def _edges(fmt: Format) -> list[float]:
    """Binade edges, underflow and overflow boundaries of ``fmt`` (and their neighbours)."""
    pts: list[Fraction] = [fmt.n_min, fmt.subnormal_spacing, fmt.subnormal_spacing / 2,
                           fmt.x_max, fmt.overflow_threshold, 2 * fmt.x_max, Fraction(1),
                           fmt.n_min - fmt.subnormal_spacing, fmt.n_min / 2]
    out: set[float] = set()
    for p in pts:
        try:
            f = float(p)
        except OverflowError:
            continue
        if not math.isfinite(f) or f == 0:
            continue
        for v in (f, math.nextafter(f, 0.0), math.nextafter(f, math.inf)):
            if math.isfinite(v):
                out.update((v, -v))
    return sorted(out)


@functools.lru_cache(maxsize=256)
def _stress(fmt: Format) -> tuple[float, ...]:
    try:
        import lpsgd.stress as stress
    except ImportError:  # the stress generator is optional for the strategies
        return ()
    # nextafter(float64 max, inf) = inf is intended there; numpy flags it as overflow.
    with np.errstate(over="ignore"):
        vals = stress.stress_values(fmt, max_values=1024)
    return tuple(float(v) for v in np.asarray(vals, dtype=np.float64))


def values_for(fmt: Format | str, *, allow_nan: bool = True,
               allow_infinity: bool = True,
               allow_overflow: bool = True) -> st.SearchStrategy[float]:
    """float64 inputs that stress a quantiser for ``fmt``.

    A mix of: :func:`lpsgd.stress.stress_values` (when available), representable values,
    exact ties and their float64 neighbours, binade/underflow/overflow edges, uniform
    values in the subnormal range, arbitrary floats, signed zeros, infinities and NaN.

    Args:
        fmt: a Format or preset name.
        allow_nan, allow_infinity: include NaN / +-inf inputs.
        allow_overflow: include finite values above the format's X_max.
    """
    from lpsgd.formats import as_format

    fmt = as_format(fmt)
    check_bool("allow_nan", allow_nan)
    check_bool("allow_infinity", allow_infinity)
    check_bool("allow_overflow", allow_overflow)
    x_max = float(fmt.x_max) if fmt.x_max <= Fraction(np.finfo(np.float64).max) else math.inf
    n_min = float(fmt.n_min)

    def keep(v: float) -> bool:
        if math.isnan(v):
            return allow_nan
        if math.isinf(v):
            return allow_infinity
        return allow_overflow or abs(v) <= x_max

    specials = [0.0, -0.0] + ([math.inf, -math.inf] if allow_infinity else []) + (
        [math.nan] if allow_nan else [])
    edges = [v for v in _edges(fmt) if keep(v)] or [0.0]
    bound = math.inf if allow_overflow else x_max
    anything = (st.floats(allow_nan=allow_nan, allow_infinity=allow_infinity)
                if allow_overflow or math.isinf(x_max) else st.floats(-x_max, x_max))
    parts = [
        st.sampled_from(specials),
        st.deferred(lambda: st.sampled_from(
            [v for v in _stress(fmt) if keep(v)] or [0.0])),
        representable_values(fmt),
        ties_for(fmt).filter(keep),
        ties_for(fmt).filter(keep),  # ties twice: they are where rounding modes differ
        st.sampled_from(edges),
        st.floats(-min(n_min, bound), min(n_min, bound)) if n_min > 0 else st.just(0.0),
        anything,
    ]
    return st.one_of(parts)


def value_arrays(fmt: Format | str, *, min_size: int = 1, max_size: int = 32,
                 **kwargs: Any) -> st.SearchStrategy[np.ndarray]:
    """1-d float64 arrays of :func:`values_for` values (kwargs are passed on to it)."""
    check_int("min_size", min_size, min_value=0)
    check_int("max_size", max_size, min_value=0)
    _check_range("min_size", min_size, "max_size", max_size)
    return st.lists(values_for(fmt, **kwargs), min_size=min_size, max_size=max_size).map(
        lambda xs: np.array(xs, dtype=np.float64))


# -- objectives, noise, stepsizes, shrinkage --------------------------------------------

def _dyadic(lo: float, hi: float, bits: int = 8) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] with few significant bits (exact products in the checks), or
    the endpoints themselves."""
    def rnd(v: float) -> float:
        if v == 0:
            return 0.0
        m, e = math.frexp(v)
        return min(max(math.ldexp(round(m * 2 ** bits), e - bits), lo), hi)
    return st.one_of(st.just(lo), st.just(hi), st.floats(lo, hi).map(rnd))


def quadratics(*, min_dim: int = 1, max_dim: int = 6, min_eigenvalue: float = 2.0 ** -4,
               max_eigenvalue: float = 16.0, max_condition: float = 64.0,
               centred: bool | None = None) -> st.SearchStrategy[Any]:
    """Diagonal quadratics F(w) = 1/2 (w - w*)^T diag(lambdas) (w - w*) + F*.

    The smallest and largest eigenvalues are c and L exactly (so the theorem constants are
    attained); a third of the draws have all eigenvalues equal (the tight case).

    Args:
        min_dim, max_dim: bounds on d.
        min_eigenvalue, max_eigenvalue: bounds on every lambda_i.
        max_condition: bound on L / c.
        centred: True for w* = 0 and F* = 0, False for random ones, None for both.
    """
    check_int("min_dim", min_dim, min_value=1)
    check_int("max_dim", max_dim, min_value=1)
    _check_range("min_dim", min_dim, "max_dim", max_dim)
    check_real("min_eigenvalue", min_eigenvalue, min_value=0, exclude_min=True)
    check_real("max_eigenvalue", max_eigenvalue, min_value=0, exclude_min=True)
    _check_range("min_eigenvalue", min_eigenvalue, "max_eigenvalue", max_eigenvalue)
    check_real("max_condition", max_condition, min_value=1)

    def build(draw: Any) -> Any:
        from lpsgd.objectives import DiagonalQuadratic

        d = draw(st.integers(min_dim, max_dim))
        L = draw(_dyadic(min_eigenvalue, max_eigenvalue))
        c_lo = max(min_eigenvalue, L / max_condition)
        equal = draw(st.integers(0, 2)) == 0
        c = L if equal else draw(_dyadic(c_lo, L))
        lams = [c] * d if equal else [draw(_dyadic(c, L)) for _ in range(d)]
        if d >= 2 and not equal:
            lams[0], lams[-1] = c, L
        elif d == 1:
            lams = [c]  # then L == c for this objective
        cent = draw(st.booleans()) if centred is None else centred
        if cent:
            w_star, f_star = [0.0] * d, 0.0
        else:
            w_star = [draw(_dyadic(-4.0, 4.0, 6)) for _ in range(d)]
            f_star = draw(_dyadic(-2.0, 2.0, 6))
        return DiagonalQuadratic(np.array(lams), w_star=np.array(w_star), f_star=f_star)
    return _drawn(build)


def dense_quadratics(*, min_dim: int = 2, max_dim: int = 4,
                     **quadratic_kwargs: Any) -> st.SearchStrategy[Any]:
    """Dense quadratics A = U diag(lambdas) U^T (U a seeded random rotation), lambdas as in
    :func:`quadratics`; L and c are recomputed from A by :mod:`lpsgd.objectives` (widened
    outward by the float64 eigenvalue error, so they hold for the exact A)."""
    def build(draw: Any) -> Any:
        from lpsgd.objectives import DenseQuadratic

        diag = draw(quadratics(min_dim=min_dim, max_dim=max_dim, **quadratic_kwargs))
        return DenseQuadratic.from_spectrum(diag.lambdas, seed=draw(st.integers(0, 2 ** 16)),
                                            w_star=diag.w_star, f_star=diag.f_star)
    return _drawn(build)


def noise_levels(*, d: int, min_value: float = 0.0, max_value: float = 4.0,
                 allow_zero: bool = True) -> st.SearchStrategy[tuple[float, ...]]:
    """Per-coordinate variances (sigma_i^2 or tau_i^2) of length ``d``; often all zero
    (``allow_zero``), sometimes concentrated on one coordinate."""
    check_int("d", d, min_value=1)
    check_real("min_value", min_value, min_value=0)
    check_real("max_value", max_value, min_value=0)
    _check_range("min_value", min_value, "max_value", max_value)
    one = _dyadic(min_value, max_value, 6)
    parts = [st.tuples(*[one] * d),
             st.tuples(one, *[st.just(min_value)] * (d - 1))]
    if allow_zero and min_value == 0:
        parts.insert(0, st.just((0.0,) * d))
    return st.one_of(parts)


def admissible_stepsize(L: float, M_G: float = 1.0, scale: float = 1.0) -> float:
    """The largest float64 mu <= scale / (L * M_G), checked exactly in rationals."""
    bound = Fraction(scale) / (Fraction(L) * Fraction(M_G))
    mu = float(bound)
    while Fraction(mu) > bound:
        mu = math.nextafter(mu, 0.0)
    return mu


def stepsizes(*, L: float, M_G: float = 1.0, min_fraction: float = 2.0 ** -8,
              max_fraction: float = 1.0) -> st.SearchStrategy[float]:
    """Fixed stepsizes mu with mu * L * M_G in [min_fraction, max_fraction] (exactly).

    max_fraction = 1 is the admissibility limit of the theorems; it is drawn often because
    the bounds are tightest there.  Fractions above 1 generate inadmissible stepsizes (for
    properties that check the theorems refuse them).
    """
    check_real("L", L, min_value=0, exclude_min=True)
    check_real("M_G", M_G, min_value=1)
    check_real("min_fraction", min_fraction, min_value=0, exclude_min=True)
    check_real("max_fraction", max_fraction, min_value=0, exclude_min=True)
    _check_range("min_fraction", min_fraction, "max_fraction", max_fraction)
    return _dyadic(min_fraction, max_fraction).map(
        lambda f: admissible_stepsize(L, M_G, f))


def diminishing_stepsizes(*, L: float, c: float, q_min: float, M_G: float = 1.0,
                          max_excess: float = 4.0) -> st.SearchStrategy[tuple[float, float]]:
    """(beta, gamma) of mu_k = beta / (gamma + k) admissible for Theorem 2.

    beta > 1/(c q_min) (by a factor 1 + excess, excess in (0, max_excess]) and
    mu_1 = beta / (gamma + 1) <= 1/(L M_G), both checked exactly in rationals.
    """
    for name, v in (("L", L), ("c", c), ("q_min", q_min)):
        check_real(name, v, min_value=0, exclude_min=True)
    check_real("q_min", q_min, max_value=1)
    check_real("M_G", M_G, min_value=1)
    check_real("max_excess", max_excess, min_value=0, exclude_min=True)

    def build(args: tuple[float, float]) -> tuple[float, float]:
        excess, slack = args
        beta = float(Fraction(1) / (Fraction(c) * Fraction(q_min)) * (1 + Fraction(excess)))
        while Fraction(beta) * Fraction(c) * Fraction(q_min) <= 1:
            beta = math.nextafter(beta, math.inf)
        need = Fraction(beta) * Fraction(L) * Fraction(M_G) - 1
        gamma = float(max(need, Fraction(0)) + Fraction(slack))
        while gamma <= 0 or Fraction(gamma) < need:
            gamma = math.nextafter(gamma, math.inf)
        return beta, gamma
    # slack 0 puts mu_1 exactly at the admissibility limit when that limit binds.
    return st.tuples(_dyadic(2.0 ** -6, max_excess), _dyadic(0.0, 8.0)).map(build)


def shrinkage_levels(*, min_value: float = 2.0 ** -6,
                     max_value: float = 1.0) -> st.SearchStrategy[float]:
    """Shrinkage factors q in [min_value, max_value] (subset of (0, 1]), with both ends
    drawn often."""
    check_real("min_value", min_value, min_value=0, max_value=1, exclude_min=True)
    check_real("max_value", max_value, min_value=0, max_value=1, exclude_min=True)
    _check_range("min_value", min_value, "max_value", max_value)
    return _dyadic(min_value, max_value)


@dataclasses.dataclass(frozen=True)
class QuadraticSGD:
    """One SGD-on-a-quadratic instance with every constant of the exact expectations (lpsgd.reference.expectations).

    ``objective`` is a DiagonalQuadratic; ``w1`` the start; ``sigma2`` and ``tau2`` the
    per-coordinate variances of the gradient noise and the quantisation noise (M =
    sum sigma2, M_V = 0, M_G = 1, M_q = sum tau2).
    """

    objective: Any
    w1: tuple[float, ...]
    sigma2: tuple[float, ...]
    tau2: tuple[float, ...]

    @property
    def M(self) -> Fraction:
        """sum sigma_i^2, exactly (a float sum could round below the true variance)."""
        return sum((Fraction(s) for s in self.sigma2), Fraction(0))

    @property
    def M_q(self) -> Fraction:
        """sum tau_i^2, exactly."""
        return sum((Fraction(t) for t in self.tau2), Fraction(0))

    def __repr__(self) -> str:
        r = self.replay()
        return (f"QuadraticSGD(DiagonalQuadratic(lambdas={r['lambdas']}, w_star={r['w_star']}, "
                f"f_star={r['f_star']}), w1={r['w1']}, sigma2={r['sigma2']}, "
                f"tau2={r['tau2']})")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints falsifying examples with this (instead of the objective's
        # address), so a failure shows every constant of the instance.
        printer.text(repr(self))

    def replay(self) -> dict[str, Any]:
        """The constants needed to rebuild the instance (for notes and reports)."""
        obj = self.objective
        return {"lambdas": [float(v) for v in np.asarray(obj.lambdas)],
                "w_star": [float(v) for v in np.asarray(obj.w_star)],
                "f_star": float(obj.f_star), "w1": list(self.w1),
                "sigma2": list(self.sigma2), "tau2": list(self.tau2)}


REGIMES = ("noise_only", "noise_free", "general")


def quadratic_sgd_problems(*, max_dim: int = 4, max_noise: float = 4.0,
                           regimes: tuple[str, ...] | None = None,
                           **quadratic_kwargs: Any) -> st.SearchStrategy[QuadraticSGD]:
    """A quadratic (see :func:`quadratics`), a start point and noise levels.

    Three regimes are drawn equally often, because the bounds are tight in different
    places: "noise_only" (start at w*, so the floor alone; gradient noise, quantisation
    noise or both, sometimes only on the coordinate with lambda = L), "noise_free"
    (the rate alone) and "general" (start w* + offset in [-8, 8]^d, any noise).

    Args:
        max_dim: bound on d.
        max_noise: bound on every sigma_i^2 and tau_i^2.
        regimes: a non-empty subset of :data:`REGIMES` to draw from (None for all).
        quadratic_kwargs: passed on to :func:`quadratics`.
    """
    check_int("max_dim", max_dim, min_value=1)
    check_real("max_noise", max_noise, min_value=0, exclude_min=True)
    regimes = REGIMES if regimes is None else tuple(regimes)
    if not regimes or any(r not in REGIMES for r in regimes):
        raise InvalidArgument(f"Expected regimes to be a non-empty subset of {REGIMES} but "
                              f"got regimes={regimes!r}")

    def build(draw: Any) -> QuadraticSGD:
        obj = draw(quadratics(max_dim=max_dim, **quadratic_kwargs))
        d = obj.d
        w_star = np.asarray(obj.w_star, dtype=np.float64)
        regime = draw(st.sampled_from(regimes))
        zero = (0.0,) * d
        if regime == "noise_only":
            offset = [0.0] * d
            which = draw(st.sampled_from(("M_q", "M", "both")))  # M_q: this project's subject
            positive = noise_levels(d=d, min_value=2.0 ** -6, max_value=max_noise)
            top = _dyadic(2.0 ** -6, max_noise, 6).map(lambda v: (0.0,) * (d - 1) + (v,))
            levels = st.one_of(positive, top)
            sigma2 = draw(levels) if which != "M_q" else zero
            tau2 = draw(levels) if which != "M" else zero
        else:
            offset = [draw(_dyadic(-8.0, 8.0, 6)) for _ in range(d)]
            if regime == "noise_free":
                sigma2, tau2 = zero, zero
            else:
                sigma2 = draw(noise_levels(d=d, max_value=max_noise))
                tau2 = draw(noise_levels(d=d, max_value=max_noise))
        w1 = tuple(float(a + b) for a, b in zip(w_star, offset))
        return QuadraticSGD(obj, w1, tuple(sigma2), tuple(tau2))
    return _drawn(build)


def shrinkage_schedules(*, min_q: float = 2.0 ** -6, kinds: tuple[str, ...] | None = None,
                        problem: QuadraticSGD | None = None,
                        mu: Any = None) -> st.SearchStrategy[Any]:
    """Shrinkage schedules of :mod:`lpsgd.schedules` with values in [q_min, 1].

    Kinds: "constant", "random" (iid uniform in [q_min, 1)), "periodic" (a pattern that
    starts at q_min) and, when ``problem`` and ``mu`` are given, "adversarial" (the
    greedy worst case for that quadratic, :func:`lpsgd.schedules.adversarial_q`).

    Args:
        min_q: lower bound on q_min, in (0, 1].
        kinds: subset of the kinds above; None for all that apply.
        problem: a :class:`QuadraticSGD` (needed for "adversarial").
        mu: its stepsize (a number or a stepsize schedule; needed for "adversarial").
    """
    check_real("min_q", min_q, min_value=0, max_value=1, exclude_min=True)
    valid = ("constant", "random", "periodic", "adversarial")
    if kinds is None:
        kinds = valid if problem is not None and mu is not None else valid[:3]
    kinds = tuple(kinds)
    if not kinds or any(k not in valid for k in kinds):
        raise InvalidArgument(f"Expected kinds to be a non-empty subset of {valid} but got "
                              f"kinds={kinds!r}")
    if "adversarial" in kinds and (problem is None or mu is None):
        raise InvalidArgument("Expected problem and mu for kinds containing 'adversarial' "
                              f"but got problem={problem!r}, mu={mu!r}")

    def build(draw: Any) -> Any:
        import lpsgd.schedules as schedules

        kind = draw(st.sampled_from(kinds))
        q_min = draw(shrinkage_levels(min_value=min_q))
        if kind == "constant":
            return schedules.constant_q(q_min)
        if kind == "random":
            return schedules.random_q(q_min, seed=draw(st.integers(0, 2 ** 32 - 1)))
        if kind == "periodic":
            vals = draw(st.lists(shrinkage_levels(min_value=q_min), min_size=1, max_size=4))
            return schedules.periodic_q([q_min] + vals)
        obj = problem.objective
        s1 = [float((Fraction(a) - Fraction(float(b))) ** 2)
              for a, b in zip(problem.w1, np.asarray(obj.w_star))]
        return schedules.adversarial_q(q_min, lambdas=list(np.asarray(obj.lambdas)), s1=s1,
                                       mu=mu, sigma2=list(problem.sigma2),
                                       tau2=list(problem.tau2))
    return _drawn(build)
