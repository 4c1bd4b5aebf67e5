"""The home page: what the dashboard is, and one card per demo."""
from __future__ import annotations

import streamlit as st

from fitcore import FRAMEWORK_NAMES, IMPLEMENTATIONS, PROBLEMS, framework_available

from .catalog import DEMO_PAGES, ICONS


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
            st.markdown(problem.teaches)
            st.latex(problem.formula_latex)
            notebooks = ", ".join(f"`{name}`" for name in problem.seed_files)
            st.caption(f"Notebook: {notebooks} · written in {' and '.join(problem.notebook_frameworks)} · "
                       f"runs here on {len(IMPLEMENTATIONS)} implementations")
            st.page_link(DEMO_PAGES[problem.id], label=f"Open {problem.title}", icon=ICONS[problem.id])
