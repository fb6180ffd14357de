"""Shared fixtures for tests/ (keep small)."""

from __future__ import annotations

import mpmath
import pytest


@pytest.fixture(autouse=True)
def _restore_mpmath_globals():
    """Fail a test that leaves mpmath's global precision changed, and restore it.

    lpsgd never assigns mp.prec/mp.dps globally (it uses mpmath.workprec locally); this
    guard makes a leak visible at the test that caused it instead of corrupting later ones.
    """
    prec, pretty = mpmath.mp.prec, mpmath.mp.pretty
    yield
    leaked = mpmath.mp.prec
    mpmath.mp.prec, mpmath.mp.pretty = prec, pretty
    assert leaked == prec, f"mpmath global precision leaked: {leaked} != {prec}"
