"""``lpsgd formats`` and ``lpsgd quantize`` through lpsgd.cli.main, output captured."""

from __future__ import annotations

import pytest

from lpsgd.cli import main
from lpsgd.formats import PRESETS


def test_formats_table(capsys) -> None:
    assert main(["formats"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "E", "M", "bias", "e_min", "e_max", "N_min", "s",
                              "X_max", "u", "kind"]
    assert [line.split()[0] for line in out[1:]] == list(PRESETS)
    e4 = next(line.split() for line in out if line.startswith("float8_e4m3fn "))
    assert e4[1:6] == ["4", "3", "7", "-6", "8"] and e4[8] == "448" and e4[10] == "fn"


def test_formats_hex(capsys) -> None:
    assert main(["formats", "--hex"]) == 0
    b16 = next(line.split() for line in capsys.readouterr().out.splitlines()
               if line.startswith("binary16 "))
    # N_min 2^-14, s 2^-24, X_max 65504, u 2^-11
    assert b16[6:10] == ["0x1.0000000000000p-14", "0x1.0000000000000p-24",
                         "0x1.ffc0000000000p+15", "0x1.0000000000000p-11"]


def _rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    assert lines[0].startswith("# format")
    return [line.split() for line in lines[2:]]


def test_quantize_values_bits_and_ulps(capsys) -> None:
    assert main(["quantize", "--format", "binary16", "--rounding", "nearest_even",
                 "0.1", "65520", "0x1.8p-3", "--", "-0"]) == 0
    rows = _rows(capsys.readouterr().out)
    # 0.1 -> 0x1.998p-4 = 0.0999755859375, bits 0|01011|1001100110, error -0.4 ulp
    assert rows[0] == ["0.1", "0x1.999999999999ap-4", "0.0999755859375",
                       "0|01011|1001100110", "-0.4"]
    assert rows[1][2:] == ["inf", "0|11111|0000000000", "-"]       # 65520 overflows
    assert rows[2][2:] == ["0.1875", "0|01100|1000000000", "0"]    # exact
    assert rows[3][2:] == ["-0.0", "1|00000|0000000000", "0"]      # sign of zero kept


def test_quantize_stochastic_seed_reproducible(capsys) -> None:
    args = ["quantize", "--format", "float8_e4m3", "--rounding", "stochastic",
            "--seed", "3", "0.3", "0.3", "0.3", "0.3", "0.3", "0.3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    results = {row[2] for row in _rows(first)}
    assert results <= {"0.28125", "0.3125"}  # the two neighbours of 0.3


@pytest.mark.parametrize("argv, message", [
    (["quantize", "--format", "binary17", "1"], "Unknown format='binary17'"),
    (["quantize", "--format", "binary16", "--rounding", "nearst_even", "1"],
     "Did you mean 'nearest_even'"),
    (["quantize", "--format", "binary16", "one"], "Expected VALUE to be a number"),
    (["quantize", "--format", "binary16", "--rounding", "stochastic", "1"], "needs --seed"),
    (["quantize", "--format", "binary16", "--seed", "1", "1"], "--seed is only used"),
    (["quantize", "--format", "binary16", "--rounding", "stochastic", "--seed", "x", "1"],
     "Expected --seed to be an integer"),
])
def test_quantize_bad_arguments_exit_2(capsys, argv, message) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lpsgd quantize: error:") and message in err


def test_help_texts(capsys) -> None:
    for cmd in ("quantize", "formats"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "Examples:" in out
