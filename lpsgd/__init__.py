"""lpsgd: property-based verification of stochastic gradient descent in low precision."""

from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.formats import Format, preset
from lpsgd.rounding import ROUNDING_MODES, RoundingMode

__version__ = "0.1.0"

__all__ = ["AssumptionError", "InvalidArgument", "Format", "preset", "RoundingMode",
           "ROUNDING_MODES", "__version__"]
