"""Properties of the scaled quantisers (MX, NVFP4): fast == reference bit for bit.

The inputs come from :mod:`lpsgd.scaled_strategies`, which aims at the hard cases of
block scaling (block maxima at and one ulp around ``X_f 2^k`` and powers of two, clipping,
the E8M0 clamps, subnormals, ties after scaling, zeros, NaN, inf, shorter last blocks,
the block axis first).  Every example is checked in every rounding mode, deterministic
and stochastic (the same uniforms in both paths), as float64 and as float32.

Every call goes through the modules (``fast.quantize``, ``reference.quantize``), and the
fast scaled path looks its helpers up at call time, so a mutant monkeypatched into
:mod:`lpsgd.fast.scaled` is what runs.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import lpsgd.fast as fast
import lpsgd.record as record
import lpsgd.reference as reference
import lpsgd.scaled_strategies as sst
import lpsgd.strategies as lst
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd.scaled import SCALED_PRESETS

H = float.fromhex
_U = np.array([0.0, 0.5, 0.25, 0.75, float(np.nextafter(1.0, 0.0))])
_MX_EXAMPLES = [
    # the float log2 trap: 512 (1 - 2^-24) (float32) and 512 (1 - 2^-53) pick scale 1
    (SCALED_PRESETS["mxfp8_e4m3"], np.array([H("0x1.fffffep+8"), 1.0, -0.0, 3.0, 0.1]), -1),
    (SCALED_PRESETS["mxfp8_e4m3"], np.array([H("0x1.fffffffffffffp+8"), 1.0, -0.0, 3.0, 0.1]),
     -1),
    # rceil one ulp above X_f 2^5 = 192: scale 2^6, not 2^5
    (SCALED_PRESETS["mxfp4_e2m1_rceil"], np.array([H("0x1.8000000000001p+7"), 5.0, -40.0,
                                                   0.0, 1e-3]), -1),
]
_NV_EXAMPLES = [
    (SCALED_PRESETS["nvfp4"], np.array([1.0, 0.5, 0.25, -0.75, 3.0]), -1),
]

_EXAMPLES = lst.scaled_examples(0.5, minimum=20)


def _same(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (np.isnan(a) & np.isnan(b)) | ((a == b) & (np.signbit(a) == np.signbit(b)))


def _check_every_mode(name: str, fmt, x: np.ndarray, axis: int, u: np.ndarray) -> None:
    """fast == reference on x in every mode (float64, and float32 where x fits)."""
    __tracebackhide__ = True
    bad: dict[tuple[str, str], tuple] = {}
    inputs = [x]
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    inputs.append(x32)
    for xi in inputs:
        for rounding in ROUNDING_MODES:
            kw = {"uniforms": u} if RoundingMode(rounding).is_stochastic else {}
            try:
                want = reference.quantize(xi, fmt, rounding, axis=axis, **kw)
            except ValueError as exc:  # a float32 result float32 cannot hold
                try:
                    fast.quantize(xi, fmt, rounding, axis=axis, **kw)
                except ValueError as exc2:
                    assert type(exc2) is type(exc)
                    continue
                raise AssertionError(f"{name}: reference raised {exc!r}, fast did not")
            got = fast.quantize(xi, fmt, rounding, axis=axis, **kw)
            ok = _same(got, want)
            if not ok.all():
                bad[(rounding, str(xi.dtype))] = (xi, got, want, ok)
    record.observe(name, len(bad), 0, fmt=repr(fmt), axis=axis,
                   x=[float(v).hex() for v in x.reshape(-1)])
    if bad:
        (rounding, dtype), (xi, got, want, ok) = next(iter(bad.items()))
        i = int(np.flatnonzero(~ok.reshape(-1))[0])
        msg = (f"{len(bad)} (mode, dtype) pairs differ; first: fmt={fmt!r} rounding="
               f"{rounding} dtype={dtype} axis={axis} x[{i}]={float(xi.reshape(-1)[i]).hex()} "
               f"ACTUAL={float(got.reshape(-1)[i])!r} DESIRED={float(want.reshape(-1)[i])!r}")
        note(msg)
        raise AssertionError(f"{name}: fast.quantize != reference.quantize: {msg}")


@st.composite
def _case(draw, scale: str):
    fmt = draw(sst.scaled_formats(scale=scale), label="fmt")
    x, axis = draw(sst.hard_block_arrays(fmt), label="x, axis")
    u = draw(sst.uniform_arrays(x.shape), label="uniforms")
    return fmt, x, axis, u


@settings(max_examples=_EXAMPLES)
@given(_case("e8m0"))
@example((*_MX_EXAMPLES[0], _U))
@example((*_MX_EXAMPLES[1], _U))
@example((*_MX_EXAMPLES[2], _U))
def test_scaled_fast_matches_reference(case):
    """MX (E8M0 scales, every rule): the fast path returns the reference's bits."""
    fmt, x, axis, u = case
    _check_every_mode("test_scaled_fast_matches_reference", fmt, x, axis, u)


@settings(max_examples=_EXAMPLES)
@given(_case("e4m3"))
@example((*_NV_EXAMPLES[0], _U))
def test_nvfp4_fast_matches_reference(case):
    """NVFP4-like formats (E4M3 block scales under a float32 per-tensor scale): the fast
    path returns the float64 the reference rounds the exact value to."""
    fmt, x, axis, u = case
    _check_every_mode("test_nvfp4_fast_matches_reference", fmt, x, axis, u)
