"""Every integer option of every command: one parser, one message shape, exit status 2.

The table below lists each integer option with its bounds; a test checks that it is
complete (every option parsed by the shared integer type is in it), so a new option
cannot skip these checks.  Bad values stop at parsing: nothing runs, nothing is written.
"""

from __future__ import annotations

import argparse

import pytest

from lpsgd.cli import build_parser, main
from lpsgd.commands._args import MAX_SEED, IntOption

# (command, option) -> (min, max, the rest of a valid command line)
INT_OPTIONS = {
    ("report", "--seed"): (0, MAX_SEED, ["--no-progress"]),
    ("verify", "--seed"): (0, MAX_SEED, ["--no-progress"]),
    ("quantize", "--seed"): (0, MAX_SEED, ["--format", "binary16", "--rounding",
                                           "stochastic", "1"]),
    ("bench", "--size"): (1, None, []),
    ("bench", "--repeat"): (1, None, []),
    ("bench", "--reference-size"): (0, None, []),
    ("bench", "--seed"): (0, MAX_SEED, []),
    ("findings", "--runs"): (2, None, ["--no-progress"]),
    ("findings", "--steps"): (4, None, ["--no-progress"]),
    ("findings", "--batch"): (1, None, ["--no-progress"]),
    ("findings", "--seed"): (0, MAX_SEED, ["--no-progress"]),
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_table_lists_every_integer_option_of_every_command():
    found = set()
    for command, sub in _subparsers().items():
        for action in sub._actions:
            if isinstance(action.type, IntOption):
                found.add((command, action.option_strings[0]))
                lo, hi, _ = INT_OPTIONS[(command, action.option_strings[0])]
                assert (action.type.min_value, action.type.max_value) == (lo, hi)
            elif action.option_strings and action.type is int:  # a plain int slipped in
                found.add((command, action.option_strings[0]))
    assert found == set(INT_OPTIONS)
    assert "formats" in _subparsers()  # it has no integer option (yet): nothing to list


def _bad_values(lo, hi):
    """(value, expected message) pairs for an option named {o} with bounds lo..hi."""
    cases = [("abc", "Expected {o} to be an integer but got {o}='abc'"),
             ("1.5", "Expected {o} to be an integer but got {o}='1.5'"),
             ("1e3", "Expected {o} to be an integer but got {o}='1e3'"),
             ("0x10", "Expected {o} to be an integer but got {o}='0x10'"),
             ("", "Expected {o} to be an integer but got {o}=''"),
             (str(lo - 1), f"Expected {{o}} >= {lo} but got {{o}}={lo - 1}")]
    if hi is not None:
        cases.append((str(hi + 1), f"Expected {{o}} <= {hi} but got {{o}}={hi + 1}"))
    return cases


CASES = [(cmd, opt, value, message.format(o=opt))
         for (cmd, opt), (lo, hi, _) in INT_OPTIONS.items()
         for value, message in _bad_values(lo, hi)]


@pytest.mark.parametrize(("command", "option", "value", "message"), CASES,
                         ids=[f"{c}{o}={v!r}" for c, o, v, _ in CASES])
def test_bad_integer_exits_2_with_one_message_shape_and_writes_nothing(
        tmp_path, monkeypatch, capsys, command, option, value, message):
    monkeypatch.chdir(tmp_path)
    rest = INT_OPTIONS[(command, option)][2]
    # --opt=value, so that values starting with "-" are not taken for options
    code = main([command, f"{option}={value}", *rest])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    first = captured.err.splitlines()[0]
    assert first == f"lpsgd {command}: error: {message}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("command", "option"), list(INT_OPTIONS),
                         ids=[f"{c}{o}" for c, o in INT_OPTIONS])
def test_valid_integers_parse_at_the_bounds(command, option):
    lo, hi, rest = INT_OPTIONS[(command, option)]
    parser = build_parser()
    dest = option.lstrip("-").replace("-", "_")
    for text, want in [(str(lo), lo), (f" {lo + 1} ", lo + 1), (f"+{lo + 2}", lo + 2),
                       (str(hi if hi is not None else 10**30),
                        hi if hi is not None else 10**30)]:
        args = parser.parse_args([command, f"{option}={text}", *rest])
        assert getattr(args, dest) == want and type(getattr(args, dest)) is int


def test_defaults_are_ints_not_strings():
    parser = build_parser()
    for (command, option), (_, _, rest) in INT_OPTIONS.items():
        args = parser.parse_args([command, *rest])
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        assert value is None or type(value) is int, (command, option, value)


def test_usage_errors_exit_2_named_after_the_command(capsys):
    assert main(["bench", "--sise", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lpsgd bench: error: unrecognized arguments: --sise 3")
    assert "lpsgd bench --help" in err
    assert main(["nosuchcommand"]) == 2
    assert capsys.readouterr().err.startswith("lpsgd: error: argument COMMAND: invalid choice")
    assert main(["bench", "--size"]) == 2
    assert "argument --size: expected one argument" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["report", "verify", "quantize", "formats", "bench"])
def test_every_help_has_examples_and_exit_status(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and "Exit status:" in out
    examples = out.split("Examples:")[1].split("Exit status:")[0]
    assert examples.count(f"lpsgd {command}") >= 2
    # every example line parses
    parser = build_parser()
    for line in examples.splitlines():
        line = line.split("#")[0].split()
        if line[:1] == ["lpsgd"]:
            parser.parse_args(line[1:])


def test_top_level_help_points_at_command_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "lpsgd COMMAND --help" in capsys.readouterr().out
