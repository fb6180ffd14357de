"""Peers of scaled formats (lpsgd.peers): gfloat's block functions and torchao's MX
quantiser checked block by block against lpsgd.reference.quantize, every mismatch
explained by an exact model of the peer's choice; ml_dtypes' float8_e8m0fnu against
lpsgd's E8M0 scale codes and rules.  Facts are keyed by the peer's version: inside its
range a fact is asserted, outside it the peer's behaviour is reported."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import lpsgd.reference
from lpsgd import fast, peers
from lpsgd.errors import InvalidArgument
from lpsgd.scaled import SCALED_PRESETS, scaled_preset

H = float.fromhex
MX_FLOAT = ("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1")
NO_NAN = {"mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1", "mxint8"}


def _known(kind: str) -> bool:
    """A kind made only of explained choices (no "other")."""
    return all(part in peers.SCALED_KINDS and part != "other" for part in kind.split("+"))


def _same(a, b) -> bool:
    return bool(peers._peer_same(np.asarray(a, float), np.asarray(b, float)).all())


# ------------------------------------------------------------------------------ gfloat


def test_gfloat_claims_the_mx_presets_in_five_modes():
    pytest.importorskip("gfloat")
    claims = peers.SCALED_PEERS["gfloat"].claims(__import__("gfloat"))
    assert {f for f, _ in claims} == {*MX_FLOAT, "mxint8"}
    assert {m for _, m in claims} == set(peers.GFLOAT_ROUND)
    assert len(claims) == 6 * 5


@pytest.mark.parametrize("fmt", [*MX_FLOAT, "mxint8"])
@pytest.mark.parametrize("mode", list(peers.GFLOAT_ROUND))
def test_gfloat_every_mismatch_is_explained(fmt, mode):
    """Hard cases and random blocks: every block where gfloat differs is reproduced
    exactly by one of the documented choices, and the choices are the expected ones."""
    pytest.importorskip("gfloat")
    report = peers.check_peers(["gfloat"], formats=[fmt], modes=[mode], examples=32 * 16)
    (r,) = report.results
    assert r.checked > 500 and r.mismatches == sum(r.kinds.values())
    assert all(_known(k) for k in r.kinds), r.kinds
    parts = {p for k in r.kinds for p in k.split("+")}
    # the hard cases contain inf blocks and NaN blocks: the inf choice always shows, and
    # NaN raises exactly where the element format has no NaN
    assert "inf_block" in parts
    assert ("raises" in parts) == (fmt in NO_NAN)
    assert parts <= {"inf_block", "raises", "scale_float_log2", "int8_minus_two",
                     "no_negative_zero"}
    if fmt != "mxint8":
        assert parts <= {"inf_block", "raises", "scale_float_log2"}


def test_gfloat_random_blocks_agree_but_for_the_float_log2():
    """On random data (no specials) gfloat's float formats give lpsgd's result bit for
    bit, except where a float64 log2 rounds up (counted, never silently)."""
    pytest.importorskip("gfloat")
    gfloat = __import__("gfloat")
    for name in MX_FLOAT:
        fmt = scaled_preset(name)
        fn = peers.SCALED_PEERS["gfloat"].make(gfloat, fmt, lpsgd.rounding.rounding_mode(
            "nearest_even"))
        res = peers.check_scaled_quantizer(fn, fmt, blocks=48, seed=3, hard=False)
        assert res.blocks == 48 and res.checked == 48 * 32
        assert res.mismatches == res.kinds.get("scale_float_log2", 0), res.kinds


def test_gfloat_replay_lines_give_the_reported_blocks():
    gfloat = pytest.importorskip("gfloat")
    import gfloat.formats  # noqa: F401  (the replay lines use it)

    report = peers.check_peers(["gfloat"], formats=["mxfp8_e4m3"], modes=["nearest_even"],
                               examples=0)
    (r,) = report.results
    assert r.examples
    for ex in r.examples:
        got = eval(ex["replay"], {"np": np, "gfloat": gfloat})
        assert _same(got, [H(v) for v in ex["got"]])
        want = lpsgd.reference.quantize(np.array([H(v) for v in ex["x"]]), "mxfp8_e4m3")
        assert _same(want, [H(v) for v in ex["want"]]) and not _same(got, want)


# ----------------------------------------------------------- the check can fail (control)


def _float_log2_peer(x):
    """mxfp4_e2m1 with the scale exponent from a float64 log2 (the float log2 trap)."""
    fmt = scaled_preset("mxfp4_e2m1")
    out = fast.quantize(x, fmt)
    for r in range(x.shape[0]):
        for lo in range(0, x.shape[1], 32):
            b = x[r, lo:lo + 32]
            if np.isfinite(b).all() and np.max(np.abs(b)) > 0:
                e = peers._float_log2_exponent(float(np.max(np.abs(b))), fmt)
                out[r, lo:lo + 32] = peers._exact_block(
                    b, fmt, lpsgd.rounding.RoundingMode.NEAREST_EVEN, e)
    return out


def test_lpsgd_fast_is_a_peer_without_mismatches():
    res = peers.check_scaled_quantizer(lambda x: fast.quantize(x, "mxfp4_e2m1"), "mxfp4_e2m1",
                                       blocks=16)
    assert res.mismatches == 0 and res.checked > 500


@pytest.mark.parametrize("wrong, kind", [
    # elements rounded toward zero while claiming nearest_even: no model explains it
    (lambda x: fast.quantize(x, "mxfp4_e2m1", "toward_zero"), "other"),
    # the scale exponent from a float64 log2 (the float log2 trap)
    (_float_log2_peer, "scale_float_log2"),
    # negative zeros dropped
    (lambda x: fast.quantize(x, "mxfp4_e2m1") + 0.0, "no_negative_zero"),
])
def test_a_wrong_peer_is_caught_and_named(wrong, kind):
    res = peers.check_scaled_quantizer(wrong, "mxfp4_e2m1", blocks=16)
    assert res.mismatches > 0 and kind in res.kinds, res.kinds


def test_a_block_that_raises_is_counted_per_block():
    def picky(x):
        if np.isnan(x).any():
            raise ValueError("no NaN")
        return fast.quantize(x, "mxfp8_e4m3")

    res = peers.check_scaled_quantizer(picky, "mxfp8_e4m3", blocks=0)
    assert set(res.kinds) == {"raises"} and res.mismatches > 0


def test_stochastic_checks_are_refused():
    with pytest.raises(InvalidArgument, match="Expected a deterministic rounding.*"
                                              "rounding='stochastic'"):
        peers.check_scaled_quantizer(lambda x: x, "mxfp4_e2m1", "stochastic")


def test_scaled_inputs_are_seeded_and_scaled():
    a = peers.scaled_inputs("mxfp8_e4m3", 8, seed=1)
    assert a.shape == (8, 32)
    assert np.array_equal(a, peers.scaled_inputs("mxfp8_e4m3", 8, seed=1))
    assert not np.array_equal(a, peers.scaled_inputs("mxfp8_e4m3", 8, seed=2))
    # one element per block in the element's top binade [2^8, 2^9) times its scale 2^k
    enc = lpsgd.reference.scaled.encode(a, "mxfp8_e4m3")
    amax = np.max(np.abs(a), axis=-1)
    assert np.all((amax >= np.ldexp(1.0, enc.exponents[:, 0] + 8))
                  & (amax < np.ldexp(1.0, enc.exponents[:, 0] + 9)))


# ------------------------------------------------------------------------------ facts


@pytest.mark.parametrize("fact", peers.SCALED_FACTS,
                         ids=lambda f: f"{f.peer}-{f.format}-{f.rounding}-{f.kind}")
def test_scaled_fact_is_explained_by_its_kind(fact):
    """Without the peer: the pinned output is exactly what the fact's kind says (checked
    with lpsgd's exact rounding), and differs from lpsgd's result unless it agrees."""
    fmt = scaled_preset(fact.format)
    x = np.array(fact.x)
    mode = fact.rounding
    if fact.kind == "raises":
        assert fact.got == "ValueError"
        return
    if fact.kind == "no_random_bits":
        assert _same(fact.got, lpsgd.reference.quantize(x, fmt, "toward_zero"))
        assert not _same(fact.got, x)  # something rounded down that stochastic may raise
        return
    want = lpsgd.reference.quantize(x, fmt, mode)
    if fact.kind == "agrees":
        assert _same(fact.got, want)
    else:
        assert not _same(fact.got, want)
        float32 = peers.SCALED_PEERS[fact.peer].float32
        assert peers.explain_block(x, np.array(fact.got), fmt, mode, float32=float32) == \
            fact.kind


@pytest.mark.parametrize("fact", peers.SCALED_FACTS,
                         ids=lambda f: f"{f.peer}-{f.format}-{f.rounding}-{f.kind}")
def test_scaled_fact_holds_on_the_installed_peer(fact):
    pytest.importorskip(fact.peer)
    (result,) = peers.check_scaled_facts([fact.peer], facts=[fact])
    assert result.status in ("holds", "fixed", "persists", "changed"), result.line()
    if fact.applies_to(result.version):
        assert result.status == "holds", result.line()


@pytest.mark.parametrize("fact", [*peers.SCALED_FACTS, *peers.E8M0_FACTS],
                         ids=lambda f: f"{f.peer}-{f.x!r}")
def test_scaled_fact_ranges_hold_the_versions_they_were_checked_at(fact):
    assert fact.checked and all(fact.applies_to(v) for v in fact.checked), fact


def test_every_explained_kind_has_a_pinned_fact():
    pinned = {p for f in peers.SCALED_FACTS for p in f.kind.split("+")}
    assert set(peers.SCALED_KINDS) - {"other"} <= pinned


def test_a_fact_outside_its_range_is_reported_not_failed():
    pytest.importorskip("gfloat")
    real = peers.SCALED_FACTS[0]  # the float log2 fact
    fields = {f: getattr(real, f) for f in ("peer", "format", "rounding", "x", "kind",
                                            "checked", "note")}
    wrong = peers.BlockFact(got=(448.0, 1.0, 3.0), versions=real.versions, **fields)
    outside = peers.BlockFact(got=(448.0, 1.0, 3.0), versions="<0.1", **fields)
    kept = peers.BlockFact(got=real.got, versions="<0.1", **fields)
    assert peers.check_scaled_facts(["gfloat"], facts=[wrong])[0].status == "fails"
    assert peers.check_scaled_facts(["gfloat"], facts=[outside])[0].status == "changed"
    assert peers.check_scaled_facts(["gfloat"], facts=[kept])[0].status == "persists"


# --------------------------------------------------------------------- torchao (optional)


def test_torchao_is_skipped_with_the_reason_when_torch_is_absent(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "torchao", None)
    report = peers.check_peers(["torchao"])
    (status,) = report.skipped
    assert status.name == "torchao" and "not installed" in status.note
    assert "pip install 'lpsgd[torch-peers]'" in status.note
    assert report.results == []
    assert "skipped torchao: not installed" in report.table()
    (st,) = peers.peer_status(["torchao"])
    assert not st.available
    assert all(r.status == "unavailable" for r in peers.check_scaled_facts(["torchao"]))


def test_torchao_claims_floor_and_rceil_presets():
    claims = peers.SCALED_PEERS["torchao"].claims(None)
    assert {f for f, _ in claims} == {*MX_FLOAT, *(f + "_rceil" for f in MX_FLOAT)}
    assert all(f in SCALED_PRESETS for f, _ in claims)


def test_torchao_every_mismatch_is_explained():
    torchao = pytest.importorskip("torchao")  # needs torch: not installed by CI
    report = peers.check_peers(["torchao"], examples=32 * 8)
    assert report.results and all(_known(k) for r in report.results for k in r.kinds)
    del torchao


# ----------------------------------------------------------------- ml_dtypes E8M0 scales


def test_e8m0_every_code_decodes_as_lpsgd_encodes():
    pytest.importorskip("ml_dtypes")
    assert peers.e8m0_code_mismatches() == []


def test_e8m0_code_check_catches_a_wrong_decoder():
    off_by_one = peers.e8m0_code_mismatches(lambda c: np.ldexp(1.0, c.astype(int) - 126))
    assert off_by_one == list(range(256))
    no_nan = peers.e8m0_code_mismatches(lambda c: np.ldexp(1.0, c.astype(int) - 127))
    assert no_nan == [255]


@pytest.mark.parametrize("fact", peers.E8M0_FACTS, ids=lambda f: repr(f.x))
def test_e8m0_fact_agrees_with_the_rules_it_names(fact):
    assert peers.e8m0_agreement(fact.x, fact.got) == fact.agrees


@pytest.mark.parametrize("fact", peers.E8M0_FACTS, ids=lambda f: repr(f.x))
def test_e8m0_fact_holds_on_the_installed_ml_dtypes(fact):
    pytest.importorskip("ml_dtypes")
    (result,) = peers.check_scaled_facts(["ml_dtypes"], facts=[fact])
    assert result.status in ("holds", "persists", "changed"), result.line()
    if fact.applies_to(result.version):
        assert result.status == "holds", result.line()


def test_e8m0_rule_values_are_exact_powers_of_two():
    assert peers.e8m0_rule_values(1.25) == {"floor": 1.0, "ceil": 2.0}
    assert peers.e8m0_rule_values(2.0) == {"floor": 2.0, "ceil": 2.0}
    below = H("0x1.fffffffffffffp+8")  # a float64 log2 would say 9
    assert peers.e8m0_rule_values(below) == {"floor": 256.0, "ceil": 512.0}
    assert peers.e8m0_rule_values(2.0 ** -200) == {"floor": 2.0 ** -127, "ceil": 2.0 ** -127}
    assert peers.e8m0_agreement(-1.0, math.nan) == "neither"


def test_check_peers_lists_the_scaled_facts_of_measured_peers():
    pytest.importorskip("gfloat")
    pytest.importorskip("ml_dtypes")
    report = peers.check_peers(["gfloat", "ml_dtypes"], formats=["mxfp4_e2m1"],
                               modes=["nearest_even"], examples=0)
    assert [(r.peer, r.format) for r in report.results] == [("gfloat", "mxfp4_e2m1")]
    assert {f.fact.format for f in report.facts} == {"mxfp4_e2m1"}
    assert all(f.ok for f in report.facts)
    assert "mxfp4_e2m1" in report.table() and report.as_dict()["facts"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(peers.GFLOAT_ROUND))
def test_gfloat_long_random_sweep_is_explained(mode):
    pytest.importorskip("gfloat")
    report = peers.check_peers(["gfloat"], modes=[mode], examples=32 * 1000, seed=11)
    assert all(_known(k) for r in report.results for k in r.kinds)


def test_peer_status_lists_the_scaled_peers_and_names_are_checked():
    names = [s.name for s in peers.peer_status()]
    assert names[-2:] == peers.scaled_peer_names() == ["gfloat", "torchao"]
    with pytest.raises(InvalidArgument, match="Unknown peer='gfloatt'.*Did you mean 'gfloat'"):
        peers.check_peers(["gfloatt"])
    # the element-format timings take element peers only
    with pytest.raises(InvalidArgument, match="Unknown peer='gfloat'"):
        peers.benchmark(peers=["gfloat"], size=8, repeat=1)


def test_every_kind_says_whether_it_is_a_choice_or_a_defect():
    for kind, text in peers.SCALED_KINDS.items():
        assert kind == "other" or text.split(":")[0] in ("choice", "defect"), kind
