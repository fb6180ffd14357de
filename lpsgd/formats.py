"""Binary floating-point formats, every constant derived from (E, M, flags).

A :class:`Format` is fixed by its exponent bits ``E >= 1``, its stored mantissa bits
``M >= 0`` and three flags:

* ``inf=True`` (the default, IEEE-like): the all-ones exponent holds inf and NaN,
  ``e_max = bias`` and ``X_max = (2 - 2^-M) 2^e_max``.
* ``inf=False, nan=True`` ("fn" with one NaN encoding, as float8_e4m3fn): the all-ones
  exponent holds normal numbers except the all-ones code, which is NaN;
  ``X_max = (2 - 2^(1-M)) 2^(bias+1)``.
* ``inf=False, nan=False`` ("fn" with no NaN, as float4_e2m1fn): every code is a number;
  ``X_max = (2 - 2^-M) 2^(bias+1)``.
* ``subnormals=False``: magnitudes below ``N_min = 2^e_min`` flush to a zero of the
  input's sign, whatever the rounding mode.

There are no per-format tables: the presets below are just parameter sets.  Exact
constants are :class:`fractions.Fraction`; ``*_float`` twins are float64 when the format
fits binary64.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np

from lpsgd._validate import check_bool, check_choice, check_int, show
from lpsgd.errors import InvalidArgument

__all__ = ["Format", "PRESETS", "ALIASES", "preset", "as_format", "preset_names"]

#: Largest exponent size E accepted.  e_max and -e_min are about 2^(E-1), and the exact
#: constants (X_max, N_min, s, ...) are powers of two times integers of up to
#: 2^(E-1) + M + 2 bits: at E = 20 (e_max = 524287; binary256 has E = 19) each is
#: built, compared and rounded in milliseconds.  Every extra bit doubles those sizes,
#: and the exact arithmetic on them (Theorem 7's s^2, shrinkage profiles, the exact
#: reference) grows at least as fast: E = 30 took seconds per constant.
MAX_EXP_BITS = 20
#: Largest stored mantissa size M accepted (precision 4097 bits; the exact reference
#: works at about M bits, so its cost grows with M).
MAX_MAN_BITS = 4096


@dataclasses.dataclass(frozen=True)
class Format:
    """A binary floating-point format (sign bit, ``exp_bits`` exponent, ``man_bits`` mantissa).

    Args:
        exp_bits: exponent bits 1 <= E <= :data:`MAX_EXP_BITS` = 20 (E >= 2 for IEEE-like
            formats, which spend the all-ones exponent on inf/NaN).  Wider exponents are
            refused: their exact constants have millions of bits.
        man_bits: stored mantissa bits 0 <= M <= :data:`MAX_MAN_BITS` = 4096 (precision
            p = M + 1).  Python ints and numpy integers are accepted (converted exactly),
            bools and floats are not.
        subnormals: gradual underflow; when False, results below N_min flush to +-0.
        inf: IEEE-like (inf and NaN in the all-ones exponent). False gives an "fn" format.
        nan: only for fn formats: True keeps one NaN code (all ones), False has no NaN.
        name: display name (presets set it); not part of equality.
    """

    exp_bits: int
    man_bits: int
    subnormals: bool = True
    inf: bool = True
    nan: bool = True
    name: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        # The validated values replace the given ones: numpy integers (np.int64(8),
        # np.uint64(30)) become Python ints exactly, so no constant is computed in
        # fixed-width numpy arithmetic (which wraps around silently), and the flags
        # become bools.
        set_ = object.__setattr__
        set_(self, "exp_bits",
             check_int("exp_bits", self.exp_bits, min_value=1, max_value=MAX_EXP_BITS))
        set_(self, "man_bits",
             check_int("man_bits", self.man_bits, min_value=0, max_value=MAX_MAN_BITS))
        for flag in ("subnormals", "inf", "nan"):
            set_(self, flag, check_bool(flag, getattr(self, flag)))
        if self.name is not None and not isinstance(self.name, str):
            raise InvalidArgument(
                f"Expected name to be a str or None but got name={show(self.name)}")
        if self.inf and not self.nan:
            raise InvalidArgument(
                f"Expected nan=True for an IEEE-like format (inf=True) but got nan={self.nan!r}")
        if self.e_max < self.e_min:
            raise InvalidArgument(
                f"Format(exp_bits={self.exp_bits}, man_bits={self.man_bits}, inf={self.inf}, "
                f"nan={self.nan}) has no normal numbers (e_max={self.e_max} < e_min="
                f"{self.e_min}); use exp_bits >= 2"
                + (", man_bits >= 1, or nan=False" if not self.inf else " or inf=False"))

    # -- derived constants -------------------------------------------------------------
    @property
    def precision(self) -> int:
        """p = M + 1 significant bits."""
        return self.man_bits + 1

    @property
    def total_bits(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self) -> int:
        return 2 ** (self.exp_bits - 1) - 1

    @property
    def e_min(self) -> int:
        return 1 - self.bias

    @property
    def e_max(self) -> int:
        if self.inf:
            return self.bias
        if self.nan and self.man_bits == 0:
            # The only code of the all-ones exponent is the NaN: no normal binade there.
            return self.bias
        return self.bias + 1

    @property
    def max_significand(self) -> int:
        """Largest integer significand: X_max = max_significand * 2^(e_max - M)."""
        full = 2 ** (self.man_bits + 1) - 1
        if not self.inf and self.nan and self.man_bits > 0:
            return full - 1  # the all-ones mantissa in the top binade is the NaN code
        return full

    @property
    def x_max(self) -> Fraction:
        """Largest finite magnitude X_max (exact)."""
        return _pow2(self.e_max - self.man_bits) * self.max_significand

    @property
    def n_min(self) -> Fraction:
        """Smallest positive normal N_min = 2^e_min (exact)."""
        return _pow2(self.e_min)

    @property
    def subnormal_spacing(self) -> Fraction:
        """s = 2^(e_min - M): spacing of the subnormals and of the first normal binade."""
        return _pow2(self.e_min - self.man_bits)

    s = subnormal_spacing

    @property
    def smallest_positive(self) -> Fraction:
        """Smallest positive representable magnitude (s, or N_min without subnormals)."""
        return self.subnormal_spacing if self.subnormals else self.n_min

    @property
    def unit_roundoff(self) -> Fraction:
        """u = 2^-(M+1): relative error bound of round to nearest in the normal range."""
        return _pow2(-(self.man_bits + 1))

    @property
    def overflow_threshold(self) -> Fraction:
        """(2 - 2^-(M+1)) 2^e_max: |x| at or above it rounds to inf under nearest_even."""
        return (2 - _pow2(-(self.man_bits + 1))) * _pow2(self.e_max)

    @property
    def fits_binary64(self) -> bool:
        """Every value of the format is a float64 (the fast path's requirement)."""
        # The first normal binade has spacing 2^(e_min - M) with or without subnormals,
        # so that spacing must be a float64 in both cases.
        return (self.man_bits <= 52 and self.e_max <= 1023
                and self.e_min - self.man_bits >= -1074)

    @property
    def kind(self) -> str:
        """'ieee', 'fn' (one NaN code) or 'fn_nonan'."""
        if self.inf:
            return "ieee"
        return "fn" if self.nan else "fn_nonan"

    @property
    def label(self) -> str:
        """The preset name if any, else a parameter name like ``e4m3`` or ``e4m3fn_noinf``."""
        if self.name:
            return self.name
        tag = {"ieee": "", "fn": "fn", "fn_nonan": "fn_nonan"}[self.kind]
        sub = "" if self.subnormals else "_nosub"
        return f"e{self.exp_bits}m{self.man_bits}{tag}{sub}"

    def __str__(self) -> str:
        return self.label

    def float_constants(self) -> dict[str, float]:
        """The constants as Python floats (each rounded to nearest from its exact value).

        Raises InvalidArgument when a constant is outside the float64 range (above the
        largest float64, or so small that it rounds to 0), as for wide formats such as
        e15m112: use the exact Fraction properties (``x_max``, ``n_min``, ...) there.
        """
        exact = {"n_min": self.n_min, "s": self.subnormal_spacing, "x_max": self.x_max,
                 "unit_roundoff": self.unit_roundoff}
        out: dict[str, float] = {}
        for key, value in exact.items():
            log2 = value.numerator.bit_length() - value.denominator.bit_length()
            try:
                f = float(value) if -1100 < log2 < 1100 else (0.0 if log2 < 0 else math.inf)
            except OverflowError:
                f = math.inf
            if f == 0 or math.isinf(f):
                where = "above the largest float64" if f else "below the smallest float64"
                raise InvalidArgument(
                    f"{self.label} has {key} of about 2^{log2}, {where}, so float_constants() "
                    f"cannot give it as a float; use the exact constants (Format.x_max, "
                    f"n_min, subnormal_spacing, unit_roundoff)")
            out[key] = f
        return {"bias": self.bias, "e_min": self.e_min, "e_max": self.e_max, **out}

    # -- codes -------------------------------------------------------------------------
    def is_nan_code(self, code: int) -> bool:
        ef, mf = self._fields(code)
        top = 2 ** self.exp_bits - 1
        if self.inf:
            return ef == top and mf != 0
        if self.nan:
            return ef == top and mf == 2 ** self.man_bits - 1
        return False

    def _fields(self, code: int) -> tuple[int, int]:
        return (code >> self.man_bits) & (2 ** self.exp_bits - 1), code & (2 ** self.man_bits - 1)

    def decode(self, code: int) -> float:
        """The float64 value of a bit pattern (sign, exponent, mantissa); NaN codes give nan.

        Subnormal codes of a format without subnormals decode to their subnormal value.
        Values beyond the float64 range raise InvalidArgument (smaller ones round to
        nearest, as a float64 cast would).
        """
        code = check_int("code", code, min_value=0, max_value=2 ** self.total_bits - 1)
        sign = -1.0 if code >> (self.exp_bits + self.man_bits) else 1.0
        ef, mf = self._fields(code)
        if self.is_nan_code(code):
            return float("nan")
        if self.inf and ef == 2 ** self.exp_bits - 1:
            return sign * float("inf")
        if ef == 0:
            return sign * float(mf * self.subnormal_spacing)
        value = (2 ** self.man_bits + mf) * _pow2(ef - self.bias - self.man_bits)
        try:
            return sign * float(value)
        except OverflowError:
            raise InvalidArgument(
                f"code={code} of {self.label} has the value {show(value)}, above the largest "
                f"float64, so decode() cannot give it as a float") from None

    def encode(self, value: float) -> int:
        """The bit pattern of a representable value (signed zeros, inf and NaN included)."""
        value = float(value)
        sign = 1 if np.signbit(value) else 0
        high = sign << (self.exp_bits + self.man_bits)
        top = 2 ** self.exp_bits - 1
        if np.isnan(value):
            if not self.nan:
                raise InvalidArgument(f"{self.label} has no NaN; got value=nan")
            return high | (top << self.man_bits) | (2 ** self.man_bits - 1)
        if np.isinf(value):
            if not self.inf:
                raise InvalidArgument(f"{self.label} has no inf; got value={value!r}")
            return high | (top << self.man_bits)
        mag = Fraction(abs(value))
        if mag == 0:
            return high
        if mag < self.n_min:
            mf = mag / self.subnormal_spacing
            ef = 0
        else:
            e = mag.numerator.bit_length() - mag.denominator.bit_length()
            if _pow2(e) > mag:
                e -= 1
            mf = mag / _pow2(e - self.man_bits) - 2 ** self.man_bits
            ef = e + self.bias
        if mf.denominator != 1 or mag > self.x_max or (ef == 0 and not self.subnormals):
            raise InvalidArgument(f"value={value!r} is not representable in {self.label}")
        return high | (ef << self.man_bits) | int(mf)

    def codes(self) -> np.ndarray:
        """Every value of the format as a float64 array (formats of at most 16 bits).

        Both signed zeros, the subnormals (when enabled), the normals, and inf/NaN when
        the format has them, in code order.
        """
        if self.total_bits > 16:
            raise InvalidArgument(
                f"Expected a format of at most 16 bits for codes() but got {self.label} "
                f"with total_bits={self.total_bits}")
        out = []
        for code in range(2 ** self.total_bits):
            ef, mf = self._fields(code)
            if ef == 0 and mf != 0 and not self.subnormals:
                continue
            out.append(self.decode(code))
        return np.array(out, dtype=np.float64)


def _pow2(e: int) -> Fraction:
    return Fraction(2) ** e


PRESETS: dict[str, Format] = {
    name: Format(e, m, inf=inf, nan=nan, name=name)
    for name, e, m, inf, nan in [
        ("binary64", 11, 52, True, True),
        ("binary32", 8, 23, True, True),
        ("binary16", 5, 10, True, True),
        ("bfloat16", 8, 7, True, True),
        ("tf32", 8, 10, True, True),
        ("float8_e5m2", 5, 2, True, True),
        ("float8_e4m3fn", 4, 3, False, True),
        ("float8_e4m3", 4, 3, True, True),
        ("float8_e3m4", 3, 4, True, True),
        ("float6_e3m2fn", 3, 2, False, False),
        ("float6_e2m3fn", 2, 3, False, False),
        ("float4_e2m1fn", 2, 1, False, False),
    ]
}
ALIASES: dict[str, str] = {"fp16": "binary16", "float16": "binary16", "fp32": "binary32",
                           "float32": "binary32", "fp64": "binary64", "float64": "binary64",
                           "bf16": "bfloat16"}


def preset_names(*, aliases: bool = True) -> list[str]:
    """Element presets, then the scaled presets (MX, NVFP4), then the aliases."""
    from lpsgd.scaled import SCALED_PRESETS  # lazy: lpsgd.scaled imports this module

    return list(PRESETS) + list(SCALED_PRESETS) + (list(ALIASES) if aliases else [])


def preset(name: str):
    """The preset called ``name`` (element formats, plus aliases such as fp16).

    Scaled preset names (mxfp8_e4m3, ..., mxint8, nvfp4) return a
    :class:`lpsgd.scaled.ScaledFormat`.  Unknown names raise InvalidArgument listing the
    valid names and the closest one.
    """
    name = check_choice("format", name, preset_names())
    from lpsgd.scaled import SCALED_PRESETS

    if name in SCALED_PRESETS:
        return SCALED_PRESETS[name]
    return PRESETS[ALIASES.get(name, name)]


def as_format(fmt: Format | str, name: str = "fmt") -> Format:
    """Accept a Format or an element preset name (a scaled name is refused here: callers
    of this function need an element format)."""
    if isinstance(fmt, Format):
        return fmt
    if isinstance(fmt, str):
        f = preset(fmt)
        if not isinstance(f, Format):
            raise InvalidArgument(f"Expected {name} to be an element format but got the "
                                  f"scaled format {name}={fmt!r}")
        return f
    raise InvalidArgument(f"Expected {name} to be a Format or a preset name but got "
                          f"{name}={show(fmt)}")


def __getattr__(attr: str):
    if attr == "ScaledFormat":  # lpsgd.formats.ScaledFormat, beside Format
        from lpsgd.scaled import ScaledFormat

        return ScaledFormat
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
