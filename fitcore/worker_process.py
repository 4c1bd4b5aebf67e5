"""The loop inside one training worker process: it hosts runs for their whole life and time-shares them.

A worker reads commands from one pipe and writes progress to another (``fitcore.workers`` holds the
other ends). Runs that are training take turns in slices of ``SLICE_SECONDS``: with 15 runs on a
worker each gets a fifteenth of a core, and a command (Pause, Stop) waits for at most one slice.
A run's framework objects never leave this process; only its read-outs (``Progress``) travel, and a
NumPy run as a whole when the pool moves it to another worker ("export", then "adopt" there). A "call"
computes one function for the pool (``WorkerPool.call``) between two slices.
Progress goes out at most ``UPDATES_PER_SECOND`` times a second from one worker, shared by its training
runs: the server unpickles every message under its one interpreter lock, and its pages redraw each
run about once a second when many train (ui's redraw budget), so more would only cost it.

A run whose framework this worker has not imported yet starts the import in a thread (importing TensorFlow
takes 3 s on an idle machine, 30 s and more on a busy one); its commands that need the framework ("prepare",
"advance", "train", "state") and any after them wait, in their order, while the worker's other runs train.

A worker runs at a lower scheduling priority than the process that started it (``WORKER_NICENESS``): the pool
has one worker per core, each always busy while runs train, and the kernel shares a core equally among busy
processes, so the Streamlit process, which draws every session's page, got about two thirds of a core and
its pages queued behind each other (the workshop benchmark's update intervals of seconds with 30 sessions).
Lowered, the workers still take every cycle the server leaves, so the training throughput stays.

A worker gives PyTorch one thread for its operations (``ONE_THREAD``): the pool is one worker per core, and
where PyTorch splits an operation over its own thread per core (large data: above some 32,000 elements) the
workers' threads fought over the cores (PyTorch's notes on several processes on one machine advise as much).
Two torch-autograd runs side by side on this 2-core machine, idle, sine-cubic with 100,000 points: 271–595
steps/s each with PyTorch's default threads, 1,378–1,494 with one. With the notebooks' own data (up to 2,000
points) PyTorch never splits an operation: about 8,200 steps/s each either way.
"""
from __future__ import annotations

import importlib
import os
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from .engine import Run
from .impl import get_implementation
from .notebook_log import LogLine

SLICE_SECONDS = 0.02   # one run's turn before the next training run's (a command waits at most this)
UPDATE_SECONDS = 0.05  # a training run's progress goes to its session at most this often
UPDATES_PER_SECOND = 20.0  # progress messages of training runs from one worker, all its runs together
LEASE_SECONDS = 5.0    # a training run whose session has not asked after it for this long pauses (page left)
PARKED_POLL_SECONDS = 0.05  # how often an idle worker looks whether a framework it imports has arrived
# Commands that may build a run's implementation (import its framework): they wait for the import, which runs
# in a thread of its own while the worker trains its other runs (importing TensorFlow takes 3-30 s).
BUILDING = ("prepare", "advance", "train", "state")
# Set, unless already set, before a worker imports a framework: PyTorch reads it for its intra-op threads.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}
WORKER_NICENESS = 10  # added to the worker's niceness: the server's own process comes first for a core
NICENESS_VARIABLE = "FITCORE_WORKER_NICENESS"  # overrides it (the tests, sharing a busy machine, use 0)


@dataclass
class Progress:
    """Everything a ``Run``'s read-outs show, as it changed since the last ``Progress`` of that run.

    ``history_from`` and ``log_from`` say where the new entries start: 0 with a whole history means the
    history was thinned (it keeps at most HISTORY_CAP points) and replaces the one the session holds.
    """

    step: int
    total_steps: int
    status: str
    reason: str
    message: str
    diverged_at: int | None
    elapsed: float
    compile_seconds: float
    current_params: np.ndarray
    current_loss: float
    prepared: bool
    history_from: int
    history_steps: list[int]
    history_losses: list[float]
    history_params: list[np.ndarray]
    log_from: int
    log: list[LogLine]
    training: bool = False  # whether the worker is training it on its own (False after a lease ran out)


@dataclass
class _Hosted:
    run: Run
    training: bool = False
    touched: float = field(default_factory=time.monotonic)
    sent_at: float = 0.0
    sent_history: int = 0
    sent_last_step: int | None = None
    sent_log: int = 0


def _progress(hosted: _Hosted) -> Progress:
    run, history = hosted.run, hosted.run.history
    count = len(history.steps)
    start = hosted.sent_history
    if start and (count < start or history.steps[start - 1] != hosted.sent_last_step):
        start = 0  # thinned since the last send: the whole history again
    hosted.sent_history, hosted.sent_last_step = count, (history.steps[-1] if count else None)
    log_from, hosted.sent_log = hosted.sent_log, len(run.log)
    hosted.sent_at = time.monotonic()
    return Progress(run.step, run.total_steps, run.status, run.reason, run.message, run.diverged_at, run.elapsed,
                    run.compile_seconds, run.current_params, run.current_loss, run.prepared, start,
                    history.steps[start:], history.losses[start:], history.params[start:], log_from,
                    run.log[log_from:], hosted.training)


def _import_quietly(name: str) -> None:
    try:
        importlib.import_module(name)
    except BaseException:  # the run's own prepare() imports it again, meets the error and reports it
        pass


class _Worker:
    def __init__(self, commands: Connection, updates: Connection) -> None:
        self.commands, self.updates = commands, updates
        self.runs: dict[int, _Hosted] = {}
        self.turn = 0
        self.importing: dict[str, threading.Thread] = {}  # implementation module -> the thread importing it
        self.parked: dict[int, list[tuple[Any, ...]]] = {}  # run id -> its commands waiting for an import

    def _still_importing(self, run: Run) -> bool:
        """Whether this run's framework is still being imported (the import starts here, in a thread, the
        first time a run needs it): meanwhile the worker trains its other runs rather than wait with them."""
        impl = get_implementation(run.config.impl)
        if impl.framework == "numpy" or run.prepared:
            return False
        name = f"{__package__}.impl.{impl.module}"
        thread = self.importing.get(name)
        if thread is None:
            thread = self.importing[name] = threading.Thread(target=_import_quietly, args=(name,), daemon=True,
                                                             name=f"import {impl.framework}")
            thread.start()
        return thread.is_alive()

    def unpark(self) -> None:
        """Carry out, in their order, the commands of every run whose framework has arrived meanwhile."""
        for run_id in list(self.parked):
            hosted = self.runs.get(run_id)
            if hosted is None or not self._still_importing(hosted.run):
                for command in self.parked.pop(run_id):
                    self.handle(command)

    def send(self, run_id: int, token: int | None) -> None:
        self.updates.send(("progress", run_id, token, _progress(self.runs[run_id])))

    def fail(self, run_id: int, token: int | None, error: BaseException) -> None:
        self.updates.send(("failed", run_id, token, type(error).__name__, str(error)))

    def handle(self, command: tuple[Any, ...]) -> bool:
        """Apply one command; False on "quit"."""
        kind, run_id, token, *args = command
        if kind == "quit":
            return False
        if kind == "open":
            config, limits = args
            try:
                self.runs[run_id] = _Hosted(Run(config, limits))
            except Exception as error:  # bad settings end this run, not the worker
                self.fail(run_id, token, error)
            return True
        if kind == "adopt":  # a run another worker trained, moved here whole (with its training flag)
            run, training = args
            self.runs[run_id] = _Hosted(run, training=training and not run.finished)
            self.send(run_id, token)
            return True
        if kind == "call":  # one-off work for the pool (a measurement, a recomputation): runs wait meanwhile
            function, call_args = args
            try:
                result = function(*call_args)
            except Exception as error:  # it fails alone: the worker and its runs go on
                self.fail(run_id, token, error)
            else:
                self.updates.send(("called", run_id, token, result))
            return True
        hosted = self.runs.get(run_id)
        if hosted is None:
            if kind == "export":  # closed meanwhile: nothing to move
                self.updates.send(("exported", run_id, token, None, False))
            return True
        if kind == "export":  # the run leaves this worker as it stands (between two slices)
            del self.runs[run_id]
            self.updates.send(("exported", run_id, token, hosted.run, hosted.training))
            return True
        hosted.touched = time.monotonic()
        if kind == "close":
            del self.runs[run_id]
            self.parked.pop(run_id, None)
            return True
        if kind != "touch" and (run_id in self.parked or (kind in BUILDING and self._still_importing(hosted.run))):
            self.parked.setdefault(run_id, []).append(command)  # after the import, in order
            return True
        run = hosted.run
        try:
            if kind == "train":
                hosted.training = not run.finished
            elif kind == "pause":
                hosted.training = False
                run.pause()
            elif kind == "stop":
                hosted.training = False
                run.stop()
            elif kind == "extend":
                run.extend(*args)
            elif kind == "prepare":
                run.prepare()
            elif kind == "advance":
                hosted.training = False
                run.advance(*args)
            elif kind == "state":
                self.updates.send(("state", run_id, token, run.state()))
                return True
        except Exception as error:  # a framework's failure ends this run's command, not the worker
            hosted.training = False
            self.fail(run_id, token, error)
            return True
        if kind != "touch":
            self.send(run_id, token)
        return True

    def train_one(self) -> None:
        """One slice of the next training run, round robin."""
        now = time.monotonic()
        training = [run_id for run_id, hosted in self.runs.items() if hosted.training]
        for run_id in training:
            hosted = self.runs[run_id]
            if now - hosted.touched > LEASE_SECONDS:
                hosted.training = False
                hosted.run.pause()
                self.send(run_id, None)
        training = [run_id for run_id in training if self.runs[run_id].training]
        if not training:
            return
        self.turn = (self.turn + 1) % len(training)
        run_id = training[self.turn]
        hosted = self.runs[run_id]
        try:
            hosted.run.advance(max_seconds=SLICE_SECONDS)
        except Exception as error:  # as in the page's own loop: the run stops, the worker goes on
            hosted.training = False
            self.fail(run_id, None, error)
            return
        if hosted.run.finished:
            hosted.training = False
        every = max(UPDATE_SECONDS, len(training) / UPDATES_PER_SECOND)
        if hosted.run.finished or time.monotonic() - hosted.sent_at >= every:
            self.send(run_id, None)

    def serve(self) -> None:
        while True:
            if self.parked:
                self.unpark()
            busy = any(hosted.training for hosted in self.runs.values())
            # Idle: block until a command (the timeout only re-checks leases and imports); busy: take what came in.
            while self.commands.poll(0 if busy else PARKED_POLL_SECONDS if self.parked else 1.0):
                if not self.handle(self.commands.recv()):
                    return
                busy = any(hosted.training for hosted in self.runs.values())
            self.train_one()


def worker_niceness() -> int:
    """What a worker adds to its niceness: ``FITCORE_WORKER_NICENESS`` if set to a whole number, else
    ``WORKER_NICENESS``."""
    try:
        return int(os.environ.get(NICENESS_VARIABLE, WORKER_NICENESS))
    except ValueError:
        return WORKER_NICENESS


def yield_to_the_server() -> None:
    """Lower this process's scheduling priority by ``worker_niceness()`` (before any thread starts, so its
    framework's threads inherit it). Where the platform has no niceness, nothing changes."""
    niceness = worker_niceness()
    if niceness > 0 and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:  # not permitted here: the worker runs at the server's priority, as before
            pass


def one_thread_each() -> None:
    """Give the frameworks this worker imports later one thread for their operations (``ONE_THREAD``);
    a setting already in the environment wins."""
    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)


def serve(commands: Connection, updates: Connection) -> None:
    """A worker process's main function (started with the spawn method by ``fitcore.workers``)."""
    yield_to_the_server()
    one_thread_each()
    try:
        _Worker(commands, updates).serve()
    except (EOFError, OSError, KeyboardInterrupt):  # the server went away: so does its worker
        pass

