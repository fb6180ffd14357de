"""Scaled formats: blocks of elements sharing one scale (MX, NVFP4), constants derived.

A :class:`ScaledFormat` is an element format, a block size ``n_B``, a scale format and a
scale rule.  The elements of an array are cut into blocks of ``n_B`` consecutive values
along one axis (the last by default); a last block that is shorter is a block of its own
(as if padded with zeros, which change no block maximum).  Each block is quantised as

    a_B = max_i |x_i|,   s_B from the rule,   Q(x)_i = s_B Q_f(x_i / s_B),

with any rounding mode of :mod:`lpsgd.rounding` applied to the elements and every element
clamped to ``+-X_f`` (the element's largest magnitude, never inf).  The quantisers return
the dequantised values; :func:`lpsgd.reference.scaled.encode` returns codes and scales.

Scale formats and rules:

* ``scale="e8m0"`` (MX): ``s_B = 2^e`` with ``e`` clamped to ``[-127, 127]``.  With
  ``E = floor(log2 a_B)`` read from the bits of ``a_B`` (never from a float logarithm)
  and ``emax_f`` the exponent of the element's largest binade:

  - ``floor`` (the OCP MX v1.0 rule): ``e = E - emax_f``;
  - ``ceil``: ``e = ceil(log2 a_B) - emax_f``;
  - ``rceil``: ``e = ceil(log2(a_B / X_f))``, the smallest ``e`` with ``a_B <= X_f 2^e``,
    decided exactly (no element of the block is then clamped).

* ``scale="e4m3"`` (NVFP4), rule ``"nearest"``: a per-tensor scale
  ``S = X_s X_f / a_tensor`` (``X_s = 448`` the largest E4M3 value, ``a_tensor`` the
  largest magnitude of the whole array), computed as float32 arithmetic computes it
  (``a_tensor`` rounded to float32, then one float32 division); ``S = 1`` when that
  float32 ``a_tensor`` is 0 or not finite, or the quotient overflows float32.  Block
  scales ``s_B = E4M3_nearest_even(a_B S / X_f)`` (saturating at 448), decided on the
  exact product; ``Q(x)_i = Q_f(x_i S / s_B) s_B / S`` decided exactly, and the result is
  that exact value rounded once to float64 (it need not be dyadic).  A block whose
  ``s_B`` is 0 becomes zeros (signs kept).  ``X_s X_f`` must be a finite float32.

Special values: a block with ``a_B = 0`` gives zeros of the inputs' signs (its E8M0
scale, reported by encode, is ``2^-127``); NaN anywhere in a block, or an infinity, makes
the scale NaN and the whole block NaN.

Elements: any binary :class:`~lpsgd.formats.Format` whose range fits well inside
binary64 (``emax_f <= 895`` and ``e_min - M >= -947``, so every scaled value is a float64),
or an integer element :class:`IntElement` (``"int8"``: values ``k / 64`` with
``|k| <= 127``, ``emax_f = 0``), rounded on the grid of spacing ``2^-6`` with any mode
and clamped to ``+-127/64`` (the symmetric range; -2 is never produced).
"""

from __future__ import annotations

import dataclasses
import numbers
from fractions import Fraction

from lpsgd._validate import check_choice, check_int
from lpsgd.errors import InvalidArgument
from lpsgd.formats import PRESETS, Format, as_format

__all__ = ["ScaledFormat", "IntElement", "SCALED_PRESETS", "SCALE_FORMATS", "SCALE_RULES",
           "scaled_preset", "scaled_preset_names", "as_scaled_format", "is_scaled",
           "check_block_axis", "E8M0_MIN", "E8M0_MAX"]

#: The scale formats and the rules each one can use.
SCALE_RULES: dict[str, tuple[str, ...]] = {"e8m0": ("floor", "ceil", "rceil"),
                                           "e4m3": ("nearest",)}
SCALE_FORMATS: tuple[str, ...] = tuple(SCALE_RULES)
#: The E8M0 exponent range (the code 255 is NaN).
E8M0_MIN, E8M0_MAX = -127, 127
#: The E4M3 scale format of NVFP4 (no inf, one NaN code, X_max = 448).
E4M3_SCALE: Format = PRESETS["float8_e4m3fn"]

# Elements must keep every scaled value a float64: X_f 2^127 below 2^1024, and the
# smallest element spacing times 2^-127 at least 2^-1074.
_MAX_ELEMENT_EMAX = 1023 - 127 - 1
_MIN_ELEMENT_SPACING_EXP = -1074 + 127


@dataclasses.dataclass(frozen=True)
class IntElement:
    """A signed fixed-point element: values ``k / 2^(bits-2)``, ``|k| <= 2^(bits-1) - 1``.

    ``IntElement(8)`` is the MXINT8 element (``k / 64``, ``|k| <= 127``).  Its largest
    binade is ``[1, 2)`` (``e_max = 0``).  Rounding uses the binary format ``grid``
    (E = 2, M = bits - 2: spacing ``2^-(bits-2)`` uniformly on ``[0, 2)``) and then clamps
    to ``+-x_max``, so every rounding mode is exact on the integer grid.
    """

    bits: int = 8

    def __post_init__(self) -> None:
        check_int("bits", self.bits, min_value=2, max_value=32)

    @property
    def frac_bits(self) -> int:
        return self.bits - 2

    @property
    def e_max(self) -> int:
        return 0

    @property
    def x_max(self) -> Fraction:
        return Fraction(2 ** (self.bits - 1) - 1, 2 ** self.frac_bits)

    @property
    def grid(self) -> Format:
        return Format(2, self.frac_bits)

    @property
    def label(self) -> str:
        return f"int{self.bits}"

    def __str__(self) -> str:
        return self.label

    def encode(self, value: Fraction) -> int:
        """Two's complement code of ``k = value 2^frac_bits`` in ``bits`` bits."""
        k = Fraction(value) * 2 ** self.frac_bits
        if k.denominator != 1 or abs(k) > 2 ** (self.bits - 1) - 1:
            raise InvalidArgument(f"value={value!r} is not representable in {self.label}")
        return int(k) & (2 ** self.bits - 1)

    def decode(self, code: int) -> float:
        check_int("code", code, min_value=0, max_value=2 ** self.bits - 1)
        k = code - 2 ** self.bits if code >> (self.bits - 1) else code
        return float(Fraction(k, 2 ** self.frac_bits))


def _element(element: object) -> Format | IntElement:
    if isinstance(element, Format | IntElement):
        return element
    if isinstance(element, str):
        if element.startswith("int") and element[3:].isdigit():
            return IntElement(int(element[3:]))
        try:
            return as_format(element, "element")
        except InvalidArgument as exc:
            raise InvalidArgument(str(exc).replace("format=", "element=")) from None
    raise InvalidArgument(f"Expected element to be a Format, an IntElement, 'int8' or a "
                          f"preset name but got element={element!r}")


@dataclasses.dataclass(frozen=True)
class ScaledFormat:
    """A block-scaled format: element format, block size, scale format and scale rule.

    Args:
        element: a :class:`~lpsgd.formats.Format`, an element preset name
            ("float8_e4m3fn", ...), an :class:`IntElement` or ``"int8"``.
        block_size: elements per block, >= 1.
        scale: ``"e8m0"`` (power-of-two scales, MX) or ``"e4m3"`` (NVFP4).
        rule: for e8m0 ``"floor"``, ``"ceil"`` or ``"rceil"``; for e4m3 ``"nearest"``.
        name: display name (presets set it); not part of equality.

    Frozen and hashable; every constant is derived from these parameters.
    """

    element: Format | IntElement
    block_size: int = 32
    scale: str = "e8m0"
    rule: str = "floor"
    name: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "element", _element(self.element))
        check_int("block_size", self.block_size, min_value=1, max_value=2 ** 31)
        object.__setattr__(self, "block_size", int(self.block_size))
        check_choice("scale", self.scale, SCALE_FORMATS)
        rules = SCALE_RULES[self.scale]
        if not isinstance(self.rule, str) or self.rule not in rules:
            other = [s for s, r in SCALE_RULES.items() if self.rule in r]
            hint = (f" (rule={self.rule!r} is for scale={other[0]!r})" if other else "")
            raise InvalidArgument(
                f"Unknown rule={self.rule!r} for scale={self.scale!r}; valid values are: "
                f"{', '.join(rules)}{hint}")
        grid = self.grid
        if (not grid.fits_binary64 or self.emax_f > _MAX_ELEMENT_EMAX
                or grid.e_min - grid.man_bits < _MIN_ELEMENT_SPACING_EXP):
            raise InvalidArgument(
                f"element={self.element.label} is too wide for a scaled format: expected "
                f"an element with e_max <= {_MAX_ELEMENT_EMAX} and e_min - M >= "
                f"{_MIN_ELEMENT_SPACING_EXP} (every scaled value a float64)")
        if self.scale == "e4m3" and self.tensor_numerator >= PRESETS["binary32"].x_max:
            raise InvalidArgument(
                f"element={self.element.label} is too wide for scale='e4m3': the per-tensor "
                f"scale's numerator 448 X_f = {float(self.tensor_numerator)!r} must be a "
                f"finite float32")

    # -- derived constants ---------------------------------------------------------------
    @property
    def kind(self) -> str:
        """'float' for a binary element format, 'int' for an integer element."""
        return "int" if isinstance(self.element, IntElement) else "float"

    @property
    def grid(self) -> Format:
        """The binary format the elements are rounded in (the element itself for floats)."""
        return self.element.grid if isinstance(self.element, IntElement) else self.element

    @property
    def emax_f(self) -> int:
        """Exponent of the element's largest binade (E4M3 8, E5M2 15, E2M1 2, int8 0)."""
        return self.element.e_max

    @property
    def x_f(self) -> Fraction:
        """The element's largest magnitude X_f (exact); elements are clamped to it."""
        return self.element.x_max

    @property
    def scale_format(self) -> Format | None:
        """The E4M3 format of the block scales (None for power-of-two E8M0 scales)."""
        return E4M3_SCALE if self.scale == "e4m3" else None

    @property
    def tensor_numerator(self) -> Fraction:
        """X_s X_f, the numerator of the per-tensor scale (e4m3 scales only; 2688 for
        NVFP4)."""
        return E4M3_SCALE.x_max * self.x_f

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.element.label}/b{self.block_size}/{self.scale}/{self.rule}"

    def __str__(self) -> str:
        return self.label


def _mx(name: str, element: str, rule: str = "floor") -> ScaledFormat:
    return ScaledFormat(element, block_size=32, scale="e8m0", rule=rule, name=name)


SCALED_PRESETS: dict[str, ScaledFormat] = {}
for _name, _elem in [("mxfp8_e4m3", "float8_e4m3fn"), ("mxfp8_e5m2", "float8_e5m2"),
                     ("mxfp6_e3m2", "float6_e3m2fn"), ("mxfp6_e2m3", "float6_e2m3fn"),
                     ("mxfp4_e2m1", "float4_e2m1fn")]:
    SCALED_PRESETS[_name] = _mx(_name, _elem)
for _name, _elem in [("mxfp8_e4m3", "float8_e4m3fn"), ("mxfp8_e5m2", "float8_e5m2"),
                     ("mxfp6_e3m2", "float6_e3m2fn"), ("mxfp6_e2m3", "float6_e2m3fn"),
                     ("mxfp4_e2m1", "float4_e2m1fn")]:
    SCALED_PRESETS[_name + "_rceil"] = _mx(_name + "_rceil", _elem, "rceil")
SCALED_PRESETS["mxint8"] = ScaledFormat(IntElement(8), block_size=32, scale="e8m0",
                                        rule="floor", name="mxint8")
SCALED_PRESETS["nvfp4"] = ScaledFormat("float4_e2m1fn", block_size=16, scale="e4m3",
                                       rule="nearest", name="nvfp4")
del _name, _elem


def scaled_preset_names() -> list[str]:
    return list(SCALED_PRESETS)


def scaled_preset(name: str) -> ScaledFormat:
    """The scaled preset called ``name``; unknown names list the valid ones and the
    closest."""
    return SCALED_PRESETS[check_choice("format", name, scaled_preset_names())]


def is_scaled(fmt: object) -> bool:
    """True for a ScaledFormat or the name of a scaled preset."""
    return isinstance(fmt, ScaledFormat) or (isinstance(fmt, str) and fmt in SCALED_PRESETS)


def as_scaled_format(fmt: ScaledFormat | str, name: str = "fmt") -> ScaledFormat:
    """Accept a ScaledFormat or a scaled preset name."""
    if isinstance(fmt, ScaledFormat):
        return fmt
    if isinstance(fmt, str):
        return scaled_preset(fmt)
    raise InvalidArgument(f"Expected {name} to be a ScaledFormat or a scaled preset name but "
                          f"got {name}={fmt!r}")


def check_block_axis(axis: object, ndim: int) -> int:
    """The block axis as a non-negative index into an array of ``ndim`` dimensions.

    A 0-d input is one block of one element: only ``axis=-1`` or ``0`` is accepted.
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise InvalidArgument(f"Expected axis to be an integer but got axis={axis!r}")
    axis = int(axis)
    n = max(ndim, 1)
    if not -n <= axis < n:
        raise InvalidArgument(f"Expected axis in [{-n}, {n - 1}] for an input with {ndim} "
                              f"dimension{'s' if ndim != 1 else ''} but got axis={axis}")
    return axis % n


def check_element_axis(axis: object) -> None:
    """Element (unscaled) formats have no block axis: only the default ``axis=-1``."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis != -1:
        raise InvalidArgument(f"axis is only used by scaled formats; got axis={axis!r} with "
                              f"an element format")
