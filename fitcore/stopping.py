"""When a run ends before its step budget: divergence, a loss target, a plateau, or a deployment's cap.

These are the rules only; ``fitcore.engine`` applies them to each chunk's losses and replays the
chunk to the exact step an event names. The losses checked are those before each update, plus the
loss after the chunk's last one, so an event at a chunk boundary is found at its exact step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import StopConditions

DIVERGENCE_FACTOR = 1e8  # a loss this many times the initial one counts as diverged


@dataclass(frozen=True)
class Limits:
    """Caps for a shared deployment: wall time and steps per run (None: no cap), and the sentence that
    tells someone whose run a cap ended how to raise it (the deployment's to write; empty: none)."""

    max_seconds: float | None = None
    max_steps: int | None = None
    seconds_hint: str = ""
    steps_hint: str = ""

    def steps_message(self) -> str:
        return _sentences(f"Stopped at the deployment's cap of {self.max_steps:,} steps per run.", self.steps_hint)

    def seconds_message(self) -> str:
        return _sentences(f"Stopped after the deployment's cap of {self.max_seconds:g} s per run.", self.seconds_hint)


def _sentences(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def divergence_limit(initial_loss: float, optimum_loss: float) -> float:
    """The loss above which a run has diverged: ``DIVERGENCE_FACTOR`` × its start (or the optimum)."""
    return DIVERGENCE_FACTOR * max(initial_loss, optimum_loss, 1e-12)


def divergence_message(step: int, optimizer: str, lr: float, max_stable_lr: float) -> str:
    """Why the run diverged, in terms of 2/λmax, the largest stable learning rate for plain SGD."""
    text = f"Diverged at step {step:,}: the loss left every finite bound."
    if optimizer == "sgd" and lr > max_stable_lr:
        return text + (f" This learning rate {lr:g} is above 2/λmax = {max_stable_lr:.4g}, the largest stable one "
                       "for this data: each step overshoots the steepest direction by more than it corrects.")
    return text + (f" The loss grew past {DIVERGENCE_FACTOR:g} × its starting value; for plain SGD the stable "
                   f"limit here is 2/λmax = {max_stable_lr:.4g}.")


@dataclass(frozen=True)
class StopEvent:
    """The first event in a chunk: at ``offset`` (the loss index) the run ends with ``status``."""

    offset: int
    status: str   # "diverged" or "completed"
    reason: str   # nonfinite, exploded, loss_below or plateau
    message: str


def first_event(start: int, losses: np.ndarray, limit: float, stop: StopConditions, recent: np.ndarray,
                diverged_message: Callable[[int], str]) -> StopEvent | None:
    """The first offset where the loss diverges or a stop condition holds (divergence first on a tie).

    ``losses[j]`` is the loss at step ``start + j``; ``recent`` the losses just before ``start`` that a
    plateau window reaches back to; ``diverged_message`` says why for the step it is given.
    """
    events: list[StopEvent] = []
    bad = ~np.isfinite(losses) | (losses > limit)
    if bad.any():
        j = int(np.argmax(bad))
        reason = "nonfinite" if not np.isfinite(losses[j]) else "exploded"
        events.append(StopEvent(j, "diverged", reason, diverged_message(start + j)))
    if stop.loss_below is not None:
        hit = losses <= stop.loss_below
        if hit.any():
            j = int(np.argmax(hit))
            events.append(StopEvent(j, "completed", "loss_below",
                                    f"Loss reached {losses[j]:.6g} ≤ {stop.loss_below:g} at step {start + j:,}."))
    if stop.plateau_tol is not None:
        j = _plateau(losses, stop, recent)
        if j is not None:
            events.append(StopEvent(j, "completed", "plateau",
                                    f"Loss changed by less than {stop.plateau_tol:g} (relative) over "
                                    f"{stop.plateau_window} steps: plateau at step {start + j:,}."))
    return min(events, key=lambda e: (e.offset, e.status != "diverged"), default=None)


def _plateau(losses: np.ndarray, stop: StopConditions, recent: np.ndarray) -> int | None:
    """The first offset k with |loss(k) − loss(k − window)| ≤ tol·|loss(k − window)|, if any."""
    window = stop.plateau_window
    joined = np.concatenate([recent, losses])
    offset = len(recent)
    idx = np.arange(offset, len(joined))
    valid = idx - window >= 0
    if not valid.any():
        return None
    now, before = joined[idx[valid]], joined[idx[valid] - window]
    flat = np.abs(now - before) <= stop.plateau_tol * np.abs(before)
    return int(idx[valid][np.argmax(flat)] - offset) if flat.any() else None


def remembered_losses(recent: np.ndarray, losses: np.ndarray, stop: StopConditions) -> np.ndarray:
    """The losses a plateau window needs from before the next chunk (none without a plateau rule)."""
    if stop.plateau_tol is None:
        return recent
    return np.concatenate([recent, losses])[-stop.plateau_window:]
