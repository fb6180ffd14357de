"""pytest plugin (entry point ``lpsgd``): registers the Hypothesis profiles of lpsgd."""

from lpsgd.profiles import register_profiles

register_profiles()
