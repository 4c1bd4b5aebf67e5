"""Which file serves which page: used by the navigation and by the home page's links."""
from __future__ import annotations

DEMO_PAGES: dict[str, str] = {
    "quadratic-bias": "pages/quadratic_bias.py",
    "linear-2x": "pages/linear_2x.py",
    "quadratic-recovery": "pages/quadratic_recovery.py",
    "sine-cubic": "pages/sine_cubic.py",
}
HOME_PAGE = "pages/home.py"
# Material icons ship with Streamlit, so they render where emoji fonts are missing (projector PCs).
ICONS: dict[str, str] = {
    "home": ":material/home:",
    "quadratic-bias": ":material/my_location:",
    "linear-2x": ":material/straighten:",
    "quadratic-recovery": ":material/explore:",
    "sine-cubic": ":material/airwave:",
}
