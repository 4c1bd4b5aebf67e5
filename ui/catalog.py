"""Which file serves which page: used by the navigation and by the home page's links."""
from __future__ import annotations

DEMO_PAGES: dict[str, str] = {
    "quadratic-bias": "pages/quadratic_bias.py",
    "linear-2x": "pages/linear_2x.py",
    "quadratic-recovery": "pages/quadratic_recovery.py",
    "sine-cubic": "pages/sine_cubic.py",
}
HOME_PAGE = "pages/home.py"
CUSTOM_PAGE = "pages/custom_data.py"  # "Your own data": fitcore.custom's problems, built from a file or a function
SPEED_PAGE = "pages/speed.py"  # "Speed": every implementation on one demo, steps per second
# Material icons ship with Streamlit, so they render where emoji fonts are missing (projector PCs).
ICONS: dict[str, str] = {
    "home": ":material/home:",
    "quadratic-bias": ":material/my_location:",
    "linear-2x": ":material/straighten:",
    "quadratic-recovery": ":material/explore:",
    "sine-cubic": ":material/airwave:",
    "custom": ":material/upload_file:",
    "speed": ":material/speed:",
}
