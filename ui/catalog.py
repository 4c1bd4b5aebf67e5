"""Which file serves which page: used by the navigation and by the home page's links."""
from __future__ import annotations

DEMO_PAGES: dict[str, str] = {
    "quadratic-bias": "app_pages/quadratic_bias.py",
    "linear-2x": "app_pages/linear_2x.py",
    "quadratic-recovery": "app_pages/quadratic_recovery.py",
    "sine-cubic": "app_pages/sine_cubic.py",
}
HOME_PAGE = "app_pages/home.py"
CUSTOM_PAGE = "app_pages/custom_data.py"  # "Your own data": fitcore.custom's problems, built from a file or a function
SPEED_PAGE = "app_pages/speed.py"  # "Speed": every implementation on one demo, steps per second
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
