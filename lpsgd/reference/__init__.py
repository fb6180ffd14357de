"""The exact layer on mpmath (ground truth). Same names and signatures as lpsgd.fast."""
from lpsgd.reference.quantize import quantize  # noqa: E402,F401
from lpsgd.reference import expectations, sgd  # noqa: E402,F401
