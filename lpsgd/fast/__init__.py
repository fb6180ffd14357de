"""The fast numpy layer. Same names and signatures as lpsgd.reference."""
from lpsgd.fast.quantize import quantize  # noqa: E402,F401
from lpsgd.fast import expectations, sgd  # noqa: E402,F401
