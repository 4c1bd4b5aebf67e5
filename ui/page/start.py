"""A start chosen on the loss landscape: a click there (at rest) sets θ₀ for the next run.

The click's point comes from the chart's selection (a two-parameter slice's point, or θ itself on a
one-parameter picture); fitcore.landscape.picked_start turns it into θ₀ (rounded, through the slice's
plane). The page keeps it in the demo's state (DemoState.start, which the By hand tab and a link's
`start=` set too), the shareable URL carries it, and every config the page builds carries it
(RunConfig.start) until the learner goes back to the notebook's start or presses Reset.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import streamlit as st

from fitcore import ConfigError, Problem, RunConfig
from fitcore.landscape import SliceAxes, picked_start

from ui.page.state import DemoState, widget_key

SLICE_FIELDS = ("p1", "p2")  # a two-parameter slice's picked point
CURVE_FIELDS = ("theta",)  # a one-parameter picture's picked θ


def picked_point(selection: Mapping[str, Any], name: str,
                 fields: tuple[str, ...] = SLICE_FIELDS) -> np.ndarray | None:
    """The point (its ``fields``) a landscape selection holds, or None when it holds none (a click off
    every point)."""
    chosen = (selection or {}).get("selection", {}).get(name) or []
    if not chosen or any(field not in chosen[0] for field in fields):
        return None
    return np.array([chosen[0][field] for field in fields], dtype=np.float64)


def start_picked(state: DemoState, selection_name: str, key: str, axes: SliceAxes | None, lo: np.ndarray,
                 hi: np.ndarray) -> None:
    """The landscape's on_select: the clicked point becomes the next run's start, shown at once.
    ``axes``: the slice clicked, or None for a one-parameter picture (the click gives θ itself)."""
    point = picked_point(st.session_state.get(key), selection_name, SLICE_FIELDS if axes is not None else CURVE_FIELDS)
    if point is None or state.training:
        return
    state.start = picked_start(point, lo, hi, axes)
    state.run = None  # the charts show the new start at once; Run trains from it


def with_chosen_start(config: RunConfig | None, state: DemoState) -> RunConfig | None:
    """The page's config, starting where the learner clicked (if they did, and it still fits)."""
    if config is None or state.start is None:
        return config
    try:
        return config.replace(start=state.start)
    except ConfigError:  # another problem's start, or one out of range: forget it
        state.start = None
        return config


def forget_start(state: DemoState) -> None:
    state.start = None
    state.run = None


def chosen_start_note(problem: Problem, state: DemoState) -> None:
    """Under the charts: the chosen start, and the way back to the notebook's."""
    if state.start is None:
        return
    values = ", ".join(f"{name} = {value:.4g}" for name, value in zip(problem.param_names, state.start))
    text, back = st.columns([3, 1], vertical_alignment="center")
    text.caption(f":material/ads_click: Start you chose (on the landscape, by hand or in the link): {values}.")
    back.button("Notebook's start", key=widget_key(problem.id, "forget_start"), on_click=forget_start,
                args=(state,), disabled=state.training, help="Start from where the notebook (or the seed) starts.")
