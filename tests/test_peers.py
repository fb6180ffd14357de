"""lpsgd.peers: missing peers are skipped with a note; checks of installed peers give
facts with replayable examples; a few deterministic facts about the installed peers are
pinned (each `want` comes from lpsgd.reference, each `got` is the peer's output)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import lpsgd.reference
from lpsgd import peers
from lpsgd.errors import InvalidArgument

H = float.fromhex


def _bits_equal(a: float, b: float) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or (
        np.float64(a).view(np.int64) == np.float64(b).view(np.int64))


# ------------------------------------------------------------------------- missing peers


@pytest.fixture
def no_pychop(monkeypatch):
    # A None entry makes `import pychop` raise ModuleNotFoundError, as if not installed.
    monkeypatch.setitem(sys.modules, "pychop", None)


def test_missing_peer_is_reported_not_raised(no_pychop):
    status = {s.name: s for s in peers.peer_status()}
    assert not status["pychop"].available
    assert "not installed" in status["pychop"].note and "lpsgd[peers]" in status["pychop"].note
    assert status["numpy"].available and status["numpy"].version == np.__version__
    assert peers.claims("pychop") == []


def test_check_peers_skips_a_missing_peer(no_pychop):
    report = peers.check_peers(["pychop", "numpy"], formats=["binary16"], examples=10)
    assert [s.name for s in report.skipped] == ["pychop"]
    assert [s.name for s in report.measured] == ["numpy"]
    assert [(r.peer, r.format, r.mismatches) for r in report.results] == [
        ("numpy", "binary16", 0)]
    assert "skipped pychop: not installed" in report.table()


def test_benchmark_skips_a_missing_peer(no_pychop):
    table = peers.benchmark(size=64, repeat=1, formats=["binary16"], modes=["up"],
                            peers=["pychop"], reference_size=4)
    assert [s.name for s in table.skipped] == ["pychop"]
    assert {r.implementation for r in table.rows} == {"lpsgd.fast", "lpsgd.reference"}
    assert "skipped pychop" in table.text()


def test_quantizer_of_a_missing_peer_is_an_invalid_argument(no_pychop):
    with pytest.raises(InvalidArgument, match="peer='pychop' is not available"):
        peers.quantizer("pychop", "binary16")


def test_a_peer_that_fails_on_import_is_skipped(monkeypatch, tmp_path):
    (tmp_path / "lpsgd_test_broken_peer.py").write_text("raise RuntimeError('no CUDA')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = peers.Peer("broken", "lpsgd_test_broken_peer", lambda m: [], None, None)
    monkeypatch.setitem(peers.PEERS, "broken", broken)
    (status,) = peers.peer_status(["broken"])
    assert not status.available and status.note == "import failed: RuntimeError: no CUDA"
    assert peers.check_peers(["broken"]).skipped == [status]


def test_qtorch_is_skipped_without_torch():
    if "qtorch" in sys.modules or _importable("qtorch"):
        pytest.skip("qtorch is installed here")
    (status,) = peers.peer_status(["qtorch"])
    assert not status.available and "not installed" in status.note


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_unknown_peer_and_claim():
    with pytest.raises(InvalidArgument, match="Unknown peer='pychopp'.*Did you mean 'pychop'"):
        peers.peer_status(["pychopp"])
    with pytest.raises(InvalidArgument, match="Unknown numpy claim='bfloat16/nearest_even'"):
        peers.quantizer("numpy", "bfloat16")


# --------------------------------------------------------------------------- checks (facts)


def test_numpy_casts_have_no_mismatches():
    report = peers.check_peers(["numpy"], examples=500)
    assert {(r.format, r.rounding) for r in report.results} == {
        ("binary16", "nearest_even"), ("binary32", "nearest_even")}
    assert all(r.mismatches == 0 and r.checked > 1000 for r in report.results)


@pytest.mark.parametrize("peer, fmt, mode", [
    ("pychop", "binary16", "nearest_even"),
    ("pychop", "float8_e5m2", "odd"),
])
def test_every_reported_example_replays(peer, fmt, mode):
    mod = pytest.importorskip(peer)
    report = peers.check_peers([peer], formats=[fmt], modes=[mode], examples=500)
    (result,) = report.results
    assert result.mismatches == sum(result.kinds.values()) > 0
    assert result.examples
    for ex in result.examples:
        got = eval(ex["replay"], {"np": np, peer: mod})[0]  # the line a user would paste
        x = H(ex["x_hex"])
        want = lpsgd.reference.quantize(np.array([x]), fmt, mode)[0]
        assert _bits_equal(got, float(ex["got"])) and _bits_equal(want, float(ex["want"]))
        assert not _bits_equal(got, want)


def _ml_dtypes_double_rounds() -> bool:
    """Whether the installed ml_dtypes is in the range of the double-rounding facts."""
    mod = pytest.importorskip("ml_dtypes")
    return any(f.peer == "ml_dtypes" and f.got == 1.0 and f.applies_to(mod.__version__)
               for f in peers.FACTS)


def test_ml_dtypes_examples_replay_or_agree():
    """Versions that round float64 through float32 have replayable mismatches in bfloat16;
    versions that round once have none."""
    report = peers.check_peers(["ml_dtypes"], formats=["bfloat16"], examples=500)
    (result,) = report.results
    if _ml_dtypes_double_rounds():
        assert result.mismatches > 0 and set(result.kinds) <= {"near_tie", "subnormal",
                                                               "overflow"}
        test_every_reported_example_replays("ml_dtypes", "bfloat16", "nearest_even")
    else:
        assert result.mismatches == 0 and result.checked > 100_000


# The pinned facts live in lpsgd.peers.FACTS, each with the version range where it holds
# and the versions it was observed at.  Inside its range a fact is asserted; outside it the
# peer's behaviour is reported (fixed / persists / changed), never a failure.
@pytest.mark.parametrize("fact", peers.FACTS,
                         ids=lambda f: f"{f.peer}{f.versions}-{f.format}-{f.rounding}-{f.x!r}")
def test_pinned_peer_facts(fact):
    pytest.importorskip(fact.peer)
    (result,) = peers.check_facts([fact.peer], facts=[fact])
    assert result.status in ("holds", "fixed", "persists", "changed"), result.line()
    if fact.applies_to(result.version):
        assert result.status == "holds", result.line()
    if result.status == "holds" and not _bits_equal(fact.got, result.want):
        assert not _bits_equal(result.actual, result.want)  # a defect, not a fix


@pytest.mark.parametrize("fact", peers.FACTS, ids=lambda f: f"{f.peer}-{f.x!r}")
def test_fact_ranges_hold_the_versions_they_were_checked_at(fact):
    assert fact.checked and all(fact.applies_to(v) for v in fact.checked), fact


def test_facts_outside_their_range_are_reported_not_failed():
    """A planted fact that numpy's float16 cast double-rounds: inside its range it fails,
    outside it numpy's exact result is reported as fixed."""
    version = np.__version__
    wrong = dict(peer="numpy", format="binary16", rounding="nearest_even", x=1 + 2 ** -11,
                 got=1 + 2 ** -10, checked=(version,), note="planted")
    inside = peers.PeerFact(versions=f"=={version}", **wrong)
    outside = peers.PeerFact(versions="<1", **wrong)
    (r_in,) = peers.check_facts(["numpy"], facts=[inside])
    (r_out,) = peers.check_facts(["numpy"], facts=[outside])
    assert (r_in.status, r_in.ok) == ("fails", False)
    assert (r_out.status, r_out.ok) == ("fixed", True) and r_out.actual == 1.0
    kept = peers.PeerFact(versions="<1", **{**wrong, "got": 1.0})
    assert peers.check_facts(["numpy"], facts=[kept])[0].status == "persists"
    assert peers.PeerFact(versions=">=1", **wrong).applies_to(None) is False


def test_check_peers_reports_the_facts_of_measured_peers():
    pytest.importorskip("pychop")
    report = peers.check_peers(["pychop"], formats=["binary16"], modes=["odd"], examples=50)
    assert [f.fact.rounding for f in report.facts] == ["odd"]
    row = report.as_dict()["facts"][0]
    assert row["versions"] == "==0.6.2" and row["status"] in ("holds", "fixed", "persists",
                                                              "changed")
    assert "pinned facts, keyed by the peer's version" in report.table()


def test_pinned_facts_are_found_by_check_quantizer():
    pytest.importorskip("pychop")
    report = peers.check_peers(["pychop"], formats=["binary16"],
                               modes=["nearest_even", "odd"], examples=200)
    kinds = {r.rounding: r.kinds for r in report.results}
    assert kinds["nearest_even"]["overflow"] > 0 and kinds["nearest_even"]["signed_zero"] == 1
    assert kinds["odd"]["representable"] > 0


# ------------------------------------------------------------------------------- benchmark


def test_benchmark_rows_and_ratios():
    table = peers.benchmark(size=256, repeat=2, formats=["binary16"],
                            modes=["nearest_even", "stochastic"], peers=["numpy"],
                            reference_size=8)
    impl = {(r.rounding, r.implementation) for r in table.rows}
    assert ("nearest_even", "numpy astype(float16)") in impl
    assert ("stochastic", "numpy astype(float16)") not in impl  # numpy has no such mode
    fast_rows = [r for r in table.rows if r.implementation == "lpsgd.fast"]
    assert all(r.ratio == 1.0 and r.rounds == 2 and r.n == 256 for r in fast_rows)
    assert all(r.min_ns <= r.median_ns and r.min_ns > 0 for r in table.rows)
    ref = [r for r in table.rows if r.implementation == "lpsgd.reference"]
    assert [r.n for r in ref] == [8, 8]
    assert table.as_dict()["measured"][0]["name"] == "numpy"
    (numpy_ratio,) = table.versus("numpy").values()
    assert numpy_ratio == next(r.ratio for r in table.rows
                               if r.implementation == "numpy astype(float16)")
    (line,) = table.summary_lines()
    assert line.startswith("numpy: lpsgd.fast has the smaller min time on ")
    assert line in table.text()


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 0}, "Expected size >= 1 but got size=0"),
    ({"repeat": 0}, "Expected repeat >= 1 but got repeat=0"),
    ({"reference_size": -1}, "Expected reference_size >= 0 but got reference_size=-1"),
    ({"formats": ["fp17"]}, "Unknown format='fp17'"),
    ({"modes": ["nearest"]}, "Unknown rounding='nearest'"),
    ({"peers": ["torch"]}, "Unknown peer='torch'"),
])
def test_benchmark_bad_arguments(kwargs, message):
    with pytest.raises(InvalidArgument) as info:
        peers.benchmark(**kwargs)
    assert message in str(info.value)
