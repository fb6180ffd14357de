"""lpsgd: property-based verification of stochastic gradient descent in low precision.

The public surface (pinned by tests/test_public_api.py):

* :mod:`lpsgd.formats` (``Format``, ``preset``) and :mod:`lpsgd.rounding` (the modes);
* :mod:`lpsgd.reference` and :mod:`lpsgd.fast`: ``quantize``, ``sgd``, ``expectations``
  with the same names and signatures (exact mpmath ground truth, fast numpy twin);
* :mod:`lpsgd.theory`: the theorems as functions returning a ``Bound``;
* :mod:`lpsgd.objectives`, :mod:`lpsgd.schedules`, :mod:`lpsgd.shrinkage`,
  :mod:`lpsgd.stress`, :mod:`lpsgd.testing` (``check_quantizer``);
* :mod:`lpsgd.strategies`: Hypothesis strategies (imported on demand, not here);
* ``InvalidArgument`` (bad argument) and ``AssumptionError`` (a theorem's assumption fails).
"""

from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.formats import Format, preset
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd import fast, objectives, reference, schedules, shrinkage, stress, theory  # noqa: E402

__version__ = "0.1.0"

__all__ = ["AssumptionError", "InvalidArgument", "Format", "preset", "RoundingMode",
           "ROUNDING_MODES", "fast", "reference", "theory", "objectives", "schedules",
           "shrinkage", "stress", "__version__"]
