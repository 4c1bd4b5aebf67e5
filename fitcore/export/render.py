"""Fill a style's Jinja2 template with a run's facts.

The templates live in ``templates/`` beside this module: one per implementation style, and the
parts they share in ``templates/parts/``. StrictUndefined makes a name a template misspells fail
at once instead of printing nothing.
"""
from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import jinja2

from ..config import RunConfig
from ..device import NOTEBOOK_LINE
from ..optim import ADAM_BETAS, EPS, MOMENTUM, OPTIMIZER_LABELS, RMS_ALPHA, SLOTS
from ..settings import schedule_settings
from .command import export_command_lines, number
from .facts import ScriptFacts, as_floats

TEMPLATES = Path(__file__).parent / "templates"
TORCH_UNROLL = 8     # fitcore.impl.torch_compiled.UNROLL: steps per compiled call
XLA_CAPACITY = 4096  # fitcore.impl.tf_tape.CAPACITY: steps per XLA call
RULE_WIDTH = 100


def _rule(title: str) -> str:
    """``# --- title ---…``: a section rule across the full width."""
    return f"# --- {title} ".ljust(RULE_WIDTH, "-")


def _indented(text: str, spaces: int) -> str:
    """A block placed at a deeper level: every line but the first (which the template indents) gains
    ``spaces``; blank lines stay empty."""
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces).lstrip()


def _call(args: list[str], head: str, tail: str = ")", width: int = 96) -> str:
    """``head`` + the arguments + ``tail`` on one line, or the arguments on indented lines below."""
    line = head + ", ".join(args) + tail
    if len(line) <= width:
        return line
    rows, current = [], ""
    for arg in args:
        if current and len(current) + len(arg) + 6 > width:
            rows.append(current + ",")
            current = ""
        current += (", " if current else "") + arg
    return head + "\n" + "\n".join("    " + row for row in rows + [current + tail])


def _floats(values: object, per_line: int) -> str:
    """Float literals, ``per_line`` to a line, each line ending in a comma (for a list's body)."""
    numbers = [number(v) for v in as_floats(values)]
    return "\n    ".join(", ".join(numbers[i:i + per_line]) + "," for i in range(0, len(numbers), per_line))


def _numbers(values: object) -> str:
    """Float literals separated by commas (for a short list)."""
    return ", ".join(number(v) for v in as_floats(values))


def _comment(text: str) -> str:
    """A paragraph as ``#`` comment lines within the rule width."""
    return "\n".join("# " + line for line in textwrap.wrap(text, RULE_WIDTH - 2))


@functools.cache
def _environment() -> jinja2.Environment:
    """One environment for every export: it compiles each template once."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False,
                             extensions=["jinja2.ext.do"])
    env.filters.update(number=number, repr=repr, g=lambda value: f"{value:g}", rule=_rule, indented=_indented,
                       call=_call, floats=_floats, numbers=_numbers,
                       add_suffix=lambda text, suffix: f"{text}{suffix}", comment=_comment)
    env.globals.update(NOTEBOOK_LINE=NOTEBOOK_LINE, ADAM_BETAS=ADAM_BETAS, EPS=EPS, MOMENTUM=MOMENTUM,
                       RMS_ALPHA=RMS_ALPHA, SLOTS=SLOTS, OPTIMIZER_LABELS=OPTIMIZER_LABELS,
                       TORCH_UNROLL=TORCH_UNROLL, XLA_CAPACITY=XLA_CAPACITY, schedule_settings=schedule_settings)
    return env


@functools.lru_cache(maxsize=64)
def _part(text: str) -> jinja2.Template:
    """A demo's own part of the script (``Problem.script``): a template file by its name, or a template's text."""
    environment = _environment()
    return environment.get_template(text) if text.endswith(".jinja") else environment.from_string(text)


def render(config: RunConfig, template: str) -> str:
    """The script ``template`` makes of ``config``'s facts; the demo's data and printed lines come from its definition."""
    facts = ScriptFacts.of(config)
    parts = facts.problem.script
    return _environment().get_template(template).render(s=facts, c=config, p=facts.problem,
                                                      command=export_command_lines(config),
                                                      data_part=_part(parts.data), printers_part=_part(parts.printers))
