"""The demos, one module each: a demo's whole definition (data, model, printed lines, notebook settings,
lessons, page hints and its exported script's parts) is the one ``Problem`` its module builds.

Adding a demo is a module here beside these, its line in ``DEMOS`` and its page file
(``app_pages/<id with underscores>.py``); every page, the CLI, export and the speed page read it from there.
"""
from __future__ import annotations

from ..demo import Problem
from .linear_2x import LINEAR_2X
from .quadratic_bias import QUADRATIC_BIAS
from .quadratic_recovery import QUADRATIC_RECOVERY
from .sine_cubic import SINE_CUBIC

DEMOS: tuple[Problem, ...] = (QUADRATIC_BIAS, LINEAR_2X, QUADRATIC_RECOVERY, SINE_CUBIC)
