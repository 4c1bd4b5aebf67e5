"""Settings → one standalone script, in the notebooks' style, that reproduces ``fitcore.train``.

The script imports NumPy and its implementation's framework, never fitcore. It prints the
notebook's lines (the same text as ``Run.log``) and, last, ``FINAL loss=… params=[…]``.

Each implementation style has one Jinja2 template in ``templates/`` that reads like the script it
makes; ``render`` fills it from the run's facts (``facts``). The parts every style shares (the
header, the settings, each demo's data and printed lines, fitcore's stopping rules, the loops, the
optimizers' updates) sit in ``templates/parts/``. Every style computes with the same operations,
in the same order, as its ``fitcore.impl`` module, so the numbers agree to the last bit wherever
the framework is deterministic.

Layout, top to bottom (nothing imports upward): this registry → ``render`` → ``facts`` and
``command``; a style's template → ``templates/parts``. A demo's data and printed lines are the two
templates its definition names (``Problem.script``): the demos' sit in ``templates/parts/data`` and
``templates/parts/printers``.
"""
from __future__ import annotations

from ..config import RunConfig
from .command import cli_arguments
from .facts import style_of

# style → its template: the implementation, or its compiled form where the script differs
TEMPLATES: dict[str, str] = {
    "numpy": "numpy.py.jinja",
    "numpy-gram": "numpy_gram.py.jinja",
    "analytic": "analytic.py.jinja",
    "torch-manual": "torch_manual.py.jinja",
    "torch-autograd": "torch_autograd.py.jinja",
    "torch-nn": "torch_nn.py.jinja",
    "torch-compiled": "torch_compiled.py.jinja",
    "tf-tape": "tf_tape.py.jinja",
    "tf-xla": "tf_xla.py.jinja",
}


def export_script(config: RunConfig) -> str:
    """A runnable script that trains ``config`` exactly as ``fitcore.train(config)`` does."""
    from .render import render  # Jinja2 loads on the first export, not with ``import fitcore``
    return render(config, TEMPLATES[style_of(config)])


__all__ = ["TEMPLATES", "cli_arguments", "export_script"]
