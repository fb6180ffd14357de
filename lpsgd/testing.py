"""Check someone else's quantiser against lpsgd's exact rounding semantics.

:func:`check_quantizer` drives any function ``float64 array -> float array`` with the
inputs that break quantisers (:func:`lpsgd.stress.stress_values`: every code of small
formats, ties and their float64 neighbours, binade edges, subnormal and overflow
boundaries, signed zeros, inf, NaN) plus seeded random values, and compares the results
with the format semantics of :mod:`lpsgd.reference.quantize`.  :func:`assert_quantizer` is
the same check as an assertion for a user's own pytest suite, with a numpy.testing-style
message.

Deterministic modes are compared bit for bit under the one rule of :mod:`lpsgd.bitwise`
(``-0.0 != +0.0``; a NaN equals a NaN of the same sign bit, payloads are ignored).
Stochastic modes are checked statistically: every output must be one of the two
neighbours (bitwise), and the frequency of the larger-magnitude neighbour, which fixes
both the bias and the variance of a two-point distribution, must agree with the exact
probability at a stated false-alarm rate.

Scaled formats (MX, NVFP4: :class:`~lpsgd.scaled.ScaledFormat` or a scaled preset name)
are checked the same way, element by element, on whole arrays (blocks along the last
axis) built by :func:`scaled_inputs` to break block quantisers.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from lpsgd import fast as _fast_layer
from lpsgd import reference as _reference_layer
from lpsgd.reference import scaled as _reference_scaled
from lpsgd import stress as _stress_module
from lpsgd._validate import check_int, check_real
from lpsgd.bitwise import same_values as _same
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format, as_format
from lpsgd.rounding import RoundingMode, rounding_mode
from lpsgd.scaled import ScaledFormat, as_scaled_format, is_scaled
from lpsgd.scaled_strategies import hard_cases as _hard_cases
from lpsgd.suite.check import BoundCheck, assert_bound, check_bound

__all__ = ["check_quantizer", "assert_quantizer", "Conformance", "Mismatch", "KINDS",
           "SCALED_KINDS", "classify", "random_inputs", "scaled_inputs", "bits",
           "check_bound", "assert_bound", "BoundCheck"]

#: Mismatch kinds, in the order they are assigned (the first that applies wins) and listed.
KINDS: tuple[str, ...] = (
    "nan",            # x is NaN, or got is NaN for an x in range
    "infinity",       # x is +-inf
    "overflow",       # |x| > X_max, got is infinite, or want is infinite or NaN
    "signed_zero",    # x is +-0, or got and want are zeros of different signs
    "subnormal",      # |x| < N_min (gradual underflow or flush to zero)
    "representable",  # x is a value of the format but is changed
    "tie",            # x is exactly halfway between two neighbours
    "near_tie",       # within float32 precision of a tie (double rounding shows here)
    "rounding",       # any other input
    "statistics",     # stochastic modes: frequency of the upper neighbour is off
    "bias",           # stochastic modes: pooled over inputs of one sign, a systematic bias
)

#: Default number of seeded random inputs added to the stress values.
DEFAULT_EXAMPLES = 10_000
#: Stochastic modes: default number of draws per input and default false-alarm rate.
DEFAULT_DRAWS = 2_000
DEFAULT_FALSE_ALARM = 1e-6
#: Stochastic modes: at most this many distinct inputs (from the stress values and random).
DEFAULT_STOCHASTIC_INPUTS = 400
#: Mismatches re-checked with the exact reference (the examples always are).
CONFIRM_CAP = 2_000
#: Elements per call of ``fn`` when inputs are repeated (stochastic modes).
_CHUNK = 1 << 18


@dataclasses.dataclass(frozen=True)
class Mismatch:
    """One input where ``fn`` departs from the exact semantics.

    For stochastic modes and kind ``"statistics"``, ``got`` is the observed mean of
    ``fn(x)`` over ``draws`` calls and ``want`` the exact expectation; ``freq_hi`` and
    ``p_hi`` are the observed and exact probabilities of the larger-magnitude neighbour,
    and ``var``/``want_var`` the observed and exact variances.
    """

    x: float
    got: float
    want: float
    kind: str
    got_bits: str
    want_bits: str
    draws: int = 0
    freq_hi: float | None = None
    p_hi: float | None = None
    var: float | None = None
    want_var: float | None = None
    inputs: tuple[float, ...] = ()
    shape: tuple[int, ...] = ()
    index: int = 0
    block: tuple[float, ...] = ()

    def replay(self) -> str:
        """A Python expression that rebuilds the input exactly.

        For element formats the input is ``x`` alone.  For scaled formats it is the whole
        array ``fn`` was given (``inputs`` flattened, of shape ``shape``), with ``x`` at
        the flat position ``index``; ``block`` holds the values of x's block.
        """
        if self.inputs:
            text = "np.array([" + ", ".join(f"float.fromhex({_hex(v)!r})"
                                            for v in self.inputs) + "])"
            return text if len(self.shape) <= 1 else f"{text}.reshape({self.shape})"
        return f"np.array([float.fromhex({_hex(self.x)!r})])"


@dataclasses.dataclass(frozen=True)
class Conformance:
    """Result of :func:`check_quantizer`.

    Attributes:
        fmt: the format checked.
        rounding: the rounding mode name.
        method: ``"bitwise"`` (deterministic modes) or ``"statistical"``.
        checked: distinct inputs checked.
        mismatches: inputs where ``fn`` departs from the semantics.
        examples: minimal mismatching cases as ``(x, got, want)`` floats, a few per kind,
            simplest first (fewest significant bits of x, then exponent nearest 0).
        details: the same cases as :class:`Mismatch` records (kind, bits, statistics).
        kinds: mismatch count per kind.
        confirmed: how many mismatches were re-checked with ``lpsgd.reference.quantize``.
        draws: stochastic modes: calls of ``fn`` per input.
        false_alarm: stochastic modes: bound on the probability that a correct stochastic
            quantiser is reported with any statistical mismatch.
        notes: anything the reader should know (e.g. reference disagreements).
    """

    fmt: Format | ScaledFormat
    rounding: str
    method: str
    checked: int
    mismatches: int
    examples: list[tuple[float, float, float]]
    details: tuple[Mismatch, ...] = ()
    kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    confirmed: int = 0
    draws: int = 0
    false_alarm: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    @property
    def scaled(self) -> bool:
        return isinstance(self.fmt, ScaledFormat)

    @property
    def claim(self) -> str:
        if self.scaled:
            if self.method == "bitwise":
                return (f"fn(x) equals the exact {self.rounding} block quantisation to "
                        f"{self.fmt.label} bit for bit, element by element (-0.0 != +0.0, "
                        f"NaN == NaN of the same sign)")
            return (f"every element of fn(x) is one of the two values the exact "
                    f"{self.rounding} block quantisation to {self.fmt.label} can give and "
                    f"picks the larger magnitude with the exact probability")
        if self.method == "bitwise":
            return (f"fn(x) equals the exact {self.rounding} rounding to {self.fmt.label} "
                    f"bit for bit (-0.0 != +0.0, NaN == NaN of the same sign)")
        return (f"fn(x) is one of the two {self.fmt.label} neighbours of x and picks the "
                f"larger magnitude with the exact {self.rounding} probability")

    @property
    def tolerance(self) -> str:
        if self.method == "bitwise":
            return "exact (0 ulp)"
        return (f"Chernoff bound on {self.draws} draws per input, false-alarm rate "
                f"<= {self.false_alarm:g} for the whole check")

    def summary(self, max_examples: int = 10) -> str:
        """A readable multi-line description (what :func:`assert_quantizer` prints)."""
        pct = 100.0 * self.mismatches / self.checked if self.checked else 0.0
        if self.scaled:
            f = self.fmt
            described = (f"Format {f.label} (element {f.element.label}, blocks of "
                         f"{f.block_size} along the last axis, {f.scale} scales, rule "
                         f"{f.rule}), rounding {self.rounding}")
        else:
            described = (f"Format {self.fmt.label} (E={self.fmt.exp_bits}, "
                         f"M={self.fmt.man_bits}, {self.fmt.kind}"
                         f"{'' if self.fmt.subnormals else ', no subnormals'}), "
                         f"rounding {self.rounding}")
        lines = [
            f"Claim: {self.claim}",
            described,
            f"Tolerance: {self.tolerance}",
            f"Mismatched inputs: {self.mismatches} / {self.checked} ({pct:.3g}%)",
        ]
        if self.kinds:
            lines.append("By kind: " + ", ".join(f"{k} {n}" for k, n in self.kinds.items()))
        if self.mismatches:
            lines.append(f"Confirmed with lpsgd.reference.quantize: {self.confirmed}")
        lines.extend(f"Note: {n}" for n in self.notes)
        if self.details:
            lines.append("Simplest mismatches per kind:")
        for m in self.details[:max_examples]:
            lines.append(f" [{m.kind}] x = {m.x!r} ({_hex(m.x)})")
            if m.kind in ("statistics", "bias"):
                lines.append(f"   ACTUAL:  mean {m.got!r}, P(upper) {m.freq_hi:.6g}, "
                             f"variance {m.var:.6g} over {m.draws} draws")
                lines.append(f"   DESIRED: mean {m.want!r}, P(upper) {m.p_hi:.6g}, "
                             f"variance {m.want_var:.6g}")
            else:
                lines.append(f"   ACTUAL:  {m.got!r} ({_hex(m.got)}) bits {m.got_bits}")
                lines.append(f"   DESIRED: {m.want!r} ({_hex(m.want)}) bits {m.want_bits}")
            if m.inputs:
                shown = ", ".join(repr(v) for v in m.block[:16])
                more = ", ..." if len(m.block) > 16 else ""
                lines.append(f"   in the block [{shown}{more}] of an input of shape "
                             f"{m.shape} (flat position {m.index}; .replay() rebuilds it)")
        if len(self.details) > max_examples:
            lines.append(f" ... {len(self.details) - max_examples} more examples in .details")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly record (floats as repr strings and hex, so NaN/inf survive)."""
        return {
            "format": self.fmt.label, "rounding": self.rounding, "method": self.method,
            "checked": self.checked, "mismatches": self.mismatches, "kinds": dict(self.kinds),
            "confirmed": self.confirmed, "draws": self.draws, "false_alarm": self.false_alarm,
            "notes": list(self.notes),
            "examples": [
                {"kind": m.kind, "x": repr(m.x), "x_hex": _hex(m.x), "got": repr(m.got),
                 "want": repr(m.want), "got_bits": m.got_bits, "want_bits": m.want_bits,
                 "replay": m.replay(), "index": m.index, "block": [repr(v) for v in m.block]}
                for m in self.details
            ],
        }


# ----------------------------------------------------------------------------------------
# public entry points


def check_quantizer(fn: Callable[[np.ndarray], Any], fmt: Format | str,
                    rounding: str | RoundingMode = "nearest_even", *,
                    examples: int = DEFAULT_EXAMPLES, seed: int = 0, per_kind: int = 3,
                    draws: int = DEFAULT_DRAWS, false_alarm: float = DEFAULT_FALSE_ALARM,
                    max_inputs: int = DEFAULT_STOCHASTIC_INPUTS) -> Conformance:
    """Check a quantiser ``fn`` against the exact semantics of ``fmt`` and ``rounding``.

    Inputs are ``lpsgd.stress.stress_values(fmt, seed=seed)`` followed by ``examples``
    seeded random values (half log-uniform over the format's range, half exact ties of
    the format and their float64 neighbours up to 2 ulps away).  ``fn`` receives them as
    one float64 array and must return an array of the same shape of any float dtype
    (float16, float32, ml_dtypes types, ...); it is converted to float64 exactly.

    Deterministic modes: the output is compared bit for bit with
    ``lpsgd.fast.quantize(x, fmt, rounding)``, which the property suite proves equal to
    the exact ``lpsgd.reference.quantize``; every mismatch (up to 2000, and always the
    reported examples) is confirmed with ``lpsgd.reference.quantize`` before it is
    reported, so a reported mismatch never rests on the fast path alone.

    Stochastic modes: up to ``max_inputs`` inputs (specials, boundaries, ties and random
    values) are each quantised ``draws`` times (``fn`` is called on the inputs repeated
    in one array, several calls in a row).  Every output must be one of the two values
    exact rounding can give (bitwise; inputs with one possible value, such as
    representable numbers, zeros, inf and NaN, are checked exactly).  For the others the
    observed frequency ``f`` of the larger-magnitude neighbour is compared with its exact
    probability ``p`` (the exact fraction of the spacing at x, see
    :mod:`lpsgd.reference.quantize`): a mismatch is reported when

    .. math:: R \\cdot \\mathrm{KL}(f \\,\\|\\, p) > \\ln(2 n / \\alpha),

    with ``R`` draws, ``n`` tested inputs and ``alpha = false_alarm``.  By the Chernoff
    bound and a union bound over inputs and both tails, a correct stochastic quantiser
    with independent draws is reported with probability at most ``alpha``.  For a
    two-point distribution the frequency fixes both the bias
    ``(f - p)(hi - lo)`` and the variance ``f (1 - f)(hi - lo)^2``, so this one test
    checks both; the observed mean and variance are reported next to the exact ones.
    Not checked: independence between elements or between calls.

    Scaled formats (a :class:`~lpsgd.scaled.ScaledFormat` or a scaled preset name such as
    ``"mxfp4_e2m1"`` or ``"nvfp4"``): ``fn`` receives whole float64 arrays, blocks along
    the last axis (1-D arrays of several blocks, arrays whose last block is shorter, and
    one 2-D array), and must return the dequantised values in the same shape.  The
    inputs are built to break block quantisers (:func:`scaled_inputs`): block maxima at
    ``X_f 2^k`` and one ulp either side, just below and above powers of two in float64
    and float32 (the float log2 trap), values the element format clips, maxima near the
    E8M0 clamps and float64/float32 subnormals, elements on the grid and at every
    midpoint after scaling (and one ulp either side), zero and ``-0`` blocks, NaN and
    inf at the maximum's position and elsewhere, blocks of equal values, short last
    blocks, and for E4M3 scales block scales that become E4M3 subnormals or 0 and tensor
    maxima of 0 and inf; plus ``examples`` seeded random elements in blocks.  Each array
    is compared element by element with ``lpsgd.fast.quantize`` (mismatching arrays are
    re-checked with ``lpsgd.reference.quantize``); stochastic modes are checked as
    above, element by element, with the whole array repeated ``draws`` times along a
    new first axis (the scale of a block is deterministic, so every element has the two
    neighbours of its scaled value).  ``checked`` counts elements.

    Args:
        fn: the quantiser under test, ``float64 ndarray -> ndarray``.
        fmt: a :class:`~lpsgd.formats.Format` or preset name (it must fit binary64), or
            a :class:`~lpsgd.scaled.ScaledFormat` or scaled preset name.
        rounding: a mode name of :mod:`lpsgd.rounding`.
        examples: number of seeded random inputs added to the stress values (>= 0).
        seed: seed of the random inputs (and of the stress values' own sampling).
        per_kind: minimal examples kept per mismatch kind (>= 1).
        draws: stochastic modes: draws per input (>= 10).
        false_alarm: stochastic modes: the false-alarm rate ``alpha`` in (0, 1).
        max_inputs: stochastic modes: most distinct inputs tested (>= 1).

    Returns:
        A :class:`Conformance` with ``.mismatches``, ``.checked`` and ``.examples``.

    Raises:
        InvalidArgument: for a bad argument, a format wider than binary64, or an ``fn``
            that returns an array of another shape or a non-float dtype.
    """
    fmt, mode = _validate(fn, fmt, rounding, examples=examples, seed=seed, per_kind=per_kind,
                          draws=draws, false_alarm=false_alarm, max_inputs=max_inputs)
    if isinstance(fmt, ScaledFormat):
        cases = scaled_inputs(fmt, examples, np.random.default_rng(seed))
        if mode.is_stochastic:
            return _check_scaled_stochastic(fn, fmt, mode, cases, per_kind=per_kind,
                                            draws=draws, false_alarm=false_alarm,
                                            max_inputs=max_inputs,
                                            rng=np.random.default_rng(seed))
        return _check_scaled_deterministic(fn, fmt, mode, cases, per_kind=per_kind)
    with np.errstate(all="ignore"):
        stress = np.asarray(_stress().stress_values(fmt, seed=seed), dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    x = np.concatenate([stress, random_inputs(fmt, examples, rng)])
    _, first = np.unique(x.view(np.int64), return_index=True)
    x = x[np.sort(first)]  # distinct bit patterns, in their first order
    if mode.is_stochastic:
        return _check_stochastic(fn, fmt, mode, x, rng, per_kind=per_kind, draws=draws,
                                 false_alarm=false_alarm, max_inputs=max_inputs)
    return _check_deterministic(fn, fmt, mode, x, per_kind=per_kind)


def assert_quantizer(fn: Callable[[np.ndarray], Any], fmt: Format | str,
                     rounding: str | RoundingMode = "nearest_even", **kwargs: Any) -> Conformance:
    """Assert that ``fn`` rounds to ``fmt`` exactly as ``rounding`` says.

    Same arguments as :func:`check_quantizer`.  On any mismatch raises AssertionError
    whose message gives the claim and the tolerance, the mismatch count, and the
    simplest cases with format, mode, x (decimal and hex), bits, ACTUAL and DESIRED.

    Returns:
        The :class:`Conformance` (when it holds), for further inspection.
    """
    __tracebackhide__ = True
    result = check_quantizer(fn, fmt, rounding, **kwargs)
    if result.mismatches:
        raise AssertionError(
            f"\nQuantizer does not conform to {result.fmt.label} / {result.rounding}\n"
            + result.summary())
    return result


# ----------------------------------------------------------------------------------------
# inputs


def random_inputs(fmt: Format, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random float64 inputs for ``fmt`` drawn from ``rng`` (both signs).

    Half are log-uniform in magnitude from s/4 to 4 X_max (random 52-bit mantissas);
    the other half are exact midpoints between neighbours of the format, moved by
    k in {-2, ..., 2} float64 ulps (ties and the float64 values around them), for
    formats with M <= 51 (a wider format has no float64 midpoints).
    """
    n = check_int("n", n, min_value=0)
    n_log = n // 2 if fmt.man_bits <= 51 else n
    n_tie = n - n_log
    lo_e = max(fmt.e_min - fmt.man_bits - 2, -1074)
    hi_e = min(fmt.e_max + 2, 1023)
    e = rng.integers(lo_e, hi_e + 1, size=n_log)
    mant = 1.0 + rng.integers(0, 1 << 52, size=n_log) * 2.0 ** -52
    log_part = np.ldexp(mant, e)
    # Neighbour midpoints (2 n + 1) 2^(e - M - 1) for a random binade e and significand n.
    eb = rng.integers(fmt.e_min, fmt.e_max + 1, size=n_tie)
    lead = np.where(eb == fmt.e_min, rng.integers(0, 2, size=n_tie), 1)  # subnormals too
    sig = lead * (1 << fmt.man_bits) + rng.integers(0, 1 << fmt.man_bits, size=n_tie)
    tie = np.ldexp((2 * sig + 1).astype(np.float64), eb - fmt.man_bits - 1)
    shift = rng.integers(-2, 3, size=n_tie)
    tie = (tie.view(np.int64) + shift).view(np.float64)  # positive: +k is k ulps up
    out = np.concatenate([log_part, tie])
    sign = rng.integers(0, 2, size=out.size)
    return np.where(sign == 1, -out, out)


# ----------------------------------------------------------------------------------------
# deterministic modes


def _check_deterministic(fn, fmt: Format, mode: RoundingMode, x: np.ndarray, *,
                         per_kind: int) -> Conformance:
    got = _call(fn, x)
    want = _fast().quantize(x, fmt, mode.value)
    bad = np.flatnonzero(~_same(got, want))
    notes: list[str] = []
    confirmed = 0
    if bad.size:
        # Re-check with the exact reference before reporting; beyond the cap the count
        # rests on lpsgd.fast, which the property suite proves equal to the reference.
        chosen = _select(x[bad], got[bad], want[bad], fmt, per_kind)
        to_confirm = np.unique(np.concatenate([bad[:CONFIRM_CAP], bad[chosen]]))
        ref = _reference_values(x[to_confirm], fmt, mode)
        disagree = ~_same(ref, want[to_confirm])
        if disagree.any():
            notes.append(f"lpsgd.fast disagreed with lpsgd.reference on {int(disagree.sum())} "
                         f"input(s); the reference value is used")
            want = want.copy()
            want[to_confirm] = ref
            bad = np.flatnonzero(~_same(got, want))
        confirmed = int(np.isin(bad, to_confirm).sum())
        if bad.size > confirmed:
            notes.append(f"{bad.size - confirmed} mismatches beyond the first {CONFIRM_CAP} "
                         f"are counted with lpsgd.fast only")
    kinds_arr = classify(x[bad], got[bad], want[bad], fmt)
    details = _examples(x[bad], got[bad], want[bad], kinds_arr, fmt, per_kind)
    counts = {k: int(np.sum(kinds_arr == k)) for k in KINDS if np.any(kinds_arr == k)}
    return Conformance(fmt=fmt, rounding=mode.value, method="bitwise", checked=int(x.size),
                       mismatches=int(bad.size), examples=[(m.x, m.got, m.want) for m in details],
                       details=tuple(details), kinds=counts, confirmed=confirmed,
                       notes=tuple(notes))


def classify(x: np.ndarray, got: np.ndarray, want: np.ndarray, fmt: Format) -> np.ndarray:
    """The kind (see :data:`KINDS`) of each mismatch, computed exactly in float64.

    Scaling by the quantum (a power of two) and taking the fractional part are exact in
    float64 for formats that fit binary64, so "tie" means exactly halfway.
    """
    x = np.asarray(x, dtype=np.float64)
    kinds = np.full(x.shape, "rounding", dtype=object)
    ax = np.abs(x)
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        safe = np.where(finite & (ax > 0), ax, 1.0)
        _, ex = np.frexp(safe)
        quantum_exp = np.maximum(ex - 1, fmt.e_min) - fmt.man_bits
        scaled = np.ldexp(safe, -quantum_exp)
        frac = scaled - np.floor(scaled)
        near = np.abs(frac - 0.5) * 2.0 ** 24 <= scaled  # within float32 precision of a tie
    x_max, n_min = float(fmt.x_max), float(fmt.n_min)
    zero_sign = (got == 0) & (want == 0) & (np.signbit(got) != np.signbit(want))
    assigned = np.zeros(x.shape, dtype=bool)
    rules = [
        ("nan", np.isnan(x)),
        ("infinity", np.isinf(x)),
        ("overflow", finite & ((ax > x_max) | np.isinf(got) | np.isinf(want)
                               | np.isnan(want))),
        ("nan", finite & np.isnan(got)),
        ("signed_zero", (x == 0) | zero_sign),
        ("subnormal", finite & (ax < n_min)),
        ("representable", finite & (frac == 0)),
        ("tie", finite & (frac == 0.5)),
        ("near_tie", finite & near),
    ]
    for name, mask in rules:
        take = mask & ~assigned
        kinds[take] = name
        assigned |= take
    return kinds


def _simplicity(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort keys, simplest first: significant bits of x, |log2 |x||, sign, |x|."""
    ax = np.abs(x)
    finite = np.isfinite(x) & (ax > 0)
    safe = np.where(finite, ax, 1.0)
    m, ex = np.frexp(safe)
    ints = np.ldexp(m, 53).astype(np.int64)  # 53-bit integer significand
    low = ints & -ints
    sigbits = np.where(finite, 54 - np.log2(low.astype(np.float64)).astype(np.int64) - 1, 0)
    mag = np.where(finite, np.abs(ex - 1), 0)
    return (sigbits, mag, np.signbit(x).astype(int), np.where(np.isnan(ax), np.inf, ax))


def _select(x, got, want, fmt: Format, per_kind: int) -> np.ndarray:
    """Indices of the ``per_kind`` simplest mismatches of each kind."""
    kinds = classify(x, got, want, fmt)
    keys = _simplicity(x)
    order = np.lexsort(tuple(reversed(keys)))
    chosen: list[int] = []
    for k in KINDS:
        idx = order[kinds[order] == k][:per_kind]
        chosen.extend(int(i) for i in idx)
    return np.array(chosen, dtype=np.int64)


def _examples(x, got, want, kinds, fmt: Format, per_kind: int) -> list[Mismatch]:
    idx = _select(x, got, want, fmt, per_kind) if x.size else np.array([], dtype=np.int64)
    return [Mismatch(x=float(x[i]), got=float(got[i]), want=float(want[i]), kind=str(kinds[i]),
                     got_bits=bits(float(got[i]), fmt), want_bits=bits(float(want[i]), fmt))
            for i in idx]


# ----------------------------------------------------------------------------------------
# stochastic modes


def _check_stochastic(fn, fmt: Format, mode: RoundingMode, x: np.ndarray,
                      rng: np.random.Generator, *, per_kind: int, draws: int,
                      false_alarm: float, max_inputs: int) -> Conformance:
    fast = _fast()
    xs = _stratified(x, fmt, max_inputs, rng)
    n = xs.size
    # The two outcomes exact rounding can give: u = 0 and u just below 1.
    w0 = fast.quantize(xs, fmt, mode.value, uniforms=np.zeros(n))
    w1 = fast.quantize(xs, fmt, mode.value, uniforms=np.full(n, np.nextafter(1.0, 0.0)))
    fixed = _same(w0, w1)
    hi = np.where(np.abs(w0) >= np.abs(w1), w0, w1)
    lo = np.where(np.abs(w0) >= np.abs(w1), w1, w0)

    counts_hi = np.zeros(n, dtype=np.int64)
    sums = np.zeros(n)
    sumsq = np.zeros(n)
    outside = np.zeros(n, dtype=bool)
    first_bad = np.full(n, np.nan)
    reps_per_call = max(1, _CHUNK // max(n, 1))
    done = 0
    while done < draws:
        r = min(reps_per_call, draws - done)
        got = _call(fn, np.tile(xs, r)).reshape(r, n)
        is_hi = _same(got, hi[None, :])
        is_lo = _same(got, lo[None, :])
        bad_now = ~(is_hi | is_lo)
        new_bad = bad_now.any(axis=0) & ~outside
        if new_bad.any():
            first_row = np.argmax(bad_now[:, new_bad], axis=0)
            first_bad[new_bad] = got[first_row, np.flatnonzero(new_bad)]
        outside |= bad_now.any(axis=0)
        counts_hi += is_hi.sum(axis=0)
        with np.errstate(invalid="ignore", over="ignore"):
            sums += np.where(np.isnan(got), 0.0, got).sum(axis=0)
            sumsq += np.where(np.isnan(got), 0.0, got * got).sum(axis=0)
        done += r

    # Exact probability of the larger-magnitude neighbour.
    random_idx = np.flatnonzero(~fixed & ~outside)
    p = np.array([_p_upper(float(xs[i]), mode, fmt)
                  for i in random_idx])
    f = counts_hi[random_idx] / draws
    # Half the false-alarm budget goes to the per-input tests, a quarter to each pooled
    # test (positive and negative inputs), which sees a small systematic bias that no
    # single input can.
    threshold = math.log(4 * max(random_idx.size, 1) / false_alarm) / draws
    stat_bad = random_idx[_kl(f, p) > threshold] if random_idx.size else random_idx
    pooled_bad: list[tuple[str, int, float, float, float]] = []
    for side, mask in (("positive", xs[random_idx] > 0), ("negative", xs[random_idx] < 0)):
        if not mask.any():
            continue
        observed = float(counts_hi[random_idx][mask].sum())
        expected = float(draws * p[mask].sum())
        variance = float(draws * (p[mask] * (1 - p[mask])).sum())
        limit = _bernstein(variance, false_alarm / 4)
        if abs(observed - expected) >= limit:
            dev = (f[mask] - p[mask]) * np.sign(observed - expected)
            worst = int(random_idx[mask][np.argmax(dev)])
            pooled_bad.append((side, worst, observed, expected, limit))

    details: list[Mismatch] = []
    notes: list[str] = []
    # Support failures: bitwise, confirmed with the reference for the reported ones.
    bad_support = np.flatnonzero(outside)
    confirmed = 0
    if bad_support.size:
        got_b = first_bad[bad_support]
        want_b = np.where(_same(got_b, w1[bad_support]), w0[bad_support], w1[bad_support])
        kinds_arr = classify(xs[bad_support], got_b, want_b, fmt)
        ex = _examples(xs[bad_support], got_b, want_b, kinds_arr, fmt, per_kind)
        checked_ex = []
        for m in ex:
            r0 = _reference_values(np.array([m.x]), fmt, mode, uniforms=np.zeros(1))
            r1 = _reference_values(np.array([m.x]), fmt, mode,
                                   uniforms=np.full(1, np.nextafter(1.0, 0.0)))
            if _same(r0, np.array([m.got]))[0] or _same(r1, np.array([m.got]))[0]:
                notes.append(f"lpsgd.fast and lpsgd.reference disagree at x={m.x!r}")
                continue
            confirmed += 1
            checked_ex.append(m)
        details.extend(checked_ex)
        support_kinds = {k: int(np.sum(kinds_arr == k)) for k in KINDS if np.any(kinds_arr == k)}
    else:
        support_kinds = {}
    # Statistical failures: simplest first; their two neighbours are re-derived with the
    # exact reference before they are reported.
    if stat_bad.size:
        keys = _simplicity(xs[stat_bad])
        order = stat_bad[np.lexsort(tuple(reversed(keys)))][:per_kind]
        for i in order:
            r0, r1 = (_reference_values(xs[i:i + 1], fmt, mode, uniforms=u)
                      for u in (np.zeros(1), np.full(1, np.nextafter(1.0, 0.0))))
            if not (_same(r0, w0[i:i + 1])[0] and _same(r1, w1[i:i + 1])[0]):
                notes.append(f"lpsgd.fast and lpsgd.reference disagree at x={float(xs[i])!r}")
                continue
            confirmed += 1
            pi = _p_upper(float(xs[i]), mode, fmt)
            span = float(hi[i]) - float(lo[i])
            mean = sums[i] / draws
            var = max(sumsq[i] / draws - mean * mean, 0.0)
            details.append(Mismatch(
                x=float(xs[i]), got=float(mean), want=float(lo[i]) + pi * span,
                kind="statistics", got_bits="-", want_bits="-", draws=draws,
                freq_hi=float(counts_hi[i] / draws), p_hi=pi, var=var,
                want_var=span * span * pi * (1 - pi)))
    for side, i, observed, expected, limit in pooled_bad:
        mean = sums[i] / draws
        pi = float(p[np.flatnonzero(random_idx == i)[0]])
        span = float(hi[i]) - float(lo[i])
        details.append(Mismatch(
            x=float(xs[i]), got=float(mean), want=float(lo[i]) + pi * span, kind="bias",
            got_bits="-", want_bits="-", draws=draws, freq_hi=float(counts_hi[i] / draws),
            p_hi=pi, var=max(sumsq[i] / draws - mean * mean, 0.0),
            want_var=span * span * pi * (1 - pi)))
        notes.append(f"pooled over the {side} inputs: {observed:.0f} draws went to the "
                     f"larger magnitude, {expected:.1f} expected, |difference| >= "
                     f"{limit:.1f} has probability <= {false_alarm / 4:g} (Bernstein); "
                     f"the example shown is the input that deviates most in that direction")
    kinds = dict(support_kinds)
    if stat_bad.size:
        kinds["statistics"] = int(stat_bad.size)
    if pooled_bad:
        kinds["bias"] = len(pooled_bad)
    mismatches = int(bad_support.size + stat_bad.size + len(pooled_bad))
    return Conformance(fmt=fmt, rounding=mode.value, method="statistical", checked=int(n),
                       mismatches=mismatches, examples=[(m.x, m.got, m.want) for m in details],
                       details=tuple(details), kinds=kinds, confirmed=confirmed,
                       draws=draws, false_alarm=false_alarm,
                       notes=tuple(notes))


def _stratified(x: np.ndarray, fmt: Format, max_inputs: int,
                rng: np.random.Generator) -> np.ndarray:
    """At most ``max_inputs`` distinct inputs: specials, then equal shares of the overflow
    region, the top binade, the subnormal range and the rest (a seeded sample of each)."""
    x = x[np.unique(x.view(np.int64), return_index=True)[1]]  # distinct bit patterns
    ax = np.abs(x)
    x_max, n_min = float(fmt.x_max), float(fmt.n_min)
    with np.errstate(invalid="ignore"):
        regions = [~np.isfinite(x) | (x == 0), np.isfinite(x) & (ax > x_max),
                   (ax >= x_max / 2) & (ax <= x_max), (ax > 0) & (ax < n_min),
                   (ax >= n_min) & (ax < x_max / 2)]
    pools = [rng.permutation(np.flatnonzero(r)) for r in regions]
    chosen = [pools[0][:max_inputs]]
    left = max_inputs - chosen[0].size
    rest = pools[1:]
    while left > 0 and any(p.size for p in rest):
        share = max(left // sum(1 for p in rest if p.size), 1)
        taken = [p[:share] for p in rest]
        rest = [p[share:] for p in rest]
        for t in taken:
            chosen.append(t[:left])
            left -= min(t.size, left)
    return x[np.sort(np.concatenate(chosen))]


def _bernstein(variance: float, alpha: float) -> float:
    """t with P(|S - E S| >= t) <= alpha for a sum S of independent [0, 1] variables of
    total variance ``variance`` (Bernstein: 2 exp(-t^2 / (2 (V + t/3))) = alpha)."""
    ell = math.log(2 / alpha)
    return ell / 3 + math.sqrt(ell * ell / 9 + 2 * variance * ell)


def _p_upper(x: float, mode: RoundingMode, fmt: Format) -> float:
    """Exact probability (as the nearest float) that ``x`` goes up in magnitude.

    As :mod:`lpsgd.reference.quantize` defines it: ``stochastic`` rounds up with
    probability equal to the exact fraction of the spacing at x (the spacing of x's
    binade, or s below N_min, as if the exponent range went on above X_max);
    ``stochastic_equal`` with probability 1/2.  Flushing (no subnormals) and overflow act
    on the rounded value afterwards, so they change which value "up" is, not its
    probability.
    """
    if mode is RoundingMode.STOCHASTIC_EQUAL:
        return 0.5
    a = Fraction(abs(x))
    _, e = math.frexp(abs(x))
    n = a / Fraction(2) ** (max(e - 1, fmt.e_min) - fmt.man_bits)
    return float(n - (n.numerator // n.denominator))


def _kl(f: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Bernoulli KL divergence KL(f || p) with 0 log 0 = 0 (0 < p < 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(f > 0, f * np.log(f / p), 0.0)
        t2 = np.where(f < 1, (1 - f) * np.log((1 - f) / (1 - p)), 0.0)
    return t1 + t2


# ----------------------------------------------------------------------------------------
# scaled formats


#: Kinds of the inputs of scaled formats (a mismatch gets the kind of the input element).
SCALED_KINDS: tuple[str, ...] = (
    "special",       # NaN or inf in the block (at the maximum's position or elsewhere)
    "zero_block",    # a block of zeros (+0, -0 or both)
    "scale_edge",    # block maximum X_f 2^k, one ulp either side, or all elements equal
    "log2_trap",     # block maximum a power of two or just below/above (float64, float32)
    "clipping",      # block maximum between X_f 2^k and 2^(emax_f + 1 + k): elements clip
    "scale_clamp",   # block maximum near the E8M0 clamps 2^(emax_f - 127), 2^(127 + emax_f)
    "subnormal",     # a float64/float32 subnormal maximum, or an element in f's subnormals
    "tie",           # an element at a grid midpoint after scaling, or one ulp from it
    "grid",          # an element on the element grid after scaling
    "short_block",   # the array's last block is shorter than block_size
    "tensor_scale",  # E4M3 scales: a block scale that is an E4M3 subnormal or 0, or a_tensor
                     # 0 or inf
    "rounding",      # any other element (random blocks)
)

_CASE_BLOCKS = 8  # E8M0: blocks per 1-D input array (blocks are independent)


def _pow2_f(e: int) -> float:
    return math.ldexp(1.0, e)


def _maxima(sf: ScaledFormat) -> list[tuple[float, str]]:
    """The block maxima that break block quantisers, with their kinds."""
    xf, em = float(sf.x_f), sf.emax_f
    up, down = (lambda v: float(np.nextafter(v, math.inf))), (lambda v: float(np.nextafter(v, 0)))
    out: list[tuple[float, str]] = []
    for k in (-20, -3, 0, 1, 5, 17):
        v = math.ldexp(xf, k)
        out += [(v, "scale_edge"), (up(v), "scale_edge"), (down(v), "scale_edge")]
    for k in (-10, 0, 9, 20):
        v = _pow2_f(k)
        v32 = float(np.nextafter(np.float32(v), np.float32(0)))
        out += [(v, "log2_trap"), (up(v), "log2_trap"), (down(v), "log2_trap"),
                (v32, "log2_trap")]
    top = _pow2_f(em + 1)
    clip = [xf + (top - xf) * t for t in (0.25, 0.5, 0.9)] + [down(top)]
    clip += [v for v in (480.0, 500.0, 7.0, 7.9, 30.0, 61440.0) if xf < v < top]
    for k in (0, 4, -6):
        out += [(math.ldexp(v, k), "clipping") for v in clip if v > xf]
    for v in (_pow2_f(em - 126), _pow2_f(em - 127), down(_pow2_f(em - 127)),
              math.ldexp(1.5, em - 140), _pow2_f(-127), math.ldexp(1.0, 127 + em),
              math.ldexp(1.75, 130 + em)):
        if 0 < v < 1e308:
            out.append((v, "scale_clamp"))
    for v in (5e-324, 2.5e-310, float(np.float32(1e-40)), float(np.float32(1e-45))):
        out.append((v, "subnormal"))
    return out


@functools.lru_cache(maxsize=64)
def _grid_values(sf: ScaledFormat) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Non-negative values of the element grid up to X_f (all of them for small grids),
    and the midpoints between neighbours, as floats (exact: the grid fits binary64)."""
    g = sf.grid
    if g.total_bits <= 9:
        vals = sorted({abs(Fraction(float(v))) for v in g.codes() if np.isfinite(v)})
    else:
        vals = sorted({Fraction(0), g.smallest_positive, g.n_min, Fraction(1),
                       Fraction(3, 2), g.x_max})
    vals = [v for v in vals if v <= sf.x_f]
    mids = [(lo + hi) / 2 for lo, hi in zip(vals, vals[1:])] or [Fraction(1, 2)]
    return tuple(float(v) for v in vals), tuple(float(v) for v in mids)


def _hard_block(sf: ScaledFormat, a: float, kind: str, n: int,
                rng: np.random.Generator) -> tuple[list[float], list[str]]:
    """A block of ``n`` elements with maximum ``a``: the maximum, then grid values and
    midpoints at the floor scale and at twice it (ceil, rceil), their float64 neighbours,
    values in the element's subnormals, zeros and fractions of ``a``."""
    grid, mids = _grid_values(sf)
    spacing = float(sf.grid.subnormal_spacing)
    e = math.frexp(a)[1] - 1 - sf.emax_f
    vals, kinds = [a], [kind]
    for i in range(n - 1):
        s = math.ldexp(1.0, e + int(rng.integers(0, 2)))
        pick = int(rng.integers(0, 10))
        if pick <= 2:
            v, k = grid[int(rng.integers(0, len(grid)))] * s, "grid"
        elif pick <= 5:
            v, k = mids[int(rng.integers(0, len(mids)))] * s, "tie"
            if pick == 5 and v > 0:
                v = float(np.nextafter(v, math.inf if rng.integers(0, 2) else 0.0))
        elif pick == 6:
            v, k = spacing * s * float(rng.choice([0.25, 0.5, 1.0, 1.5, 2.5])), "subnormal"
        elif pick == 7:
            v, k = 0.0, "rounding"
        else:
            v, k = a * float(rng.random()), "rounding"
        while math.isfinite(v) and v > a:
            v /= 2  # the planted maximum stays the maximum
        vals.append(-v if rng.integers(0, 2) else v)
        kinds.append(k)
    order = rng.permutation(n)
    if rng.integers(0, 2):
        vals[0] = -vals[0]
    return [vals[i] for i in order], [kinds[i] for i in order]


def _special_blocks(sf: ScaledFormat, rng: np.random.Generator):
    n = sf.block_size
    base = list(np.linspace(-3.0, 5.0, n)) if n > 1 else [2.0]
    blocks = []
    for value in (math.nan, -math.nan, math.inf, -math.inf):
        b = list(base)
        b[int(np.argmax(np.abs(b)))] = value          # at the maximum's position
        blocks.append((b, ["special"] * n))
        if n > 1:
            b = list(base)
            b[0] = value                              # elsewhere
            blocks.append((b, ["special"] * n))
    blocks.append(([0.0] * n, ["zero_block"] * n))
    blocks.append(([-0.0] * n, ["zero_block"] * n))
    blocks.append(([0.0 if i % 2 else -0.0 for i in range(n)], ["zero_block"] * n))
    for a in (-2.75, float(sf.x_f), 1e-3):
        blocks.append(([a] * n, ["scale_edge"] * n))
    # a block spanning more than a thousand binades: x / s_B leaves float64's normals
    huge = math.ldexp(1.5, min(120 + sf.emax_f, 1000))
    tiny = [5e-324, -1.5e-323, 2.5e-310, -math.ldexp(1.0, -1030), math.ldexp(1.25, -1000)]
    if n > 1:
        vals = [huge] + [tiny[i % len(tiny)] for i in range(n - 1)]
        blocks.append((vals, ["scale_edge"] + ["subnormal"] * (n - 1)))
    return blocks


def _random_block(sf: ScaledFormat, n: int, rng: np.random.Generator):
    """A block with a random maximum in [2^-30, 2^31) and the elements of _hard_block."""
    a = math.ldexp(1.0 + float(rng.random()), int(rng.integers(-30, 31)))
    return _hard_block(sf, a, "rounding", n, rng)


def scaled_inputs(fmt: ScaledFormat | str, examples: int,
                  rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """The input arrays :func:`check_quantizer` feeds a block quantiser, with the kind
    (:data:`SCALED_KINDS`) of every element.

    E8M0 formats: the hard blocks concatenated into 1-D arrays of several blocks, arrays
    whose last block is shorter (lengths 1, ``n_B - 1``, ``n_B + 1``, ``2 n_B + 3``,
    40), one 2-D array, and about ``examples`` random elements in blocks.  E4M3 formats
    (per-tensor scale): every hard block is an array of its own (so that its maximum is
    the tensor maximum and the planted ties are exact ties after scaling), plus arrays
    whose block scales become E4M3 subnormals or 0, and tensor maxima of 0 and inf.

    Returns:
        A list of ``(x, kinds)``: ``x`` a float64 array (blocks along the last axis),
        ``kinds`` an object array of the same shape.
    """
    sf = as_scaled_format(fmt)
    examples = check_int("examples", examples, min_value=0)
    n = sf.block_size
    blocks = [_hard_block(sf, a, kind, n, rng) for a, kind in _maxima(sf)]
    blocks += _special_blocks(sf, rng)
    random_blocks = [_random_block(sf, n, rng) for _ in range(-(-examples // n))]
    cases: list[tuple[np.ndarray, np.ndarray]] = []

    def add(values, kinds, shape=None):
        x = np.array(values, dtype=np.float64)
        k = np.array(kinds, dtype=object)
        if shape is not None:
            x, k = x.reshape(shape), k.reshape(shape)
        cases.append((x, k))

    if sf.scale == "e8m0":
        everything = blocks + random_blocks
        for i in range(0, len(everything), _CASE_BLOCKS):
            group = everything[i:i + _CASE_BLOCKS]
            add([v for b in group for v in b[0]], [k for b in group for k in b[1]])
        if len(everything) >= 6:
            rows = everything[:6]
            add([v for b in rows for v in b[0]], [k for b in rows for k in b[1]],
                (3, 2 * n))
    else:
        for vals, kinds in blocks:
            add(vals, kinds)
        for i in range(0, len(random_blocks), 3):
            group = random_blocks[i:i + 3]
            add([v for b in group for v in b[0]], [k for b in group for k in b[1]])
        # block scales that become E4M3 subnormals or 0 beside a large block; S = 1
        big = float(sf.x_f) * 2.0 ** 20
        for shift in (12, 15, 17, 19, 22, 40):
            vals, kinds = _hard_block(sf, big * 2.0 ** -shift, "tensor_scale", n, rng)
            add([big] + [0.5 * big] * (n - 1) + vals, ["tensor_scale"] * n + kinds)
        add([float(sf.tensor_numerator)] + [1.0] * (2 * n - 1), ["tensor_scale"] * 2 * n)
        add([0.0] * n + [-0.0] * n, ["tensor_scale"] * 2 * n)
        add([math.inf] + [1.0] * (n - 1) + [6.0] * n, ["tensor_scale"] * 2 * n)
    # the explicit hard cases of lpsgd.scaled_strategies for this format (block axis last)
    for hf, hx, axis in _hard_cases():
        if hf == sf:
            hx = np.moveaxis(hx, axis, -1).copy()
            cases.append((hx, np.full(hx.shape, "scale_edge", dtype=object)))
    # short last blocks (the values of random blocks)
    pool = [v for b in random_blocks[:4] or blocks[:4] for v in b[0]]
    pool = pool or [1.0]
    for length in sorted({1, max(n - 1, 1), n + 1, 2 * n + 3, 40}):
        if length % n:
            vals = [pool[i % len(pool)] for i in range(length)]
            add(vals, ["short_block"] * length)
    return cases


def _scaled_mismatches(sf: ScaledFormat, x: np.ndarray, kinds: np.ndarray, got: np.ndarray,
                       want: np.ndarray, bad: np.ndarray) -> list[Mismatch]:
    """Mismatch records (with the smallest replaying input) of the elements ``bad``."""
    out = []
    n = x.shape[-1]
    inputs = tuple(float(v) for v in x.reshape(-1))
    for pos in zip(*np.nonzero(bad)):
        index = int(np.ravel_multi_index(pos, x.shape))
        lo = index - (index % n) + (int(pos[-1]) // sf.block_size) * sf.block_size
        out.append(Mismatch(x=float(x[pos]), got=float(got[pos]), want=float(want[pos]),
                            kind=str(kinds[pos]), got_bits=_hex(float(got[pos])),
                            want_bits=_hex(float(want[pos])), inputs=inputs,
                            shape=tuple(x.shape), index=index,
                            block=inputs[lo:min(lo + sf.block_size, index - index % n + n)]))
    return out


def _block_of(x: np.ndarray, i: int, sf: ScaledFormat) -> tuple[float, ...]:
    """The values of the block holding element ``i`` of a 1-D array."""
    lo = (i // sf.block_size) * sf.block_size
    return tuple(float(v) for v in x[lo:lo + sf.block_size])


def _pick_examples(found: list[Mismatch], per_kind: int, kinds: tuple[str, ...]) -> list[Mismatch]:
    """The ``per_kind`` simplest (shortest input, then simplest x) of each kind."""
    chosen = []
    for k in kinds:
        of_kind = [m for m in found if m.kind == k]
        keys = _simplicity(np.array([m.x for m in of_kind])) if of_kind else ()
        order = np.lexsort(tuple(reversed((np.array([len(m.inputs) for m in of_kind]),)
                                          + tuple(keys)))) if of_kind else []
        chosen += [of_kind[int(i)] for i in order[:per_kind]]
    return chosen


def _check_scaled_deterministic(fn, sf: ScaledFormat, mode: RoundingMode, cases, *,
                                per_kind: int) -> Conformance:
    found: list[Mismatch] = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    checked = mismatches = confirmed = 0
    for x, kinds in cases:
        got = _call(fn, x)
        want = np.asarray(_fast_layer.quantize(x, sf, mode.value), dtype=np.float64)
        bad = ~_same(got, want)
        checked += x.size
        if not bad.any():
            continue
        if confirmed < CONFIRM_CAP:  # re-check the whole array with the exact reference
            ref = np.asarray(_reference_layer.quantize(x, sf, mode.value), dtype=np.float64)
            if not _same(ref, want).all():
                notes.append(f"lpsgd.fast disagreed with lpsgd.reference on "
                             f"{int((~_same(ref, want)).sum())} element(s); the reference "
                             f"value is used")
                want = ref
                bad = ~_same(got, want)
            confirmed += int(bad.sum())
        mismatches += int(bad.sum())
        for k in kinds[bad]:
            counts[str(k)] = counts.get(str(k), 0) + 1
        if sum(1 for m in found) < 50 * per_kind * len(SCALED_KINDS):
            found += _scaled_mismatches(sf, x, kinds, got, want, bad)
    if mismatches > confirmed:
        notes.append(f"{mismatches - confirmed} mismatching elements beyond the first "
                     f"{CONFIRM_CAP} are counted with lpsgd.fast only")
    details = _pick_examples(found, per_kind, SCALED_KINDS)
    kinds_out = {k: counts[k] for k in SCALED_KINDS if k in counts}
    return Conformance(fmt=sf, rounding=mode.value, method="bitwise", checked=checked,
                       mismatches=mismatches, examples=[(m.x, m.got, m.want) for m in details],
                       details=tuple(details), kinds=kinds_out, confirmed=confirmed,
                       notes=tuple(notes))


def _upper_probability(y: Fraction, mode: RoundingMode, grid: Format) -> float:
    """Exact probability that the scaled element ``y >= 0`` goes up in magnitude on the
    element grid (the fraction of the spacing at y; 1/2 for stochastic_equal)."""
    if mode is RoundingMode.STOCHASTIC_EQUAL:
        return 0.5
    num, den = y.numerator, y.denominator
    e = num.bit_length() - den.bit_length()
    if Fraction(2) ** e > y:
        e -= 1
    t = y / Fraction(2) ** (max(e, grid.e_min) - grid.man_bits)
    return float(t - (t.numerator // t.denominator))


def _scaled_values(x: np.ndarray, sf: ScaledFormat) -> list[Fraction]:
    """|x_i| divided by its exact block scale (times the tensor scale for E4M3 scales),
    element by element in C order, from the exact reference's encoding."""
    enc = _reference_scaled.encode(x, sf)
    n = x.shape[-1]
    scales = np.asarray(enc.scales, dtype=np.float64).reshape(-1, -(-n // sf.block_size))
    tensor = Fraction(enc.tensor_scale)
    out = []
    for r, row in enumerate(x.reshape(-1, n)):
        for i, v in enumerate(row):
            sb = float(scales[r, i // sf.block_size])
            if not (math.isfinite(v) and math.isfinite(sb)) or sb == 0:
                out.append(Fraction(0))
            else:
                out.append(abs(Fraction(float(v))) * tensor / Fraction(sb))
    return out


def _check_scaled_stochastic(fn, sf: ScaledFormat, mode: RoundingMode, cases, *,
                             per_kind: int, draws: int, false_alarm: float, max_inputs: int,
                             rng: np.random.Generator) -> Conformance:
    # Arrays to repeat: for E8M0 single blocks (independent), for E4M3 whole arrays; at
    # least one per kind, round robin over the kinds, until max_inputs elements.
    units: list[tuple[np.ndarray, np.ndarray]] = []
    for x, kinds in cases:
        if sf.scale == "e8m0" and x.ndim == 1 and x.size % sf.block_size == 0:
            for lo in range(0, x.size, sf.block_size):
                units.append((x[lo:lo + sf.block_size], kinds[lo:lo + sf.block_size]))
        elif x.ndim == 1:
            units.append((x, kinds))
    pools = {k: [u for u in rng.permutation(len(units)) if k in set(units[u][1])]
             for k in SCALED_KINDS}
    chosen: list[int] = []
    size = 0
    while any(pools.values()) and (size < max_inputs or len(chosen) < len(SCALED_KINDS)):
        for k in SCALED_KINDS:
            while pools[k] and pools[k][0] in chosen:
                pools[k].pop(0)
            if pools[k]:
                u = int(pools[k].pop(0))
                chosen.append(u)
                size += units[u][0].size
    fast = _fast_layer
    records = []  # per unit: x, kinds, lo, hi, fixed, counts_hi, sums, outside, first_bad
    for u in chosen:
        x, kinds = units[u]
        w0 = fast.quantize(x, sf, mode.value, uniforms=np.zeros(x.shape))
        w1 = fast.quantize(x, sf, mode.value, uniforms=np.full(x.shape, np.nextafter(1.0, 0)))
        hi = np.where(np.abs(w0) >= np.abs(w1), w0, w1)
        lo = np.where(np.abs(w0) >= np.abs(w1), w1, w0)
        counts = np.zeros(x.size, dtype=np.int64)
        sums = np.zeros(x.size)
        sumsq = np.zeros(x.size)
        outside = np.zeros(x.size, dtype=bool)
        first_bad = np.full(x.size, np.nan)
        reps = max(1, _CHUNK // x.size)
        done = 0
        while done < draws:
            r = min(reps, draws - done)
            got = _call(fn, np.broadcast_to(x, (r,) + x.shape).copy()).reshape(r, x.size)
            is_hi, is_lo = _same(got, hi[None, :]), _same(got, lo[None, :])
            bad_now = ~(is_hi | is_lo)
            new_bad = bad_now.any(axis=0) & ~outside
            if new_bad.any():
                first_bad[new_bad] = got[np.argmax(bad_now[:, new_bad], axis=0),
                                         np.flatnonzero(new_bad)]
            outside |= bad_now.any(axis=0)
            counts += is_hi.sum(axis=0)
            with np.errstate(invalid="ignore", over="ignore"):
                sums += np.where(np.isnan(got), 0.0, got).sum(axis=0)
                sumsq += np.where(np.isnan(got), 0.0, got * got).sum(axis=0)
            done += r
        records.append((x, kinds, w0, w1, lo, hi, _same(w0, w1), counts, sums, sumsq,
                        outside, first_bad))
    # exact probabilities of the upper neighbour, for the elements with two outcomes
    tests = []  # (unit, element, p)
    for j, rec in enumerate(records):
        x, fixed, outside = rec[0], rec[6], rec[10]
        live = np.flatnonzero(~fixed & ~outside)
        if live.size and mode is RoundingMode.STOCHASTIC_EQUAL:
            tests += [(j, int(i), 0.5) for i in live]
        elif live.size:
            ys = _scaled_values(x, sf)
            tests += [(j, int(i), _upper_probability(ys[int(i)], mode, sf.grid)) for i in live]
    n_tests = max(len(tests), 1)
    threshold = math.log(4 * n_tests / false_alarm) / draws
    found: list[Mismatch] = []
    counts_by_kind: dict[str, int] = {}
    notes: list[str] = []
    confirmed = 0

    def stat_record(j: int, i: int, p: float, kind: str) -> Mismatch:
        x, kinds, _, _, lo, hi, _, cnt, sums, sumsq = records[j][:10]
        mean = sums[i] / draws
        span = float(hi[i]) - float(lo[i])
        inputs, index = x, i
        return Mismatch(x=float(x[i]), got=float(mean), want=float(lo[i]) + p * span,
                        kind=kind, got_bits="-", want_bits="-", draws=draws,
                        freq_hi=float(cnt[i] / draws), p_hi=p,
                        var=max(sumsq[i] / draws - mean * mean, 0.0),
                        want_var=span * span * p * (1 - p),
                        inputs=tuple(float(v) for v in inputs), shape=tuple(x.shape),
                        index=index, block=_block_of(x, i, sf))

    agrees: dict[int, bool] = {}

    def reference_agrees(j: int) -> bool:
        """The two outcomes of unit j from lpsgd.fast equal the exact reference's."""
        if j not in agrees:
            x, w0, w1 = records[j][0], records[j][2], records[j][3]
            r0 = _reference_layer.quantize(x, sf, mode.value, uniforms=np.zeros(x.shape))
            r1 = _reference_layer.quantize(x, sf, mode.value,
                                           uniforms=np.full(x.shape, np.nextafter(1.0, 0)))
            agrees[j] = bool(_same(r0, w0).all() and _same(r1, w1).all())
            if not agrees[j]:
                notes.append(f"lpsgd.fast and lpsgd.reference disagree on an array of "
                             f"{x.size} elements; it is not reported")
        return agrees[j]

    # support: outputs that are neither neighbour (confirmed with the exact reference)
    for j, rec in enumerate(records):
        x, kinds, w0, w1, outside, first_bad = rec[0], rec[1], rec[2], rec[3], rec[10], rec[11]
        if not outside.any() or not reference_agrees(j):
            continue
        for i in np.flatnonzero(outside):
            k = str(kinds[i])
            counts_by_kind[k] = counts_by_kind.get(k, 0) + 1
            confirmed += 1
            want = w1[i] if _same(first_bad[i], w0[i]) else w0[i]
            found.append(Mismatch(x=float(x[i]), got=float(first_bad[i]), want=float(want),
                                  kind=k, got_bits=_hex(float(first_bad[i])),
                                  want_bits=_hex(float(want)),
                                  inputs=tuple(float(v) for v in x), shape=tuple(x.shape),
                                  index=int(i), block=_block_of(x, int(i), sf)))
    # per element: the frequency of the upper neighbour against its exact probability
    stat_bad = []
    for j, i, p in tests:
        f = records[j][7][i] / draws
        if _kl(np.array([f]), np.array([p]))[0] > threshold and reference_agrees(j):
            stat_bad.append((j, i, p))
    if stat_bad:
        counts_by_kind["statistics"] = len(stat_bad)
        found += [stat_record(j, i, p, "statistics") for j, i, p in stat_bad]
        confirmed += len(stat_bad)
    # pooled over the elements of each sign: a small systematic bias
    pooled = 0
    for side, sign in (("positive", 1), ("negative", -1)):
        sel = [(j, i, p) for j, i, p in tests if np.sign(records[j][0][i]) == sign]
        if not sel:
            continue
        observed = float(sum(records[j][7][i] for j, i, _ in sel))
        ps = np.array([p for _, _, p in sel])
        expected, variance = float(draws * ps.sum()), float(draws * (ps * (1 - ps)).sum())
        limit = _bernstein(variance, false_alarm / 4)
        if abs(observed - expected) >= limit:
            if not all(reference_agrees(j) for j in {j for j, _, _ in sel}):
                continue
            pooled += 1
            confirmed += 1
            dev = [(records[j][7][i] / draws - p) * np.sign(observed - expected)
                   for j, i, p in sel]
            j, i, p = sel[int(np.argmax(dev))]
            found.append(stat_record(j, i, p, "bias"))
            notes.append(f"pooled over the {side} elements: {observed:.0f} draws went to the "
                         f"larger magnitude, {expected:.1f} expected, |difference| >= "
                         f"{limit:.1f} has probability <= {false_alarm / 4:g} (Bernstein); "
                         f"the example shown is the element that deviates most that way")
    if pooled:
        counts_by_kind["bias"] = pooled
    kinds_all = SCALED_KINDS + ("statistics", "bias")
    details = _pick_examples(found, per_kind, kinds_all)
    mismatches = sum(counts_by_kind.values())
    checked = int(sum(rec[0].size for rec in records))
    return Conformance(fmt=sf, rounding=mode.value, method="statistical", checked=checked,
                       mismatches=mismatches, examples=[(m.x, m.got, m.want) for m in details],
                       details=tuple(details),
                       kinds={k: counts_by_kind[k] for k in kinds_all if k in counts_by_kind},
                       confirmed=confirmed, draws=draws, false_alarm=false_alarm,
                       notes=tuple(notes))


# ----------------------------------------------------------------------------------------
# helpers


def _fast():
    return _fast_layer


def _stress():
    return _stress_module


def _reference_values(x: np.ndarray, fmt: Format, mode: RoundingMode, **kw) -> np.ndarray:
    ref = _reference_layer.quantize(x, fmt, mode.value, **kw)
    return np.asarray(ref, dtype=np.float64)


def _call(fn, x: np.ndarray) -> np.ndarray:
    # A copy, since fn may write into its argument.  Overflow to inf and NaN propagation
    # are expected behaviour of a quantiser, so numpy's floating-point warnings about
    # them are silenced here (the results are what is checked).
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = fn(x.copy())
    arr = np.asarray(out)
    if arr.shape != x.shape:
        raise InvalidArgument(f"Expected fn to return an array of shape {x.shape} but got "
                              f"shape {arr.shape} from fn={fn!r}")
    if arr.dtype.kind not in "fV":
        raise InvalidArgument(f"Expected fn to return a floating-point array but got "
                              f"dtype {arr.dtype} from fn={fn!r}")
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"Expected fn to return a floating-point array but got "
                              f"dtype {arr.dtype} from fn={fn!r}") from exc


def _hex(v: float) -> str:
    """float.hex, keeping the sign of NaN (``float.fromhex("-nan")`` reads it back)."""
    v = float(v)
    return "-nan" if math.isnan(v) and math.copysign(1.0, v) < 0 else v.hex()


def bits(value: float, fmt: Format) -> str:
    """The code of ``value`` in ``fmt`` as hex, or a note when it has none."""
    if math.isnan(value):
        return "NaN" if fmt.nan else f"NaN (no NaN in {fmt.label})"
    try:
        code = fmt.encode(value)
    except InvalidArgument:
        return f"not a {fmt.label} value"
    width = -(-fmt.total_bits // 4)
    return f"0x{code:0{width}x}"


def _validate(fn, fmt, rounding, *, examples, seed, per_kind, draws, false_alarm,
              max_inputs) -> tuple[Format | ScaledFormat, RoundingMode]:
    if not callable(fn):
        raise InvalidArgument(f"Expected fn to be callable but got fn={fn!r}")
    fmt = as_scaled_format(fmt) if is_scaled(fmt) else as_format(fmt)
    if not isinstance(fmt, ScaledFormat) and not fmt.fits_binary64:
        raise InvalidArgument(f"Expected a format whose values are all float64 but got "
                              f"fmt={fmt.label} (check_quantizer feeds float64 arrays)")
    mode = rounding_mode(rounding)
    check_int("examples", examples, min_value=0)
    check_int("seed", seed, min_value=0)
    check_int("per_kind", per_kind, min_value=1)
    check_int("draws", draws, min_value=10)
    check_int("max_inputs", max_inputs, min_value=1)
    check_real("false_alarm", false_alarm, min_value=0, max_value=1, exclude_min=True,
               exclude_max=True)
    return fmt, mode
