"""The theorems lpsgd verifies, as executable bounds, and the registry of statements.

Each theorem is a function of the theorem's symbols (keyword-only) returning a
:class:`Bound`: the right-hand side evaluated exactly (rational arithmetic, rounded once
into an mpmath mpf), the assumptions it checked with their numbers, and a citation.
Arguments that are not numbers (or NaN) raise :class:`lpsgd.errors.InvalidArgument`;
numbers that break an assumption raise :class:`lpsgd.errors.AssumptionError` naming it,
and no bound is returned.  Arguments too large to compute with exactly and fast (as
p/q in lowest terms, ``|p|`` or ``q`` above ``2^MAX_EXPONENT`` = 2^32768, such as
``c = 2**-40000`` or ``k = 2**40000``) raise InvalidArgument too.

* Shrinkage model: :func:`theorem1`, :func:`theorem2`, :func:`theorem3`,
  :func:`theorem4`, and the schedule-aware :func:`theorem1_schedule`,
  :func:`theorem3_schedule`.
* Formats: :func:`theorem5`, :func:`theorem6`, :func:`theorem7`, with the
  bridges :func:`format_shrinkage` and :func:`stochastic_rounding_constants`.
* Block-scaled formats: :func:`theorem8`, :func:`theorem9` and the constants
  of a scale rule, :func:`scaled_constants`.
* Slowdown: :func:`iterations_to_eps`, :func:`slowdown_ratio`,
  :func:`asymptotic_slowdown`.
* The statements themselves (problem, method, claim, assumptions, provenance, the
  properties that check each one): :data:`STATEMENTS`, worded as of
  :data:`STATEMENTS_VERSION` (:mod:`lpsgd.theory.statements`).

The statements restate, with every constant explicit, the analysis of the paper
"Why does stochastic gradient descent slow down in low-precision training?" (arXiv
2508.07142) within the smoothness / bounded-variance framework of Bottou, Curtis and
Nocedal (2018, "Optimization methods for large-scale machine learning", SIAM Review,
section 4); Theorems 5-9 and the schedule-aware forms are derived in this project.
"""

from lpsgd.theory._core import EXACT_BITS_LIMIT, PRECISION, Bound
from lpsgd.theory.formats_bridge import (format_shrinkage, stochastic_rounding_constants,
                                         theorem5, theorem6, theorem7)
from lpsgd.theory.scaled_model import ScaledConstants, scaled_constants, theorem8, theorem9
from lpsgd.theory.shrinkage_model import (theorem1, theorem1_schedule, theorem2, theorem3,
                                          theorem3_schedule, theorem4)
from lpsgd.theory.slowdown import asymptotic_slowdown, iterations_to_eps, slowdown_ratio

__all__ = ["Bound", "PRECISION", "EXACT_BITS_LIMIT",
           "theorem1", "theorem2", "theorem3", "theorem4", "theorem5", "theorem6",
           "theorem7", "theorem8", "theorem9", "scaled_constants", "ScaledConstants",
           "theorem1_schedule", "theorem3_schedule",
           "format_shrinkage", "stochastic_rounding_constants",
           "iterations_to_eps", "slowdown_ratio", "asymptotic_slowdown", "fast",
           "STATEMENTS", "STATEMENTS_VERSION"]

from lpsgd.theory import fast  # noqa: E402  (float64 curves; imports the names above)
from lpsgd.theory.statements import STATEMENTS, STATEMENTS_VERSION  # noqa: E402
