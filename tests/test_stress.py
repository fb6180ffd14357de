"""lpsgd.stress.stress_values: deterministic, and it holds the hard cases it promises."""

from __future__ import annotations

import numpy as np
import pytest

from lpsgd.formats import PRESETS, Format
from lpsgd.stress import stress_values


def _has(v: np.ndarray, *wanted: float) -> None:
    __tracebackhide__ = True
    bits = set(v.view(np.uint64).tolist())
    for w in wanted:
        assert np.float64(w).view(np.uint64) in bits, f"missing {float(w)!r} ({float(w).hex()})"


@pytest.mark.parametrize("name", list(PRESETS))
def test_shape_dtype_unique_deterministic(name: str) -> None:
    v = stress_values(name)
    assert v.dtype == np.float64 and v.ndim == 1
    assert len(np.unique(v.view(np.uint64))) == len(v)
    assert np.array_equal(v.view(np.uint64), stress_values(name).view(np.uint64))
    assert np.isnan(v).sum() == 1
    _has(v, 0.0, -0.0, np.inf, -np.inf)
    # signs are symmetric
    finite = v[np.isfinite(v)]
    assert set((-finite).view(np.uint64).tolist()) == set(finite.view(np.uint64).tolist())


def test_boundaries_of_binary16() -> None:
    v = stress_values("binary16")
    s, nmin, xmax = 2.0 ** -24, 2.0 ** -14, 65504.0
    _has(v, s, s / 2, np.nextafter(s / 2, 1), np.nextafter(s / 2, 0), 1.5 * s,
         nmin, nmin - s, nmin - s / 2, xmax, 65520.0, np.nextafter(65520.0, 0),
         np.nextafter(65520.0, np.inf), 65536.0, np.nextafter(1.0, 0), 1.0 + 2.0 ** -11,
         -(1.0 + 2.0 ** -11), np.nextafter(1.0 + 2.0 ** -11, 2))
    # every finite code of the format, and every tie between neighbouring codes
    codes = PRESETS["binary16"].codes()
    codes = codes[np.isfinite(codes)]
    _has(v, *codes[::97])
    assert np.isin(codes.view(np.uint64), v.view(np.uint64)).all()


def test_every_code_and_tie_of_a_small_format() -> None:
    f = Format(3, 2, subnormals=False, inf=False, nan=False)
    v = stress_values(f)
    codes = np.unique(np.abs(f.codes()))
    assert np.isin(codes.view(np.uint64), v.view(np.uint64)).all()
    ties = (codes[:-1] + codes[1:]) / 2
    assert np.isin(ties.view(np.uint64), v.view(np.uint64)).all()
    assert np.isin(np.nextafter(ties, 0).view(np.uint64), v.view(np.uint64)).all()


def test_max_values_keeps_boundaries_and_seed_varies_sample() -> None:
    full = stress_values("bfloat16")
    small = stress_values("bfloat16", max_values=500)
    assert len(small) == 500 and np.isin(small.view(np.uint64), full.view(np.uint64)).all()
    _has(small, float(PRESETS["bfloat16"].x_max), 2.0 ** -126, 2.0 ** -134, np.inf, 0.0)
    other = stress_values("bfloat16", seed=1, max_values=500)
    assert not np.array_equal(small.view(np.uint64), other.view(np.uint64))


def test_wide_formats_give_float64_values() -> None:
    v = stress_values(Format(15, 112))
    assert v.dtype == np.float64 and len(v) > 100
    _has(v, 1.0, -1.0, 2.0 ** -1074, float(np.finfo(np.float64).max))
