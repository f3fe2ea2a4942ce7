"""The one base for the user's mistakes: the command line prints these in one line.

Anything else that goes wrong is a bug in pricer or in a library it drives, and keeps its
traceback. So code raises a `PricerError` only where it knows the cause is the input (a
missing file, a gated model, a bad flag) and can say in one line what to do about it.
"""

from __future__ import annotations


class PricerError(Exception):
    """Something the user can fix; the message says what, in one line."""


class DataError(PricerError):
    """A data source that cannot be read: a missing file, an unknown category, no usable rows."""


class ConfigError(PricerError):
    """A setting that cannot work: an unknown model name, a length that fits no row."""


class TokenizerError(PricerError):
    """A tokenizer that cannot be loaded."""


class ModelAccessError(PricerError):
    """A model or adapter that cannot be loaded."""


class SecretError(PricerError):
    """A secret that is needed but not set, or that the server refused. Never holds the secret."""
