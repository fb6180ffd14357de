"""Fuzzing the public API: whatever the arguments, only lpsgd's own errors escape, fast.

Each test throws arbitrary arguments at one part of the public API (formats, presets,
both quantisers, the theorems, check_quantizer, the command line) and asserts that

* the call returns, or raises one of lpsgd's errors (:mod:`lpsgd.errors`:
  InvalidArgument, AssumptionError), or SystemExit for the command line's argparse;
  any other exception (OverflowError, ValueError, TypeError, ZeroDivisionError, ...)
  fails the test;
* no call on these small inputs runs longer than :data:`LIMIT` seconds: a timer signal
  interrupts it and fails the test with the call named (a hard limit on a hang, far
  above the milliseconds these calls take, so a slow machine does not make it flaky).

The ``@example`` rows are the defects this file was written for; they run under every
profile, so each stays fixed.
"""

from __future__ import annotations

import contextlib
import io
import math
import signal
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import lpsgd.theory as theory
from lpsgd import cli, fast, reference, testing
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.formats import PRESETS, Format, preset
from lpsgd.rounding import ROUNDING_MODES

#: Seconds any single call below may take before it counts as a hang.
LIMIT = 2.0
#: lpsgd's own errors: the only exceptions a call may raise.
OURS = (InvalidArgument, AssumptionError)

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"),
                                reason="the time limit needs signal.setitimer")

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


class Hang(Exception):
    """A call ran longer than LIMIT seconds."""


@contextlib.contextmanager
def time_limit(what: str):
    def on_alarm(signum, frame):
        raise Hang(f"{what} ran longer than {LIMIT} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def call(what: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` under the time limit; lpsgd's errors give None."""
    with time_limit(what):
        try:
            return fn(*args, **kwargs)
        except OURS:
            return None


# -- values ----------------------------------------------------------------------------
class Big:
    """A huge number with a short repr: Python refuses to print integers of more than
    4300 digits, and Hypothesis prints every failing example.  Unwrapped before a call."""

    def __init__(self, text: str, value) -> None:
        self.text, self.value = text, value

    def __repr__(self) -> str:
        return self.text


def unwrap(v):
    if isinstance(v, Big):
        return v.value
    if isinstance(v, list):
        return [unwrap(i) for i in v]
    if isinstance(v, tuple):
        return tuple(unwrap(i) for i in v)
    if isinstance(v, dict):
        return {k: unwrap(i) for k, i in v.items()}
    return v


NP_INT_TYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                np.uint64)


np_ints = st.sampled_from(NP_INT_TYPES).flatmap(
    lambda t: st.integers(int(np.iinfo(t).min), int(np.iinfo(t).max)).map(t))


huge_ints = st.one_of(st.integers(-2 ** 70, 2 ** 70),
                      st.integers(0, 3000).map(lambda e: 2 ** e),
                      st.sampled_from([10 ** 400, Big('-10**5000', -10 ** 5000),
                                       Big('2**100000', 2 ** 100000), 2 ** 63, 2 ** 64 - 1]))
ints = st.one_of(st.integers(-3, 70), huge_ints, np_ints, st.integers(0, 40).map(np.int64))
mpfs = st.one_of(
    st.integers(-2 ** 53, 2 ** 53).flatmap(
        lambda m: st.integers(-(2 ** 40), 2 ** 40).map(lambda e: mpmath.mpf((m, e)))),
    st.sampled_from([mpmath.mpf("nan"), mpmath.mpf("inf"), mpmath.mpf("-inf"),
                     mpmath.mpf("1e-301030"), mpmath.mpf(2) ** -1000000,
                     mpmath.mpf("1e100000")]))
fractions_ = st.one_of(
    st.fractions(max_denominator=10 ** 6),
    st.tuples(st.integers(-(2 ** 20), 2 ** 20), st.integers(0, 20000)).map(
        lambda t: Big(f"Fraction({t[0] or 1}, 2**{t[1]})", Fraction(t[0] or 1, 2 ** t[1]))),
    st.sampled_from([Big("Fraction(1, 2**1000000)", Fraction(1, 2 ** 1000000)),
                     Big("Fraction(3**30000, 7**20000)", Fraction(3 ** 30000, 7 ** 20000)),
                     Big("Fraction(2**70000 + 1, 2**70000)", Fraction(2 ** 70000 + 1, 2 ** 70000)),
                     Big("2**32768", 2 ** 32768), Big("2**32768 + 1", 2 ** 32768 + 1)]))
reals = st.one_of(st.floats(), st.floats(-10, 10), st.floats(1e-6, 1.0),
                  st.floats().map(np.float64), st.floats(width=32).map(np.float32),
                  ints, fractions_, mpfs)
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.just([1.0]),
                 st.complex_numbers(max_magnitude=10), st.just(object()))
anything = st.one_of(reals, junk)


# -- formats and presets ---------------------------------------------------------------
@FUZZ
@given(exp_bits=st.one_of(ints, junk), man_bits=st.one_of(ints, junk),
       subnormals=st.one_of(st.booleans(), ints, junk), inf=st.booleans(),
       nan=st.one_of(st.booleans(), ints), name=st.one_of(st.none(), st.text(max_size=8), junk))
@example(exp_bits=5, man_bits=np.uint64(30), subnormals=True, inf=True, nan=True, name=None)
@example(exp_bits=np.int64(8), man_bits=np.int64(100), subnormals=True, inf=True, nan=True,
         name=None)
@example(exp_bits=np.uint64(30), man_bits=3, subnormals=True, inf=True, nan=True, name=None)
@example(exp_bits=np.int64(100), man_bits=3, subnormals=True, inf=True, nan=True, name=None)
@example(exp_bits=10 ** 6, man_bits=10 ** 9, subnormals=True, inf=True, nan=True, name=None)
@example(exp_bits=30, man_bits=4096, subnormals=True, inf=False, nan=False, name=None)
@example(exp_bits=5, man_bits=2, subnormals=True, inf=True, nan=True, name=123)
@example(exp_bits=15, man_bits=112, subnormals=True, inf=True, nan=True, name=None)
def test_format_fuzz(exp_bits, man_bits, subnormals, inf, nan, name) -> None:
    exp_bits, man_bits, subnormals, nan = unwrap((exp_bits, man_bits, subnormals, nan))
    f = call("Format", Format, exp_bits, man_bits, subnormals=subnormals, inf=inf, nan=nan,
             name=name)
    if f is None:
        return
    with time_limit(f"the constants of {f!r}"):
        assert type(f.exp_bits) is int and type(f.man_bits) is int
        assert f.unit_roundoff == Fraction(1, 2 ** (f.man_bits + 1))
        assert f.max_significand >= 1 and f.x_max >= f.n_min > 0
        assert f.n_min == Fraction(2) ** f.e_min
        for attr in ("precision", "total_bits", "bias", "e_min", "e_max", "subnormal_spacing",
                     "smallest_positive", "overflow_threshold", "fits_binary64", "kind"):
            getattr(f, attr)
        assert isinstance(str(f), str) and isinstance(repr(f), str)
        hash(f)
        f == Format(5, 2)  # noqa: B015  (equality must not raise)
    consts = call(f"{f.label}.float_constants()", f.float_constants)
    if consts is not None:
        assert all(math.isfinite(v) for v in consts.values())
    if f.total_bits <= 12:
        call(f"{f.label}.codes()", f.codes)
    call(f"{f.label}.decode(1)", f.decode, 1)
    call(f"{f.label}.encode(1.0)", f.encode, 1.0)


@FUZZ
@given(name=st.one_of(st.text(max_size=20), st.sampled_from(list(PRESETS)), junk))
def test_preset_fuzz(name) -> None:
    f = call("preset", preset, name)
    assert f is None or isinstance(f, Format)


# -- quantisers ------------------------------------------------------------------------
leaf = st.one_of(st.floats(), st.floats(width=32).map(np.float32), st.integers(-5, 5),
                 st.just(10 ** 400), st.text(max_size=3), st.none(), st.booleans(),
                 mpfs, st.complex_numbers(max_magnitude=4))
nested = st.recursive(leaf, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                   st.tuples(kids, kids)), max_leaves=8)
arrays = st.one_of(
    st.lists(st.floats(), max_size=6).map(np.array),
    st.lists(st.floats(width=32), max_size=6).map(lambda v: np.array(v, dtype=np.float32)),
    st.lists(st.integers(-9, 9), max_size=4).map(np.array),
    st.lists(st.floats(-3, 3), min_size=4, max_size=4).map(lambda v: np.array(v).reshape(2, 2)),
    st.lists(st.one_of(st.floats(), mpfs), max_size=4).map(lambda v: np.array(v, dtype=object)))
quantize_inputs = st.one_of(nested, arrays, leaf)
small_formats = st.builds(lambda e, m, sub, kind: (e, m, sub, kind),
                          st.integers(1, 12), st.integers(0, 60), st.booleans(),
                          st.sampled_from(["ieee", "fn", "fn_nonan"]))


def _format_arg(spec):
    if not isinstance(spec, tuple):
        return spec
    e, m, sub, kind = spec
    inf, nan = {"ieee": (True, True), "fn": (False, True), "fn_nonan": (False, False)}[kind]
    try:
        return Format(e, m, subnormals=sub, inf=inf, nan=nan)
    except InvalidArgument:
        return "binary16"


fmt_args = st.one_of(st.sampled_from(list(PRESETS)), small_formats,
                     st.just(Format(15, 112)), st.text(max_size=6), st.integers(0, 20),
                     st.none())
rounding_args = st.one_of(st.sampled_from(ROUNDING_MODES), st.text(max_size=8), st.none(),
                          st.integers(0, 3))


@FUZZ
@given(which=st.sampled_from(["fast", "reference"]), x=quantize_inputs,
       fmt=st.one_of(st.sampled_from(list(PRESETS)), small_formats, fmt_args),
       rounding=st.one_of(st.sampled_from(ROUNDING_MODES), rounding_args),
       seed=st.one_of(st.none(), st.integers(0, 3)),
       uniforms=st.one_of(st.none(), st.just("like x"), st.just("like x"), arrays, leaf),
       saturate=st.one_of(st.booleans(), st.booleans(), junk))
@example(which="fast", x=[[1.0], [1.0, 2.0]], fmt="binary16", rounding="nearest_even",
         seed=None, uniforms=None, saturate=False)
@example(which="reference", x=[[1.0], [1.0, 2.0]], fmt="binary16", rounding="nearest_even",
         seed=None, uniforms=None, saturate=False)
@example(which="fast", x=[1.0, [2.0, 3.0]], fmt="binary16", rounding="nearest_even",
         seed=None, uniforms=None, saturate=False)
@example(which="reference", x=[1.0, 10 ** 400], fmt="binary16", rounding="nearest_even",
         seed=None, uniforms=None, saturate=False)
def test_quantize_fuzz(which, x, fmt, rounding, seed, uniforms, saturate) -> None:
    q = {"fast": fast.quantize, "reference": reference.quantize}[which]
    x, uniforms = unwrap(x), unwrap(uniforms)
    rng = None if seed is None else np.random.default_rng(seed)
    if isinstance(uniforms, str) and uniforms == "like x":
        try:
            uniforms = np.full(np.shape(x), 0.25)
        except (ValueError, TypeError, OverflowError):
            uniforms = None
    call(f"{which}.quantize", q, x, _format_arg(fmt), rounding, rng=rng, uniforms=uniforms,
         saturate=saturate)


# -- theorems --------------------------------------------------------------------------
T1 = dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mu=0.25, q_min=0.5, q_max=1.0, gap=3.0, k=2)
BASES = {
    "theorem1": T1,
    "theorem2": dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, beta=4.0, gamma=15.0, q_min=0.5,
                     q_max=1.0, gap=3.0, k=2),
    "theorem3": dict(L=4.0, M=1.0, M_V=1.0, M_q=0.5, mu=0.125, q_min=0.5, q_max=1.0, gap=3.0,
                     K=2),
    "theorem4": dict(L=4.0, M=1.0, M_V=1.0, M_q=0.5, mus=[0.125, 0.0625], q_min=0.5,
                     q_max=1.0, gap=3.0),
    "theorem5": dict(L=4.0, c=1.0, mu=0.125, q_lo=0.5, q_hi=2.0, gap=3.0, k=2),
    "theorem6": dict(L=4.0, c=1.0, d=3, mu=0.125, t=0.01, q_lo=0.5, q_hi=2.0, gap=3.0, k=2),
    "theorem7": dict(L=4.0, c=1.0, d=3, M=1.0, M_V=0.0, fmt="float8_e4m3fn", mu=0.2, gap=3.0,
                     k=2),
    "theorem1_schedule": dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mus=[0.25, 0.125],
                              qs=[0.5, 1.0], gap=3.0),
    "theorem3_schedule": dict(L=4.0, M=1.0, M_q=0.5, mus=[0.25, 0.125], qs=[0.5, 1.0],
                              gap=3.0),
    "iterations_to_eps": dict(T1, eps=1e-3, k=None),
    "asymptotic_slowdown": dict(mu=0.5, c=1.0, q_min=0.5),
    "stochastic_rounding_constants": dict(fmt="bfloat16", M=1.0, M_G=1.0, d=3),
    "format_shrinkage": dict(fmt="float8_e4m3fn", rounding="toward_zero", t=0.5),
}
BASES["iterations_to_eps"].pop("k")
theorem_values = st.one_of(reals, reals, reals, junk, st.lists(reals, max_size=3),
                           st.sampled_from(list(PRESETS)), st.just(Format(19, 236)))


@st.composite
def theorem_calls(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    kwargs = dict(BASES[name])
    keys = draw(st.lists(st.sampled_from(sorted(kwargs)), min_size=1, max_size=2, unique=True))
    for key in keys:
        kwargs[key] = draw(theorem_values)
    return name, kwargs


@FUZZ
@given(case=theorem_calls())
@example(case=("theorem6", dict(BASES["theorem6"], q_lo=-1e58, L=1e308, c=10 ** 400)))
@example(case=("theorem6", dict(BASES["theorem6"], d=Big("10**5000", 10 ** 5000))))
@example(case=("theorem2", dict(BASES["theorem2"], M=1e308)))
@example(case=("theorem1", dict(T1, c=mpmath.mpf(2) ** -1000000)))
@example(case=("theorem1", dict(T1, c=Big("Fraction(1, 2**1000000)", Fraction(1, 2 ** 1000000)))))
@example(case=("theorem7", dict(BASES["theorem7"], M=mpmath.mpf("1e-301030"))))
def test_theorem_fuzz(case) -> None:
    name, kwargs = case
    kwargs = unwrap(kwargs)
    func = getattr(theory, name)
    out = call(name, func, **kwargs)
    if isinstance(out, theory.Bound):
        with time_limit(f"using the Bound of {name}"):
            v = float(out)
            assert not math.isnan(v)
            repr(out)
            out.holds(0.0)
            dict(out.terms)


# -- check_quantizer -------------------------------------------------------------------
QUANTIZERS = {
    "fast": lambda fmt, mode: lambda x: fast.quantize(x, fmt, mode, rng=np.random.default_rng(1))
    if mode.startswith("stochastic") else fast.quantize(x, fmt, mode),
    "identity": lambda fmt, mode: lambda x: x,
    "float32": lambda fmt, mode: lambda x: x.astype(np.float32),
    "short": lambda fmt, mode: lambda x: x[:1],
    "list": lambda fmt, mode: lambda x: list(x),
    "none": lambda fmt, mode: lambda x: None,
    "ints": lambda fmt, mode: lambda x: np.zeros(x.shape, dtype=np.int64),
    "text": lambda fmt, mode: lambda x: "x",
}


@settings(FUZZ, max_examples=40)
@given(kind=st.sampled_from(sorted(QUANTIZERS)),
       fmt=st.one_of(st.sampled_from(["float8_e4m3fn", "float4_e2m1fn", "binary16",
                                      "float6_e3m2fn"]), fmt_args),
       mode=st.one_of(st.sampled_from(ROUNDING_MODES), rounding_args),
       examples=st.one_of(st.integers(-2, 20), junk), seed=st.one_of(st.integers(-2, 5), junk),
       draws=st.one_of(st.integers(8, 20), junk), max_inputs=st.one_of(st.integers(0, 5), junk))
def test_check_quantizer_fuzz(kind, fmt, mode, examples, seed, draws, max_inputs) -> None:
    fmt_ = _format_arg(fmt)
    fn = QUANTIZERS[kind](fmt_, mode if isinstance(mode, str) else "nearest_even")
    call("check_quantizer", testing.check_quantizer, fn, fmt_, mode, examples=examples,
         seed=seed, draws=draws, max_inputs=max_inputs)


# -- the command line ------------------------------------------------------------------
tokens = st.one_of(
    st.sampled_from(["--format", "--rounding", "--seed", "--saturate", "--hex", "--aliases",
                     "--", "-h", "--version", "1.5", "-2.5", "0x1.8p-3", "inf", "nan", "1e-8",
                     "1e400"]),
    st.sampled_from(list(PRESETS) + list(ROUNDING_MODES)),
    st.builds(lambda e, m, flags: f"e{e}m{m}{flags}", st.integers(-2, 10 ** 6),
              st.integers(-2, 10 ** 6), st.sampled_from(["", ":fn", ":fn:nosub", ":nonan"])),
    st.integers(-(2 ** 70), 2 ** 70).map(str), st.text(max_size=6))
argvs = st.one_of(
    st.tuples(st.sampled_from(["formats", "quantize"]), st.lists(tokens, max_size=6)).map(
        lambda t: [t[0], *t[1]]),
    st.lists(st.text(max_size=6), max_size=3).filter(
        lambda a: not a or a[0] not in ("report", "verify", "bench")),
    st.sampled_from(["report", "verify", "bench"]).map(lambda c: [c, "--help"]))


@FUZZ
@given(argv=argvs)
@example(argv=["quantize", "--format", "e30m4096", "1.5"])
@example(argv=["quantize", "--format", "e1000000m3", "1.5"])
def test_cli_fuzz(argv) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = call(f"lpsgd {' '.join(argv)}", cli.main, argv)
        except SystemExit as exc:
            status = exc.code
    assert status in (None, 0, 1, 2), (argv, status, err.getvalue()[-500:])
