"""lpsgd.data: bundled problems, their constants and F*, and the loader's bad-input errors."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from lpsgd import data
from lpsgd.errors import InvalidArgument


@pytest.fixture(scope="module")
def cancer():
    return data.load_bundled("breast_cancer")


def test_breast_cancer_constants(cancer):
    p = cancer
    assert (p.n, p.d, p.loss) == (569, 31, "logistic")
    X = p.objective.X
    np.testing.assert_allclose(X[:, :-1].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X[:, :-1].std(axis=0), 1, rtol=1e-12)
    eigs = np.linalg.eigvalsh(X.T @ X / p.n)
    assert p.eig_max >= eigs.max() + p.reg and p.eig_min <= eigs.min() + p.reg
    assert p.L == pytest.approx(eigs.max() / 4 + p.reg, rel=1e-12) and p.L >= eigs.max() / 4
    assert p.c == p.reg == data.DEFAULT_REG


def test_f_star_checked_in_mpmath(cancer):
    s = cancer.solution
    assert s.grad_norm_mp < 1e-30          # refined: ~1e-46
    assert s.grad_norm_float < 1e-15       # the float64 rounding of w*
    assert s.f_star_error < 1e-60
    # F at the float64 w* (in mpmath) is above F* and within the certificate of w*'s rounding
    with mpmath.workdps(50):
        f = cancer.objective.value_mp(s.w_star)
        assert f >= s.f_star_mp - s.f_star_error
        assert f - s.f_star_mp <= s.grad_norm_float ** 2 / (2 * cancer.c) * 1.01
    assert cancer.objective.f_star == s.f_star
    d = cancer.as_dict()
    assert d["grad_norm_at_solution_mp"] == float(s.grad_norm_mp)


def test_diabetes_is_ridge_least_squares():
    p = data.load_bundled("diabetes")
    assert (p.n, p.d, p.loss) == (442, 10, "least_squares")
    H = p.objective.X.T @ p.objective.X / p.n + p.reg * np.eye(p.d)
    eigs = np.linalg.eigvalsh(H)
    assert p.c <= eigs.min() <= eigs.max() <= p.L
    w = np.linalg.solve(H, p.objective.X.T @ p.objective.y / p.n)
    assert np.allclose(w, p.solution.w_star, atol=1e-12)
    # minibatch constants bound the sampling variance at a few points (A2)
    F, b = p.objective, 4
    M, M_V = F.minibatch_constants(b)
    rng = np.random.default_rng(0)
    for _ in range(3):
        w = p.solution.w_star + rng.standard_normal(p.d)
        gi = F.component_grads(np.repeat(w[None], F.n, 0), np.arange(F.n)[:, None])
        var = np.mean(np.sum((gi - F.grad(w)) ** 2, axis=1)) / b
        assert var <= M + M_V * float(np.sum(F.grad(w) ** 2))


def test_digits_even_vs_odd_drops_constant_pixels():
    X, y, names, dropped = data._bundled_arrays("digits")
    assert dropped == ["pixel_0", "pixel_32", "pixel_39"] and X.shape == (1797, 61)
    assert set(np.unique(y)) == {0.0, 1.0}


def _csv(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _good_rows(n=12, d=2, label=lambda i: i % 2):
    rng = np.random.default_rng(1)
    return [[*rng.standard_normal(d).round(3), label(i)] for i in range(n)]


def _rows_text(rows):
    return "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"


def test_csv_with_and_without_header(tmp_path):
    rows = _good_rows()
    p1 = data.load_file(_csv(tmp_path, "a,b,label\n" + _rows_text(rows)), loss="logistic")
    p2 = data.load_file(_csv(tmp_path, _rows_text(rows), "n.csv"), loss="logistic")
    assert p1.features == ["a", "b", "intercept"]
    assert p2.features == ["column 1", "column 2", "intercept"]
    assert p1.f_star == p2.f_star


def test_npz(tmp_path):
    rows = np.array(_good_rows())
    path = tmp_path / "d.npz"
    np.savez(path, X=rows[:, :-1], y=rows[:, -1])
    p = data.load_file(str(path), loss="least_squares")
    assert p.loss == "least_squares" and p.d == 2


def _bad_cases():
    rows = _good_rows()
    nan_rows = [r[:] for r in rows]
    nan_rows[3][1] = float("nan")
    inf_rows = [r[:] for r in rows]
    inf_rows[5][0] = float("inf")
    const = [[r[0], 7.0, r[2]] for r in rows]
    lab = _good_rows(label=lambda i: 2 if i == 4 else i % 2)
    ragged = _rows_text(rows).split("\n")
    ragged[2] += ",9"
    return [
        # (id, file text or None for special cases, loss, words the message must contain)
        ("nan", _rows_text(nan_rows), "logistic", ["nan", "row 4", "column 2"]),
        ("inf", _rows_text(inf_rows), "logistic", ["inf", "row 6", "column 1"]),
        ("constant feature", "a,b,y\n" + _rows_text(const), "logistic",
         ["feature 1", "'b'", "constant", "7.0"]),
        ("label outside 0/1", _rows_text(lab), "logistic", ["{0, 1}", "2.0", "row 5"]),
        ("wrong shape", "\n".join(ragged), "logistic", ["line 3", "4 columns", "expected 3", "wrong shape"]),
        ("too few rows", _rows_text(rows[:4]), "logistic", ["at least 10 rows", "got 4"]),
        ("one column", "\n".join("1" for _ in range(12)), "least_squares", ["2 columns"]),
        ("not a number", "a,b,y\n" + _rows_text(rows[:11]) + "1,x,0\n", "logistic",
         ["'x'", "not a number"]),
        ("empty", "", "logistic", ["empty"]),
        ("binary junk", None, "logistic", ["cannot be read"]),
        ("missing", "MISSING", "logistic", ["does not exist"]),
        ("constant target", _rows_text(_good_rows(label=lambda i: 3)), "least_squares",
         ["varies", "3"]),
    ]


@pytest.mark.parametrize("case", _bad_cases(), ids=lambda c: c[0])
def test_bad_csv(tmp_path, case):
    name, text, loss, words = case
    path = tmp_path / "bad.csv"
    if text is None:
        path.write_bytes(b"\xff\xfe\x00\x81" * 20)
    elif text != "MISSING":
        path.write_text(text)
    with pytest.raises(InvalidArgument) as exc:
        data.load_file(str(path), loss=loss)
    msg = str(exc.value)
    assert "bad.csv" in msg
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("arrays,words", [
    ({"X": np.ones((12, 2, 1)), "y": np.zeros(12)}, ["2 dimensions", "(12, 2, 1)"]),
    ({"X": np.ones((12, 2)), "y": np.zeros(11)}, ["shape (12,)", "(11,)"]),
    ({"X": np.zeros((12, 2))}, ["'X' and 'y'", "['X']"]),
    ({"X": np.array([["a", "b"]] * 12), "y": np.zeros(12)}, ["numbers", "dtype"]),
], ids=["X 3-d", "y length", "no y", "strings"])
def test_bad_npz(tmp_path, arrays, words):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(InvalidArgument) as exc:
        data.load_file(str(path), loss="logistic")
    msg = str(exc.value)
    assert "bad.npz" in msg
    for w in words:
        assert w in msg, (w, msg)


def test_load_problem_names_and_losses(tmp_path):
    with pytest.raises(InvalidArgument, match="Unknown --problem='cancer'"):
        data.load_problem("cancer")
    with pytest.raises(InvalidArgument, match="give --loss"):
        data.load_problem(_csv(tmp_path, _rows_text(_good_rows())))
    with pytest.raises(InvalidArgument, match="does not apply"):
        data.load_problem("diabetes", loss="logistic")
    with pytest.raises(InvalidArgument, match="--loss"):
        data.load_file(_csv(tmp_path, _rows_text(_good_rows())), loss="hinge")
