"""The one comparison of a measurement with a claim, by kind, with the tolerances defined once.

Every property of the suite (and the tests of the engines, and the report) compares what it
measured with what a statement claims through one of four helpers, one per kind of claim:

* :func:`assert_upper` -- an upper bound, ``observed <= bound (1 + rtol)``;
* :func:`assert_equal` -- an equality within a tolerance, ``|a - d| <= atol + rtol |d|``;
* :func:`assert_mc_upper` -- a Monte Carlo estimate below a bound,
  ``mean - z se - slack <= bound (1 + rtol)``;
* :func:`assert_no_mismatch` -- exact agreement of two arrays element by element (zero
  mismatching elements under the bit-equality rule of quantiser results).

Each records the example with :func:`lpsgd.record.claim` (the worst ratio of the example,
the claim kind and the worst ratio in the non-trivial regime) and, on failure, raises
:class:`AssertionError` with a message in the shape of numpy.testing's::

    <claim> (<kind>, rtol=...)
    Mismatched: n / m
    Worst at k=..., constants {...}
     ACTUAL: ...
     DESIRED: ...

Inside a Hypothesis test the same text goes to ``hypothesis.note``; outside one (the report's
sweeps, a plain script) the helpers work the same without it.

An example is *non-trivial* when it has run for at least :data:`NONTRIVIAL_MIN_K` steps and,
for a statement with noise terms, noise was present (the caller says so with
``nontrivial=``): at ``k = 1`` every bound of a descent statement is an identity and at
``k = 2`` one step decides it, so a worst ratio found only there says little about the
statement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

import lpsgd.record as record

__all__ = ["exceeds", 
    "RTOL", "EXACT", "MP_RTOL", "MP256_RTOL", "BOUND_VALUE_RTOL", "FLOAT64_RTOL", "MC_RTOL",
    "Z", "U64", "MC_FALSE_ALARM", "NONTRIVIAL_MIN_K", "KINDS", "float64_rounding",
    "false_alarm_rate", "assert_upper", "assert_equal", "assert_mc_upper",
    "assert_no_mismatch",
]

#: Unit roundoff of binary64 (2^-53).
U64 = 2.0 ** -53

#: No tolerance: both sides are exact rationals (Fraction, integers), or the claim is an
#: exact one (element-by-element agreement).
EXACT = 0.0

#: Relative tolerance of comparisons made in mpmath at 50 significant digits (the exact
#: second-moment recursions, the exact SGD engine): the rounding of that arithmetic, about
#: 1e-50 per operation, accumulated over at most a few thousand operations, is far below
#: 1e-40, and every modelling error the suite looks for is far above it.
MP_RTOL = 1e-40

#: Relative tolerance of comparisons of :attr:`lpsgd.theory.Bound.value` with an exact
#: rational: ``value`` is the exact rational rounded once at 256 bits or more, so it is
#: within 2^-255 of it; 2^-240 leaves room for the conversions of the comparison.
BOUND_VALUE_RTOL = 2.0 ** -240

#: Relative tolerance of a quantity computed in mpmath at 256 bits through transcendental
#: functions (logarithms, e.g. :func:`lpsgd.theory.asymptotic_slowdown`): a few roundings
#: of 2^-256 each; 2^-200 leaves ample room and is far below any modelling error.
MP256_RTOL = 2.0 ** -200

#: Relative tolerance of a float64 computation against its exact value where no
#: operation-by-operation bound is derived: a few thousand roundings at most (1e-12 is
#: about 4500 u, u = 2^-53).  Where a bound is derived (gamma_n, :func:`float64_rounding`)
#: that is used instead.
FLOAT64_RTOL = 1e-12

#: Relative tolerance on the bound of a Monte Carlo comparison: the bound is evaluated in
#: float64 (a few dozen roundings, relative error below 1e-14) and so is the mean
#: (:data:`FLOAT64_RTOL`); the statistical error is covered by :data:`Z` standard errors,
#: not by this.
MC_RTOL = FLOAT64_RTOL

#: Standard errors subtracted from a Monte Carlo mean before it is compared with a bound.
Z = 5.0

#: One-sided false-alarm probability of one Monte Carlo comparison at :data:`Z` standard
#: errors under the normal approximation of the mean (about 2.9e-7).
MC_FALSE_ALARM = 0.5 * math.erfc(Z / math.sqrt(2.0))

#: Steps from which an example counts as non-trivial (see the module docstring).
NONTRIVIAL_MIN_K = 3

#: Every tolerance of the suite, by name, with why it has its value (the constants above).
RTOL: dict[str, float] = {
    "exact": EXACT,
    "mp": MP_RTOL,
    "mp256": MP256_RTOL,
    "bound_value": BOUND_VALUE_RTOL,
    "float64": FLOAT64_RTOL,
    "mc": MC_RTOL,
}

#: The claim kinds, as recorded.
KINDS = ("upper", "equal", "mc_upper", "no_mismatch")


def float64_rounding(n: int) -> float:
    """gamma_n = n u / (1 - n u): the relative error bound of n successive float64
    roundings (u = 2^-53), the tolerance of a float64 computation against its exact value.

    .. math:: \\gamma_n = \\frac{n u}{1 - n u}
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n * U64 >= 1:
        from lpsgd.errors import InvalidArgument

        raise InvalidArgument(f"Expected an integer 0 <= n < 2^53 but got n={n!r}")
    return n * U64 / (1 - n * U64)


def false_alarm_rate(comparisons: int, *, z: float = Z) -> float:
    """An upper bound on the probability that any of ``comparisons`` Monte Carlo
    comparisons at ``z`` standard errors fails although every bound holds (union bound
    over the one-sided normal tail; comparisons at several k of one trajectory are
    correlated, which the union bound does not need)."""
    return min(1.0, comparisons * 0.5 * math.erfc(z / math.sqrt(2.0)))


# -- helpers ---------------------------------------------------------------------------------

def _in_test() -> bool:
    try:
        import hypothesis

        return bool(hypothesis.currently_in_test_context())
    except Exception:  # Hypothesis missing or too old
        return False


def _note(text: str) -> None:
    if _in_test():
        from hypothesis import note

        note(text)


def _is_mp(x: Any) -> bool:
    return isinstance(x, mpmath.mpf)


def _domain(values: Iterable[Any]) -> str:
    """"mp" if any value is an mpf, "q" if all are exact rationals (Fraction, int), else
    "float": the arithmetic the comparison is made in, so that no side is rounded."""
    kinds = set()
    for v in values:
        if _is_mp(v):
            return "mp"
        kinds.add("q" if isinstance(v, Fraction | int) and not isinstance(v, bool) else "f")
    return "q" if kinds == {"q"} else "float"


def _to(domain: str, x: Any) -> Any:
    if domain == "mp":
        if isinstance(x, Fraction):
            return mpmath.mpf(x.numerator) / x.denominator
        return mpmath.mpf(x)
    if domain == "q":
        return Fraction(x)
    return float(x)


def _dps() -> int:
    """Decimal digits of the comparisons: 60, or the caller's precision if higher (a
    quantity computed at 256 bits is not rounded to 60 digits before it is compared)."""
    return max(60, mpmath.mp.dps)


def _value(x: Any) -> Any:
    """A Bound's value (anything with ``.value``), else ``x``."""
    return getattr(x, "value", x)


def _show(x: Any) -> str:
    if _is_mp(x):
        return mpmath.nstr(x, 20)
    if isinstance(x, Fraction):
        return f"{float(x)!r} (exactly {x})" if x.denominator != 1 else str(x)
    if isinstance(x, float):
        return repr(x)
    return str(x)


def _fmt_tol(x: Any) -> str:
    return f"{float(x):.3g}"


def _message(claim: str, kind: str, tol: str, n_bad: int, n: int, where: str,
             context: Mapping[str, Any], actual: str, desired: str) -> str:
    return (f"{claim} ({kind}, {tol})\n"
            f"Mismatched: {n_bad} / {n}\n"
            f"Worst at {where}constants {dict(context)}\n"
            f" ACTUAL: {actual}\n"
            f" DESIRED: {desired}")


def _nontrivial(k: Any, flag: bool | None) -> bool:
    return flag is not False and (k is None or int(k) >= NONTRIVIAL_MIN_K)


def _worst(rows: list[tuple[Any, Any, Any, Any]]) -> tuple[Any, Any, Any, Any]:
    """The row of largest ratio (ratio first in each row; the first one on ties)."""
    best = rows[0]
    for row in rows[1:]:
        if row[0] > best[0]:
            best = row
    return best


def _ratio(obs: Any, b: Any) -> Any:
    if b > 0:
        return obs / b
    return math.inf if obs > 0 else 0


Row = tuple[Any, Any, Any, Any, Any]  # (ratio, k, observed, bound, args of the bound)


def _finish(name: str, kind: str, rows: list[Row], record_rows: list[Row],
            nontrivial_flag: bool | None, failure: str | None, context: Mapping[str, Any],
            failing: Row | None = None, record_example: bool = True) -> None:
    """Record the example (the worst of ``record_rows``, or of ``rows``) and raise with
    ``failure`` if given (``failing`` is the row the message shows)."""
    __tracebackhide__ = True
    if record_example:
        rec = record_rows or rows
        _, k, obs, b, args = _worst(rec)
        if failing is not None:
            _, k, obs, b, args = failing
        ctx = dict(context)
        if k is not None:
            ctx = {"k": k, **ctx}
        nt = [row for row in rec if _nontrivial(row[1], nontrivial_flag)]
        nontrivial = None
        if nt:
            _, nk, nobs, nb, _ = _worst(nt)
            nontrivial = (float(nobs), float(nb), {} if nk is None else {"k": nk})
        record.claim(name, float(obs), float(b), kind=kind, context=ctx,
                     nontrivial=nontrivial, failure=failure, args=args)
    if failure is not None:
        _note(failure)
        raise AssertionError(failure)


# -- the four kinds ----------------------------------------------------------------------------

def assert_upper(name: str, pairs_or_observed: Any, bound: Any = None, *,
                 context: Mapping[str, Any], rtol: float = MP_RTOL, k: int | None = None,
                 nontrivial: bool | None = None, identity_at_1: bool = False,
                 claim: str | None = None, args: Mapping[str, Any] | None = None,
                 record_example: bool = True) -> None:
    """Assert ``observed <= bound (1 + rtol)``; record the example.

    Args:
        name: the property (the record's key, and the start of the message).
        pairs_or_observed: the observed value (a number, an mpf, a Fraction), or, with
            ``bound`` None, a sequence of ``(k, observed, bound)`` triples (one per step),
            or of ``(k, observed, bound, args)`` with the keyword arguments the bound was
            computed from (kept for replays, see :func:`lpsgd.record.quiet`).
            A bound may be a :class:`lpsgd.theory.Bound` (its ``value`` is compared) or
            anything ``float()`` accepts.
        bound: the bound of a single observation.
        context: the constants that replay the example.
        rtol: the relative tolerance (one of the module's constants).
        k: the step of a single observation (for the non-trivial regime), if any.
        nontrivial: False when the statement has noise terms and the example has no noise;
            None when that does not apply.
        identity_at_1: the bound equals the observation at ``k = 1`` by construction;
            the recorded worst ratio is then taken over ``k >= 2`` (the check covers all).
        claim: the claim in words (default ``"<name>: observed <= bound"``).
        args: the keyword arguments of a single bound (as in the 4-tuples).
        record_example: False for a further claim about an example already recorded
            (checked and reported the same way, not counted again).

    Raises:
        AssertionError: when some observation exceeds its bound by more than ``rtol``.
    """
    __tracebackhide__ = True
    if bound is None:
        triples = [(t[0], t[1], _value(t[2]), t[3] if len(t) > 3 else None)
                   for t in pairs_or_observed]
    else:
        triples = [(k, pairs_or_observed, _value(bound), args)]
    if not triples:
        from lpsgd.errors import InvalidArgument

        raise InvalidArgument(f"Expected at least one observation but got "
                              f"pairs_or_observed={pairs_or_observed!r}")
    domain = _domain(v for _, o, b, _ in triples for v in (o, b))
    with mpmath.workdps(_dps()):
        tol = _to(domain, rtol)
        rows: list[Row] = []
        bad: list[Row] = []
        for kk, obs, b, a in triples:
            obs, b = _to(domain, obs), _to(domain, b)
            rows.append((_ratio(obs, b), kk, obs, b, a))
            if obs > b * (1 + tol) or obs != obs or b != b:  # NaN on either side fails
                bad.append(rows[-1])
        record_rows = [row for row in rows if row[1] is None or row[1] >= 2] \
            if identity_at_1 else rows
        failure, failing = None, None
        if bad:
            nan_rows = [row for row in bad if row[2] != row[2] or row[3] != row[3]]
            failing = nan_rows[0] if nan_rows else _worst(bad)
            _, bk, bobs, bb, _ = failing
            failure = _message(claim or f"{name}: observed <= bound", "upper",
                               f"rtol={_fmt_tol(rtol)}", len(bad), len(rows),
                               "" if bk is None else f"k={bk}, ", context, _show(bobs),
                               f"<= {_show(bb)}")
    _finish(name, "upper", rows, record_rows, nontrivial, failure, context, failing,
            record_example)


def assert_equal(name: str, actual: Any, desired: Any, *, context: Mapping[str, Any],
                 rtol: float = MP_RTOL, atol: Any = 0.0, k: Any = None,
                 nontrivial: bool | None = None, claim: str | None = None,
                 record_example: bool = True) -> None:
    """Assert ``|actual - desired| <= atol + rtol |desired|`` element by element; record
    the example.

    ``actual`` and ``desired`` are numbers (float, mpf, Fraction) or equally long
    sequences / arrays of them (broadcast like numpy when both are float arrays).  The
    recorded ratio is ``|actual - desired| / (atol + rtol |desired|)``: the share of the
    tolerance used.  ``atol`` may be an array broadcast against them (e.g. ``Z`` standard
    errors per element when a Monte Carlo mean is compared with an exact expectation).
    ``k`` may be a sequence of step labels, one per element.

    Raises:
        AssertionError: naming the number of elements out of tolerance and the worst one.
    """
    __tracebackhide__ = True
    a_list, d_list, labels = _elements(actual, desired, k)
    if np.ndim(atol):
        shape = np.broadcast_shapes(np.shape(actual), np.shape(desired))
        atols = list(np.broadcast_to(np.asarray(atol, dtype=np.float64), shape).ravel())
        atol_text = "atol=per element"
    else:
        atols = [atol] * len(a_list)
        atol_text = f"atol={_fmt_tol(atol)}"
    domain = _domain([*a_list, *d_list])
    with mpmath.workdps(_dps()):
        r_tol = _to(domain, rtol)
        rows, bad = [], []
        for lab, a, d, at in zip(labels, a_list, d_list, atols):
            a, d = _to(domain, a), _to(domain, d)
            err = abs(a - d)
            allowed = _to(domain, at) + r_tol * abs(d)
            both_nan = a != a and d != d
            if both_nan:
                err = _to(domain, 0)
            rows.append((_ratio(err, allowed), lab, err, allowed, a, d))
            if not both_nan and (err > allowed or err != err):
                bad.append(rows[-1])
        failure, failing = None, None
        if bad:
            nan_bad = [row for row in bad if row[2] != row[2]]
            failing = nan_bad[0] if nan_bad else _worst(bad)
            _, bk, _, _, ba, bd = failing
            where = "" if bk is None else (f"k={bk}, " if _is_step(bk) else f"index {bk}, ")
            failure = _message(claim or f"{name}: actual == desired", "equal",
                               f"rtol={_fmt_tol(rtol)}, {atol_text}", len(bad), len(rows),
                               where, context, _show(ba),
                               f"{_show(bd)} (allowed |difference| {_show(failing[3])})")
    def step(row: tuple[Any, ...]) -> Row:
        r, lab, e, al, _, _ = row
        return (r, int(lab) if _is_step(lab) else None, e, al, None)

    _finish(name, "equal", [step(row) for row in rows], [], nontrivial, failure, context,
            None if failing is None else step(failing), record_example)


class _Step(int):
    """A step label k (as opposed to an array index) in the rows of assert_equal."""


def _is_step(label: Any) -> bool:
    return isinstance(label, _Step)


def _elements(actual: Any, desired: Any, k: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Flatten two numbers / sequences / arrays into equally long element lists, with a
    label per element (a step _Step when ``k`` labels them, else the flat index)."""
    def flat(x: Any) -> list[Any] | None:
        if isinstance(x, np.ndarray):
            return list(x.ravel()) if x.dtype == object else None
        if isinstance(x, list | tuple):
            return list(x)
        return None

    fa, fd = flat(actual), flat(desired)
    if fa is None and fd is None and (isinstance(actual, np.ndarray)
                                      or isinstance(desired, np.ndarray)):
        a, d = np.broadcast_arrays(np.asarray(actual, dtype=np.float64),
                                   np.asarray(desired, dtype=np.float64))
        fa, fd = [float(v) for v in a.ravel()], [float(v) for v in d.ravel()]
    elif fa is None and fd is None:
        fa, fd = [actual], [desired]
    else:
        fa = fa if fa is not None else list(np.ravel(np.asarray(actual, dtype=object)))
        fd = fd if fd is not None else list(np.ravel(np.asarray(desired, dtype=object)))
        if len(fd) == 1 and len(fa) > 1:
            fd = fd * len(fa)
        if len(fa) != len(fd):
            from lpsgd.errors import InvalidArgument

            raise InvalidArgument(f"Expected actual and desired of equal length but got "
                                  f"len(actual)={len(fa)}, len(desired)={len(fd)}")
    if k is None:
        labels: list[Any] = [None] if len(fa) == 1 else list(range(len(fa)))
    elif isinstance(k, int):
        labels = [_Step(k)] * len(fa)
    else:
        labels = [_Step(v) for v in k]
    return fa, fd, labels


def exceeds(observed: Any, bound: Any, *, se: Any = None, z: float = Z,
            rtol: float = FLOAT64_RTOL) -> np.ndarray:
    """Elementwise: does an observation exceed its bound under the suite's rule?

    Without ``se`` the rule of :func:`assert_upper` (``observed > bound (1 + rtol)``), with
    it the rule of :func:`assert_mc_upper` (``observed - z se > bound (1 + rtol)``); NaN on
    either side counts as exceeding.  It neither records nor raises: the report's sections
    use it to say whether what they plot respects the bound, with the suite's tolerances.
    """
    obs = np.asarray(observed, dtype=np.float64)
    b = np.asarray([float(_value(v)) for v in np.ravel(np.asarray(bound, dtype=object))],
                   dtype=np.float64).reshape(np.shape(bound)) if np.ndim(bound) else \
        np.float64(float(_value(bound)))
    lower = obs if se is None else obs - z * np.asarray(se, dtype=np.float64)
    return _exceeds(lower, b, rtol)


def _exceeds(lower: Any, bound: Any, rtol: float) -> Any:
    """The one comparison rule of the float64 kinds (NaN and an infinite lower side fail)."""
    lower = np.asarray(lower, dtype=np.float64)
    return (lower > bound * (1 + rtol)) | ~np.isfinite(lower) | np.isnan(bound)


def assert_mc_upper(name: str, mean: Any, se: Any, bound: Any, *,
                    context: Mapping[str, Any], z: float = Z, slack: float = 0.0,
                    rtol: float = MC_RTOL, k: Sequence[int] | int | None = None,
                    nontrivial: bool | None = None, identity_at_1: bool = True,
                    claim: str | None = None,
                    args: Sequence[Mapping[str, Any] | None] | None = None) -> None:
    """Assert ``mean - z se - slack <= bound (1 + rtol)`` (at every step); record the example.

    ``mean``, ``se`` and ``bound`` are numbers or equally long sequences (one per step
    ``k = 1, 2, ...`` unless ``k`` gives the steps).  ``slack`` covers a certified error of
    the measured side (e.g. of a computed minimum F*).  With ``identity_at_1`` (the default:
    SGD starts from a deterministic point, where mean = gap = bound) the recorded worst
    ratio ``(mean - z se - slack) / bound`` is over ``k >= 2`` unless there is one step.

    False alarms: one comparison fails with probability :data:`MC_FALSE_ALARM` (about 2.9e-7
    at z = 5) when the bound holds; :func:`false_alarm_rate` bounds the family-wise rate of
    a run (e.g. 1e4 comparisons: below 3e-3).  ``args`` (one per step) are the keyword
    arguments each bound was computed from, kept for replays.
    """
    __tracebackhide__ = True
    scalar = np.ndim(mean) == 0
    means = np.atleast_1d(np.asarray(mean, dtype=np.float64)).ravel()
    ses = np.broadcast_to(np.asarray(se, dtype=np.float64), means.shape).ravel()
    bounds = np.broadcast_to(np.asarray([float(_value(b)) for b in np.ravel(
        np.asarray(bound, dtype=object))] if np.ndim(bound) else float(_value(bound)),
        dtype=np.float64), means.shape).ravel()
    if k is None:
        ks: list[Any] = [None] if scalar else list(range(1, means.size + 1))
    elif isinstance(k, int):
        ks = [k] * means.size
    else:
        ks = list(k)
    arg_list = list(args) if args is not None else [None] * means.size
    rows, bad = [], []
    for kk, m, s, b, a in zip(ks, means, ses, bounds, arg_list):
        lower = float(m - z * s - slack)
        rows.append((_ratio(lower, float(b)), kk, lower, float(b), a, float(m), float(s)))
        if _exceeds(lower, b, rtol):
            bad.append(rows[-1])
    record_rows = [row for row in rows if row[1] is None or row[1] >= 2] \
        if identity_at_1 and len(rows) > 1 else rows
    failure, failing = None, None
    if bad:
        failing = _worst(bad)
        _, bk, lower, b, _, m, s = failing
        failure = _message(claim or f"{name}: mean - z se <= bound", "mc_upper",
                           f"z={z:g}, slack={slack!r}, rtol={_fmt_tol(rtol)}", len(bad),
                           len(rows), "" if bk is None else f"k={bk}, ", context,
                           f"mean {m!r} - {z:g} se ({s!r}) - slack = {lower!r}",
                           f"<= {b!r}")
    _finish(name, "mc_upper", [row[:5] for row in rows], [row[:5] for row in record_rows],
            nontrivial, failure, context, None if failing is None else failing[:5])


def _same_values(actual: Any, desired: Any) -> np.ndarray:
    """The bit-equality rule of quantiser results (lpsgd.bitwise when present)."""
    try:
        from lpsgd.bitwise import same_values
    except ImportError:  # the rule before that module: equal float64 bits, or both NaN
        a = np.asarray(actual, dtype=np.float64)
        d = np.asarray(desired, dtype=np.float64)
        return (np.isnan(a) & np.isnan(d)) | ((a == d) & (np.signbit(a) == np.signbit(d)))
    return same_values(actual, desired)


def assert_no_mismatch(name: str, actual: Any, desired: Any, *,
                       context: Mapping[str, Any], inputs: Any = None,
                       claim: str | None = None) -> None:
    """Assert that ``actual`` and ``desired`` agree on every element (no tolerance: the
    bit-equality rule of quantiser results); record the mismatch count (bound 0).

    ``inputs`` (same shape), when given, are shown for the first mismatching element, as
    float64 hex and repr, so the message replays it.
    """
    __tracebackhide__ = True
    ok = np.asarray(_same_values(actual, desired))
    n_bad, n = int((~ok).sum()), int(ok.size)
    failure = None
    if n_bad:
        i = int(np.flatnonzero(~ok.ravel())[0])
        a = np.asarray(actual, dtype=np.float64).ravel()
        d = np.asarray(desired, dtype=np.float64).ravel()
        where = f"index {i}, "
        if inputs is not None:
            x = float(np.asarray(inputs, dtype=np.float64).ravel()[i])
            where += f"x={x.hex()} ({x!r}), "
        failure = _message(claim or f"{name}: actual == desired bit for bit", "no_mismatch",
                           "exact", n_bad, n, where, context,
                           f"{float(a[i])!r} ({float(a[i]).hex()})",
                           f"{float(d[i])!r} ({float(d[i]).hex()})")
    record.claim(name, float(n_bad), 0.0, kind="no_mismatch", context=dict(context),
                 nontrivial=(float(n_bad), 0.0, {}), failure=failure)
    if failure is not None:
        _note(failure)
        raise AssertionError(failure)
