"""Argument parsing shared by every ``lpsgd`` command.

* :class:`Parser`: an ArgumentParser whose usage errors become :class:`UsageError`, so
  :func:`lpsgd.cli.main` prints ``lpsgd CMD: error: ...`` and returns 2 for every bad
  command line (argparse's own errors and ours alike) instead of exiting.
* :func:`add_int_option`: every integer option, parsed by one function with the library's
  message shape (``Expected --seed >= 0 but got --seed=-1``).
* :func:`resolve_format` / :func:`add_format_option`: the one place where a command-line
  format name (preset, alias or ``eXmY[:flag...]`` spec) becomes a :class:`Format`.
* :func:`check_new_file` / :func:`write_new_file`: an output file that must not exist,
  checked before any work and written atomically, never overwriting a file.

Only the standard library is imported at module level (``lpsgd --help`` stays fast);
lpsgd.formats is imported when a format is resolved.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile

from lpsgd.errors import InvalidArgument

__all__ = ["UsageError", "Parser", "IntOption", "add_int_option", "MAX_SEED",
           "add_seed_option", "FORMAT_SPEC_HELP", "resolve_format", "spec_of", "alias_table",
           "FormatOption", "add_format_option", "check_new_file", "write_new_file"]


class UsageError(Exception):
    """A bad command line: ``main`` prints ``<prog>: error: <message>`` and returns 2.

    Not a ValueError on purpose: argparse would catch one raised by a ``type`` function
    and replace its message by "invalid <type> value".
    """

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


class Parser(argparse.ArgumentParser):
    """ArgumentParser raising :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(self.prog, message)


# ----------------------------------------------------------------------------------------
# integers

#: Largest seed any command accepts (the report's seed bound, 64 bits).
MAX_SEED = 2**64 - 1


class IntOption:
    """argparse ``type`` for an integer option: base-10 digits, optional sign, in range.

    Messages have the library's shape, naming the option as typed:
    ``Expected --size to be an integer but got --size='ten'``,
    ``Expected --size >= 1 but got --size=0``.
    """

    def __init__(self, prog: str, option: str, min_value: int | None = None,
                 max_value: int | None = None) -> None:
        self.prog, self.option = prog, option
        self.min_value, self.max_value = min_value, max_value
        self.__name__ = "integer"  # what argparse would call the type in its messages

    def parse(self, text: str) -> int:
        """The value, or InvalidArgument naming the option and the value."""
        name = self.option
        if not isinstance(text, str) or not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
            raise InvalidArgument(f"Expected {name} to be an integer but got {name}={text!r}")
        value = int(text)
        if self.min_value is not None and value < self.min_value:
            raise InvalidArgument(f"Expected {name} >= {self.min_value} but got "
                                  f"{name}={value}")
        if self.max_value is not None and value > self.max_value:
            raise InvalidArgument(f"Expected {name} <= {self.max_value} but got "
                                  f"{name}={value}")
        return value

    def __call__(self, text: str) -> int:
        try:
            return self.parse(text)
        except InvalidArgument as exc:
            raise UsageError(self.prog, str(exc)) from None


def add_int_option(parser: argparse.ArgumentParser, option: str, *, default: int | None,
                   min_value: int | None = None, max_value: int | None = None,
                   metavar: str = "N", help: str) -> argparse.Action:
    """Add an integer option parsed by :class:`IntOption` (``default`` is not parsed)."""
    return parser.add_argument(option, default=default, metavar=metavar, help=help,
                               type=IntOption(parser.prog, option, min_value, max_value))


def add_seed_option(parser: argparse.ArgumentParser, *, default: int | None = 0,
                    help: str) -> argparse.Action:
    """``--seed N``, 0 <= N <= 2^64 - 1, the same bounds in every command."""
    return add_int_option(parser, "--seed", default=default, min_value=0,
                          max_value=MAX_SEED, help=help)


# ----------------------------------------------------------------------------------------
# formats

def _format_spec_help() -> str:
    import textwrap

    from lpsgd.formats import PRESETS

    presets = textwrap.wrap(" ".join(PRESETS), 88, initial_indent=" " * 16,
                            subsequent_indent=" " * 16)
    presets[0] = "  a preset" + presets[0][10:]
    return "\n".join(["Formats (FORMAT):", *presets, _FORMAT_SPEC_REST])


_FORMAT_SPEC_REST = """\
                (lpsgd formats lists their constants)
  an alias      fp64 float64 f64 double, fp32 float32 f32 single, fp16 float16 f16
                half, bf16, tensorfloat32, fp4 float4 f4 (= float4_e2m1fn); ambiguous
                ones (fp8, fp6, float, e4m3, fp8_e4m3) stop with the presets they could
                mean. Case, '-' and '_' do not matter (FP8-E5M2 = float8_e5m2).
                lpsgd formats --aliases lists every alias.
  eXmY          X exponent bits, Y stored mantissa bits: the preset with that E and M
                if there is one (e5m2, e2m1 = float4_e2m1fn), ambiguous if there are
                several (e4m3), else the IEEE-like Format(X, Y) (e5m7).
  NAME:FLAG...  any of the above with flags, which set the Format options and always
                give one format (a preset if it equals one):
                  ieee      inf and NaN (Format(inf=True); the default of eXmY)
                  fn        no inf, one NaN code (inf=False, nan=True)
                  fn_nonan  no inf, no NaN (inf=False, nan=False)
                  nosub     no subnormals: flush to +-0 below N_min (subnormals=False)
                  sub       gradual underflow (subnormals=True; the default)
                e.g. e4m3:fn (= float8_e4m3fn), e5m7:fn:nosub, binary16:nosub."""

#: The format syntax, as the --help of every command taking a format shows it.
FORMAT_SPEC_HELP = _format_spec_help()

_KINDS = {"ieee": {"inf": True, "nan": True}, "fn": {"inf": False, "nan": True},
          "fn_nonan": {"inf": False, "nan": False}}
_SUBNORMAL_FLAGS = {"sub": True, "nosub": False}
_FLAGS = {"ieee": "ieee", "fn": "fn", "fnnonan": "fn_nonan", "sub": "sub", "nosub": "nosub"}
_KIND_TEXT = {"ieee": "inf and NaN", "fn": "no inf, one NaN code",
              "fn_nonan": "no inf, no NaN"}

# Word aliases (keys normalised by _norm) -> the presets they could mean; one name
# resolves, several make the alias ambiguous.  "float" is C's binary32 and Python's
# binary64.  The fp8/fp6/fp4 families are derived from the presets (_width_aliases).
_WORD_ALIASES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("fp64", "float64", "f64", "double"), ("binary64",)),
    **dict.fromkeys(("fp32", "float32", "f32", "single"), ("binary32",)),
    **dict.fromkeys(("fp16", "float16", "f16", "half"), ("binary16",)),
    "bf16": ("bfloat16",),
    "tensorfloat32": ("tf32",),
    "float": ("binary32", "binary64"),
}
_SPEC = re.compile(r"(?:(fp|float|f)([0-9]+))?e([0-9]+)m([0-9]+)([a-z0-9]*)")


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text.lower())


def _presets():
    from lpsgd.formats import PRESETS

    return PRESETS


def _width_aliases() -> dict[str, tuple[str, ...]]:
    """fp8 / float8 / f8 (and 6, 4): every preset of that width (the 16 / 32 / 64 bit
    names are in _WORD_ALIASES: fp16 means binary16, not bfloat16)."""
    out: dict[str, tuple[str, ...]] = {}
    for bits in (4, 6, 8):
        names = tuple(n for n, f in _presets().items() if f.total_bits == bits)
        if names:
            for prefix in ("fp", "float", "f"):
                out[f"{prefix}{bits}"] = names
    return out


def _params(fmt) -> dict:
    return {"exp_bits": fmt.exp_bits, "man_bits": fmt.man_bits,
            "subnormals": fmt.subnormals, "inf": fmt.inf, "nan": fmt.nan}


def spec_of(fmt) -> str:
    """The explicit spec of a format, e.g. ``e4m3:fn`` or ``e5m10:ieee:nosub``."""
    return f"e{fmt.exp_bits}m{fmt.man_bits}:{fmt.kind}" + ("" if fmt.subnormals else ":nosub")


def _describe(name: str) -> str:
    f = _presets()[name]
    sub = "" if f.subnormals else ", no subnormals"
    return f"{name} (E={f.exp_bits}, M={f.man_bits}, {_KIND_TEXT[f.kind]}{sub}; {spec_of(f)})"


def _alternatives(names) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _candidates(base: str, shown: str) -> list[dict]:
    """The Format parameter sets ``base`` (a name without flags) could mean; [] if none."""
    presets = _presets()
    key = _norm(base)
    by_norm = {_norm(n): n for n in presets}
    if key in by_norm:
        return [_params(presets[by_norm[key]])]
    aliases = {**_WORD_ALIASES, **_width_aliases()}
    if key in aliases:
        return [_params(presets[n]) for n in aliases[key]]
    m = _SPEC.fullmatch(key)
    if m is None:
        return []
    prefix, width, e, mant, suffix = m.groups()
    e, mant = int(e), int(mant)
    if width is not None and int(width) != 1 + e + mant:
        raise InvalidArgument(
            f"Expected {shown} to have 1 + E + M = {width} bits but it has "
            f"1 + {e} + {mant} = {1 + e + mant}")
    same = [n for n, f in presets.items() if (f.exp_bits, f.man_bits) == (e, mant)]
    if "uz" in suffix:
        near = f"; the presets with E={e}, M={mant} are: {', '.join(same)}" if same else ""
        raise InvalidArgument(
            f"Unsupported {shown}: 'fnuz' formats (a single zero, NaN in the -0 code, "
            f"another exponent bias) are not expressible as a Format{near}")
    if suffix == "fn":
        same = [n for n in same if not presets[n].inf]
        if not same:
            raise InvalidArgument(
                f"Unknown {shown}: no preset has E={e}, M={mant} without inf; write "
                f"e{e}m{mant}:fn (one NaN code) or e{e}m{mant}:fn_nonan (no NaN)")
        return [_params(presets[n]) for n in same]
    if suffix:
        raise InvalidArgument(
            f"Unknown {shown}: {suffix!r} after e{e}m{mant}; flags go after a colon, "
            f"e.g. e{e}m{mant}:fn or e{e}m{mant}:nosub (see --help)")
    if same:
        return [_params(presets[n]) for n in same]
    return [{"exp_bits": e, "man_bits": mant, "subnormals": True, "inf": True,
             "nan": True}]


def _unknown(text: str, shown: str) -> InvalidArgument:
    from lpsgd._validate import closest

    names = [*_presets(), *_WORD_ALIASES, *_width_aliases()]
    msg = (f"Unknown {shown}; expected a preset ({', '.join(_presets())}), an alias "
           f"(fp16, bf16, fp8, ...: lpsgd formats --aliases) or a spec eXmY[:flag...] "
           f"such as e5m7 or e4m3:fn:nosub")
    hint = closest(text.split(":")[0].lower(), names)
    if hint is not None:
        msg += f". Did you mean {hint!r}?"
    return InvalidArgument(msg)


def resolve_format(text: str, option: str = "--format"):
    """A command-line format name as a :class:`lpsgd.formats.Format` (see
    :data:`FORMAT_SPEC_HELP` for the syntax).

    A result equal to a preset is that preset (so it carries the preset's name).

    Raises:
        InvalidArgument: naming ``option`` and the value: unknown names (with the closest
        valid one), ambiguous names (with every preset they could mean), bad flags, and
        the Format's own checks for a custom spec.
    """
    from lpsgd.formats import Format

    shown = f"{option}={text!r}"
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"Expected {option} to be a format name but got {shown}")
    base, *flags = text.strip().split(":")
    candidates = _candidates(base, shown)
    if not candidates:
        from lpsgd.scaled import SCALED_PRESETS

        if base.strip() in SCALED_PRESETS:  # a block format: not one value at a time
            raise InvalidArgument(
                f"Expected {option} to be an element format but got {shown}, a scaled "
                f"format (blocks of values share a scale); quantise arrays with it through "
                f"lpsgd.fast.quantize or lpsgd.reference.quantize (lpsgd formats --scaled "
                f"lists them)")
        raise _unknown(text.strip(), shown)
    changes: dict = {}
    for flag in flags:
        f = _FLAGS.get(_norm(flag), flag)
        if f in _KINDS:
            key = "kind"
            value = _KINDS[f]
        elif f in _SUBNORMAL_FLAGS:
            key = "subnormals"
            value = {"subnormals": _SUBNORMAL_FLAGS[f]}
        else:
            raise InvalidArgument(
                f"Unknown flag {flag!r} in {shown}; valid flags are: ieee, fn, fn_nonan, "
                f"nosub, sub")
        if key in changes and changes[key] != value:
            raise InvalidArgument(f"Conflicting flags in {shown}: give at most one of "
                                  + ("ieee, fn, fn_nonan" if key == "kind" else "sub, nosub"))
        changes[key] = value
    params = []
    for c in candidates:
        p = dict(c)
        for v in changes.values():
            p.update(v)
        if p not in params:
            params.append(p)
    if len(params) > 1:
        names = [n for n, f in _presets().items() if _params(f) in candidates]
        if changes:  # the flags kept it ambiguous: show what each preset would become
            options = [f"{n}:{':'.join(flags)}" for n in names]
        else:
            options = [_describe(n) for n in names]
        raise InvalidArgument(
            f"Ambiguous {shown}: it could mean {_alternatives(options)}; give one of "
            f"these" + (" names or specs" if not changes else "") + " (or add :ieee, :fn "
            f"or :fn_nonan to an eXmY spec)")
    try:
        fmt = Format(**params[0])
    except InvalidArgument as exc:
        raise InvalidArgument(f"{shown}: {exc}") from None
    for f in _presets().values():
        if f == fmt:
            return f
    return fmt


def alias_table() -> list[tuple[str, str]]:
    """(alias, meaning) rows: every word alias and the eXmY shorthand of each preset's
    (E, M); the meaning is a preset name or "ambiguous: a, b, ..."."""
    rows = []
    keys = list(_WORD_ALIASES) + list(_width_aliases())
    keys += sorted({f"e{f.exp_bits}m{f.man_bits}" for f in _presets().values()},
                   key=lambda k: tuple(int(x) for x in re.findall(r"[0-9]+", k)))
    for key in keys:
        try:
            meaning = resolve_format(key).label
        except InvalidArgument:
            names = _candidates(key, key)
            meaning = "ambiguous: " + ", ".join(
                n for n, f in _presets().items() if _params(f) in names)
        rows.append((key, meaning))
    return rows


class FormatOption:
    """argparse ``type`` resolving a format with :func:`resolve_format`."""

    def __init__(self, prog: str, option: str) -> None:
        self.prog, self.option = prog, option
        self.__name__ = "format"

    def __call__(self, text: str):
        try:
            return resolve_format(text, self.option)
        except InvalidArgument as exc:
            raise UsageError(self.prog, str(exc)) from None


def add_format_option(parser: argparse.ArgumentParser, option: str = "--format",
                      **kwargs) -> argparse.Action:
    """Add a format option resolved by :func:`resolve_format` at parse time."""
    kwargs.setdefault("metavar", "FORMAT")
    return parser.add_argument(option, type=FormatOption(parser.prog, option), **kwargs)


# ----------------------------------------------------------------------------------------
# output files

def check_new_file(option: str, path: str) -> str:
    """Check, before any work, that ``path`` can be created as a new file.

    It must not exist (files are never overwritten), and its folder must exist and be
    writable (probed by creating and removing a temporary file there).

    Raises:
        InvalidArgument: naming ``option`` and the value, with the reason.
    """
    shown = f"{option}={path!r}"
    if not path:
        raise InvalidArgument(f"Expected {option} to be a file name but got {shown}")
    if os.path.isdir(path):
        raise InvalidArgument(f"Expected {option} to be a new file but got {shown}, "
                              f"which is a folder")
    if os.path.lexists(path):
        raise InvalidArgument(f"Expected {option} to be a new file but got {shown}, "
                              f"which exists (files are never overwritten)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InvalidArgument(f"Expected the folder of {option} to exist but got {shown} "
                              f"({parent!r} is not a folder)")
    try:
        fd, probe = tempfile.mkstemp(prefix=".lpsgd-probe-", dir=parent)
    except OSError as exc:
        raise InvalidArgument(f"Cannot write {shown}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    return path


def write_new_file(option: str, path: str, text: str) -> str:
    """Write ``text`` to the new file ``path`` atomically, never replacing a file.

    The text goes to a temporary file in the same folder, which is then hard-linked to
    ``path`` (link(2) fails when ``path`` exists) and removed; where hard links are not
    supported, ``path`` is created with O_CREAT | O_EXCL instead.  If ``path`` appeared
    in the meantime, the temporary file is kept and named in the error.

    Raises:
        InvalidArgument: naming ``option``, the value and where the text was kept.
    """
    parent = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.partial-", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
        created = _link_or_create(tmp, path, text)
    except BaseException:
        os.unlink(tmp)
        raise
    if not created:
        raise InvalidArgument(f"{option}={path!r} was created by something else during the "
                              f"run and was not overwritten; the output is in {tmp!r}")
    os.unlink(tmp)
    return path


def _link_or_create(tmp: str, path: str, text: str) -> bool:
    """Hard-link ``tmp`` to ``path``, or create ``path`` exclusively; False if it exists."""
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system
        pass
    try:
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(out, "w", encoding="utf-8") as fh:
        fh.write(text)
    return True
