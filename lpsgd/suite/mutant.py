"""The :class:`Mutant` type: a deliberately wrong implementation the suite must refute.

A mutant is just another implementation.  It names the keyword argument (``slot``) of the
property factories that receives it, lpsgd's implementation it stands in for
(``original``), how to build the wrong one from it (``build``), and the properties that must
refute it.  Nothing is substituted in lpsgd's modules: the property factory is called with
``**{mutant.slot: mutant.implementation()}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["Mutant"]


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A wrong implementation of one public function.

    Attributes:
        name: short identifier (its test is ``test_mutant_<name>``).
        description: what is wrong, in one sentence.
        slot: the keyword argument of the property factories that receives the mutant
            (``"theorem1"``, ``"quantize"``, ...).
        original: lpsgd's implementation it stands in for.
        build: maps ``original`` to the wrong implementation.
        properties: ``"test_module::factory"`` names of the property factories (in
            ``properties/``) that must refute it; any one failing refutes it.
    """

    name: str
    description: str
    slot: str
    original: Callable[..., Any]
    build: Callable[[Callable[..., Any]], Callable[..., Any]]
    properties: tuple[str, ...]

    @property
    def target(self) -> str:
        """``"module:name"`` of the function it stands in for (for reports)."""
        fn = self.original
        return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"

    def implementation(self) -> Callable[..., Any]:
        """The wrong implementation, built from :attr:`original`."""
        return self.build(self.original)
