"""Per-run caps for a shared deployment, read from the environment or .streamlit/secrets.toml.

Defaults keep one visitor from holding a shared CPU for minutes; raise them locally with
FITCORE_MAX_SECONDS / FITCORE_MAX_STEPS (or max_seconds / max_steps in secrets.toml).
"""
from __future__ import annotations

import os
from typing import Any

from fitcore import MAX_STEPS, Limits, RunConfig

DEFAULT_MAX_SECONDS = 120.0


def _setting(name: str) -> Any:
    value = os.environ.get(f"FITCORE_{name.upper()}")
    if value is not None:
        return value
    try:
        import streamlit as st
        return st.secrets.get(name)
    except Exception:  # no secrets file, or not running under Streamlit
        return None


def _number(name: str, default: float, kind: type) -> Any:
    raw = _setting(name)
    try:
        value = kind(float(raw)) if raw is not None else default
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def run_limits(config: RunConfig) -> Limits:
    return Limits(max_seconds=_number("max_seconds", DEFAULT_MAX_SECONDS, float),
                  max_steps=_number("max_steps", MAX_STEPS, int))
