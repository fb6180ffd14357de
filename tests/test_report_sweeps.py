"""The real sweeps of a report, each run once at the small "dev" size.

Each must finish with status "ok", write the PNG it names, and keep its JSON data
serialisable; the conformance sweep must also count a planted fast/reference mismatch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lpsgd.report import sweeps as sweep_mod

PNG = b"\x89PNG\r\n\x1a\n"


def _check(result: dict, outdir: Path) -> None:
    assert result["status"] == "ok", result.get("note")
    for img in result.get("images", []):
        assert (outdir / img).read_bytes()[:8] == PNG
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("name", ["floor", "shrinkage_profile", "measured_shrinkage"])
def test_plot_sweeps_run(name, tmp_path):
    result = sweep_mod.SWEEPS[name](profile="dev", seed=1, outdir=tmp_path)
    _check(result, tmp_path)
    assert result["images"], "every plot sweep draws at least one image"


def test_theorem1_sweep_exact_values_stay_below_the_bound(tmp_path):
    result = sweep_mod.theorem1_sweep(profile="dev", seed=0, outdir=tmp_path)
    _check(result, tmp_path)
    # equality holds at k = 1 (E[F(w_1) - F*] = gap = bound); never above it
    assert 0.999 <= result["data"]["worst_ratio"] <= 1 + 1e-12
    assert result["data"]["fast_vs_exact_rel"] < 1e-10


def test_slowdown_sweep_counts_grow_with_one_over_q(tmp_path):
    result = sweep_mod.slowdown_sweep(profile="dev", seed=0, outdir=tmp_path)
    _check(result, tmp_path)
    data = result["data"]
    exact, bound = data["exact"], data["bound"]
    assert all(e is not None for e in exact)
    assert exact == sorted(exact) and bound == sorted(bound)
    assert all(e <= b for e, b in zip(exact, bound))  # the bound is an upper bound


def test_conformance_counts_a_planted_mismatch(tmp_path, monkeypatch):
    from lpsgd import fast

    real = fast.quantize

    def off_by_one_ulp_at_one(x, fmt, rounding="nearest_even", **kw):
        out = np.array(real(x, fmt, rounding, **kw), dtype=np.float64)
        hit = np.asarray(x) == 1.0
        out[hit] = np.nextafter(out[hit], 2.0)
        return out

    monkeypatch.setattr(fast, "quantize", off_by_one_ulp_at_one)
    monkeypatch.setitem(sweep_mod.CONFORMANCE_VALUES, "dev", 64)
    result = sweep_mod.conformance(profile="dev", seed=0, outdir=tmp_path)
    assert result["mismatches"] > 0
    assert all(ex["x"] == (1.0).hex() for ex in result["mismatch_examples"])
    cells = [c for row in result["cells"].values() for c in row.values()]
    assert sum(c["mismatches"] for c in cells) == result["mismatches"]


def test_conformance_without_mismatches(tmp_path, monkeypatch):
    monkeypatch.setitem(sweep_mod.CONFORMANCE_VALUES, "dev", 48)
    result = sweep_mod.conformance(profile="dev", seed=2, outdir=tmp_path)
    _check(result, tmp_path)
    assert result["mismatches"] == 0 and result["checked"] > 0


def test_bench_sweep_skips_without_peers(tmp_path, monkeypatch):
    from lpsgd import peers

    def none_installed(names=None):
        return [peers.PeerStatus(n, False, None, "not installed (test)")
                for n in peers.peer_names()]

    monkeypatch.setattr(peers, "peer_status", none_installed)
    result = sweep_mod.bench_sweep(profile="dev", seed=0, outdir=tmp_path)
    assert result["status"] == "skipped" and "not installed (test)" in result["note"]


def test_conformance_has_scaled_rows_that_can_fail(tmp_path, monkeypatch):
    """Every scaled preset has a row; a block quantiser that ignores ties after scaling
    (nearest_even resolved away from zero) is counted in the mxfp4 row."""
    from lpsgd import fast
    from lpsgd.scaled import SCALED_PRESETS

    monkeypatch.setitem(sweep_mod.CONFORMANCE_VALUES, "dev", 16)
    real = fast.quantize

    def ties_away_in_blocks(x, fmt, rounding="nearest_even", **kw):
        if getattr(fmt, "name", None) == "mxfp4_e2m1" and rounding == "nearest_even":
            rounding = "nearest_away"
        return real(x, fmt, rounding, **kw)

    monkeypatch.setattr(fast, "quantize", ties_away_in_blocks)
    result = sweep_mod.conformance(profile="dev", seed=0, outdir=tmp_path)
    assert set(SCALED_PRESETS) <= set(result["formats"])
    row = result["cells"]["mxfp4_e2m1"]
    assert row["nearest_even"]["mismatches"] > 0
    assert row["nearest_away"]["mismatches"] == 0
    assert all(result["cells"][n]["nearest_even"]["mismatches"] == 0
               for n in SCALED_PRESETS if n != "mxfp4_e2m1")
