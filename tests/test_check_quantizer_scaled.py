"""check_quantizer on scaled formats: lpsgd's block quantiser passes, broken ones are caught.

The user's function gets whole arrays, blocks along the last axis.  A block quantiser
written independently here with numpy (frexp exponents, lpsgd.fast.quantize for the
elements) passes too; each of its deliberate defects (a float log2 for the exponent, ties
away, a NaN-ignoring maximum, lost zero signs, no clamping to X_f, the floor rule given
for rceil, a short last block scaled by its predecessor, a biased or deterministic
"stochastic" rounding) is reported, with examples that replay.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import lpsgd
from lpsgd.bitwise import same_values
from lpsgd.errors import InvalidArgument
from lpsgd.rounding import DETERMINISTIC_MODES
from lpsgd.scaled import SCALED_PRESETS, ScaledFormat, as_scaled_format
from lpsgd.testing import (
    SCALED_KINDS,
    assert_quantizer,
    check_quantizer,
    scaled_inputs,
)

EXAMPLES = 300  # random elements on top of the hard blocks (a few hundred blocks in all)


def _lpsgd(fmt, mode="nearest_even", **kw):
    return lambda x: lpsgd.fast.quantize(x, fmt, mode, **kw)


def block_quantizer(fmt, mode="nearest_even", *, log2=False, ties_away=False, nanmax=False,
                    no_clamp=False, drop_zero_sign=False, short_uses_previous=False):
    """An MX block quantiser written from the definition (E8M0 scales, floor rule), with
    optional defects."""
    sf = as_scaled_format(fmt)

    def fn(x):
        x = np.asarray(x, dtype=np.float64)
        n, size = x.shape[-1], sf.block_size
        nb = -(-n // size)
        pad = nb * size - n
        xp = np.concatenate([x, np.zeros(x.shape[:-1] + (pad,))], axis=-1) if pad else x
        blocks = xp.reshape(x.shape[:-1] + (nb, size))
        with np.errstate(all="ignore"):
            amax = (np.nanmax if nanmax else np.max)(np.abs(blocks), axis=-1, keepdims=True)
            if short_uses_previous and pad and nb > 1:
                amax[..., -1, :] = amax[..., -2, :]
            ok = np.isfinite(amax) & (amax > 0)
            safe = np.where(ok, amax, 1.0)
            big = np.floor(np.log2(safe)) if log2 else np.frexp(safe)[1] - 1.0
            e = np.clip(big - sf.emax_f, -127, 127).astype(int)
            y = np.ldexp(blocks, -e)
            m = "nearest_away" if ties_away else mode
            q = lpsgd.fast.quantize(y, sf.grid, m, saturate=not no_clamp)
            if no_clamp:
                q = np.where(np.abs(y) > float(sf.x_f), np.sign(y) * np.inf, q)
            if sf.kind == "int":  # int8 elements: the grid is wider than +-127/64
                q = np.copysign(np.minimum(np.abs(q), float(sf.x_f)), q)
            r = np.ldexp(q, e)
            zero = 0.0 if drop_zero_sign else np.copysign(0.0, blocks)
            r = np.where(amax == 0, zero, r)
            r = np.where(np.isfinite(amax), r, np.nan)
        return r.reshape(x.shape[:-1] + (nb * size,))[..., :n]

    return fn


def _replays(fn, conf) -> None:
    """Every reported example replays: the recorded input rebuilds exactly; fn on it gives
    `got` again at the recorded position (deterministic modes) and the exact reference
    gives `want` (for stochastic modes: one of its two outcomes, or the exact mean)."""
    assert conf.details, "a mismatch was reported without an example"
    for m in conf.details:
        x = eval(m.replay(), {"np": np})
        assert x.shape == m.shape and same_values(x.reshape(-1)[m.index], m.x)
        assert same_values(np.array(m.block), x.reshape(-1)[m.index]).any()
        if conf.method == "bitwise":
            want = lpsgd.reference.quantize(x, conf.fmt, conf.rounding).reshape(-1)[m.index]
            assert same_values(want, m.want), m
            with np.errstate(all="ignore"):
                again = np.asarray(fn(x.copy())).reshape(-1)[m.index]
            assert same_values(again, m.got), m
            assert not same_values(m.got, m.want), m
            continue
        ends = [lpsgd.reference.quantize(x, conf.fmt, conf.rounding, uniforms=np.full(
            x.shape, u)).reshape(-1)[m.index] for u in (0.0, float(np.nextafter(1.0, 0)))]
        if m.kind in ("statistics", "bias"):
            lo, hi = sorted(ends, key=abs)
            assert m.want == pytest.approx(lo + m.p_hi * (hi - lo), rel=1e-12, abs=0), m
        else:
            assert any(same_values(e, m.want) for e in ends), m
            assert not any(same_values(e, m.got) for e in ends), m


# ------------------------------------------------------------------------- correct ones


@pytest.mark.parametrize("name", list(SCALED_PRESETS))
def test_lpsgd_fast_conforms_on_every_scaled_preset(name):
    conf = check_quantizer(_lpsgd(name), name, examples=EXAMPLES)
    assert conf.ok and conf.mismatches == 0, conf.summary()
    assert conf.method == "bitwise" and conf.checked > 2000


@pytest.mark.parametrize("mode", DETERMINISTIC_MODES)
@pytest.mark.parametrize("fmt", [SCALED_PRESETS["mxfp4_e2m1"],
                                 pytest.param(ScaledFormat("float6_e2m3fn", block_size=5,
                                                           rule="ceil"),
                                              marks=pytest.mark.slow),
                                 ScaledFormat("float8_e4m3", block_size=3, scale="e4m3",
                                              rule="nearest"),
                                 pytest.param(SCALED_PRESETS["nvfp4"], marks=pytest.mark.slow),
                                 pytest.param(SCALED_PRESETS["mxint8"], marks=pytest.mark.slow)],
                         ids=lambda f: f.label)
def test_lpsgd_fast_conforms_in_every_mode(fmt, mode):
    conf = check_quantizer(_lpsgd(fmt, mode), fmt, mode, examples=200)
    assert conf.mismatches == 0, conf.summary()


@pytest.mark.parametrize("name", ["mxfp4_e2m1", "mxint8",
                                  pytest.param("mxfp8_e4m3", marks=pytest.mark.slow),
                                  pytest.param("mxfp6_e3m2", marks=pytest.mark.slow)])
def test_an_independent_block_quantizer_conforms(name):
    """Written here from the definition, sharing nothing with lpsgd's block code."""
    conf = check_quantizer(block_quantizer(name), name, examples=EXAMPLES)
    assert conf.mismatches == 0, conf.summary()


@pytest.mark.parametrize("name", ["mxfp4_e2m1", "nvfp4"])
@pytest.mark.parametrize("mode", ["stochastic", "stochastic_equal"])
def test_lpsgd_fast_stochastic_passes_the_statistical_check(name, mode):
    rng = np.random.default_rng(11)
    conf = check_quantizer(_lpsgd(name, mode, rng=rng), name, mode, examples=200, draws=400)
    assert conf.mismatches == 0, conf.summary()
    assert conf.method == "statistical" and conf.checked >= 400


# ------------------------------------------------------------------------ broken ones


@pytest.mark.parametrize("defect, kw, kind", [
    ("float log2 for the block exponent", {"log2": True}, "log2_trap"),
    ("ties away from zero", {"ties_away": True}, "tie"),
    ("a maximum that ignores NaN", {"nanmax": True}, "special"),
    ("zero blocks lose the sign of zero", {"drop_zero_sign": True}, "zero_block"),
    ("no clamping to X_f", {"no_clamp": True}, "clipping"),
    ("a short last block scaled like its predecessor", {"short_uses_previous": True},
     "short_block"),
])
@pytest.mark.parametrize("name", ["mxfp4_e2m1",
                                  pytest.param("mxfp8_e4m3", marks=pytest.mark.slow)])
def test_finds_broken_block_quantizers(name, defect, kw, kind):
    fn = block_quantizer(name, **kw)
    conf = check_quantizer(fn, name, examples=EXAMPLES)
    assert conf.mismatches > 0 and kind in conf.kinds, (defect, conf.kinds)
    assert conf.confirmed == conf.mismatches  # every one re-checked with the reference
    _replays(fn, conf)


def test_finds_the_floor_rule_given_for_rceil():
    fn = block_quantizer("mxfp8_e5m2")
    conf = check_quantizer(fn, "mxfp8_e5m2_rceil", examples=EXAMPLES)
    assert conf.mismatches > 0, conf.summary()
    _replays(fn, conf)


def test_finds_double_rounding_when_a_block_spans_a_thousand_binades():
    """Scaling x by 2^-e in float64 rounds when x / s_B leaves float64's normal range:
    harmless for nearest modes, wrong for directed ones (the element rounds twice)."""
    fn = block_quantizer("mxfp4_e2m1", "up")
    conf = check_quantizer(fn, "mxfp4_e2m1", "up", examples=EXAMPLES)
    assert set(conf.kinds) == {"subnormal"}, conf.kinds
    assert all(m.x != 0 and abs(m.x) < 2.0 ** -1000 for m in conf.details)
    _replays(fn, conf)


def test_finds_ties_away_on_nvfp4():
    fn = _lpsgd("nvfp4", "nearest_away")
    conf = check_quantizer(fn, "nvfp4", "nearest_even", examples=EXAMPLES)
    assert conf.mismatches > 0 and "tie" in conf.kinds, conf.kinds
    _replays(fn, conf)


def test_finds_deterministic_rounding_sold_as_stochastic():
    fn = _lpsgd("mxfp4_e2m1", "nearest_even")
    conf = check_quantizer(fn, "mxfp4_e2m1", "stochastic", examples=200, draws=400)
    assert "statistics" in conf.kinds, conf.kinds
    _replays(fn, conf)


def test_finds_a_small_bias_in_stochastic_block_rounding():
    rng = np.random.default_rng(5)

    def fn(x):  # uniforms skewed towards 0: rounds up a little too often
        return lpsgd.fast.quantize(x, "nvfp4", "stochastic", uniforms=rng.random(x.shape) ** 1.1)

    conf = check_quantizer(fn, "nvfp4", "stochastic", examples=200, draws=1000)
    assert "bias" in conf.kinds or "statistics" in conf.kinds, conf.kinds
    for m in conf.details:
        assert m.freq_hi > m.p_hi  # the direction of the defect


def test_finds_outputs_outside_the_two_neighbours():
    rng = np.random.default_rng(0)

    def fn(x):  # stochastic, but every 7th element is nudged off the grid
        q = lpsgd.fast.quantize(x, "mxfp4_e2m1", "stochastic", rng=rng)
        q[..., ::7] *= 1 + 2.0 ** -20
        return q

    conf = check_quantizer(fn, "mxfp4_e2m1", "stochastic", examples=200, draws=50)
    support = [m for m in conf.details if m.kind not in ("statistics", "bias")]
    assert support and conf.mismatches > 0, conf.summary()
    assert all(m.got_bits != "-" for m in support)
    _replays(fn, conf)


# -------------------------------------------------------------- inputs, messages, errors


@pytest.mark.parametrize("name", list(SCALED_PRESETS))
def test_the_inputs_reach_the_hard_cases(name):
    sf = SCALED_PRESETS[name]
    cases = scaled_inputs(sf, 100, np.random.default_rng(0))
    kinds = {str(k) for _, ks in cases for k in ks.reshape(-1)}
    assert kinds >= set(SCALED_KINDS) - ({"tensor_scale"} if sf.scale == "e8m0" else set())
    values = np.concatenate([x.reshape(-1) for x, _ in cases])
    xf = float(sf.x_f)
    for v in (xf, float(np.nextafter(xf, 0)), float(np.nextafter(xf, math.inf)),
              float(np.nextafter(np.float32(512), np.float32(0))), 5e-324, -0.0):
        assert same_values(values, v).any(), v
    assert np.isnan(values).any() and np.isinf(values).any()
    assert any(x.shape[-1] % sf.block_size for x, _ in cases)       # short last blocks
    assert any(x.ndim == 2 for x, _ in cases) or sf.scale == "e4m3"
    if name == "mxfp8_e4m3":
        assert same_values(values[:, None], np.array([480.0, 500.0])).any(axis=0).all()


def test_assert_quantizer_message_names_the_block_input():
    fn = block_quantizer("mxfp4_e2m1", ties_away=True)
    with pytest.raises(AssertionError) as info:
        assert_quantizer(fn, "mxfp4_e2m1", examples=200)
    text = str(info.value)
    for part in ("mxfp4_e2m1", "blocks of 32", "ACTUAL", "DESIRED", "[tie]", "in the block [",
                 "of an input of shape", "Tolerance: exact"):
        assert part in text, part


def test_as_dict_keeps_the_replay_input():
    import json

    conf = check_quantizer(block_quantizer("mxfp4_e2m1", drop_zero_sign=True), "mxfp4_e2m1",
                           examples=0)
    data = json.loads(json.dumps(conf.as_dict()))
    assert data["format"] == "mxfp4_e2m1" and data["mismatches"] == conf.mismatches > 0
    assert all("np.array([" in e["replay"] for e in data["examples"])


@pytest.mark.parametrize("fn, fmt, message", [
    (lambda x: x[..., :1], "mxfp4_e2m1", "Expected fn to return an array of shape"),
    (lambda x: np.zeros(x.shape, dtype=np.int64), "nvfp4", "floating-point array"),
    (_lpsgd("mxfp4_e2m1"), ScaledFormat, "Expected fmt"),
])
def test_bad_arguments(fn, fmt, message):
    with pytest.raises(InvalidArgument, match=message):
        check_quantizer(fn, fmt, examples=10)
