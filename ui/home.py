"""The home page: what the dashboard is, and one card per demo."""
from __future__ import annotations

import streamlit as st

from fitcore import FRAMEWORK_NAMES, IMPLEMENTATIONS, PROBLEMS, framework_available
from fitcore.preview import NotebookEnd, notebook_end

from .catalog import CUSTOM_PAGE, ICONS, SPEED_PAGE, demo_icon, demo_page_file
from .charts.preview import preview_chart


@st.cache_data(show_spinner=False)
def cached_notebook_end(problem_id: str) -> NotebookEnd:
    return notebook_end(problem_id)


def home_page() -> None:
    st.title("See gradient descent")
    st.markdown(
        "Five well-known teaching notebooks, turned into live experiments. Each page trains the notebook's "
        "model **as it goes** — in NumPy by hand, PyTorch, TensorFlow or the exact closed form — and prints "
        "what the notebook printed, so you can check every number and then change any setting to see what "
        "breaks. All four models are linear in their parameters, so every page also knows the best any run "
        "can reach (the least-squares optimum) and the largest learning rate that does not diverge (2/λmax).")
    installed = [FRAMEWORK_NAMES[f] for f in ("numpy", "torch", "tensorflow") if framework_available(f)]
    st.caption(f"Installed here: {', '.join(installed)}. Pick a demo:")
    columns = st.columns(2)
    for index, problem in enumerate(PROBLEMS.values()):
        with columns[index % 2].container(border=True):
            st.subheader(problem.title)
            chart = preview_chart(cached_notebook_end(problem.id))
            st.vega_lite_chart(chart.with_data(), width="stretch", alt=chart.alt_text)
            st.caption(chart.caption)
            st.markdown(problem.teaches)
            st.latex(problem.formula_latex)
            notebooks = ", ".join(f"`{name}`" for name in problem.seed_files)
            st.caption(f"Notebook: {notebooks} · written in {' and '.join(problem.notebook_frameworks)} · "
                       f"runs here on {len(IMPLEMENTATIONS)} implementations")
            st.page_link(demo_page_file(problem), label=f"Open {problem.title}", icon=demo_icon(problem))
    with columns[len(PROBLEMS) % 2].container(border=True):
        st.subheader("Your own data")
        st.markdown("Upload a CSV file or type a function of x (say `0.5*x**3 - sin(2*x)`) and fit a polynomial of "
                    "degree 1 to 8 on every implementation — and see why raw x⁶ makes gradient descent crawl "
                    "until x is standardised.")
        st.latex(r"\hat y = w_0 + w_1 x + \dots + w_d x^d")
        st.caption("Your data · any degree from 1 to 8 · the condition number λmax/λmin before and after "
                   "standardising")
        st.page_link(CUSTOM_PAGE, label="Open Your own data", icon=ICONS["custom"])
    st.page_link(SPEED_PAGE, label="Speed: the same run on every implementation — why compiled code is faster",
                 icon=ICONS["speed"])
