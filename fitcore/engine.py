"""The training engine: every implementation's loop, its state, history and notebook log.

A ``Run`` is one training process over a prepared ``Experiment`` (the data, the loss's spectrum and
optimum, the log and record plans: ``fitcore.experiment``), holding its state explicitly. ``advance``
runs chunks of steps until a step or time budget is spent and returns a ``Snapshot``; calling it
again continues exactly where it stopped, so a caller may pause at any snapshot and resume later.
``iterate`` wraps that into a generator. Observers only read snapshots: nothing they do changes the
run. The rules that end a run early are ``fitcore.stopping``'s.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import numpy as np

from .agreement import CellAgreement
from .analytic import QuadraticLoss
from .config import RunConfig
from .experiment import Experiment, experiment_of
from .history import History
from .impl import CompileFailed, Stepper, TrainState, make_stepper
from .notebook_log import LogLine, against_notebook, final_lines, log_text, logged_steps, notebook_summary, step_line
from .problems import Dataset, NotebookVariant, Problem
from .readout import FINISHED, Snapshot, run_json
from .stopping import Limits, divergence_message, first_event, remembered_losses

CHUNK_SECONDS = 0.025    # keeps every chunk well under the UI's 100 ms hand-back
MAX_CHUNK = 1 << 20


class Run:
    """One training run over an experiment: implementation, state, history and notebook log.

    ``Run(config)`` trains the configuration's shared experiment (``experiment_of``); pass an
    ``Experiment`` to train one already in hand.
    """

    def __init__(self, experiment: Experiment | RunConfig, limits: Limits = Limits()) -> None:
        if isinstance(experiment, Experiment):
            self.config = experiment.config
        else:  # the settings as given (the shared experiment's are equal, perhaps 1 where these say 1.0)
            self.config, experiment = experiment, experiment_of(experiment)
        self.experiment = experiment
        self.limits = limits
        self.total_steps = self.config.steps
        self.step = 0
        self.status = "ready"
        self.reason = ""
        self.message = ""
        self.diverged_at: int | None = None
        self.elapsed = 0.0
        self.compile_seconds = 0.0
        self.history = History(plan=self.experiment.record_plan, width=self.problem.n_params)
        self.current_params = self.experiment.init
        self.current_loss = self.initial_loss
        self.log: list[LogLine] = [LogLine(0, text, kind="intro") for text in self.experiment.intro_lines]
        self._recent_losses = np.empty(0)
        self._stepper: Stepper | None = None
        self._chunk = 8

    # --- moving between processes ------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """A run as plain data, to continue in another process (a worker pool's rebalancing): everything it
        has trained, its implementation's state (``TrainState``) in place of the implementation. The
        experiment stays behind (its problem and data hold functions, which do not pickle): the settings
        rebuild it there."""
        state = {k: v for k, v in self.__dict__.items() if k != "experiment"}
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

    # --- the experiment's facts ------------------------------------------------------------
    @property
    def problem(self) -> Problem:
        return self.experiment.problem

    @property
    def variant(self) -> NotebookVariant:
        return self.experiment.variant

    @property
    def data(self) -> Dataset:
        return self.experiment.data

    @property
    def quad(self) -> QuadraticLoss:
        return self.experiment.quad

    @property
    def initial_loss(self) -> float:
        return self.experiment.initial_loss

    @property
    def divergence_limit(self) -> float:
        return self.experiment.divergence_limit

    @property
    def log_every(self) -> int:
        return self.experiment.log_every

    @property
    def log_phase(self) -> int:
        return self.experiment.log_phase

    # --- setup -------------------------------------------------------------------------
    @property
    def prepared(self) -> bool:
        return self._stepper is not None

    def prepare(self) -> Stepper:
        """Build the implementation (importing its framework) and compile it if asked."""
        if self._stepper is None:
            stepper = make_stepper(self.config.impl, self.data, self.experiment.step_settings(), self.quad)
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
                self._finish("stopped", "cap_steps", self.limits.steps_message())
            elif self._over_time():
                self._finish("stopped", "cap_time", self.limits.seconds_message())
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
        log_steps = logged_steps(start, n, self.total_steps, self.log_every, self.log_phase)
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
        event = first_event(start, checked, self.divergence_limit, self.config.stop, self._recent_losses,
                            self._divergence_message)
        usable = n if event is None else event.offset
        ends_here = event is not None and event.status != "diverged"  # a stop rule: its own step counts
        for offset in record_history.tolist():
            if offset < usable or (ends_here and offset == usable):
                self.history.add(start + offset, checked[offset], at[offset])
        for t in log_steps:
            if t - start < usable:
                self._log(t, losses[t - start], at[t + 1 - start])

        if event is None:
            self.step = start + n
            self.current_params = at[n]
            self.current_loss = end_loss
            self._recent_losses = remembered_losses(self._recent_losses, losses, self.config.stop)
            return
        # An event inside the chunk: go back to its start and replay to the exact step, then finish.
        keep = event.offset if ends_here else max(event.offset - 1, 0)
        if keep == n:
            params = at[n]
        else:
            stepper.load(saved)
            params = stepper.run(keep, [keep])[1][-1]
        self.step = start + keep
        self.current_params = params
        if np.isfinite(checked[keep]) and checked[keep] <= self.divergence_limit:
            self.current_loss = float(checked[keep])
        if event.status == "diverged":
            self.diverged_at = start + event.offset
            self.history.add(self.step, self.current_loss, self.current_params)
            self._finish("diverged", event.reason, event.message)
        else:
            self._complete(event.reason, event.message)

    def _divergence_message(self, step: int) -> str:
        return divergence_message(step, self.config.optimizer, self.config.lr, self.quad.max_stable_lr)

    def _log(self, t: int, loss: float, params_after: np.ndarray) -> None:
        self.log.append(step_line(self.problem, self.config.reduction, self.experiment.points, t, loss, params_after))

    def _complete(self, reason: str, message: str) -> None:
        self._finish("completed", reason, message)

    def _finish(self, status: str, reason: str, message: str) -> None:
        self.status, self.reason, self.message = status, reason, message
        if self.prepared and status != "diverged":
            self.history.add(self.step, self.current_loss, self.current_params)
        if status != "diverged":
            self.log.extend(final_lines(self.problem, self.step, self.current_params))

    # --- read-outs ------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        rate = self.step / self.elapsed if self.elapsed > 0 else 0.0
        return Snapshot(step=self.step, total_steps=self.total_steps, loss=self.current_loss,
                        params=self.current_params.copy(), elapsed=self.elapsed, steps_per_second=rate,
                        status=self.status, reason=self.reason, message=self.message,
                        diverged_at=self.diverged_at, compile_seconds=self.compile_seconds)

    def state(self) -> TrainState:
        return self.prepare().state()

    def follow(self, seconds: float = 0.1) -> Iterator[Snapshot]:
        """Train to the end, yielding a snapshot at least every ``seconds`` (a caller draws its progress
        between them, and may stop at any one, leaving the run paused there). Where the run trains is the
        run's own business: a worker's ``RemoteRun`` trains there, in turns with the worker's other runs."""
        return iterate(self, every_seconds=seconds)

    def log_text(self) -> str:
        return log_text(self.log)

    def against_notebook(self) -> CellAgreement | None:
        """This run's lines against its notebook cell's (``fitcore.notebook_log.against_notebook``)."""
        return against_notebook(self.config, self.variant, self.log, self.total_steps, self.finished, self.step)

    def result(self) -> dict[str, Any]:
        """Everything about the run as plain JSON-ready values (the CLI's --json object)."""
        notebook = notebook_summary(self.config, self.variant, self.against_notebook())
        return run_json(self.config, self.experiment, self.snapshot(), self.history, self.log, notebook)


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


__all__ = ["CHUNK_SECONDS", "MAX_CHUNK", "Run", "iterate", "train"]
