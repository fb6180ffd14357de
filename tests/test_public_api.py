"""Pin the documented public surface: names, keyword names and defaults users script against."""

import inspect

import pytest

import lpsgd
import lpsgd.fast
import lpsgd.reference
import lpsgd.testing
import lpsgd.theory
from lpsgd.cli import COMMANDS, build_parser


def test_top_level_all_is_pinned():
    assert sorted(lpsgd.__all__) == sorted([
        "AssumptionError", "InvalidArgument", "Format", "preset", "RoundingMode",
        "ROUNDING_MODES", "fast", "reference", "theory", "objectives", "schedules",
        "shrinkage", "stress", "__version__"])
    for name in lpsgd.__all__:
        assert hasattr(lpsgd, name), name


def _params(fn):
    return {n: (p.kind, p.default) for n, p in inspect.signature(fn).parameters.items()}


@pytest.mark.parametrize("layer", [lpsgd.fast, lpsgd.reference], ids=["fast", "reference"])
def test_quantize_signature(layer):
    assert list(inspect.signature(layer.quantize).parameters) == [
        "x", "fmt", "rounding", "rng", "uniforms", "saturate", "axis"]
    p = _params(layer.quantize)
    assert p["rounding"][1] == "nearest_even"
    assert p["saturate"] == (inspect.Parameter.KEYWORD_ONLY, False)
    assert p["rng"] == (inspect.Parameter.KEYWORD_ONLY, None)
    assert p["uniforms"] == (inspect.Parameter.KEYWORD_ONLY, None)
    assert p["axis"] == (inspect.Parameter.KEYWORD_ONLY, -1)  # the block axis, scaled formats


def test_fast_and_reference_layers_mirror_each_other():
    for name in ("quantize",):
        assert _params(getattr(lpsgd.fast, name)) == _params(getattr(lpsgd.reference, name))
    for module in ("sgd", "expectations"):
        fast_mod, ref_mod = getattr(lpsgd.fast, module), getattr(lpsgd.reference, module)
        for fn_name in ("run",) if module == "sgd" else ("quadratic_moments",
                                                         "stationary_floor"):
            assert _params(getattr(fast_mod, fn_name)) == _params(getattr(ref_mod, fn_name))


THEOREMS = {
    "theorem1": ["L", "c", "M", "M_V", "M_q", "mu", "q_min", "q_max", "gap", "k"],
    "theorem2": ["L", "c", "M", "M_V", "M_q", "beta", "gamma", "q_min", "q_max", "gap", "k"],
    "theorem3": ["L", "M", "M_V", "M_q", "mu", "q_min", "q_max", "gap", "K"],
    "theorem4": ["L", "M", "M_V", "M_q", "mus", "q_min", "q_max", "gap"],
    "theorem6": ["L", "c", "d", "mu", "t", "q_lo", "q_hi", "gap", "k"],
    "theorem7": ["L", "c", "d", "M", "M_V", "fmt", "mu", "gap", "k"],
}


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_theorem_signatures_are_keyword_only(name):
    params = inspect.signature(getattr(lpsgd.theory, name)).parameters
    assert sorted(params) == sorted(THEOREMS[name])
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())


def test_check_quantizer_signature():
    p = _params(lpsgd.testing.check_quantizer)
    assert list(p)[:3] == ["fn", "fmt", "rounding"]
    assert p["rounding"][1] == "nearest_even"
    assert p["seed"] == (inspect.Parameter.KEYWORD_ONLY, 0)
    assert "examples" in p


def test_every_command_of_api_md_is_registered():
    # the five commands of the public surface, plus findings (real data)
    assert set(COMMANDS) == {"report", "verify", "quantize", "formats", "bench", "findings"}
    help_text = build_parser().format_help()
    for name in COMMANDS:
        assert name in help_text
