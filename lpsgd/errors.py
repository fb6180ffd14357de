"""The two error types lpsgd raises for bad input.

``InvalidArgument`` is raised by every public function when an argument has the wrong
type or value; its message names the argument and the value ("Expected man_bits >= 0
but got man_bits=-1").  ``AssumptionError`` is raised by the theorem functions of
:mod:`lpsgd.theory` when the arguments are valid numbers but break an assumption of
the theorem; its message names the assumption and the numbers.  ``SolverError`` is raised
by :mod:`lpsgd.worstcase` when the semidefinite solver returns no optimal, accurate
solution: it is neither bad input nor a refused assumption, so no caller that skips
refused examples can mistake it for one.
"""

from __future__ import annotations

__all__ = ["InvalidArgument", "AssumptionError", "SolverError"]


class InvalidArgument(ValueError):
    """An argument has the wrong type or value; the message names it and its value."""


class AssumptionError(ValueError):
    """A theorem's assumption does not hold for the given arguments; no bound is returned."""


class SolverError(RuntimeError):
    """The SDP solver did not return an optimal, accurate solution: no value is given.

    Its message names the formulation, the solver's status and its accuracy.
    """
