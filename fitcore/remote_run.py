"""A run hosted by a worker process, seen from the process that holds it: ``RemoteRun``.

Its read-outs (step, status, snapshot, history, log) mirror the worker's copy as of the last ``sync``; its
controls (advance, pause, stop, extend, prepare) go to the worker as commands, each answered by a reply with
its token. ``fitcore.workers`` opens these handles, routes the worker's messages to them and may move a run to
another worker meanwhile (holding ``_route``); a handle sees its worker and pool only through the two small
protocols below, so this module imports nothing of the pool.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from typing import Any, Iterator, Protocol

from .config import RunConfig
from .engine import Run
from .impl import CompileFailed, CompilerMissing, FrameworkMissing, TrainState
from .impl.toolchain import record_compile_failure
from .readout import Snapshot
from .stopping import Limits
from .worker_process import LEASE_SECONDS, Progress

REPLY_SECONDS = 300.0  # the longest a command waits for its worker (importing TensorFlow and compiling)
TOUCH_SECONDS = LEASE_SECONDS / 4


class WorkerError(RuntimeError):
    """A command failed inside the worker (the message is the worker's exception)."""


# Failures raised again here as what they were, so callers tell a missing tool from a broken run.
KNOWN_ERRORS = {"FrameworkMissing": FrameworkMissing, "CompilerMissing": CompilerMissing,
                "CompileFailed": CompileFailed}


class Route(Protocol):
    """The worker process hosting a run, as its handle uses it: its pid, and a command to send it."""

    process: Any

    def send(self, message: tuple[Any, ...]) -> bool: ...


class Host(Protocol):
    """The pool a run belongs to, as its handle asks it: how many of its runs train on their own now."""

    def training(self) -> int: ...


class RemoteRun(Run):
    """A run hosted by a worker process. Its data, optimum and first log lines are its configuration's
    shared experiment here, as for any ``Run`` (NumPy only, no framework); the worker prepares the same
    experiment in its own process. Everything that steps happens in the worker, and the read-outs are
    the worker's as of the last ``sync``."""

    def __init__(self, config: RunConfig, limits: Limits = Limits()) -> None:
        super().__init__(config, limits)
        self._remote_prepared = False
        self.worker_training = False  # as the worker last said
        self._inbox: deque[tuple[Any, ...]] = deque()
        self._arrived = threading.Condition()
        self._answered: dict[int, tuple[Any, ...]] = {}
        self._tokens = itertools.count(1)
        self._touched = 0.0
        self._route = threading.Lock()  # held while a command goes out, and while the pool moves the run
        self._worker: Route | None = None
        self._pool: Host | None = None
        self._run_id = 0
        self.worker_pid: int | None = None
        self.training_on_its_own = False

    def _attach(self, pool: Host, worker: Route, run_id: int) -> None:
        self._pool, self._worker, self._run_id, self.worker_pid = pool, worker, run_id, worker.process.pid

    def neighbours_training(self) -> int:
        """Runs of this run's pool training on their own now, this one included if it is."""
        return self._pool.training() if self._pool is not None else 0

    # --- messages from the worker ---------------------------------------------------------
    def _receive(self, message: tuple[Any, ...]) -> None:
        with self._arrived:
            self._inbox.append(message)
            self._arrived.notify_all()

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind, _, token, *body = message
        if kind == "progress":
            self._apply_progress(body[0])
        elif kind == "died":
            if not self.finished:
                self.status, self.reason = "stopped", "worker_died"
                self.message = (f"The worker process training this run ended unexpectedly (killed, or out of "
                                f"memory) at step {self.step:,}. Run starts a new one.")
        if token is not None:
            self._answered[token] = message
        elif kind == "failed":
            self._answered[0] = message  # an error while training on its own: the next sync raises it

    def _apply_progress(self, progress: Progress) -> None:
        for name in ("step", "total_steps", "status", "reason", "message", "diverged_at", "elapsed",
                     "compile_seconds", "current_params", "current_loss"):
            setattr(self, name, getattr(progress, name))
        self._remote_prepared = progress.prepared
        self.worker_training = progress.training
        history = self.history
        if progress.history_from == 0:
            history.steps, history.losses, history.params = [], [], []
        history.steps.extend(progress.history_steps)
        history.losses.extend(progress.history_losses)
        history.params.extend(progress.history_params)
        del self.log[progress.log_from:]
        self.log.extend(progress.log)

    def _drain(self) -> None:
        while self._inbox:
            self._apply(self._inbox.popleft())

    def sync(self, wait: float = 0.0) -> Snapshot:
        """Bring in the worker's progress, waiting up to ``wait`` seconds for some to arrive."""
        with self._arrived:
            if not self._inbox and wait > 0 and not self.finished:
                self._arrived.wait(wait)
            self._drain()
            failed = self._answered.pop(0, None)
        if failed is not None:
            raise WorkerError(failed[4])
        if time.monotonic() - self._touched > TOUCH_SECONDS:
            self._command("touch")
        return self.snapshot()

    def _command(self, kind: str, *args: Any, wait: bool = False) -> tuple[Any, ...] | None:
        token = next(self._tokens) if wait else None
        self._touched = time.monotonic()
        with self._route:
            sent = self._worker is not None and self._worker.send((kind, self._run_id, token, *args))
        if not sent:
            with self._arrived:
                self._drain()
            if wait:
                raise WorkerError("The worker process for this run is gone.")
            return None
        if not wait:
            return None
        deadline = time.monotonic() + REPLY_SECONDS
        with self._arrived:
            while True:
                self._drain()
                if token in self._answered:
                    return self._answered.pop(token)
                if self.reason == "worker_died":
                    raise WorkerError(self.message)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WorkerError(f"The worker process did not answer within {REPLY_SECONDS:g} s.")
                self._arrived.wait(left)

    def _call(self, kind: str, *args: Any) -> tuple[Any, ...]:
        reply = self._command(kind, *args, wait=True)
        assert reply is not None
        if reply[0] == "failed":
            name, text = reply[3], reply[4]
            if name == "CompileFailed":  # the worker lacked a working compiler, so does this server
                record_compile_failure(CompileFailed(text))
            raise KNOWN_ERRORS.get(name, WorkerError)(text)
        return reply

    # --- the Run interface, carried out in the worker -------------------------------------
    @property
    def prepared(self) -> bool:
        return self._remote_prepared

    def prepare(self) -> Any:
        """Import the framework and compile in the worker (this process imports nothing)."""
        if not self._remote_prepared and not self.finished:
            self._call("prepare")
        return None

    def train(self) -> None:
        """Let the worker train this run on its own, in turns with its other runs, until it ends or is paused."""
        if not self.finished:
            self.training_on_its_own = True
            self._command("train")

    def follow(self, seconds: float = 0.1) -> Iterator[Snapshot]:
        """Let the worker train this run to the end on its own, in turns with its other runs (a fair share,
        where ``advance`` would hold the worker), and yield its progress at least every ``seconds``.
        Closing the generator early pauses the run in its worker."""
        if self.finished:
            yield self.snapshot()
            return
        try:
            self.train()
            while True:
                snapshot = self.sync(wait=seconds)
                if not self.finished and not self.worker_training:
                    self.train()  # paused by its lease while the caller was away for long (a redraw)
                yield snapshot
                if snapshot.finished:
                    return
        except GeneratorExit:
            if not self.finished:
                self.pause()
            raise

    def advance(self, max_steps: int | None = None, max_seconds: float | None = None) -> Snapshot:
        self.training_on_its_own = False
        if not self.finished:
            self._call("advance", max_steps, max_seconds)
        return self.snapshot()

    def pause(self) -> Snapshot:
        """Halt the run; when this returns the worker has taken its last step."""
        self.training_on_its_own = False
        if not self.finished:
            self._call("pause")
        return self.snapshot()

    def stop(self) -> Snapshot:
        self.training_on_its_own = False
        if not self.finished:
            self._call("stop")
        return self.snapshot()

    def extend(self, extra_steps: int) -> None:
        if self.reason != "worker_died":
            self._call("extend", extra_steps)

    def state(self) -> TrainState:
        return self._call("state")[3]
