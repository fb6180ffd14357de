"""pytest plugin (entry point ``lpsgd``): registers lpsgd's Hypothesis profiles.

They are registered under namespaced names only (``lpsgd-ci``, ``lpsgd-dev``,
``lpsgd-thorough``; see :mod:`lpsgd.profiles`) and none is loaded: a pytest run uses one
only when it passes ``--hypothesis-profile=lpsgd-...``.  Any other run, a user's own suite
with its own ``ci`` profile or Hypothesis' built-in ``ci`` profile included, is unchanged.
"""

from lpsgd.profiles import register_profiles

register_profiles()
