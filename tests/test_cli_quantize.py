"""``lpsgd formats`` and ``lpsgd quantize`` through lpsgd.cli.main, output captured; the
format names every command accepts (presets, aliases, eXmY[:flag...] specs); scaled
presets, whose lines add element codes and whose second table gives the block scales."""

from __future__ import annotations

import numpy as np
import pytest

from lpsgd.cli import main
from lpsgd.commands._args import alias_table, resolve_format, spec_of
from lpsgd.errors import InvalidArgument
from lpsgd.formats import ALIASES, PRESETS, Format, preset
from lpsgd.scaled import SCALED_PRESETS


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
    (["quantize", "--format", "binary17", "1"], "Unknown --format='binary17'"),
    (["quantize", "--format", "e4m3", "1"], "Ambiguous --format='e4m3'"),
    (["quantize", "--format", "e5m7:fm", "1"], "Unknown flag 'fm' in --format='e5m7:fm'"),
    (["quantize", "1"], "the following arguments are required: --format"),
    (["quantize", "--format", "binary16", "--bogus", "1"], "unrecognized arguments: --bogus"),
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


# -- format names: presets, aliases, eXmY[:flag...] specs (lpsgd.commands._args) ---------

RESOLVES = {
    # word aliases
    "fp64": "binary64", "float64": "binary64", "f64": "binary64", "double": "binary64",
    "fp32": "binary32", "float32": "binary32", "f32": "binary32", "single": "binary32",
    "fp16": "binary16", "float16": "binary16", "f16": "binary16", "half": "binary16",
    "bf16": "bfloat16", "tensorfloat32": "tf32",
    "fp4": "float4_e2m1fn", "float4": "float4_e2m1fn", "f4": "float4_e2m1fn",
    # eXmY with exactly one preset of that E and M
    "e5m2": "float8_e5m2", "e3m4": "float8_e3m4", "e2m1": "float4_e2m1fn",
    "e3m2": "float6_e3m2fn", "e2m3": "float6_e2m3fn", "e5m10": "binary16",
    "e8m7": "bfloat16", "e8m10": "tf32", "e8m23": "binary32", "e11m52": "binary64",
    # ml_dtypes / torch style spellings, any case, '-' or '_'
    "E4M3FN": "float8_e4m3fn", "e4m3fn": "float8_e4m3fn", "fp8_e4m3fn": "float8_e4m3fn",
    "f8e4m3fn": "float8_e4m3fn", "FP8-E5M2": "float8_e5m2", "fp8e5m2": "float8_e5m2",
    "float8_e4m3": "float8_e4m3", "Float8-E4M3": "float8_e4m3", "fp6_e3m2": "float6_e3m2fn",
    "fp4_e2m1": "float4_e2m1fn", "e2m1fn": "float4_e2m1fn", "BFloat16": "bfloat16",
    # explicit flags that give a preset
    "e4m3:fn": "float8_e4m3fn", "e4m3:ieee": "float8_e4m3", "e2m1:fn_nonan": "float4_e2m1fn",
    "fp8_e4m3:fn": "float8_e4m3fn", "e5m2:ieee:sub": "float8_e5m2",
}


@pytest.mark.parametrize("text", sorted(RESOLVES))
def test_alias_resolves_to_its_preset(text):
    fmt = resolve_format(text)
    assert fmt == PRESETS[RESOLVES[text]] and fmt.label == RESOLVES[text]


@pytest.mark.parametrize("name", [*PRESETS, *ALIASES])
def test_every_library_name_resolves_as_the_library_does(name):
    assert resolve_format(name) is preset(name)


AMBIGUOUS = {
    "fp8": ["float8_e5m2", "float8_e4m3fn", "float8_e4m3", "float8_e3m4"],
    "float8": ["float8_e5m2", "float8_e4m3fn", "float8_e4m3", "float8_e3m4"],
    "fp6": ["float6_e3m2fn", "float6_e2m3fn"],
    "float": ["binary64", "binary32"],
    "e4m3": ["float8_e4m3fn", "float8_e4m3"],
    "fp8_e4m3": ["float8_e4m3fn", "float8_e4m3"],
    "E4M3": ["float8_e4m3fn", "float8_e4m3"],
    "e4m3:nosub": ["float8_e4m3fn", "float8_e4m3"],
}


@pytest.mark.parametrize("text", sorted(AMBIGUOUS))
def test_ambiguous_name_lists_the_presets_it_could_mean(text):
    with pytest.raises(InvalidArgument) as exc:
        resolve_format(text)
    msg = str(exc.value)
    assert msg.startswith(f"Ambiguous --format={text!r}: it could mean ")
    listed = [n for n in PRESETS if n in msg.split(": it could mean ")[1]]
    assert listed == [n for n in PRESETS if n in AMBIGUOUS[text]]


CUSTOM = {
    "e5m7": Format(5, 7),
    "E5M7": Format(5, 7),
    "e5m7:nosub": Format(5, 7, subnormals=False),
    "e5m7:fn": Format(5, 7, inf=False),
    "e5m7:fn_nonan": Format(5, 7, inf=False, nan=False),
    "e5m7:fn:nosub": Format(5, 7, subnormals=False, inf=False),
    "e5m7:FN-NONAN:nosub": Format(5, 7, subnormals=False, inf=False, nan=False),
    "e2m1:ieee": Format(2, 1),
    "e2m1:fn": Format(2, 1, inf=False),
    "e4m3:fn:nosub": Format(4, 3, subnormals=False, inf=False),
    "binary16:nosub": Format(5, 10, subnormals=False),
    "bf16:fn": Format(8, 7, inf=False),
    "float4_e2m1fn:nosub": Format(2, 1, subnormals=False, inf=False, nan=False),
    "e1m3:fn_nonan": Format(1, 3, inf=False, nan=False),
    "fp8_e2m5": Format(2, 5),
    "e15m112": Format(15, 112),
}


@pytest.mark.parametrize("text", sorted(CUSTOM))
def test_spec_builds_the_format(text):
    fmt = resolve_format(text)
    assert fmt == CUSTOM[text] and fmt.name is None
    assert fmt not in PRESETS.values()


@pytest.mark.parametrize("fmt", [*PRESETS.values(), *CUSTOM.values()], ids=str)
def test_the_spec_of_a_format_resolves_back_to_it(fmt):
    assert resolve_format(spec_of(fmt)) == fmt


@pytest.mark.parametrize(("text", "message"), [
    ("fp17", "Unknown --format='fp17'; expected a preset (binary64, "),
    ("fp17", "Did you mean 'fp16'?"),
    ("nvfp4", "Expected --format to be an element format but got --format='nvfp4', a scaled "
              "format"),
    ("", "Expected --format to be a format name but got --format=''"),
    ("e5m7x", "Unknown --format='e5m7x': 'x' after e5m7; flags go after a colon"),
    ("e5m7fn", "write e5m7:fn (one NaN code) or e5m7:fn_nonan (no NaN)"),
    ("e5m7:bogus", "Unknown flag 'bogus' in --format='e5m7:bogus'; valid flags are: ieee, "
                   "fn, fn_nonan, nosub, sub"),
    ("e5m7:fn:ieee", "Conflicting flags in --format='e5m7:fn:ieee'"),
    ("e5m7:sub:nosub", "Conflicting flags in --format='e5m7:sub:nosub'"),
    ("fp8_e5m3", "Expected --format='fp8_e5m3' to have 1 + E + M = 8 bits but it has "
                 "1 + 5 + 3 = 9"),
    ("float8_e4m3fnuz", "Unsupported --format='float8_e4m3fnuz': 'fnuz' formats"),
    ("float8_e5m2fnuz", "the presets with E=5, M=2 are: float8_e5m2"),
    ("e1m3", "--format='e1m3': Format(exp_bits=1, man_bits=3, inf=True, nan=True) has no "
             "normal numbers"),
    ("e99m3", "--format='e99m3': Expected exp_bits <= 20 but got exp_bits=99"),
    ("e0m3:fn", "--format='e0m3:fn': Expected exp_bits >= 1 but got exp_bits=0"),
])
def test_bad_format_names_the_option_and_the_value(text, message):
    with pytest.raises(InvalidArgument) as exc:
        resolve_format(text)
    assert message in str(exc.value)


def test_resolve_names_the_option_it_is_given():
    with pytest.raises(InvalidArgument, match=r"Unknown --target='x'"):
        resolve_format("x", "--target")


def test_alias_table_agrees_with_the_resolver():
    rows = dict(alias_table())
    for text, name in RESOLVES.items():
        if text in rows:
            assert rows[text] == name
    for text, names in AMBIGUOUS.items():
        if text in rows:
            assert rows[text] == "ambiguous: " + ", ".join(n for n in PRESETS if n in names)
    for alias, meaning in rows.items():
        if meaning.startswith("ambiguous: "):
            with pytest.raises(InvalidArgument, match="Ambiguous"):
                resolve_format(alias)
        else:
            assert resolve_format(alias).label == meaning


def test_formats_aliases_lists_the_table(capsys):
    assert main(["formats", "--aliases"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["alias", "means"]
    assert [(line.split()[0], " ".join(line.split()[1:])) for line in lines[1:]] == \
        alias_table()


def test_quantize_accepts_aliases_and_specs(capsys):
    assert main(["quantize", "--format", "e4m3:fn", "500"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# format float8_e4m3fn (E=4, M=3, fn; e4m3:fn), rounding")
    assert main(["quantize", "--format", "half", "0.1"]) == 0
    assert capsys.readouterr().out.startswith("# format binary16 (E=5, M=10, ieee; e5m10:ieee)")
    assert main(["quantize", "--format", "e5m7:nosub", "1e-6", "0x1p-14"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# format e5m7_nosub (E=5, M=7, ieee, no subnormals; "
                          "e5m7:ieee:nosub)")
    rows = _rows(out)
    assert rows[0][2] == "0.0" and rows[1][2] == repr(2.0**-14)  # flushed; N_min kept


def test_quantize_bad_format_exits_2_before_reading_values(capsys):
    assert main(["quantize", "--format", "fp8", "not-a-number"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lpsgd quantize: error: Ambiguous --format='fp8'")
    assert "float8_e4m3fn (E=4, M=3, no inf, one NaN code; e4m3:fn)" in captured.err


@pytest.mark.parametrize("command", ["quantize", "bench"])
def test_help_of_commands_taking_a_format_explains_the_syntax(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "Formats (FORMAT):" in out
    for word in ("eXmY", "fn_nonan", "nosub", "e4m3:fn", "fp8", "lpsgd formats --aliases",
                 *PRESETS):
        assert word in out, word


# -- scaled formats: values, element codes and block scales --------------------------------

def _scaled_tables(out: str) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """(value rows, block rows, comment lines) of `lpsgd quantize` on a scaled format."""
    lines = out.splitlines()
    assert lines[0].startswith("# format")
    gap = lines.index("")
    comments = [line for line in lines if line.startswith("#")]
    body = [line for line in lines[gap + 1:] if not line.startswith("#")]
    return ([line.split() for line in lines[2:gap]], [line.split() for line in body[1:]],
            comments)


SCALED_VALUES = ["--", "0.3", "-1.7", "5.9", "0.01", "-0.0", "448", "511.99", "1e-3",
                 *[repr(0.37 * k - 4.0) for k in range(32)]]


@pytest.mark.parametrize("name", list(SCALED_PRESETS))
def test_quantize_scaled_preset_prints_results_codes_and_scales(capsys, name):
    from lpsgd import reference
    from lpsgd.reference.scaled import encode

    sf = SCALED_PRESETS[name]
    assert main(["quantize", "--format", name, *SCALED_VALUES]) == 0
    rows, blocks, comments = _scaled_tables(capsys.readouterr().out)
    x = np.array([float(v) for v in SCALED_VALUES[1:]])
    want = reference.quantize(x, sf)
    enc = encode(x, sf)
    assert comments[0].startswith(f"# format {name} (element {sf.element.label}, blocks of "
                                  f"{sf.block_size}, scale {sf.scale}, rule {sf.rule})")
    assert [r[2] for r in rows] == [repr(v) for v in want.tolist()]
    assert [int(r[4]) for r in rows] == [i // sf.block_size for i in range(x.size)]
    assert len(blocks) == enc.scales.size == -(-x.size // sf.block_size)
    for b, row in enumerate(blocks):
        lo, hi = b * sf.block_size, min((b + 1) * sf.block_size, x.size)
        assert row[1] == f"{lo}..{hi - 1}" and float(row[2]) == np.max(np.abs(x[lo:hi]))
        if sf.scale == "e8m0":
            e = int(enc.exponents[b])
            assert row[3:] == [f"2^{e}", str(e + 127), str(e)]
        else:
            assert float(row[3]) == enc.scales[b]
            assert row[4] == format(int(enc.scale_codes[b]), "08b")
    # every printed element code decodes, times its block scale (over S: one float64
    # division, the exact value rounded once), to the printed result
    s_tensor = enc.tensor_scale
    for i, r in enumerate(rows):
        code = int(r[3].replace("|", ""), 2)
        assert code == enc.codes[i]
        value = sf.element.decode(code) * float(enc.scales[i // sf.block_size]) / s_tensor
        assert value == want[i], (i, value, want[i])
    if sf.scale == "e4m3":
        assert any(c.startswith(f"# per-tensor scale S = {s_tensor!r}") for c in comments)


def test_quantize_scaled_nan_block_and_clamp(capsys):
    assert main(["quantize", "--format", "mxfp8_e4m3", "511.99", "1", "nan"]) == 0
    rows, blocks, _ = _scaled_tables(capsys.readouterr().out)
    assert [r[2] for r in rows] == ["nan", "nan", "nan"] and {r[3] for r in rows} == {"-"}
    assert blocks[0][3:] == ["nan", "255", "-"]
    assert main(["quantize", "--format", "mxfp8_e4m3", "511.99", "1"]) == 0
    rows, blocks, _ = _scaled_tables(capsys.readouterr().out)
    # 511.99 has the exponent 8 (read from its bits): scale 2^0, and it clamps to X_f
    assert rows[0][2] == "448.0" and blocks[0][3:] == ["2^0", "127", "0"]


def test_quantize_scaled_stochastic_uses_the_seeded_uniforms(capsys):
    from lpsgd import reference

    args = ["quantize", "--format", "mxfp4_e2m1", "--rounding", "stochastic", "--seed", "5",
            "0.3", "0.3", "0.3", "0.3", "2.2", "5.0"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    x = np.array([0.3, 0.3, 0.3, 0.3, 2.2, 5.0])
    want = reference.quantize(x, "mxfp4_e2m1", "stochastic",
                              uniforms=np.random.default_rng(5).random(x.size))
    rows, _, _ = _scaled_tables(first)
    assert [r[2] for r in rows] == [repr(v) for v in want.tolist()]


@pytest.mark.parametrize("argv, message", [
    (["quantize", "--format", "mxfp4_e2m1", "--saturate", "1"],
     "--saturate is for element formats; a scaled format (mxfp4_e2m1) always clamps"),
    (["quantize", "--format", "mxfp4", "1"], "Did you mean 'mxfp4_e2m1'?"),
    (["quantize", "--format", "nvfp5", "1"], "Did you mean 'nvfp4'?"),
    (["quantize", "--format", "fp17", "1"], "Did you mean 'fp16'?"),
    (["quantize", "--format", "mx8", "1"], "or a scaled preset (mxfp8_e4m3, "),
    (["quantize", "--format", "nvfp4", "--rounding", "stochastic", "1"], "needs --seed"),
    (["quantize", "--format", "nvfp4", "--seed", "1", "1"], "--seed is only used"),
    (["quantize", "--format", "mxint8", "x"], "Expected VALUE to be a number"),
    (["quantize", "--format", "mxint8", "--rounding", "near", "1"], "Unknown --rounding"),
])
def test_quantize_scaled_bad_arguments_exit_2(capsys, argv, message) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lpsgd quantize: error:") and message in captured.err


def test_quantize_help_explains_scaled_formats(capsys):
    with pytest.raises(SystemExit):
        main(["quantize", "--help"])
    out = capsys.readouterr().out
    assert "Scaled formats" in out and "lpsgd quantize --format mxfp4_e2m1" in out
    for name in SCALED_PRESETS:
        assert name in out, name
