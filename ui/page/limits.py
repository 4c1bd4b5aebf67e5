"""Caps for a shared deployment: the one place they are read.

Every cap is a knob named in ``KNOBS``. Its value comes from the environment variable
``FITCORE_<NAME>`` (upper case), else from ``<name>`` in ``.streamlit/secrets.toml`` (Community
Cloud's "Secrets" box), else from its default. A value that is not a positive number is ignored.
The defaults keep one visitor from holding a shared CPU or memory for long while 30 others use the
same server; on your own machine raise any of them, e.g. ``FITCORE_MAX_SECONDS=3600 streamlit run
dashboard.py``.

A session computes one thing at a time by construction: a page's training loop and its
comparisons run inside the page's script, and Streamlit runs one script per session, stopping the
old one when a click starts the next. The per-session knobs bound what a session keeps or sends.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fitcore import IMPLEMENTATIONS, MAX_STEPS, Limits, RunConfig
from fitcore.config import ACCELERATED_MAX_POINTS
from fitcore.workers import default_pool_size


@dataclass(frozen=True)
class Knob:
    name: str           # the key in secrets.toml; the environment variable is FITCORE_<NAME>
    default: float
    kind: type          # int or float
    scope: str          # "run" or "session"
    meaning: str

    @property
    def variable(self) -> str:
        return f"FITCORE_{self.name.upper()}"

    def how_to_raise(self) -> str:
        return f"Running locally, raise {self.variable} (or {self.name} in .streamlit/secrets.toml)."


# PyTorch and TensorFlow eager steps cost 60–800 times a NumPy step on this machine (DESIGN.md):
# seed 002's run (one step by hand, then a million) is the longest any notebook makes and already
# reaches the time cap; NumPy and the exact engine may go to the page's own maximum.
FRAMEWORK_STEPS = 1_000_001


def _impl_knob(impl_id: str) -> Knob:
    framework = IMPLEMENTATIONS[impl_id].framework
    default = MAX_STEPS if framework == "numpy" else FRAMEWORK_STEPS
    return Knob(f"max_steps_{impl_id.replace('-', '_')}", default, int, "run",
                f"steps per run with the {impl_id} implementation")


KNOBS: dict[str, Knob] = {knob.name: knob for knob in (
    Knob("max_seconds", 120.0, float, "run", "wall time per run, in seconds (training time, not drawing)"),
    Knob("max_steps", MAX_STEPS, int, "run", "steps per run, whatever the implementation"),
    *(_impl_knob(impl_id) for impl_id in IMPLEMENTATIONS),
    Knob("max_points_accelerated", ACCELERATED_MAX_POINTS, int, "run",
         f"data points of a PyTorch run on a GPU (sine-cubic and a typed function; at most "
         f"{ACCELERATED_MAX_POINTS:,}, fitcore's own limit)"),
    Knob("max_upload_rows", 100_000, int, "run", "data points (rows) in an uploaded CSV file"),
    Knob("max_upload_mb", 5, int, "session", "size of an uploaded file, in MB (server.maxUploadSize in "
                                              ".streamlit/config.toml says the same by default)"),
    Knob("max_compare_seconds", 60.0, float, "session", "wall time of one comparison, all of its runs together"),
    Knob("max_pinned", 8, int, "session", "pinned runs per page"),
)}


def _raw(name: str) -> Any:
    value = os.environ.get(KNOBS[name].variable)
    if value is not None:
        return value
    try:
        import streamlit as st
        return st.secrets.get(name)
    except Exception:  # no secrets file, or not running under Streamlit
        return None


def cap(name: str) -> Any:
    """The knob's value: from the environment, secrets.toml or its default."""
    knob = KNOBS[name]
    raw = _raw(name)
    try:
        value = float(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        value = None
    if value is None or not value > 0 or value == float("inf"):
        value = knob.default
    return knob.kind(value)


def how_to_raise(name: str) -> str:
    return KNOBS[name].how_to_raise()


def steps_knob(config: RunConfig) -> str:
    """The knob that caps this run's steps: the implementation's own when it is the lower."""
    own = _impl_knob(config.impl).name
    return own if cap(own) < cap("max_steps") else "max_steps"


def run_limits(config: RunConfig) -> Limits:
    steps = steps_knob(config)
    return Limits(max_seconds=cap("max_seconds"), max_steps=cap(steps),
                  seconds_hint=how_to_raise("max_seconds"), steps_hint=how_to_raise(steps))


def steps_notice(config: RunConfig) -> str | None:
    """Said before a run that the deployment's step cap will end early, or None."""
    knob = steps_knob(config)
    limit = cap(knob)
    if config.steps <= limit:
        return None
    which = f"with {IMPLEMENTATIONS[config.impl].label}" if knob != "max_steps" else "per run"
    return (f"This deployment runs at most {limit:,} steps {which}, so this run of {config.steps:,} will stop "
            f"there. {how_to_raise(knob)}")


def upload_limits() -> tuple[int, int]:
    """(bytes, rows) an uploaded file may have."""
    return cap("max_upload_mb") * 1024 * 1024, cap("max_upload_rows")


def compare_limit() -> tuple[float, str]:
    """Seconds one comparison may run, and the sentence that says it stopped there."""
    seconds = cap("max_compare_seconds")
    return seconds, (f"Stopped after the deployment's cap of {seconds:g} s per comparison. "
                     f"{how_to_raise('max_compare_seconds')}")


def max_pinned() -> int:
    return cap("max_pinned")


def accelerated_points() -> int:
    """Points a PyTorch run on an accelerator may have here: the knob, within fitcore's own limit."""
    return min(cap("max_points_accelerated"), ACCELERATED_MAX_POINTS)
WORKERS_VARIABLE = "FITCORE_WORKERS"


def worker_count() -> int:
    """Training processes for this server: ``workers`` (env FITCORE_WORKERS, or secrets.toml), by default
    one per core; 0 trains inside the Streamlit process (one core for every session together).

    Not a knob: its default depends on the machine, and 0 is a meaningful value here."""
    raw = os.environ.get(WORKERS_VARIABLE)
    if raw is None:
        try:
            import streamlit as st
            raw = st.secrets.get("workers")
        except Exception:  # no secrets file, or not running under Streamlit
            raw = None
    try:
        value = int(float(raw)) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or value < 0:
        return default_pool_size()
    return value
