"""The settings sidebar every demo page shares, rendered from ``ui.page.settings``'s table.

Widget values persist across page switches (Streamlit forgets widgets a page does not draw),
a shareable URL seeds them on the first visit, and every rerun writes them back to the URL.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import streamlit as st

from fitcore import (IMPLEMENTATIONS, OPTIMIZER_LABELS, SCHEDULE_LABELS, Problem, compiled_unavailable,
                     get_implementation, is_available, missing_message)
from fitcore.device import DEVICE_LABELS, accelerator_statuses, resolve_device
from fitcore.settings import FIELD, schedule_settings

from ui import charts
from ui.page.settings import (PAGE_NAMES, Setting, choices_for, defaults, notice_text, parse_query, points_bounds,
                              runs_on_device, setting_named, settings_for, to_query)
from ui.page.state import DemoState, widget_key
from ui.page.view import draw_chart

DECADES = tuple(10.0**k for k in range(-10, 3))
# Settings that may be unset (None), each with a toggle "<name>_on" and the value its input shows when
# switched on: the early stops, and the seed (unset: the notebook's own data and start).
OPTIONAL_DEFAULTS = {"loss_below": 1e-3, "plateau_tol": 1e-6, "seed": 0}
# A setting the sidebar draws no widget for: θ₀ is chosen on the charts (a click on the landscape, the By
# hand tab) and kept in DemoState.start; a link carries it like any other.
CHOSEN_START = "start"
# How a schedule's settings step and print in their inputs; which schedule shows which is fitcore.settings'.
SCHEDULE_INPUTS: dict[str, dict[str, Any]] = {"gamma": {"format": "%g", "step": 0.05}, "step_size": {"step": 10},
                                              "lr_min": {"format": "%g"}}


def _decade(lr: float) -> float:
    return 10.0 ** min(2, max(-10, round(math.log10(lr))))


def _seed_widgets(problem: Problem, values: dict[str, Any], only_missing: bool = False) -> None:
    """Put setting values into the widgets' session keys (only allowed before they are drawn).

    ``only_missing`` restores just the widgets Streamlit forgot: those of another page, or ones
    hidden on the last rerun (a collapsed option), keeping everything the user has set.
    """
    def put(name: str, value: Any) -> None:
        key = widget_key(problem.id, name)
        if not (only_missing and key in st.session_state):
            st.session_state[key] = value
    for name, value in values.items():
        if name == CHOSEN_START:
            continue
        if name in OPTIONAL_DEFAULTS:
            put(name + "_on", value is not None)
            put(name, value if value is not None else OPTIONAL_DEFAULTS[name])
        else:
            put(name, value)
    if "lr" in values:
        put("decade", _decade(values["lr"]))


def _apply_variant(problem: Problem) -> None:
    variant = st.session_state[widget_key(problem.id, "variant")]
    view = {k: st.session_state.get(widget_key(problem.id, k)) for k in ("rate", "logx")}
    _seed_widgets(problem, defaults(problem, variant) | {k: v for k, v in view.items() if v is not None})


def reset_to_notebook(problem: Problem, state: DemoState) -> None:
    """Every setting back to the notebook's, the start included: one chosen on the charts or in a link goes."""
    state.start = None
    _apply_variant(problem)


def set_values(problem: Problem, state: DemoState, changes: dict[str, Any]) -> None:
    """Change settings from a callback (a lesson preset, the stable-lr fix, a faster path), named as
    ``RunConfig`` names them (``fitcore.settings``); a name the page does not offer is a KeyError."""
    unknown = [name for name in changes if name not in PAGE_NAMES]
    if unknown:
        raise KeyError(f"the page offers no setting {', '.join(unknown)}")
    state.values.update(changes)
    if CHOSEN_START in changes:
        state.start = changes[CHOSEN_START]
    _seed_widgets(problem, changes)


def _lr_from_decade(problem: Problem) -> None:
    st.session_state[widget_key(problem.id, "lr")] = st.session_state[widget_key(problem.id, "decade")]


def _decade_from_lr(problem: Problem) -> None:
    st.session_state[widget_key(problem.id, "decade")] = _decade(st.session_state[widget_key(problem.id, "lr")])


def initialise(problem: Problem, state: DemoState) -> None:
    """First visit in this session: the URL's settings (or the notebook's), then the widgets."""
    if not state.values:
        values, problems = parse_query(problem, dict(st.query_params))
        state.values = values
        state.start = values.get(CHOSEN_START)
        state.url_notice = notice_text(problems) if problems else None
    _seed_widgets(problem, state.values, only_missing=True)


def _impl_label(impl_id: str) -> str:
    label = IMPLEMENTATIONS[impl_id].label
    return label if is_available(impl_id) else f"{label} (not installed)"


def _number(problem: Problem, name: str, key: Callable[[str], str], **options: Any) -> None:
    """A number input for a setting of the page's table, labelled and bounded as its row says."""
    setting: Setting = setting_named(problem, name)
    field = FIELD[name]
    low, high = (int(setting.low), int(setting.high)) if field.whole else (float(setting.low), float(setting.high))
    st.number_input(field.widget_label, min_value=low, max_value=high, key=key(name), **options)


def _switch(name: str, key: Callable[[str], str]) -> bool:
    """The switch that sets an optional setting (unset when off), as its row labels it."""
    field = FIELD[name]
    return st.toggle(str(field.toggle), key=key(name + "_on"), help=field.tip)


def device_choice(problem: Problem) -> None:
    """The device selector, for a PyTorch implementation only: the devices this server has, and the
    others named with why not. Asking costs no PyTorch import here (``fitcore.device``)."""
    key = widget_key(problem.id, "device")
    statuses = accelerator_statuses()
    options = ["cpu", "auto", *(s.device for s in statuses if s.available)]
    if st.session_state.get(key) not in options:
        st.session_state[key] = "cpu"
    st.selectbox(FIELD["device"].label, options, key=key, format_func=DEVICE_LABELS.get, help=FIELD["device"].tip)
    absent = [f"{DEVICE_LABELS[s.device]}: {s.reason}" for s in statuses if not s.available]
    if absent:
        st.caption("Not on this server — " + "; ".join(absent) + ".")


def _data_source(problem: Problem, key: Callable[[str], str]) -> bool:
    """The notebook's own data and start, or fresh data from a seed; True for the notebook's own."""
    if _switch("seed", key):
        _number(problem, "seed", key, step=1)
        return False
    variant = problem.variant(st.session_state[key("variant")])
    st.caption(variant.start_note)
    return True


def render(problem: Problem, state: DemoState) -> dict[str, Any]:
    """Draw the sidebar; returns the current setting values and writes them to the URL."""
    initialise(problem, state)
    key = lambda name: widget_key(problem.id, name)  # noqa: E731
    with st.sidebar:
        st.subheader("Settings")
        st.selectbox(FIELD["variant"].widget_label, choices_for(problem, "variant"), key=key("variant"),
                     format_func=lambda k: problem.variant(k).label, on_change=_apply_variant, args=(problem,),
                     help=FIELD["variant"].tip)
        st.button("Reset to the notebook's settings", key=key("reset_settings"), on_click=reset_to_notebook,
                  args=(problem, state), width="stretch")
        impl_id = st.selectbox(FIELD["impl"].label, choices_for(problem, "impl"), key=key("impl"),
                               format_func=_impl_label, help=FIELD["impl"].tip)
        impl = get_implementation(impl_id)
        if not is_available(impl_id):
            st.error(missing_message(impl_id))
        st.caption(impl.blurb)
        # a GPU compiles without a C++ compiler: ask about the device this run would use
        no_compile = compiled_unavailable(impl_id, resolve_device(runs_on_device(
            {"impl": impl_id, "device": st.session_state.get(key("device"))})))
        if no_compile is not None and st.session_state.get(key("compiled")):
            st.session_state[key("compiled")] = False  # a disabled toggle left on could not be turned off
        st.toggle(FIELD["compiled"].label, key=key("compiled"),
                  disabled=impl_id == "analytic" or no_compile is not None,
                  help=f"{impl.label}: {impl.compiled_label}. "
                       + ("The first run compiles for several seconds." if impl.framework == "torch" else ""))
        if no_compile is not None:
            st.caption(f":material/block: Compiled path unavailable here: {no_compile}.")
        if impl.framework == "torch":
            device_choice(problem)
        st.selectbox(FIELD["optimizer"].label, choices_for(problem, "optimizer"), key=key("optimizer"),
                     format_func=OPTIMIZER_LABELS.get)
        st.select_slider(f"{FIELD['lr'].label} (power of ten)", DECADES, key=key("decade"),
                         format_func=lambda v: f"{v:.0e}", on_change=_lr_from_decade, args=(problem,))
        _number(problem, "lr", key, format="%g", step=None, on_change=_decade_from_lr,
                args=(problem,))
        _number(problem, "steps", key, step=100)
        left, right = st.columns(2)
        left.radio(FIELD["reduction"].widget_label, choices_for(problem, "reduction"), key=key("reduction"),
                   horizontal=True, help=FIELD["reduction"].tip)
        right.radio(FIELD["dtype"].label, choices_for(problem, "dtype"), key=key("dtype"), horizontal=True)
        if problem.source is None:
            own = _data_source(problem, key)
        else:  # your own data's noise needs a seed; no notebook stands behind it
            st.session_state[key("seed_on")] = True
            _number(problem, "seed", key, step=1)
        if problem.source is None:  # a page over your own data draws these beside its data source
            with st.expander("Data"):
                low, high = points_bounds(problem, {"impl": impl_id, "device": st.session_state.get(key("device"))})
                if st.session_state.get(key("points"), low) > high:  # a GPU run's points, now on the CPU
                    st.session_state[key("points")] = high
                printed = problem.variant(st.session_state[key("variant")]).data is not None
                st.number_input(FIELD["points"].label, min_value=low, max_value=high, step=1, key=key("points"),
                                disabled=own and printed,
                                help="The notebook printed its data: fresh data from a seed can have other "
                                     "counts." if own and printed else None)
                _number(problem, "noise", key, step=0.5, format="%g", disabled=own,
                                help="Noise is drawn from a seed: switch on fresh data to change it." if own
                                else None)
        with st.expander(FIELD["schedule"].label):
            kind = st.selectbox(FIELD["schedule"].widget_label, choices_for(problem, "schedule"),
                                key=key("schedule"), format_func=SCHEDULE_LABELS.get)
            for name in schedule_settings(kind):
                _number(problem, name, key, **SCHEDULE_INPUTS.get(name, {}))
        with st.expander("Stop early"):
            if _switch("loss_below", key):
                _number(problem, "loss_below", key, format="%g")
            if _switch("plateau_tol", key):
                _number(problem, "plateau_tol", key, format="%g")
                _number(problem, "plateau_window", key, step=10)
        with st.expander("Display"):
            rate = setting_named(problem, "rate")
            st.slider(rate.label, int(rate.low), int(rate.high), key=key("rate"))
            st.toggle(setting_named(problem, "logx").label, key=key("logx"))
    values = {}
    for setting in settings_for(problem):
        name = setting.name
        if name in OPTIONAL_DEFAULTS:
            values[name] = st.session_state[key(name)] if st.session_state[key(name + "_on")] else None
        elif name == CHOSEN_START:
            values[name] = chosen_start(problem, state)
        elif name == "device":  # drawn only for PyTorch; kept for when PyTorch is chosen again
            values[name] = st.session_state.get(key(name), state.values.get("device", "cpu"))
        else:
            values[name] = st.session_state[key(name)]
    state.values = values
    st.query_params.from_dict(to_query(problem, values))
    return values


def chosen_start(problem: Problem, state: DemoState) -> tuple[float, ...] | None:
    """The start the learner chose, while it has one number per parameter (your own data's degree
    can change under it: then it is forgotten, and runs start where the data does)."""
    if state.start is not None and len(state.start) != problem.n_params:
        state.start = None
    return state.start


def lr_schedule_preview(problem: Problem, values: dict[str, Any]) -> None:
    """The small lr-against-step chart for a non-constant schedule, drawn in the sidebar."""
    from fitcore import Schedule
    kind = values["schedule"]
    if kind == "constant":
        return
    try:
        schedule = Schedule(kind, **{name: values[name] for name in schedule_settings(kind)})
    except ValueError:
        return
    chart = charts.schedule_chart(schedule, float(values["lr"]), int(values["steps"]))
    draw_chart(st.sidebar, chart)
