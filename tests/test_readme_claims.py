"""The README's claims about peers are backed by the pinned facts, which are checked
against the installed versions (tests/test_peers.py): a README that names a peer version
no fact was observed at, or a behaviour whose fact no longer holds, fails here."""

from __future__ import annotations

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
