"""The single vocabulary of rounding modes (lpsgd.reference.quantize documents each)."""

from __future__ import annotations

import enum

from lpsgd._validate import check_choice

__all__ = ["RoundingMode", "ROUNDING_MODES", "DETERMINISTIC_MODES", "STOCHASTIC_MODES",
           "rounding_mode"]


class RoundingMode(str, enum.Enum):
    """A rounding mode; its value is the public name used everywhere (CLI, JSON, API)."""

    NEAREST_EVEN = "nearest_even"      # ties to even (IEEE default)
    NEAREST_AWAY = "nearest_away"      # ties away from zero
    NEAREST_ZERO = "nearest_zero"      # ties toward zero
    TOWARD_ZERO = "toward_zero"        # truncation
    UP = "up"                          # toward +inf
    DOWN = "down"                      # toward -inf
    ODD = "odd"                        # non-representable -> neighbour with odd last bit
    STOCHASTIC = "stochastic"          # up in magnitude with probability frac
    STOCHASTIC_EQUAL = "stochastic_equal"  # either neighbour with probability 1/2

    def __str__(self) -> str:
        return self.value

    @property
    def is_stochastic(self) -> bool:
        return self in (RoundingMode.STOCHASTIC, RoundingMode.STOCHASTIC_EQUAL)

    @property
    def is_nearest(self) -> bool:
        return self in (RoundingMode.NEAREST_EVEN, RoundingMode.NEAREST_AWAY,
                        RoundingMode.NEAREST_ZERO)

    @property
    def is_sign_symmetric(self) -> bool:
        """Q(-x) == -Q(x) (for deterministic modes; stochastic ones in distribution)."""
        return self not in (RoundingMode.UP, RoundingMode.DOWN)


ROUNDING_MODES: tuple[str, ...] = tuple(m.value for m in RoundingMode)
STOCHASTIC_MODES: tuple[str, ...] = tuple(m.value for m in RoundingMode if m.is_stochastic)
DETERMINISTIC_MODES: tuple[str, ...] = tuple(
    m.value for m in RoundingMode if not m.is_stochastic)


def rounding_mode(rounding: str | RoundingMode, name: str = "rounding") -> RoundingMode:
    """Parse a mode name (or pass a RoundingMode through); unknown names list the valid ones."""
    if isinstance(rounding, RoundingMode):
        return rounding
    return RoundingMode(check_choice(name, rounding, ROUNDING_MODES))
