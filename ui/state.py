"""Per-session, per-page state. Everything a page keeps between reruns lives here, in
``st.session_state``: no module globals, and nothing trained is ever cached across sessions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from fitcore import Run


@dataclass
class PinnedRun:
    label: str
    steps: Any
    losses: Any


@dataclass
class DemoState:
    values: dict[str, Any] = field(default_factory=dict)
    run: Run | None = None
    training: bool = False
    pending_steps: int = 0
    url_notice: str | None = None
    error: str | None = None
    pinned: list[PinnedRun] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def demo_state(page_id: str) -> DemoState:
    key = f"state:{page_id}"
    if key not in st.session_state:
        st.session_state[key] = DemoState()
    return st.session_state[key]


def widget_key(page_id: str, name: str) -> str:
    return f"{page_id}:{name}"
