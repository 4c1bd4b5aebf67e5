"""Entry point: `streamlit run dashboard.py`. Builds the navigation and runs the chosen page."""
from __future__ import annotations

import streamlit as st

from fitcore import PROBLEMS
from ui.catalog import CUSTOM_PAGE, HOME_PAGE, ICONS, SPEED_PAGE, demo_icon, demo_page_file
from ui.style import apply_style


def build_navigation() -> st.navigation:
    """Every page registered explicitly, with its title and icon."""
    home = st.Page(HOME_PAGE, title="Home", icon=ICONS["home"], default=True)
    demos = [st.Page(demo_page_file(p), title=p.title, icon=demo_icon(p), url_path=p.id) for p in PROBLEMS.values()]
    own = st.Page(CUSTOM_PAGE, title="Your own data", icon=ICONS["custom"], url_path="custom")
    speed = st.Page(SPEED_PAGE, title="Speed", icon=ICONS["speed"], url_path="speed")
    return st.navigation({"Start": [home], "Demos": demos, "Your data": [own], "Tools": [speed]})


def run() -> None:
    st.set_page_config(page_title="See gradient descent", page_icon=":material/show_chart:", layout="wide")
    apply_style()
    build_navigation().run()


if __name__ == "__main__":
    run()
