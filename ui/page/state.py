"""Per-session, per-page state. Everything a page keeps between reruns lives here, in
``st.session_state``: no module globals, and nothing trained is ever cached across sessions."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

from fitcore import Limits, RemoteRun, Run, RunConfig, WorkerPool
from fitcore.run_labels import pin_labels

from ui.page.limits import KNOBS, how_to_raise, max_pinned, run_limits, worker_count

MAX_PINNED = KNOBS["max_pinned"].default  # the default cap; max_pinned() reads the deployment's


@dataclass
class PinnedRun:
    label: str
    steps: Any
    losses: Any
    config: RunConfig | None = None
    number: int = 0
    status: str = ""
    final_loss: float = math.nan


@dataclass
class DemoState:
    values: dict[str, Any] = field(default_factory=dict)
    run: Run | None = None
    training: bool = False
    resumed_under: RunConfig | None = None  # the sidebar's settings when Resume was pressed
    pending_steps: int = 0
    url_notice: str | None = None
    error: str | None = None
    pinned: list[PinnedRun] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    start: tuple[float, ...] | None = None  # θ₀ the learner chose (landscape, by hand, link); None: the data's own
    # Held while a script advances the run. With fastReruns (forced on Community Cloud) a click starts
    # the next script at once, in a new thread, while the old one trains until its next call into
    # Streamlit: the new one waits here so it never reads, or steps, a run that is mid-chunk.
    busy: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def wait_for_older_script(self, timeout: float = 5.0) -> None:
        if self.busy.acquire(timeout=timeout):
            self.busy.release()


def demo_state(page_id: str) -> DemoState:
    key = f"state:{page_id}"
    if key not in st.session_state:
        st.session_state[key] = DemoState()
    return st.session_state[key]


@st.cache_resource(show_spinner=False)
def training_pool(size: int) -> WorkerPool:
    """The server's training processes, one pool shared by every session (it holds no session's run
    state itself: each run lives in one worker and belongs to the session holding its handle)."""
    return WorkerPool(size).start()


# Runs this short stay in this process: opening a run in a worker and bringing it back costs 7–25 ms
# more than the run itself, about what 500 NumPy or exact steps cost (BENCHMARKS.md, group "workshop").
# Framework runs never do: this process must not import torch or TensorFlow to train.
IN_PROCESS_IMPLS = ("numpy", "analytic")
IN_PROCESS_STEPS = 500


def runs_in_process(config: RunConfig) -> bool:
    return config.impl in IN_PROCESS_IMPLS and config.steps <= IN_PROCESS_STEPS


def open_run(config: RunConfig, limits: Limits) -> Run:
    """A run for this session (a demo's, a comparison's, a challenge's, a measurement's): in a worker process
    when the deployment has any and the run is not cheaper here (``runs_in_process``); else in this one."""
    workers = worker_count()
    if workers == 0 or runs_in_process(config):
        return Run(config, limits)
    return training_pool(workers).open(config, limits)


def new_run(config: RunConfig) -> Run:
    """The page's own run, within the deployment's limits."""
    return open_run(config, run_limits(config))


def off_page(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a worker process when the deployment has any, else here: one-off work that would
    load a framework into this process (timing PyTorch's steps) or hold its interpreter lock for long
    (rebuilding an optimizer's state by re-running its steps). ``function`` is a module's top-level one."""
    workers = worker_count()
    return training_pool(workers).call(function, *args) if workers else function(*args)


def timing_run(config: RunConfig, limits: Limits) -> Run:
    """A throwaway run that times settings (the pace panel's estimate): in a worker when the deployment has
    any, so a framework loads there and the timing trains outside this process's interpreter lock."""
    workers = worker_count()
    return training_pool(workers).open(config, limits) if workers else Run(config, limits)


def start_workers() -> None:
    """Have the server's training processes up before anyone presses Run (a demo page calls this)."""
    if workers := worker_count():
        training_pool(workers)


def is_remote(run: Run | None) -> bool:
    return isinstance(run, RemoteRun)


def widget_key(page_id: str, name: str) -> str:
    return f"{page_id}:{name}"


def pin_blocker(state: DemoState, run: Run | None) -> str | None:
    """Why this run cannot be pinned now, or None if it can."""
    if run is None or not run.finished:
        return "Pin a run once it has finished (completed, stopped or diverged)."
    if any(p.config == run.config and p.steps[-1] == run.step and p.final_loss == run.current_loss
           for p in state.pinned if p.config is not None and len(p.steps)):
        return "This run is pinned already."
    limit = max_pinned()
    if len(state.pinned) >= limit:
        return f"{limit} runs are pinned, this deployment's cap per page: remove one first. {how_to_raise('max_pinned')}"
    return None


def _relabel(state: DemoState) -> None:
    """Label every pinned run by the settings that tell it apart from the others."""
    labels = pin_labels([p.config for p in state.pinned], [p.number for p in state.pinned],
                        [p.status for p in state.pinned])
    for pinned, label in zip(state.pinned, labels):
        pinned.label = label


def pin_run(state: DemoState, run: Run) -> None:
    """Keep a finished run's loss curve, overlaid on the Train tab's loss chart."""
    if pin_blocker(state, run) is not None:
        return
    steps, losses, _ = run.history.arrays()
    number = max((p.number for p in state.pinned), default=0) + 1
    state.pinned.append(PinnedRun("", steps, losses, run.config, number, run.status, float(run.current_loss)))
    _relabel(state)


def unpin(state: DemoState, number: int) -> None:
    state.pinned = [p for p in state.pinned if p.number != number]
    _relabel(state)


def clear_pins(state: DemoState) -> None:
    state.pinned = []
