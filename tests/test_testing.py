"""lpsgd.testing: check_quantizer finds nothing in correct quantisers and finds, with
replayable examples, each kind of defect planted in a broken one."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import lpsgd.fast
import lpsgd.reference
from lpsgd.bitwise import same_values
from lpsgd.errors import InvalidArgument
from lpsgd.formats import PRESETS, Format, preset
from lpsgd.rounding import DETERMINISTIC_MODES, ROUNDING_MODES
from lpsgd.testing import (
    KINDS,
    Conformance,
    assert_quantizer,
    check_quantizer,
    classify,
    random_inputs,
)

F16 = preset("binary16")
H = float.fromhex


def _replays(fn, conf: Conformance) -> None:
    """Every reported example replays: fn gives `got` again and the reference `want`."""
    assert conf.details, "a mismatch was reported without an example"
    for m in conf.details:
        x = np.array([m.x])
        with np.errstate(all="ignore"):
            again = np.asarray(fn(x.copy()), dtype=np.float64)[0]
        want = float(lpsgd.reference.quantize(x, conf.fmt, conf.rounding)[0])
        assert _same(again, m.got), m
        assert _same(want, m.want), m
        assert not _same(m.got, m.want), m


def _same(a: float, b: float) -> bool:
    return bool(same_values(a, b))


# ------------------------------------------------------------------------- correct ones


def test_numpy_float16_cast_conforms_to_binary16_nearest_even():
    conf = check_quantizer(lambda x: x.astype(np.float16), "binary16", "nearest_even")
    assert conf.mismatches == 0 and conf.ok, conf.summary()
    assert conf.checked >= 2 ** 16 - 2 ** 11  # every finite code, at least
    assert conf.examples == [] and conf.method == "bitwise"


@pytest.mark.parametrize("mode", DETERMINISTIC_MODES)
def test_lpsgd_fast_conforms_on_a_small_format(mode):
    conf = check_quantizer(lambda x: lpsgd.fast.quantize(x, "float8_e4m3", mode),
                           "float8_e4m3", mode)
    assert conf.mismatches == 0, conf.summary()


@pytest.mark.parametrize("fmt", ["binary16", "float8_e4m3fn", "float4_e2m1fn", "bfloat16"])
def test_lpsgd_fast_conforms_nearest_even(fmt):
    conf = check_quantizer(lambda x: lpsgd.fast.quantize(x, fmt), fmt, examples=2000)
    assert conf.mismatches == 0, conf.summary()


@pytest.mark.parametrize("mode", ["stochastic", "stochastic_equal"])
@pytest.mark.parametrize("fmt", [preset("float8_e5m2"), Format(4, 3, subnormals=False)])
def test_lpsgd_fast_stochastic_passes_the_statistical_check(mode, fmt):
    # Without subnormals the outcomes below N_min are 0 and N_min, and the probability of
    # N_min is the fraction of the subnormal spacing, not |x| / N_min.
    rng = np.random.default_rng(7)
    conf = check_quantizer(lambda x: lpsgd.fast.quantize(x, fmt, mode, rng=rng),
                           fmt, mode, draws=1000, max_inputs=200)
    assert conf.method == "statistical"
    assert conf.mismatches == 0, conf.summary()
    assert conf.checked > 100 and conf.draws == 1000


SWEEP_FORMATS = [*PRESETS.values(), Format(4, 3, subnormals=False),
                 Format(3, 2, inf=False, nan=True), Format(5, 2, subnormals=False, inf=False,
                                                         nan=False)]


@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("fmt", SWEEP_FORMATS, ids=lambda f: f.label)
def test_lpsgd_fast_conforms_for_every_preset_and_mode(fmt, mode):
    rng = np.random.default_rng(11)
    kw = {"rng": rng} if mode.startswith("stochastic") else {}
    conf = check_quantizer(lambda x: lpsgd.fast.quantize(x, fmt, mode, **kw), fmt, mode,
                           examples=500, draws=300, max_inputs=150)
    assert conf.mismatches == 0, conf.summary()


# -------------------------------------------------------------- planted defects (deterministic)


def test_finds_wrong_ties():
    def fn(x):  # ties away from zero where ties to even is claimed
        return lpsgd.fast.quantize(x, F16, "nearest_away")

    conf = check_quantizer(fn, F16, "nearest_even")
    assert conf.kinds.get("tie", 0) > 0 and set(conf.kinds) <= {"tie", "subnormal", "overflow"}
    _replays(fn, conf)
    tie = next(m for m in conf.details if m.kind == "tie")
    # Simplest first: a binary16 tie needs M + 2 = 12 significant bits, and no more.
    mant, _ = math.frexp(abs(tie.x))
    assert (mant * 2 ** 12).is_integer()
    assert abs(tie.got) > abs(tie.want)


def test_finds_saturation_instead_of_inf():
    def fn(x):
        return lpsgd.fast.quantize(x, F16, saturate=True)

    conf = check_quantizer(fn, F16)
    assert set(conf.kinds) == {"overflow", "infinity"}
    _replays(fn, conf)
    over = [m for m in conf.details if m.kind == "overflow"]
    assert over and all(abs(m.got) == H("0x1.ffcp15") and math.isinf(m.want) for m in over)  # 65504
    # Simplest first: 2^16 has one significant bit and the exponent nearest 0 of all
    # inputs that overflow (those >= the threshold (2 - 2^-11) 2^15 = 65520).
    assert over[0].x == H("0x1p16")
    assert all(abs(m.x) >= H("0x1.ffep15") for m in over)


def test_finds_double_rounding_through_float32():
    def fn(x):
        return x.astype(np.float32).astype(np.float16)

    conf = check_quantizer(fn, F16)
    assert conf.kinds.get("near_tie", 0) > 0
    _replays(fn, conf)
    for m in conf.details:
        if m.kind == "near_tie":
            # The input is not a tie, but its float32 rounding is one.
            assert classify(np.array([m.x]), np.array([m.got]), np.array([m.want]), F16)[0] \
                == "near_tie"
            assert classify(np.array([np.float32(m.x)], dtype=np.float64), np.array([0.0]),
                            np.array([1.0]), F16)[0] == "tie"


def test_finds_flush_to_zero():
    n_min = float(F16.n_min)

    def fn(x):
        y = lpsgd.fast.quantize(x, F16)
        return np.where(np.abs(y) < n_min, np.copysign(0.0, y), y)

    conf = check_quantizer(fn, F16)
    assert set(conf.kinds) == {"subnormal"}
    _replays(fn, conf)
    assert all(m.got == 0 and 0 < abs(m.want) < n_min for m in conf.details)


def test_finds_lost_signed_zero():
    def fn(x):
        return lpsgd.fast.quantize(x, F16) + 0.0  # -0.0 + 0.0 is +0.0

    conf = check_quantizer(fn, F16)
    assert set(conf.kinds) == {"signed_zero"}
    _replays(fn, conf)
    assert conf.examples[0][0] == 0 and math.copysign(1, conf.examples[0][0]) == -1


def test_finds_a_lost_nan_sign():
    """A NaN result keeps the input's sign (an overflow to NaN the sign of x): a quantiser
    that returns +NaN everywhere is caught, on the NaN inputs and the negative overflows."""
    def fn(x):
        q = lpsgd.fast.quantize(x, "float8_e4m3fn")
        return np.where(np.isnan(q), np.nan, q)

    conf = check_quantizer(fn, "float8_e4m3fn", examples=200)
    assert conf.mismatches > 0 and set(conf.kinds) <= {"nan", "infinity", "overflow"}, conf
    assert all(np.isnan(m.got) and np.isnan(m.want) and np.signbit(m.want)
               for m in conf.details)
    _replays(fn, conf)


def test_examples_are_few_per_kind_and_counts_add_up():
    def fn(x):  # two defects at once
        y = lpsgd.fast.quantize(x, F16, "nearest_away", saturate=True)
        return y

    conf = check_quantizer(fn, F16, per_kind=2)
    assert sum(conf.kinds.values()) == conf.mismatches
    for kind in conf.kinds:
        assert 1 <= sum(m.kind == kind for m in conf.details) <= 2
    assert [m.kind for m in conf.details] == sorted((m.kind for m in conf.details),
                                                    key=KINDS.index)
    assert conf.confirmed >= min(conf.mismatches, 2000)


# ------------------------------------------------------------------ planted defects (stochastic)


def test_finds_deterministic_rounding_sold_as_stochastic():
    def fn(x):
        return lpsgd.fast.quantize(x, "float8_e5m2", "nearest_even")

    conf = check_quantizer(fn, "float8_e5m2", "stochastic", draws=200, max_inputs=150)
    assert conf.kinds.get("statistics", 0) > 0
    m = next(d for d in conf.details if d.kind == "statistics")
    assert m.freq_hi in (0.0, 1.0) and 0 < m.p_hi < 1 and m.draws == 200
    assert conf.confirmed >= 1  # the two outcomes re-derived with lpsgd.reference


def test_finds_a_small_pooled_bias():
    rng = np.random.default_rng(3)

    def fn(x):  # u ** 0.95 > u: rounds away from zero a little less often than it should
        return lpsgd.fast.quantize(x, "float8_e5m2", "stochastic",
                                   uniforms=rng.random(x.shape) ** 0.95)

    conf = check_quantizer(fn, "float8_e5m2", "stochastic", draws=1000, max_inputs=200)
    assert "bias" in conf.kinds and "statistics" not in conf.kinds
    assert any("pooled" in n for n in conf.notes)


def test_finds_outputs_outside_the_two_neighbours():
    rng = np.random.default_rng(4)

    def fn(x):
        y = lpsgd.fast.quantize(x, "float8_e5m2", "stochastic", rng=rng)
        return np.where(np.abs(x) == 1.125, 1.5 * np.sign(x), y)  # 1.5 is no neighbour

    conf = check_quantizer(fn, "float8_e5m2", "stochastic", draws=50, max_inputs=20000)
    # 1.125 = (1 + 1.25) / 2 is a tie of float8_e5m2; 1.5 is representable but not one
    # of its two neighbours.
    assert conf.kinds == {"tie": 2} and conf.mismatches == 2
    bad = [m for m in conf.details if abs(m.x) == 1.125]
    assert bad and abs(bad[0].got) == 1.5 and abs(bad[0].want) in (1.0, 1.25)


# ---------------------------------------------------------------------------- assertion form


def test_assert_quantizer_passes_and_returns_the_result():
    conf = assert_quantizer(lambda x: x.astype(np.float16), "fp16")
    assert conf.ok


def test_assert_quantizer_message_is_numpy_testing_style():
    with pytest.raises(AssertionError) as info:
        assert_quantizer(lambda x: lpsgd.fast.quantize(x, F16, saturate=True), "binary16",
                         "nearest_even", examples=100)
    msg = str(info.value)
    for part in ("Claim:", "Tolerance: exact (0 ulp)", "Mismatched inputs:", "binary16",
                 "nearest_even", "ACTUAL:", "DESIRED:", "[overflow]", "0x1.0000000000000p+16",
                 "bits 0x7c00"):
        assert part in msg, (part, msg)
    assert "__tracebackhide__" in assert_quantizer.__code__.co_varnames


def test_as_dict_is_json():
    conf = check_quantizer(lambda x: x.astype(np.float32).astype(np.float16), F16, examples=50)
    text = json.dumps(conf.as_dict())
    assert "near_tie" in text and "replay" in text


def test_random_inputs_are_seeded_and_hit_ties():
    a = random_inputs(F16, 1000, np.random.default_rng(5))
    b = random_inputs(F16, 1000, np.random.default_rng(5))
    assert np.array_equal(a.view(np.int64), b.view(np.int64)) and a.size == 1000
    kinds = classify(a, np.zeros_like(a), np.ones_like(a), F16)
    assert (kinds == "tie").sum() > 50  # expected 100: shift k = 0 of five, on half


def test_classify_kinds_exactly():
    x = np.array([np.nan, np.inf, H("0x1.ffep15"), -0.0, H("0x1p-20"), 1.0, 1 + 2 ** -11,
                  1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -12])
    kinds = classify(x, np.zeros_like(x), np.ones_like(x), F16)
    assert list(kinds) == ["nan", "infinity", "overflow", "signed_zero", "subnormal",
                           "representable", "tie", "near_tie", "rounding"]


# ------------------------------------------------------------------------------- validation


def _ok(x):
    return x.astype(np.float16)


@pytest.mark.parametrize("args, kwargs, message", [
    ((42, "binary16"), {}, "Expected fn to be callable but got fn=42"),
    ((_ok, "fp17"), {}, "Unknown format='fp17'"),
    ((_ok, Format(11, 60)), {}, "Expected a format whose values are all float64"),
    ((_ok, "binary16", "nearest"), {}, "Unknown rounding='nearest'"),
    ((_ok, "binary16"), {"examples": -1}, "Expected examples >= 0 but got examples=-1"),
    ((_ok, "binary16"), {"seed": 1.5}, "Expected seed to be an integer but got seed=1.5"),
    ((_ok, "binary16"), {"per_kind": 0}, "Expected per_kind >= 1 but got per_kind=0"),
    ((_ok, "binary16"), {"draws": 5}, "Expected draws >= 10 but got draws=5"),
    ((_ok, "binary16"), {"false_alarm": 0.0}, "Expected false_alarm > 0 but got false_alarm=0.0"),
    ((_ok, "binary16"), {"false_alarm": 1}, "Expected false_alarm < 1 but got false_alarm=1"),
    ((_ok, "binary16"), {"max_inputs": 0}, "Expected max_inputs >= 1 but got max_inputs=0"),
    ((lambda x: x[:1], "binary16"), {}, "Expected fn to return an array of shape"),
    ((lambda x: x.astype(np.int64), "binary16"), {},
     "Expected fn to return a floating-point array but got dtype int64"),
])
def test_bad_arguments(args, kwargs, message):
    with pytest.raises(InvalidArgument) as info:
        check_quantizer(*args, **kwargs)
    assert message in str(info.value)
