"""The lines a run prints as its notebook would, and how they compare with what the notebook printed.

A run's log has three parts, as a notebook cell does: the lines printed before the loop (``intro``),
one line every ``log_every`` steps from ``log_phase`` on (``step``), and the lines after it
(``final``). A long run prints at most ``MAX_LOG_LINES`` loop lines: the interval widens to a
multiple of the notebook's own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .agreement import CellAgreement, PrintedLine, agreement
from .config import RunConfig, notebook_differences
from .problems import Dataset, NotebookVariant, Problem

MAX_LOG_LINES = 200


@dataclass(frozen=True)
class LogLine:
    """One line the notebook would print; ``params`` is θ after that step for the loop's lines.
    ``kind`` says where the notebook prints it: before the loop (intro), in it (step) or after it (final)."""

    step: int
    text: str
    loss: float | None = None
    params: np.ndarray | None = None
    kind: str = "step"


def log_interval(every: int, total_steps: int) -> int:
    """The notebook's interval, widened to a multiple of it so a run prints at most ``MAX_LOG_LINES``."""
    lines = total_steps / every
    return every * max(1, math.ceil(lines / MAX_LOG_LINES))


def intro_texts(problem: Problem, variant: NotebookVariant, data: Dataset, scale: float) -> tuple[str, ...]:
    """What the notebook cell prints before its loop (nothing where it prints nothing)."""
    if not variant.prints_intro:
        return ()
    init = data.init.astype(np.float64)
    return tuple(variant.intro(init, data, scale) if variant.intro is not None else problem.intro_lines(init))


def logged_steps(start: int, count: int, total_steps: int, every: int, phase: int) -> list[int]:
    """The steps in [start, start + count) whose loss the loop prints (none at or past the budget)."""
    first = start + ((phase - start) % every)
    return list(range(first, min(start + count, total_steps), every))


def step_line(problem: Problem, reduction: str, points: int, step: int, loss: float,
              params_after: np.ndarray) -> LogLine:
    """The loop's line for ``step``: its loss (before the update) and θ after it."""
    mse = loss / points if reduction == "sum" else loss
    return LogLine(step, problem.log_line(step, float(loss), float(mse), params_after), float(loss),
                   np.array(params_after, dtype=np.float64))


def final_lines(problem: Problem, step: int, params: np.ndarray) -> list[LogLine]:
    """What the notebook prints after its loop, for θ at ``step``."""
    return [LogLine(step, text, kind="final") for text in problem.final_lines(params)]


def log_text(log: Sequence[LogLine]) -> str:
    return "\n".join(line.text for line in log)


def against_notebook(config: RunConfig, variant: NotebookVariant, log: Sequence[LogLine], total_steps: int,
                     finished: bool, step: int) -> CellAgreement | None:
    """A run's lines against its notebook cell's, or None where the cell printed nothing or the
    settings are not the notebook's (``notebook_differences`` says which)."""
    cell = variant.cell
    if cell is None or notebook_differences(config):
        return None
    lines = [PrintedLine(line.kind, line.step, line.text) for line in log]
    return agreement(cell, variant.printed_steps, lines, total_steps, final_due=finished and step == cell.steps)


def notebook_summary(config: RunConfig, variant: NotebookVariant, compared: CellAgreement | None) -> dict[str, Any]:
    """The run's notebook cell, where its start came from, and the line-by-line comparison (if any)."""
    out: dict[str, Any] = {"variant": variant.key, "seed_file": variant.seed_file,
                           "start": variant.start_note if config.seed is None else f"drawn from seed {config.seed}"}
    if compared is not None:
        out |= compared.as_dict()
    elif variant.cell is None:
        out["verdict"] = "the notebook printed nothing to compare"
    else:
        out["verdict"] = "not compared: this run differs from the notebook in " + \
            ", ".join(notebook_differences(config))
    return out
