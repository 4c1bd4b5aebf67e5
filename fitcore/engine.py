"""The training engine: every implementation's loop, history, stopping and divergence checks.

A ``Run`` holds one training run's state explicitly. ``advance`` runs chunks of steps until a
step or time budget is spent and returns a ``Snapshot``; calling it again continues exactly
where it stopped, so a caller may pause at any snapshot and resume later. ``iterate`` wraps
that into a generator. Observers only read snapshots: nothing they do changes the run.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from .agreement import CellAgreement, PrintedLine, agreement
from .analytic import QuadraticLoss, quadratic_loss
from .config import RunConfig, dataset_of, notebook_differences, problem_of, setting_values
from .device import resolve_device
from .impl import CompileFailed, StepSettings, Stepper, TrainState, make_stepper
from .problems import Dataset, Problem

HISTORY_CAP = 2000
MAX_LOG_LINES = 200
DIVERGENCE_FACTOR = 1e8  # a loss this many times the initial one counts as diverged
CHUNK_SECONDS = 0.025    # keeps every chunk well under the UI's 100 ms hand-back
MAX_CHUNK = 1 << 20

STATUSES = ("ready", "running", "paused", "completed", "stopped", "diverged")
FINISHED = ("completed", "stopped", "diverged")


@dataclass(frozen=True)
class Limits:
    """Caps for a shared deployment: wall time and steps per run (None: no cap), and the sentence
    that tells someone whose run a cap ended how to raise it where they run it."""

    max_seconds: float | None = None
    max_steps: int | None = None
    seconds_hint: str = "Running locally, raise FITCORE_MAX_SECONDS (or max_seconds in .streamlit/secrets.toml)."
    steps_hint: str = "Running locally, raise FITCORE_MAX_STEPS (or max_steps in .streamlit/secrets.toml)."


def record_steps(total: int, cap: int = HISTORY_CAP) -> np.ndarray:
    """Steps whose iterates are kept: every step for short runs; otherwise half log-spaced (dense
    early, where the loss moves fastest) and half evenly spaced, with 0 and the last step."""
    if total + 1 <= cap:
        return np.arange(total + 1)
    half = (cap - 2) // 2
    even = np.round(np.linspace(0, total, half)).astype(np.int64)
    early = np.round(np.geomspace(1, total, half)).astype(np.int64)
    return np.unique(np.concatenate([[0, total], even, early]))


@dataclass
class History:
    """At most ``HISTORY_CAP`` recorded (step, loss, θ) points, whatever the number of steps."""

    plan: np.ndarray
    width: int  # parameters per point
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)

    def add(self, step: int, loss: float, params: np.ndarray) -> None:
        if self.steps and step <= self.steps[-1]:
            return
        self.steps.append(int(step))
        self.losses.append(float(loss))
        self.params.append(np.asarray(params, dtype=np.float64))
        if len(self.steps) > HISTORY_CAP:
            keep = list(range(0, len(self.steps) - 1, 2)) + [len(self.steps) - 1]
            self.steps = [self.steps[i] for i in keep]
            self.losses = [self.losses[i] for i in keep]
            self.params = [self.params[i] for i in keep]

    def extend_plan(self, total: int) -> None:
        after = self.steps[-1] if self.steps else -1
        plan = record_steps(total)
        self.plan = np.union1d(self.plan[self.plan <= after], plan[plan > after])

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        steps = np.array(self.steps, dtype=np.int64)
        losses = np.array(self.losses, dtype=np.float64)
        params = np.array(self.params, dtype=np.float64).reshape(len(self.steps), self.width)
        return steps, losses, params

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class LogLine:
    """One line the notebook would print; ``params`` is θ after that step for the loop's lines.
    ``kind`` says where the notebook prints it: before the loop (intro), in it (step) or after it (final)."""

    step: int
    text: str
    loss: float | None = None
    params: np.ndarray | None = None
    kind: str = "step"


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


class Run:
    """One training run: data, implementation, state, history and notebook log."""

    def __init__(self, config: RunConfig, limits: Limits = Limits()) -> None:
        self.config = config
        self.limits = limits
        self.problem: Problem = problem_of(config)
        variant = self.variant = self.problem.variant(config.variant)
        self.data: Dataset = dataset_of(config)
        self.quad: QuadraticLoss = quadratic_loss(self.data, config.reduction)
        self.total_steps = config.steps
        self.step = 0
        self.status = "ready"
        self.reason = ""
        self.message = ""
        self.diverged_at: int | None = None
        self.elapsed = 0.0
        self.compile_seconds = 0.0
        init = self.data.init.astype(np.float64)
        self.initial_loss = float(self.quad.loss(init))
        self.divergence_limit = DIVERGENCE_FACTOR * max(self.initial_loss, self.quad.optimum_loss, 1e-12)
        self.history = History(plan=record_steps(self.total_steps), width=self.problem.n_params)
        self.current_params = init
        self.current_loss = self.initial_loss
        intro: list[str] = []
        if variant.prints_intro:
            intro = variant.intro(init, self.data, self.quad.scale) if variant.intro is not None \
                else self.problem.intro_lines(init)
        self.log: list[LogLine] = [LogLine(0, text, kind="intro") for text in intro]
        self.log_phase = variant.log_phase
        self.log_every = self._log_every(variant.log_every)
        self._recent_losses = np.empty(0)
        self._stepper: Stepper | None = None
        self._chunk = 8

    # --- moving between processes ------------------------------------------------------
    # What a run's settings rebuild (the problem and its data hold functions, which do not pickle).
    _REBUILT = ("problem", "variant", "data", "quad")

    def __getstate__(self) -> dict[str, Any]:
        """A run as plain data, to continue in another process (a worker pool's rebalancing): everything it
        has trained, its implementation's state (``TrainState``) in place of the implementation."""
        state = {k: v for k, v in self.__dict__.items() if k not in self._REBUILT}
        state["_stepper"] = self._stepper.state() if self._stepper is not None else None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        trained = state.pop("_stepper")
        self.__init__(state["config"], state["limits"])  # type: ignore[misc]
        self.__dict__.update(state)
        if trained is not None:
            # Built afresh (importing its framework, as prepare() does) and set to exactly where it was.
            status, loss, compile_seconds = self.status, self.current_loss, self.compile_seconds
            self.status = "paused"  # prepare() records step 0 only for a run that has not begun
            self.prepare().load(trained)
            self.status, self.current_loss, self.compile_seconds = status, loss, compile_seconds

    # --- setup -------------------------------------------------------------------------
    def _log_every(self, every: int) -> int:
        lines = self.total_steps / every
        return every * max(1, math.ceil(lines / MAX_LOG_LINES))

    @property
    def prepared(self) -> bool:
        return self._stepper is not None

    def prepare(self) -> Stepper:
        """Build the implementation (importing its framework) and compile it if asked."""
        if self._stepper is None:
            c = self.config
            settings = StepSettings(optimizer=c.optimizer, lr=c.lr, reduction=c.reduction, schedule=c.schedule,
                                    total_steps=c.steps, compiled=c.compiled, device=resolve_device(c.device))
            stepper = make_stepper(c.impl, self.data, settings)
            started = time.perf_counter()
            stepper.warmup()
            self.compile_seconds = time.perf_counter() - started
            self._stepper = stepper
            self.current_loss = stepper.loss()
            if self.status == "ready":
                self.history.add(0, self.current_loss, self.current_params)
        return self._stepper

    # --- control -----------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def pause(self) -> Snapshot:
        if not self.finished and self.status != "ready":
            self.status = "paused"
        return self.snapshot()

    def stop(self) -> Snapshot:
        """End the run here, by the user's choice."""
        if not self.finished:
            self._finish("stopped", "user", f"Stopped by you at step {self.step:,}.")
        return self.snapshot()

    def extend(self, extra_steps: int) -> None:
        """Raise the step budget (Step after a completed run); a diverged run stays diverged."""
        if self.status == "diverged" or extra_steps <= 0:
            return
        self.total_steps = max(self.total_steps, self.step + extra_steps)
        self.history.extend_plan(self.total_steps)
        if self.finished:
            self.status, self.reason, self.message = "paused", "", ""

    def advance(self, max_steps: int | None = None, max_seconds: float | None = None) -> Snapshot:
        """Run until ``max_steps`` more steps, ``max_seconds`` of wall time, or the end."""
        if self.finished:
            return self.snapshot()
        stepper = self.prepare()
        self.status = "running"
        end = self.total_steps if max_steps is None else min(self.total_steps, self.step + max_steps)
        if self.limits.max_steps is not None:
            end = min(end, self.limits.max_steps)
        started = time.perf_counter()
        ran = False
        while self.step < end and not self.finished:
            planned = min(end - self.step, self._chunk)
            count = planned
            if max_seconds is not None:
                left = max_seconds - (time.perf_counter() - started)
                if left <= 0 and ran:  # every call makes progress, however little time it was given
                    break
                # The last chunk is cut to the time left, so a caller's interval holds (the live view's
                # update rate): a whole chunk could overrun it by up to CHUNK_SECONDS.
                count = max(1, min(planned, int(self._chunk * left / CHUNK_SECONDS)))
            if self._over_time():
                break
            try:
                self._run_chunk(stepper, count)
            except CompileFailed as error:  # a recompile mid-run: the run ends, saying why
                self._finish("stopped", "compile", str(error))
                break
            ran = True
        if not self.finished:
            if self.step >= self.total_steps:
                self._complete("steps", f"Completed all {self.total_steps:,} steps.")
            elif self.limits.max_steps is not None and self.step >= self.limits.max_steps:
                self._finish("stopped", "cap_steps",
                             f"Stopped at the deployment's cap of {self.limits.max_steps:,} steps per run. "
                             + self.limits.steps_hint)
            elif self._over_time():
                self._finish("stopped", "cap_time",
                             f"Stopped after the deployment's cap of {self.limits.max_seconds:g} s per run. "
                             + self.limits.seconds_hint)
            else:
                self.status = "paused"
        return self.snapshot()

    def _over_time(self) -> bool:
        return self.limits.max_seconds is not None and self.elapsed >= self.limits.max_seconds

    # --- one chunk -----------------------------------------------------------------------
    def _run_chunk(self, stepper: Stepper, n: int) -> None:
        start = self.step
        plan = self.history.plan
        record_history = plan[(plan >= start) & (plan < start + n)] - start
        log_steps = self._log_steps(start, n)
        offsets = sorted(set(record_history.tolist()) | {t + 1 - start for t in log_steps} | {n})
        saved = stepper.state().copy()
        began = time.perf_counter()
        losses, recorded = stepper.run(n, offsets)
        spent = time.perf_counter() - began
        self.elapsed += spent
        # Any chunk, even one cut short by a caller's deadline or the run's end, measures the time per
        # step; growth is capped by the current size, so one lucky short chunk cannot overshoot.
        self._chunk = int(min(MAX_CHUNK, max(1, min(4 * self._chunk, CHUNK_SECONDS * n / max(spent, 1e-9)))))
        at = {offset: recorded[i] for i, offset in enumerate(offsets)}

        # The loss at the chunk's last iterate too, so divergence is caught at the exact step even
        # when it lands on a chunk boundary (and the snapshot's loss is never stale).
        end_loss = float(stepper.loss())
        checked = np.append(losses, end_loss)
        cut, status, reason, message = self._first_event(start, checked)
        usable = n if cut is None else cut
        for offset in record_history.tolist():
            if offset < usable or (cut is not None and status != "diverged" and offset == usable):
                self.history.add(start + offset, checked[offset], at[offset])
        for t in log_steps:
            if t - start < usable:
                self._log(t, losses[t - start], at[t + 1 - start])

        if cut is None:
            self.step = start + n
            self.current_params = at[n]
            self.current_loss = end_loss
            self._remember_losses(losses)
            return
        # An event inside the chunk: go back to its start and replay to the exact step, then finish.
        keep = cut if status != "diverged" else max(cut - 1, 0)
        if keep == n:
            params = at[n]
        else:
            stepper.load(saved)
            params = stepper.run(keep, [keep])[1][-1]
        self.step = start + keep
        self.current_params = params
        if np.isfinite(checked[keep]) and checked[keep] <= self.divergence_limit:
            self.current_loss = float(checked[keep])
        if status == "diverged":
            self.diverged_at = start + cut
            self.history.add(self.step, self.current_loss, self.current_params)
            self._finish("diverged", reason, message)
        else:
            self._complete(reason, message)

    def _first_event(self, start: int, losses: np.ndarray) -> tuple[int | None, str, str, str]:
        """The first offset where the loss diverges or a stop condition holds."""
        events: list[tuple[int, str, str, str]] = []
        bad = ~np.isfinite(losses) | (losses > self.divergence_limit)
        if bad.any():
            j = int(np.argmax(bad))
            reason = "nonfinite" if not np.isfinite(losses[j]) else "exploded"
            events.append((j, "diverged", reason, self._divergence_message(start + j)))
        stop = self.config.stop
        if stop.loss_below is not None:
            hit = losses <= stop.loss_below
            if hit.any():
                j = int(np.argmax(hit))
                events.append((j, "completed", "loss_below",
                               f"Loss reached {losses[j]:.6g} ≤ {stop.loss_below:g} at step {start + j:,}."))
        if stop.plateau_tol is not None:
            window = stop.plateau_window
            joined = np.concatenate([self._recent_losses, losses])
            offset = len(self._recent_losses)
            idx = np.arange(offset, len(joined))
            valid = idx - window >= 0
            if valid.any():
                now, before = joined[idx[valid]], joined[idx[valid] - window]
                flat = np.abs(now - before) <= stop.plateau_tol * np.abs(before)
                if flat.any():
                    j = int(idx[valid][np.argmax(flat)] - offset)
                    events.append((j, "completed", "plateau",
                                   f"Loss changed by less than {stop.plateau_tol:g} (relative) over {window} steps: "
                                   f"plateau at step {start + j:,}."))
        if not events:
            return None, "", "", ""
        return min(events, key=lambda e: (e[0], e[1] != "diverged"))

    def _remember_losses(self, losses: np.ndarray) -> None:
        window = self.config.stop.plateau_window if self.config.stop.plateau_tol is not None else 0
        if window:
            self._recent_losses = np.concatenate([self._recent_losses, losses])[-window:]

    def _divergence_message(self, step: int) -> str:
        text = f"Diverged at step {step:,}: the loss left every finite bound."
        c = self.config
        if c.optimizer == "sgd" and c.lr > self.quad.max_stable_lr:
            text += (f" This learning rate {c.lr:g} is above 2/λmax = {self.quad.max_stable_lr:.4g}, the largest "
                     "stable one for this data: each step overshoots the steepest direction by more than it "
                     "corrects.")
        else:
            text += (f" The loss grew past {DIVERGENCE_FACTOR:g} × its starting value; for plain SGD the stable "
                     f"limit here is 2/λmax = {self.quad.max_stable_lr:.4g}.")
        return text

    def _log_steps(self, start: int, n: int) -> list[int]:
        every, phase = self.log_every, self.log_phase
        first = start + ((phase - start) % every)
        return list(range(first, min(start + n, self.total_steps), every))

    def _log(self, t: int, loss: float, params_after: np.ndarray) -> None:
        mse = loss / len(self.data.x) if self.config.reduction == "sum" else loss
        self.log.append(LogLine(t, self.problem.log_line(t, float(loss), float(mse), params_after), float(loss),
                                np.array(params_after, dtype=np.float64)))

    def _complete(self, reason: str, message: str) -> None:
        self._finish("completed", reason, message)

    def _finish(self, status: str, reason: str, message: str) -> None:
        self.status, self.reason, self.message = status, reason, message
        if self.prepared and status != "diverged":
            self.history.add(self.step, self.current_loss, self.current_params)
        if status != "diverged":
            self.log.extend(LogLine(self.step, text, kind="final")
                            for text in self.problem.final_lines(self.current_params))

    # --- read-outs ------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        rate = self.step / self.elapsed if self.elapsed > 0 else 0.0
        return Snapshot(step=self.step, total_steps=self.total_steps, loss=self.current_loss,
                        params=self.current_params.copy(), elapsed=self.elapsed, steps_per_second=rate,
                        status=self.status, reason=self.reason, message=self.message,
                        diverged_at=self.diverged_at, compile_seconds=self.compile_seconds)

    def state(self) -> TrainState:
        return self.prepare().state()

    def log_text(self) -> str:
        return "\n".join(line.text for line in self.log)

    def against_notebook(self) -> CellAgreement | None:
        """This run's lines against its notebook cell's, or None where the cell printed nothing or the
        settings are not the notebook's (``notebook_differences`` says which)."""
        cell = self.variant.cell
        if cell is None or notebook_differences(self.config):
            return None
        lines = [PrintedLine(line.kind, line.step, line.text) for line in self.log]
        return agreement(cell, self.variant.printed_steps, lines, self.total_steps,
                         final_due=self.finished and self.step == cell.steps)

    def result(self) -> dict[str, Any]:
        """Everything about the run as plain JSON-ready values (the CLI's --json object)."""
        c = self.config
        steps, losses, params = self.history.arrays()
        return {
            # every setting of fitcore.settings' table, by its name (a schedule by its kind)
            "problem": c.problem, **setting_values(c), "ran_on": resolve_device(c.device),
            "param_names": list(self.problem.param_names),
            "data": {"x": self.data.x.astype(float).tolist(), "y": self.data.y.astype(float).tolist()},
            "init": self.data.init.astype(float).tolist(),
            "final": {"step": self.step, "loss": self.current_loss, "params": self.current_params.tolist()},
            "history": [{"step": int(s), "loss": float(l), "params": p.tolist()}
                        for s, l, p in zip(steps, losses, params)],
            "status": self.status, "reason": self.reason, "message": self.message,
            "diverged_at": self.diverged_at,
            "optimum": {"loss": self.quad.optimum_loss, "params": self.quad.optimum.tolist()},
            "max_stable_lr": self.quad.max_stable_lr,
            "log": [line.text for line in self.log],
            "notebook": self._notebook_result(),
            "elapsed_s": self.elapsed, "compile_s": self.compile_seconds,
        }


    def _notebook_result(self) -> dict[str, Any]:
        """The run's notebook cell, where its start came from, and the line-by-line comparison (if any)."""
        compared = self.against_notebook()
        cell = self.variant.cell
        out: dict[str, Any] = {"variant": self.variant.key, "seed_file": self.variant.seed_file,
                               "start": self.variant.start_note if self.config.seed is None else
                               f"drawn from seed {self.config.seed}"}
        if compared is not None:
            out |= compared.as_dict()
        elif cell is None:
            out["verdict"] = "the notebook printed nothing to compare"
        else:
            out["verdict"] = "not compared: this run differs from the notebook in " + \
                ", ".join(notebook_differences(self.config))
        return out


def iterate(run: Run, every_steps: int | None = None, every_seconds: float | None = None) -> Iterator[Snapshot]:
    """Yield a snapshot every ``every_steps`` steps or ``every_seconds`` seconds until the run ends.

    Closing the generator leaves the run paused where it was: ``iterate`` it again to resume.
    """
    if every_steps is None and every_seconds is None:
        every_seconds = 0.1
    if run.finished:
        yield run.snapshot()
        return
    while True:
        snapshot = run.advance(max_steps=every_steps, max_seconds=every_seconds)
        yield snapshot
        if snapshot.finished:
            return


def train(config: RunConfig, limits: Limits = Limits()) -> Run:
    """Run a configuration to the end and return the finished run."""
    run = Run(config, limits)
    run.advance()
    return run
