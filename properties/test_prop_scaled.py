"""Properties of the scaled quantisers (MX, NVFP4): fast == reference bit for bit.

The inputs come from :mod:`lpsgd.scaled_strategies`, which aims at the hard cases of
block scaling (block maxima at and one ulp around ``X_f 2^k`` and powers of two, clipping,
the E8M0 clamps, subnormals, ties after scaling, zeros, NaN, inf, shorter last blocks,
the block axis first).  Every example is checked in every rounding mode, deterministic
and stochastic (the same uniforms in both paths), as float64 and as float32.

Each property is a factory of the quantisers it compares, ``quantize`` (default
:func:`lpsgd.fast.quantize`) and ``reference_quantize`` (default
:func:`lpsgd.reference.quantize`); ``test_x = x()`` runs lpsgd's own.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import lpsgd.fast as fast
import lpsgd.reference as reference
import lpsgd.scaled_strategies as sst
import lpsgd.strategies as lst
from lpsgd.bitwise import count_mismatches
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd.scaled import SCALED_PRESETS
from lpsgd.suite import compare

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


def _check_every_mode(name: str, fmt, x: np.ndarray, axis: int, u: np.ndarray, quantize,
                      reference_quantize) -> None:
    """fast == reference on x in every mode (float64, and float32 where x fits); one
    comparison per example, of the (mode, dtype) pair with the most mismatches."""
    __tracebackhide__ = True
    pairs: dict[tuple[str, str], tuple] = {}
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    for xi in (x, x32):
        for rounding in ROUNDING_MODES:
            kw = {"uniforms": u} if RoundingMode(rounding).is_stochastic else {}
            try:
                want = reference_quantize(xi, fmt, rounding, axis=axis, **kw)
            except ValueError as exc:  # a float32 result float32 cannot hold
                try:
                    quantize(xi, fmt, rounding, axis=axis, **kw)
                except ValueError as exc2:
                    assert type(exc2) is type(exc)
                    continue
                raise AssertionError(f"{name}: reference raised {exc!r}, fast did not")
            got = quantize(xi, fmt, rounding, axis=axis, **kw)
            pairs[(rounding, str(xi.dtype))] = (xi, got, want)
    bad = {key: count_mismatches(got, want) for key, (_, got, want) in pairs.items()}
    worst = max(bad, key=bad.get)
    xi, got, want = pairs[worst]
    compare.assert_no_mismatch(
        name, got, want, inputs=xi,
        claim=f"{name}: fast.quantize == reference.quantize bit for bit",
        context={"fmt": repr(fmt), "rounding": worst[0], "dtype": worst[1], "axis": axis,
                 "x": [float(v).hex() for v in x.reshape(-1)],
                 "pairs_differing": sum(1 for n in bad.values() if n)})


@st.composite
def _case(draw, scale: str):
    fmt = draw(sst.scaled_formats(scale=scale), label="fmt")
    x, axis = draw(sst.hard_block_arrays(fmt), label="x, axis")
    u = draw(sst.uniform_arrays(x.shape), label="uniforms")
    return fmt, x, axis, u


def scaled_fast_matches_reference(*, quantize=fast.quantize,
                                  reference_quantize=reference.quantize):
    @settings(max_examples=_EXAMPLES)
    @given(_case("e8m0"))
    @example((*_MX_EXAMPLES[0], _U))
    @example((*_MX_EXAMPLES[1], _U))
    @example((*_MX_EXAMPLES[2], _U))
    def test_scaled_fast_matches_reference(case):
        """MX (E8M0 scales, every rule): the fast path returns the reference's bits."""
        fmt, x, axis, u = case
        _check_every_mode("test_scaled_fast_matches_reference", fmt, x, axis, u, quantize,
                          reference_quantize)
    return test_scaled_fast_matches_reference


test_scaled_fast_matches_reference = scaled_fast_matches_reference()


def nvfp4_fast_matches_reference(*, quantize=fast.quantize,
                                 reference_quantize=reference.quantize):
    @settings(max_examples=_EXAMPLES)
    @given(_case("e4m3"))
    @example((*_NV_EXAMPLES[0], _U))
    def test_nvfp4_fast_matches_reference(case):
        """NVFP4-like formats (E4M3 block scales under a float32 per-tensor scale): the
        fast path returns the float64 the reference rounds the exact value to."""
        fmt, x, axis, u = case
        _check_every_mode("test_nvfp4_fast_matches_reference", fmt, x, axis, u, quantize,
                          reference_quantize)
    return test_nvfp4_fast_matches_reference


test_nvfp4_fast_matches_reference = nvfp4_fast_matches_reference()
