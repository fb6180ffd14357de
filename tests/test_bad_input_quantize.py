"""Every bad argument of the quantisers, in one table: a clear InvalidArgument naming the
argument and its value, and the input left unchanged.

Each row: an id, the call (a function of the input array x and returning nothing), and a
regular expression the message must match.  Rows without "fast"/"reference" in the id
run against both quantisers.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format
from lpsgd.stress import stress_values

BOTH = {"fast": fast.quantize, "reference": reference.quantize}


def _x() -> np.ndarray:
    return np.array([1.0, -2.5, 0.1, -0.0, 3e-8])


def _rows():
    rows = []

    def add(name, call, pattern, which=("fast", "reference")):
        for w in which:
            rows.append(pytest.param(w, call, pattern, id=f"{w}-{name}"))

    # names
    add("unknown format", lambda q, x: q(x, "binary17"),
        r"Unknown format='binary17'; valid values are: .*binary16.*Did you mean 'binary16'")
    add("unknown mode", lambda q, x: q(x, "binary16", "nearest"),
        r"Unknown rounding='nearest'; valid values are: nearest_even, .*Did you mean")
    add("mode with wrong case", lambda q, x: q(x, "binary16", "Stochastic"),
        r"Unknown rounding='Stochastic'.*Did you mean 'stochastic'")
    add("format of wrong type", lambda q, x: q(x, 16),
        r"Expected fmt to be a Format or a preset name but got fmt=16")
    add("saturate not a bool", lambda q, x: q(x, "binary16", saturate="yes"),
        r"Expected saturate to be a bool but got saturate='yes'")
    # impossible formats (the Format itself refuses)
    add("exp_bits < 1", lambda q, x: q(x, Format(0, 3)),
        r"Expected exp_bits >= 1 but got exp_bits=0")
    add("man_bits < 0", lambda q, x: q(x, Format(5, -1)),
        r"Expected man_bits >= 0 but got man_bits=-1")
    add("IEEE E=1 has no normals", lambda q, x: q(x, Format(1, 2)),
        r"has no normal numbers")
    add("too wide for the fast path", lambda q, x: q(x, Format(15, 112)),
        r"fmt=e15m112 .*does not fit binary64.*use lpsgd.reference.quantize", ("fast",))
    add("exponent too wide for fast path", lambda q, x: q(x, Format(12, 10)),
        r"does not fit binary64.*lpsgd.reference.quantize", ("fast",))
    # randomness
    add("rng with deterministic mode",
        lambda q, x: q(x, "binary16", rng=np.random.default_rng(0)),
        r"rng is only used by stochastic modes; got rng=Generator.*rounding='nearest_even'")
    add("uniforms with deterministic mode",
        lambda q, x: q(x, "binary16", "up", uniforms=np.zeros(5)),
        r"uniforms are only used by stochastic modes.*rounding='up'")
    add("both rng and uniforms",
        lambda q, x: q(x, "binary16", "stochastic", rng=np.random.default_rng(0),
                       uniforms=np.zeros(5)),
        r"Expected rng or uniforms, not both")
    add("neither rng nor uniforms", lambda q, x: q(x, "binary16", "stochastic_equal"),
        r"rounding='stochastic_equal' needs randomness: pass rng=")
    add("rng is a seed", lambda q, x: q(x, "binary16", "stochastic", rng=42),
        r"Expected rng to be a numpy.random.Generator .* but got rng=42")
    add("rng is a RandomState",
        lambda q, x: q(x, "binary16", "stochastic", rng=np.random.RandomState(0)),
        r"Expected rng to be a numpy.random.Generator")
    add("uniforms of wrong shape",
        lambda q, x: q(x, "binary16", "stochastic", uniforms=np.zeros(4)),
        r"Expected uniforms of shape \(5,\) \(the shape of x\) but got uniforms of shape \(4,\)")
    add("uniforms equal to 1",
        lambda q, x: q(x, "binary16", "stochastic", uniforms=np.ones(5)),
        r"Expected uniforms in \[0, 1\) but got uniforms containing 1.0")
    add("negative uniforms",
        lambda q, x: q(x, "binary16", "stochastic", uniforms=np.full(5, -0.25)),
        r"Expected uniforms in \[0, 1\) but got uniforms containing -0.25")
    add("NaN uniforms",
        lambda q, x: q(x, "binary16", "stochastic", uniforms=np.array([0, 0, np.nan, 0, 0.])),
        r"Expected uniforms in \[0, 1\) but got uniforms containing nan")
    add("integer uniforms",
        lambda q, x: q(x, "binary16", "stochastic", uniforms=np.zeros(5, dtype=int)),
        r"Expected uniforms to be a float64 or float32 array .* of dtype int64")
    # inputs
    add("int scalar", lambda q, x: q(3, "binary16"), r"Expected x to be .* but got x=3 of type int")
    add("bool scalar", lambda q, x: q(True, "binary16"), r"but got x=True")
    add("int array", lambda q, x: q(np.arange(3), "binary16"),
        r"Expected x to be .* of dtype int64")
    add("list of ints", lambda q, x: q([1, 2], "binary16"), r"Expected x to be")
    add("complex", lambda q, x: q(np.array([1 + 2j]), "binary16"), r"of dtype complex128")
    add("string", lambda q, x: q("1.5", "binary16"), r"but got x='1.5' of type str")
    add("float16 array", lambda q, x: q(x.astype(np.float16), "binary16"),
        r"Expected x to be a float64 or float32 .* of dtype float16")
    add("object array on the fast path",
        lambda q, x: q(np.array([mpmath.mpf(1)], dtype=object), "binary16"),
        r"of dtype object; object arrays and mpf values: use lpsgd.reference.quantize",
        ("fast",))
    add("mpf on the fast path", lambda q, x: q(mpmath.mpf(1), "binary16"),
        r"use lpsgd.reference.quantize", ("fast",))
    add("object array with an int",
        lambda q, x: q(np.array([1.0, 2], dtype=object), "binary16"),
        r"Expected every element of x to be a float or an mpmath mpf but got 2 of type int",
        ("reference",))
    add("ragged nested list", lambda q, x: q([[1.0], [1.0, 2.0]], "binary16"),
        r"but got x=\[\[1.0\], \[1.0, 2.0\]\], which numpy cannot turn into an array \(rows "
        r"of different lengths, or an element that is not a float64\)$")
    add("ragged nested list, scalar row", lambda q, x: q([1.0, [2.0, 3.0]], "binary16"),
        r"but got x=\[1.0, \[2.0, 3.0\]\], which numpy cannot turn into an array")
    add("numpy integer format arguments are exact",
        lambda q, x: q(x, Format(np.int64(5), np.uint64(60))),
        r"fmt=e5m60 \(exp_bits=5, man_bits=60\) does not fit binary64", ("fast",))
    add("float32 result out of float32 range",
        lambda q, x: q(np.array([np.finfo(np.float32).max]), Format(9, 10), "up"),
        r"is not representable in float32")
    return rows


@pytest.mark.parametrize("which, call, pattern", _rows())
def test_bad_input(which: str, call, pattern: str) -> None:
    x = _x()
    before = x.copy()
    with pytest.raises(InvalidArgument, match=pattern):
        call(BOTH[which], x)
    np.testing.assert_array_equal(x.view(np.uint64), before.view(np.uint64))


@pytest.mark.parametrize("call, pattern", [
    (lambda: stress_values("binary16", seed=-1), r"Expected seed >= 0 but got seed=-1"),
    (lambda: stress_values("binary16", max_values=0), r"Expected max_values >= 1"),
    (lambda: stress_values("fp17"), r"Unknown format='fp17'.*Did you mean"),
])
def test_bad_input_stress_values(call, pattern: str) -> None:
    with pytest.raises(InvalidArgument, match=pattern):
        call()
