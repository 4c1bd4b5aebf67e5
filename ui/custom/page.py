"""The "Your own data" page: a data-source panel, then the shared page over the problem it defines.

The panel (``ui.custom.source_panel``) turns an uploaded CSV or a typed function (with its x range,
points, noise, degree and standardisation) into a ``fitcore.custom.CustomSource``; everything below
it — sidebar, controls, charts, lessons, compare, replay, step-through math, code — is
``ui.page.assembly.problem_page``, as on the demo pages.
"""
from __future__ import annotations

import streamlit as st

from fitcore import Problem
from fitcore.custom import CUSTOM_ID, custom_problem

from ui.custom.keys import key, literal
from ui.custom.lessons import custom_lessons_panel
from ui.custom.panel_state import initialise, seed_panel
from ui.custom.source_panel import data_panel
from ui.page import sidebar
from ui.page.assembly import problem_page, show_link_notice
from ui.page.state import demo_state


def model_intro(problem: Problem) -> None:
    source = problem.source  # a fitcore.custom.CustomSource: this page shows only problems built from one
    model = f"Fit a degree-{source.degree} polynomial" + (" in standardised x" if source.standardise else "")
    if source.kind == "function":
        data = (f"to y = `{source.expression}` at {int(st.session_state[key('points')]):,} evenly spaced x in "
                f"[{source.x_min:g}, {source.x_max:g}]")
    else:
        shown = source.file.replace("`", "'")  # a backtick would end the code span
        data = (f"to the {source.rows:,} rows of `{shown}` ({literal(source.layout.y_name)} against "
                f"{literal(source.layout.x_name)})")
    text, formulas = st.columns([3, 2], vertical_alignment="center")
    text.markdown(f"{model} {data}. Every implementation starts from θ = 0, as on the demo pages.")
    formulas.latex(r"\begin{aligned}&" + problem.formula_latex + r"\\ &" + problem.data_latex + r"\end{aligned}")


def custom_page() -> None:
    state = demo_state(CUSTOM_ID)
    st.title("Your own data")
    st.markdown("Bring a CSV file or type a function of x, and watch every implementation fit it with a polynomial "
                "of degree 1 to 8 — with the same charts, comparisons, replay and exported code as the demos.")
    if not state.values or "source_values" not in state.extras:
        initialise(state)
    else:
        sidebar.initialise(state.extras["problem"], state)
    seed_panel(state)
    source = data_panel(state)
    if source is None:  # the link's other refusals are still said, though the page stops here
        show_link_notice(state)
        st.info("Fix the data source above to train.", icon=":material/arrow_upward:")
        return
    problem = custom_problem(source)
    state.extras["problem"] = problem
    problem_page(problem, state, intro=model_intro, lessons=custom_lessons_panel)
