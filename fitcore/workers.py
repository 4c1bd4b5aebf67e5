"""Training outside the caller's interpreter lock: a pool of worker processes and a handle per run.

Every session of one ``streamlit run`` shares one Python process; trained in its threads, all runs
together get one core. A ``WorkerPool`` starts worker processes (the ``spawn`` method: forking a
threaded server that may have imported a framework is unsafe) that host runs for their whole life, so
framework tensors never travel. ``pool.open(config, limits)`` returns a ``RemoteRun`` (``fitcore.remote_run``):
a ``Run`` whose read-outs (step, status, snapshot, history, log) mirror the worker's copy and whose controls
(advance, pause, stop, extend, prepare) are carried out there. ``train()`` lets the worker train it on its own,
time-shared with the worker's other runs; ``sync(wait)`` brings its progress in; ``follow(seconds)`` does
both until the run ends (a comparison's or a challenge's run). ``pool.call(function, *args)`` computes
one function in a worker (timing a framework's steps, rebuilding an optimizer's state) and returns its result.

The transport is the standard library's: two one-way ``multiprocessing`` pipes per worker carrying
pickled tuples, and one thread per worker here that reads updates and files them with their run.
A worker that dies ends each of its runs with status "stopped", reason "worker_died"; the pool starts a
fresh worker for the next run that needs one.

Frameworks: a worker imports PyTorch or TensorFlow in a thread of its own the first time a run there needs
it, and trains its other runs meanwhile (``fitcore.worker_process``). A new PyTorch or TensorFlow run goes
to a worker that has its framework already, unless that one is ``FRAMEWORK_AFFINITY`` runs busier than the
least busy: a room that trains on both imports each once (seconds of a worker's time, and hundreds of MB).

Fair sharing: runs are placed on the worker with the fewest, but runs start and end, and a worker shares
its core among the runs it hosts (3 runs on 2 workers: ½, ¼, ¼ of the machine). Every
``REBALANCE_SECONDS`` a thread of the pool counts what each training run got (a core ÷ the training
runs on its worker) against its fair part (the busy cores ÷ all training runs) and moves NumPy runs
from a crowded worker to a lighter one — swapping the most-behind run of the one with the most-ahead of
the other when they differ by one run — so over a few seconds each of N runs gets about 1/N. A move
pauses the run between two of its slices, carries it whole to the other worker and trains it on there
(the same numbers bit for bit: ``Run`` pickles its implementation's state); the session's commands wait
for the move (tens of ms). Runs in PyTorch or TensorFlow stay where they are (moving one would import
the framework and compile again over there, seconds).
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
import weakref
from typing import Any, Callable

from .config import RunConfig
from .impl import get_implementation
from .remote_run import KNOWN_ERRORS, REPLY_SECONDS, RemoteRun, WorkerError
from .stopping import Limits
from .worker_process import serve

REBALANCE_SECONDS = 1.0  # how often the pool evens out what training runs get
MOVABLE_IMPLS = ("numpy",)  # runs the pool moves between workers to share them fairly
FRAMEWORKS = ("torch", "tensorflow")
FRAMEWORK_AFFINITY = 2  # runs more than the least busy worker a worker holding a run's framework may host


def default_pool_size() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Worker:
    """One worker process, the pipes to it, and the thread that reads its updates."""

    def __init__(self, pool: WorkerPool) -> None:
        context = multiprocessing.get_context("spawn")
        commands_in, self._commands = context.Pipe(duplex=False)
        self._updates, updates_out = context.Pipe(duplex=False)
        self.process = context.Process(target=serve, args=(commands_in, updates_out), daemon=True,
                                       name="fitcore-worker")
        self.process.start()
        commands_in.close()  # the worker holds these now: its death closes them, and our reader sees EOF
        updates_out.close()
        self.alive = True
        self.run_ids: set[int] = set()
        self.frameworks: set[str] = set()  # PyTorch, TensorFlow: imported, or being imported, by this worker
        self._send_lock = threading.Lock()
        self._pool = pool
        threading.Thread(target=self._read, name="fitcore-worker-reader", daemon=True).start()

    def send(self, message: tuple[Any, ...]) -> bool:
        with self._send_lock:
            if not self.alive:
                return False
            try:
                self._commands.send(message)
                return True
            except (OSError, ValueError):  # broken pipe: the reader thread reports the death
                return False

    def _read(self) -> None:
        while True:
            try:
                message = self._updates.recv()
            except (EOFError, OSError):
                break
            self._pool._deliver(message)
        self.alive = False
        self._pool._worker_died(self)

    def quit(self) -> None:
        self.send(("quit", 0, None))
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()


class WorkerPool:
    """``size`` worker processes, started when a run first needs one; a run goes to the least busy."""

    def __init__(self, size: int | None = None) -> None:
        self.size = max(1, size or default_pool_size())
        self._workers: list[_Worker | None] = [None] * self.size
        self._handles: dict[int, weakref.ref[RemoteRun]] = {}
        self._where: dict[int, _Worker] = {}  # run id -> the worker hosting it now
        self._behind: dict[int, float] = {}  # run id -> core-seconds short of its fair part (ahead: < 0)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._replies: dict[int, tuple[Any, ...]] = {}  # token -> a worker's answer to the pool itself
        self._replied = threading.Condition()
        self._closing = threading.Event()
        self._balancer: threading.Thread | None = None
        self.moves = 0  # runs moved between workers so far

    def start(self) -> WorkerPool:
        """Start every worker now (a process start and NumPy's import cost about a second on a busy machine:
        better paid while people read the page than after they press Run)."""
        with self._lock:
            for slot, worker in enumerate(self._workers):
                if worker is None or not worker.alive:
                    self._workers[slot] = _Worker(self)
        return self

    def _least_busy(self, framework: str = "numpy") -> _Worker:
        """The worker for a new run of ``framework`` (call with the lock held), started if it is not running:
        the one with the fewest runs, except that a PyTorch or TensorFlow run goes to a worker that has its
        framework already while that one hosts at most ``FRAMEWORK_AFFINITY`` runs more than the least busy.
        Each import costs seconds of a worker's time (3-30 s for TensorFlow on a busy machine) and hundreds
        of MB for good: a room on PyTorch and TensorFlow imports each once, not once per worker."""
        def runs(slot: int) -> int:
            worker = self._workers[slot]
            return len(worker.run_ids) if worker is not None and worker.alive else 0

        def has(slot: int, name: str) -> bool:
            worker = self._workers[slot]
            return worker is not None and worker.alive and name in worker.frameworks

        slot = min(range(self.size), key=runs)
        if framework != "numpy":
            holding = [i for i in range(self.size) if has(i, framework)]
            bare = [i for i in range(self.size) if not any(has(i, name) for name in FRAMEWORKS)]
            if holding and runs(min(holding, key=runs)) <= runs(slot) + FRAMEWORK_AFFINITY:
                slot = min(holding, key=runs)
            elif not holding and bare and runs(min(bare, key=runs)) <= runs(slot) + FRAMEWORK_AFFINITY:
                slot = min(bare, key=runs)  # keep the other framework's worker to itself
        worker = self._workers[slot]
        if worker is None or not worker.alive:
            worker = self._workers[slot] = _Worker(self)
        if framework != "numpy":
            worker.frameworks.add(framework)
        return worker

    def open(self, config: RunConfig, limits: Limits = Limits()) -> RemoteRun:
        """A new run, hosted by the worker with the fewest runs."""
        handle = RemoteRun(config, limits)
        with self._lock:
            worker = self._least_busy(get_implementation(config.impl).framework)
            run_id = next(self._ids)
            worker.run_ids.add(run_id)
            self._handles[run_id] = weakref.ref(handle)
            self._where[run_id] = worker
            if self.size > 1 and self._balancer is None:
                self._balancer = threading.Thread(target=self._balance, name="fitcore-balancer", daemon=True)
                self._balancer.start()
        handle._attach(self, worker, run_id)
        # A run nobody holds any more leaves its worker too (Reset, a new Run, a closed session).
        weakref.finalize(handle, self._forget, run_id)
        worker.send(("open", run_id, None, config, limits))
        return handle

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` computed in a worker process (the one with the fewest runs), and its result:
        one-off work that would otherwise load a framework, or hold the interpreter lock, in this process
        (timing a framework's steps, rebuilding an optimizer's state). ``function`` must be a module's
        top-level function (it travels by name). The worker's runs wait while it works. Its exception is
        raised here again (as ``WorkerError`` unless ``KNOWN_ERRORS`` names it)."""
        with self._lock:
            worker = self._least_busy()
        token = next(self._ids)
        if not worker.send(("call", 0, token, function, args)):
            raise WorkerError("The worker process for this computation is gone.")
        reply = self._reply(token, worker)
        if reply is None:
            raise WorkerError("The worker process computing this ended unexpectedly (killed, or out of memory).")
        if reply[0] == "failed":
            raise KNOWN_ERRORS.get(reply[3], WorkerError)(reply[4])
        return reply[3]

    def _reply(self, token: int, worker: _Worker) -> tuple[Any, ...] | None:
        """The worker's answer to the pool's command ``token``; None if the worker died or never answered."""
        deadline = time.monotonic() + REPLY_SECONDS
        with self._replied:
            while token not in self._replies and worker.alive and time.monotonic() < deadline:
                self._replied.wait(0.5)
            return self._replies.pop(token, None)

    def open_runs(self) -> int:
        """Runs the workers host now (a run leaves when its handle is collected)."""
        with self._lock:
            return sum(len(w.run_ids) for w in self._workers if w is not None)

    def training(self) -> int:
        """Runs told to train on their own (``train()``) that have not ended or been halted since."""
        with self._lock:
            handles = [ref() for ref in self._handles.values()]
        return sum(1 for h in handles if h is not None and h.training_on_its_own and not h.finished)

    def pids(self) -> list[int]:
        """The worker processes running now."""
        return [w.process.pid for w in self._workers if w is not None and w.alive and w.process.pid]

    def shutdown(self) -> None:
        self._closing.set()
        for worker in self._workers:
            if worker is not None:
                worker.quit()
        self._workers = [None] * self.size

    def _forget(self, run_id: int) -> None:
        with self._lock:
            self._handles.pop(run_id, None)
            self._behind.pop(run_id, None)
            worker = self._where.pop(run_id, None)
            if worker is not None:
                worker.run_ids.discard(run_id)
        if worker is not None:
            worker.send(("close", run_id, None))

    def _handle(self, run_id: int) -> RemoteRun | None:
        ref = self._handles.get(run_id)
        return ref() if ref is not None else None

    def _deliver(self, message: tuple[Any, ...]) -> None:
        if message[0] in ("exported", "called") or message[1] == 0:  # answers to the pool, not to a run
            with self._replied:
                self._replies[message[2]] = message
                self._replied.notify_all()
            return
        handle = self._handle(message[1])
        if handle is not None:
            handle._receive(message)

    def _worker_died(self, worker: _Worker) -> None:
        with self._lock:
            orphans = list(worker.run_ids)
            worker.run_ids.clear()
        for run_id in orphans:
            handle = self._handle(run_id)
            if handle is not None:
                handle._receive(("died", run_id, None))
        with self._replied:
            self._replied.notify_all()  # a move or a call waiting on this worker gives up

    # --- fair sharing ---------------------------------------------------------------------
    def _balance(self) -> None:
        while not self._closing.wait(REBALANCE_SECONDS):
            try:
                self.rebalance(REBALANCE_SECONDS)
            except Exception:  # a move that failed leaves its run where it was; sharing goes on
                continue

    def rebalance(self, seconds: float) -> int:
        """Account ``seconds`` of training to every training run and move runs to even the shares out;
        returns how many runs moved."""
        with self._lock:
            live = [w for w in self._workers if w is not None and w.alive]
            groups: dict[_Worker, list[tuple[int, RemoteRun]]] = {w: [] for w in live}
            for run_id, ref in self._handles.items():
                handle, worker = ref(), self._where.get(run_id)
                if handle is not None and worker in groups and handle.training_on_its_own and not handle.finished:
                    groups[worker].append((run_id, handle))
            training = sum(len(g) for g in groups.values())
            if not training:
                return 0
            fair = seconds * min(len(live), training) / training
            for runs in groups.values():
                for run_id, _ in runs:
                    self._behind[run_id] = self._behind.get(run_id, 0.0) + fair - seconds / len(runs)
            behind = dict(self._behind)
        if len(live) < 2:
            return 0
        crowded = max(live, key=lambda w: len(groups[w]))
        light = min(live, key=lambda w: len(groups[w]))
        gap = len(groups[crowded]) - len(groups[light])
        leaving = [(r, h) for r, h in groups[crowded] if h.config.impl in MOVABLE_IMPLS]
        if gap < 1 or not leaving:
            return 0
        run_id, handle = max(leaving, key=lambda rh: behind.get(rh[0], 0.0))
        if gap >= 2:
            return self._move(run_id, handle, crowded, light)
        coming = [(r, h) for r, h in groups[light] if h.config.impl in MOVABLE_IMPLS]
        if not coming:
            return 0
        other_id, other = min(coming, key=lambda rh: behind.get(rh[0], 0.0))
        if behind.get(other_id, 0.0) >= behind.get(run_id, 0.0):
            return 0
        return self._move(run_id, handle, crowded, light) + self._move(other_id, other, light, crowded)

    def _move(self, run_id: int, handle: RemoteRun, source: _Worker, target: _Worker) -> int:
        """Carry one run from ``source`` to ``target``; the handle's commands wait meanwhile."""
        with handle._route:
            if handle._worker is not source:
                return 0
            token = next(self._ids)
            if not source.send(("export", run_id, token)):
                return 0
            reply = self._reply(token, source)
            if reply is None or reply[3] is None:
                return 0
            run, training = reply[3], reply[4]
            with self._lock:
                home = target if target.alive else source  # the target died meanwhile: back where it was
                source.run_ids.discard(run_id)
                home.run_ids.add(run_id)
                self._where[run_id] = home
                self.moves += home is target
            handle._worker, handle.worker_pid = home, home.process.pid
            if not home.send(("adopt", run_id, None, run, training)):
                self._worker_died(home)  # both gone: the run ends as any run of a dead worker does
            return int(home is target)


__all__ = ["RemoteRun", "WorkerError", "WorkerPool", "default_pool_size"]
