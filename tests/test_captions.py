"""Every caption states what its plot shows, computed from the plotted data.

The Theorem 1 sweep's caption once said "smaller q: slower rate and higher floor" while its
own plot showed the exact floor at q = 0.5 below the one at q = 1 (with gradient noise the
exact floor's part mu q sigma^2 / (2 (2 - mu q lambda)) falls with q; only the
quantisation-noise part, and at fixed q_max the bound's floor, rise).  These tests
recompute the plotted floors independently (closed form in float64) and check that each
direction word of the caption matches them; a caption written once by hand fails on the
planted floors below.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from lpsgd.report import sweeps


def _moves(qs, values, rtol=1e-9):
    """The sequence of moves ("rises"/"falls") of ``values`` as q decreases."""
    assert all(b < a for a, b in zip(qs, qs[1:]))
    out = []
    for a, b in zip(values, values[1:]):
        if abs(b - a) > rtol * max(abs(a), abs(b)):
            move = "rises" if b > a else "falls"
            if not out or out[-1] != move:
                out.append(move)
    return out


def _expected_phrase(qs, values):
    moves = _moves(qs, values)
    return {0: "is flat", 1: moves[0] if moves else ""}.get(
        len(moves), ", then ".join(moves) if len(moves) == 2 else "is not monotone")


@pytest.fixture(scope="module")
def theorem1(tmp_path_factory):
    out = tmp_path_factory.mktemp("t1")
    return sweeps.theorem1_sweep(profile="dev", seed=0, outdir=out)


def test_theorem1_plotted_floors_are_the_closed_forms(theorem1):
    f, k = theorem1["data"]["floors"], theorem1["data"]["constants"]
    q = np.asarray(f["q"])[:, None]
    lam, s2, t2 = (np.asarray(k[n])[None, :] for n in ("lambdas", "sigma2", "tau2"))
    mu = k["mu"]
    grad = np.sum(mu * q * s2 / (2 * (2 - mu * q * lam)), axis=1)
    quant = np.sum(mu * t2 / (2 * q * (2 - mu * q * lam)), axis=1)
    np.testing.assert_allclose(f["gradient_part"], grad, rtol=1e-12)
    np.testing.assert_allclose(f["quantisation_part"], quant, rtol=1e-12)
    np.testing.assert_allclose(f["exact"], grad + quant, rtol=1e-12)
    bound = k["L"] * mu * (q[:, 0] ** 2 * k["M"] + k["M_q"]) / (2 * k["c"] * q[:, 0])
    np.testing.assert_allclose(f["bound"], bound, rtol=1e-12)


def test_theorem1_caption_direction_matches_the_plotted_floors(theorem1):
    caption, f = theorem1["caption"], theorem1["data"]["floors"]
    assert "Smaller q: slower rate and higher floor" not in caption
    for key, words in (("bound", "the bound's floor F_q = L mu (q^2 M + M_q) / (2 c q)"),
                       ("exact", "the exact stationary value"),
                       ("gradient_part", "its gradient-noise part"),
                       ("quantisation_part", "its quantisation-noise part")):
        phrase = _expected_phrase(f["q"], f[key])
        m = re.search(re.escape(words) + r"(?: sum_i [^:]*?\))? ([a-z, ]+):", caption)
        assert m, (key, caption)
        assert m.group(1) == phrase, (key, m.group(1), phrase)
    # with gradient noise the exact floor's gradient part falls with q, the quantisation
    # part rises: the finding the caption must word correctly
    assert _moves(f["q"], f["gradient_part"]) == ["falls"]
    assert _moves(f["q"], f["quantisation_part"]) == ["rises"]


@pytest.mark.parametrize("shape, word", [("falls", "falls"), ("rises", "rises"),
                                         ("valley", "falls, then rises")])
def test_theorem1_caption_follows_planted_floors(shape, word):
    qs = [1.0, 0.5, 0.25, 0.125]
    curve = {"falls": [4.0, 3.0, 2.0, 1.0], "rises": [1.0, 2.0, 3.0, 4.0],
             "valley": [3.0, 1.0, 2.0, 4.0]}[shape]
    floors = {"q": qs, "bound": [10 * v for v in curve], "exact": curve,
              "gradient_part": [4.0, 3.0, 2.0, 1.0], "quantisation_part": [1.0, 2.0, 3.0, 4.0]}
    caption = sweeps.theorem1_caption(floors, worst=1.0, worst_after=0.9, fast_vs_exact=0.0,
                                      mc_runs=10, worst_z=1.0)
    assert f"the exact stationary value {word}:" in caption
    assert f"(2 c q) {word}:" in caption
    assert "by a factor 10 to 10" in caption


def test_direction_words():
    assert sweeps.direction([3, 2, 1], [1, 1, 1]) == "is flat"
    assert sweeps.direction([3, 2, 1], [1, 3, 2]) == "rises, then falls"
    assert sweeps.direction([4, 3, 2, 1], [1, 3, 2, 5]) == "is not monotone"
    with pytest.raises(ValueError, match="decreasing"):
        sweeps.direction([1, 2], [1, 2])


def _span(values, digits=2):
    lo, hi = f"{min(values):.{digits}g}", f"{max(values):.{digits}g}"
    return lo if lo == hi else f"{lo}-{hi}"


def test_floor_caption_numbers_come_from_the_plotted_values(tmp_path):
    r = sweeps.floor_sweep(profile="dev", seed=0, outdir=tmp_path)
    d, caption = r["data"], r["caption"]
    noisy = [x / b for x, b in zip(d["stochastic_noise"]["measured"],
                                   d["stochastic_noise"]["bound"])]
    assert f"the measured floor is {_span(noisy)} of the Theorem 7 bound" in caption
    cost = [x / e for x, e in zip(d["stochastic_noise"]["measured"], d["no_rounding"])]
    assert f"{_span(cost, 3)} times the exact floor" in caption
    # a point below the plotted range is said to be below it, and only then
    below = [m for m, v in zip(d["m"], d["stochastic"]["measured"]) if v < d["bottom"]]
    assert below == d["below_axis"].get("stochastic", [])
    assert ("BELOW the plotted range" in caption) == any(d["below_axis"].values())
    for m in below:
        assert str(m) in caption.split("BELOW the plotted range")[1]


def test_measured_shrinkage_caption_names_the_plotted_minimum(tmp_path):
    r = sweeps.measured_shrinkage_sweep(profile="dev", seed=0, outdir=tmp_path)
    rows = r["data"]["results"]
    low = min(rows, key=lambda x: x["q_hat_min"])
    assert (f"The smallest mean q^ is {low['q_hat_min']:.3g} ({low['format']}, "
            f"{low['rounding']})") in r["caption"]
    for x in rows:
        assert f"ends at q^ = {x['q_hat_last']:.3g}" in r["caption"]


def test_slowdown_caption_ratios_come_from_the_counts(tmp_path):
    r = sweeps.slowdown_sweep(profile="dev", seed=0, outdir=tmp_path)
    d = r["data"]
    over = [b / e for e, b in zip(d["exact"], d["bound"]) if e is not None]
    assert f"{min(over):.3g} to {max(over):.3g} times the exact one" in r["caption"]
