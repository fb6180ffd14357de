"""The README's claims about peers are backed by the pinned facts, which are checked
against the installed versions (tests/test_peers.py): a README that names a peer version
no fact was observed at, or a behaviour whose fact no longer holds, fails here."""

from __future__ import annotations

import math
import re

import pytest

from lpsgd import peers
from lpsgd.report.suite import checkout_root

README = (checkout_root() / "README.md").read_text(encoding="utf-8")


def _mentioned_versions() -> set[tuple[str, str]]:
    names = "|".join(n for n in peers.PEERS if n != "numpy")
    return {(m.group(1), m.group(2))
            for m in re.finditer(rf"\b({names}) (?:from )?(\d+(?:\.\d+)+)\b", README)}


def test_readme_names_only_versions_the_facts_were_observed_at_or_bound():
    mentioned = _mentioned_versions()
    assert mentioned, "the README states no peer versions"
    for peer, version in mentioned:
        facts = [f for f in peers.FACTS if f.peer == peer]
        known = {v for f in facts for v in f.checked}
        bounds = {b for f in facts for b in re.findall(r"\d+(?:\.\d+)+", f.versions)}
        assert version in known | bounds, (peer, version)


@pytest.mark.parametrize("phrase, peer, x_hex, holds_from", [
    # "ml_dtypes from 0.5.4 to 0.6 rounds float64 through float32 (double rounding) and
    # from 0.7 rounds it once, exactly"
    ("rounds float64 through float32", "ml_dtypes", "0x1.0100000001000p+0", "0.5.4"),
    ("from 0.7 rounds it once", "ml_dtypes", "0x1.0100000001000p+0", "0.7"),
])
def test_readme_ml_dtypes_claims_are_facts(phrase, peer, x_hex, holds_from):
    assert phrase in README
    facts = [f for f in peers.FACTS if f.peer == peer and f.x.hex() == x_hex
             and f.applies_to(holds_from)]
    assert len(facts) == 1, facts
    pytest.importorskip(peer)
    (result,) = peers.check_facts([peer], facts=facts)
    assert result.ok, result.line()


# -- scaled-format peers and ml_dtypes' E8M0 type ------------------------------------------

SCALED_AND_E8M0 = (*peers.SCALED_FACTS, *peers.E8M0_FACTS)


def test_readme_names_only_scaled_peer_versions_the_facts_were_observed_at():
    names = "|".join(peers.SCALED_PEERS)
    mentioned = {(m.group(1), m.group(2))
                 for m in re.finditer(rf"\b({names}) (\d+(?:\.\d+)+)\b", README)}
    assert {p for p, _ in mentioned} == set(peers.SCALED_PEERS), mentioned
    for peer, version in mentioned:
        known = {v for f in SCALED_AND_E8M0 if f.peer == peer for v in f.checked}
        assert version in known, (peer, version)


@pytest.mark.parametrize("phrase, peer, version, kind", [
    ("takes the floor\nexponent from a float64 log2", "gfloat", "0.5.2", "scale_float_log2"),
    ("gives a block holding inf the scale 2^127 instead of NaN", "gfloat", "0.5.2",
     "inf_block"),
    ("raises\nValueError on NaN in an element format without NaN", "gfloat", "0.5.2",
     "raises"),
    ("lets mxint8 elements reach -2", "gfloat", "0.5.2", "int8_minus_two"),
    ("drops their -0", "gfloat", "0.5.2", "no_negative_zero"),
    ("gets no random bits, so it rounds toward zero", "gfloat", "0.5.2", "no_random_bits"),
    ("encodes a block of scale 2^-127 with 2^-126 but decodes it with 2^-127", "torchao",
     "0.18.0", "encode_2^-126_decode_2^-127"),
    ("under rceil flushes such a block to zero", "torchao", "0.18.0",
     "rceil_code0_unscaled"),
    ("a block holding inf keeps the\ninf", "torchao", "0.18.0", "inf_block"),
])
def test_readme_scaled_peer_claims_are_facts(phrase, peer, version, kind):
    assert phrase in README
    facts = [f for f in peers.SCALED_FACTS if f.peer == peer and f.kind == kind
             and f.applies_to(version)]
    assert facts, (peer, kind)
    if kind == "inf_block" and peer == "torchao":
        assert all(math.isinf(f.got[0]) for f in facts)
    if kind == "encode_2^-126_decode_2^-127":  # "halving it"
        assert all(g == x / 2 for f in facts for g, x in zip(f.got, f.x))
    if kind == "rceil_code0_unscaled":
        assert all(f.format.endswith("_rceil") and not any(f.got) for f in facts)
    pytest.importorskip(peer)
    assert all(r.ok for r in peers.check_scaled_facts([peer], facts=facts))


def test_readme_e8m0_claims_are_facts():
    assert "ml_dtypes 0.7.0's float8_e8m0fnu" in README
    facts = [f for f in peers.E8M0_FACTS if f.applies_to("0.7.0")]
    by_x = {f.x: f for f in facts}
    # "ties 1.5 2^E up"
    assert "ties 1.5 2^E up" in README
    assert by_x[1.5].got == 2.0 and by_x[3.0].got == 4.0
    # "neither the floor nor the ceil rule": it agrees with floor on some values and with
    # ceil on others
    assert "neither the floor nor the\nceil rule" in README
    assert {f.agrees for f in facts} >= {"floor", "ceil"}
    # "0 and negative values give NaN"
    assert "0 and negative values give NaN" in README
    assert math.isnan(by_x[0.0].got) and math.isnan(by_x[-2.0].got)
    pytest.importorskip("ml_dtypes")
    assert "decodes all 256 codes" in README and peers.e8m0_code_mismatches() == []
    assert all(r.ok for r in peers.check_scaled_facts(["ml_dtypes"], facts=facts))
