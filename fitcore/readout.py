"""A run's read-outs: the ``Snapshot`` a caller sees after each chunk, and the whole run as JSON values."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .config import RunConfig, setting_values
from .device import resolve_device
from .experiment import Experiment
from .history import History
from .notebook_log import LogLine

STATUSES = ("ready", "running", "paused", "completed", "stopped", "diverged")
FINISHED = ("completed", "stopped", "diverged")


@dataclass(frozen=True)
class Snapshot:
    """What a caller sees after a chunk: only finite numbers, never a NaN."""

    step: int
    total_steps: int
    loss: float
    params: np.ndarray
    elapsed: float
    steps_per_second: float
    status: str
    reason: str
    message: str
    diverged_at: int | None
    compile_seconds: float

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 1.0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def run_json(config: RunConfig, experiment: Experiment, snapshot: Snapshot, history: History,
             log: Sequence[LogLine], notebook: dict[str, Any]) -> dict[str, Any]:
    """Everything about a run as plain JSON-ready values (the CLI's --json object, the Code tab's file)."""
    data, quad = experiment.data, experiment.quad
    steps, losses, params = history.arrays()
    return {
        # every setting of fitcore.settings' table, by its name (a schedule by its kind)
        "problem": config.problem, **setting_values(config), "ran_on": resolve_device(config.device),
        "param_names": list(experiment.problem.param_names),
        "data": {"x": data.x.astype(float).tolist(), "y": data.y.astype(float).tolist()},
        "init": data.init.astype(float).tolist(),
        "final": {"step": snapshot.step, "loss": snapshot.loss, "params": snapshot.params.tolist()},
        "history": [{"step": int(s), "loss": float(l), "params": p.tolist()}
                    for s, l, p in zip(steps, losses, params)],
        "status": snapshot.status, "reason": snapshot.reason, "message": snapshot.message,
        "diverged_at": snapshot.diverged_at,
        "optimum": {"loss": quad.optimum_loss, "params": quad.optimum.tolist()},
        "max_stable_lr": quad.max_stable_lr,
        "log": [line.text for line in log],
        "notebook": notebook,
        "elapsed_s": snapshot.elapsed, "compile_s": snapshot.compile_seconds,
    }
