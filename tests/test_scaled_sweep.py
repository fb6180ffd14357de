"""The scaled-formats report section: its claims are computed from the runs it plots."""

from __future__ import annotations

import pytest

from lpsgd.report.scaled_sweep import RUN_FORMATS, scaled_sweep


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    return scaled_sweep(profile="dev", seed=0, outdir=tmp_path_factory.mktemp("scaled"))


def test_section_shape(section):
    assert section["status"] == "ok"
    assert section["images"] == ["scaled_formats.png"]
    rows = section["tables"][0]["rows"]
    assert len(rows) == 2 * len(RUN_FORMATS)


def test_unscaled_stalls_scaled_follows(section):
    """The caption says unscaled E4M3 stops (its gap no longer falls in the second half of
    the run) while the MX run goes on: both read off the plotted runs."""
    runs = section["data"]["runs"]
    stalled = runs["float8_e4m3fn/toward_zero"]
    assert stalled["gap_last"] == stalled["gap_half"] > 0
    mx = runs["mxfp8_e4m3/toward_zero"]
    assert mx["gap_last"] < 1e-3 * mx["gap_half"]
    assert f"{stalled['gap_last']:.3g}" in section["caption"]
    assert f"{mx['gap_last']:.3g}" in section["caption"]


def test_theorem8_compared_on_every_iterate(section):
    runs = section["data"]["runs"]
    checked = [r for r in runs.values() if "violations" in r]
    assert len(checked) >= 4  # mxfp8 and mxfp4 floor in both modes, mxfp4 rceil nearest
    assert section["data"]["theorem8_violations"] == sum(r["violations"] for r in checked) == 0
    # the bound's rate is never faster than what the run achieved
    K = section["data"]["K"]
    for r in checked:
        observed = (r["gap_last"] / r["gap_first"]) ** (1 / (K - 1))
        assert observed <= r["theorem8_rate"]


def test_admissibility_is_reported(section):
    """mxfp4_e2m1_rceil toward zero has no threshold t with loss(t) < 1 and q_lo(t) > 0:
    the table says so instead of showing a number."""
    rows = {(r[0], r[1]): r for r in section["tables"][0]["rows"]}
    assert rows[("mxfp4_e2m1_rceil", "toward_zero")][5].startswith("no admissible t")
    assert "above" in rows[("mxfp8_e4m3", "toward_zero")][5]
