"""Mutants of the quantisers, the scaled formats, the data and the findings (filled in as
their properties become functions of the implementation)."""

from __future__ import annotations

from lpsgd.suite.mutant import Mutant

__all__ = ["MUTANTS"]

MUTANTS: dict[str, Mutant] = {}
