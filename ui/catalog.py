"""Which file serves which page: used by the navigation and by the home page's links.

A demo's page, title, address and icon come from its definition (``Problem.page``): its file is
``app_pages/<id with underscores>.py``, so adding a demo adds no line here.
"""
from __future__ import annotations

from fitcore import Problem

HOME_PAGE = "app_pages/home.py"
CUSTOM_PAGE = "app_pages/custom_data.py"  # "Your own data": fitcore.custom's problems, built from a file or a function
SPEED_PAGE = "app_pages/speed.py"  # "Speed": every implementation on one demo, steps per second
# Material icons ship with Streamlit, so they render where emoji fonts are missing (projector PCs).
ICONS: dict[str, str] = {
    "home": ":material/home:",
    "custom": ":material/upload_file:",
    "speed": ":material/speed:",
}


def demo_page_file(problem: Problem) -> str:
    """The file of a demo's page: linear-2x is served by app_pages/linear_2x.py."""
    return f"app_pages/{problem.id.replace('-', '_')}.py"


def demo_icon(problem: Problem) -> str:
    return f":material/{problem.page.icon}:"
