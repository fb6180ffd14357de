"""The property suite as a library.

Each property is a function of the implementation it checks (a bound, a quantiser, an
engine), with lpsgd's own as the default.  The pytest files under ``properties/`` call these
with lpsgd's implementations; a mutant is just another implementation passed in, and
:func:`lpsgd.testing.check_bound` passes a user's.
"""
