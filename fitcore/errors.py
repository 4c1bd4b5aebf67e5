"""The error every bad setting raises, in a module of its own so that settings checked outside
``config`` (a schedule's, in ``optim``) raise the same one without an import circle."""
from __future__ import annotations


class ConfigError(ValueError):
    """A setting is out of range; the message names it and says what would work."""
