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
    ("ml_dtypes", "bfloat16", "nearest_even"),
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


def _peer_and_reference(peer, fmt, mode, x):
    pytest.importorskip(peer)
    fn = peers.quantizer(peer, fmt, mode)
    got = float(np.asarray(fn(np.array([x])), dtype=np.float64)[0])
    want = float(lpsgd.reference.quantize(np.array([x]), fmt, mode)[0])
    return got, want


# Deterministic facts about the installed peers (pychop 0.6.2, ml_dtypes 0.6.0, qtorch 0.3.0
# where it is installed: it needs torch): the peer's
# output, and the exact result it differs from.
@pytest.mark.parametrize("peer, fmt, mode, x, got", [
    # Conversion from float64 rounds through float32 first (double rounding): the float32
    # value 1 + 2^-8 is a tie of bfloat16, decided to even, while x is above the tie.
    ("ml_dtypes", "bfloat16", "nearest_even", 1 + 2 ** -8 + 2 ** -40, 1.0),
    # Same at the top of float8_e4m3fn: float32(x) = 464 is the tie between X_max = 448
    # and the first value beyond it; x itself rounds beyond X_max, to NaN.
    ("ml_dtypes", "float8_e4m3fn", "nearest_even", H("0x1.d000000000001p+8"), 448.0),
    # -0.0 comes back as +0.0.
    ("pychop", "binary16", "nearest_even", -0.0, 0.0),
    # The overflow threshold (2 - 2^-11) 2^15 = 65520 rounds to 2^16, not inf.
    ("pychop", "binary16", "nearest_even", H("0x1.ffep15"), H("0x1p16")),
    # Inputs in [2^16, 2^17) give 0.0 instead of inf.
    ("pychop", "binary16", "nearest_even", H("0x1p16"), 0.0),
    # Just below 1/4 the binade is taken from float64 log2 (which rounds to -2):
    # 0.249755859375 = 0x1.ff8p-3 instead of 0.2498779296875 = 0x1.ffcp-3.
    ("pychop", "binary16", "toward_zero", H("0x1.fffffffffffffp-3"), H("0x1.ff8p-3")),
    # Round to odd changes the representable 1.0 into 1 + 2^-10.
    ("pychop", "binary16", "odd", 1.0, 1 + 2 ** -10),
    # Ties of negative numbers go toward zero under nearest_away: -(1 + 2^-9 + 2^-11).
    ("pychop", "binary16", "nearest_away", -(1 + 2 ** -9 + 2 ** -11), -(1 + 2 ** -9)),
    # Magnitudes below 1e-38 are treated as zero: up gives 0.0, not the smallest
    # subnormal 2^-24.
    ("pychop", "binary16", "up", H("0x1p-1022"), 0.0),
    # qtorch 0.3.0 (CPU), "nearest": ties go away from zero, 1 + 2^-11 -> 1 + 2^-10.
    ("qtorch", "binary16", "nearest_even", 1 + 2 ** -11, 1 + 2 ** -10),
    # With fewer than 8 exponent bits there is no inf: the overflow threshold 65520
    # rounds to 2^16, larger values saturate one binade above X_max, at
    # (2 - 2^-10) 2^16 = 131008 for binary16, and so does inf itself.
    ("qtorch", "binary16", "nearest_even", H("0x1.ffep15"), H("0x1p16")),
    ("qtorch", "binary16", "nearest_even", 1e6, 131008.0),
    ("qtorch", "binary16", "nearest_even", math.inf, 131008.0),
    # ... and NaN becomes that maximum too.
    ("qtorch", "float8_e4m3", "nearest_even", math.nan, 480.0),
    # -0.0 comes back as +0.0.
    ("qtorch", "binary16", "nearest_even", -0.0, 0.0),
])
def test_pinned_peer_facts(peer, fmt, mode, x, got):
    actual, want = _peer_and_reference(peer, fmt, mode, x)
    assert _bits_equal(actual, got), (actual, got)
    assert not _bits_equal(actual, want)


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
