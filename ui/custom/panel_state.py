"""Keeping the data panel's values on the "Your own data" page.

Panel widgets keep their values in the page state, because Streamlit forgets a widget's value when
another page is shown: the first visit reads them from the link, later visits put back what Streamlit
forgot, and a lesson sets them from a callback.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from fitcore.custom import DataSourceError, custom_problem

from ui.custom.keys import key
from ui.custom.settings import DEFAULT_COEFFICIENTS, default_source_values, function_source_of, parse_source_query, preset_of
from ui.page import sidebar
from ui.page.settings import notice_text
from ui.page.state import DemoState


def initialise(state: DemoState) -> None:
    """First visit in this session: the link's data source and run settings (or the defaults)."""
    values, problems = parse_source_query(dict(st.query_params))
    values |= {"preset": preset_of(values["fn"]), "coef": DEFAULT_COEFFICIENTS}
    state.extras["source_values"] = values
    try:
        problem = custom_problem(function_source_of(values))
    except DataSourceError:  # the panel shows what is wrong with the link's function
        problem = custom_problem(function_source_of(default_source_values()))
    state.extras["problem"] = problem
    sidebar.initialise(problem, state)
    if problems:
        notice = notice_text(problems)
        state.url_notice = f"{state.url_notice} {notice}" if state.url_notice else notice


def seed_panel(state: DemoState) -> None:
    """Restore the panel's widgets Streamlit forgot (another page was shown), keeping everything set."""
    for name, value in state.extras["source_values"].items():
        if key(name) not in st.session_state and value is not None:
            st.session_state[key(name)] = value


def set_panel(state: DemoState, values: dict[str, Any]) -> None:
    """Change panel settings from a callback (a lesson)."""
    state.extras["source_values"].update(values)
    for name, value in values.items():
        st.session_state[key(name)] = value

