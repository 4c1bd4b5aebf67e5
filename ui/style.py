"""The few style rules Streamlit's own layout lacks on a phone: a compact control bar, metrics two
or three to a row instead of one per screenful. Applied once per script run, before the page."""
from __future__ import annotations

import streamlit as st

CONTROL_BAR = "control-bar"  # the key of the control bar's container: Streamlit gives it class st-key-<key>
METRICS_ROW = "metrics-row"
NARROW = 640  # px: where Streamlit itself stacks columns

STYLE = f"""
<style>
@media (max-width: {NARROW}px) {{
  .st-key-{CONTROL_BAR} {{ gap: 0.3rem; }}
  .st-key-{CONTROL_BAR} button {{ padding: 0.15rem 0.5rem; min-height: 2rem; }}
  .st-key-{CONTROL_BAR} button p {{ font-size: 0.8rem; }}
  .st-key-{CONTROL_BAR} button [data-testid="stIconMaterial"] {{ display: none; }}
  .st-key-{METRICS_ROW} [data-testid="stHorizontalBlock"] {{ flex-flow: row wrap; gap: 0.25rem 1rem; }}
  .st-key-{METRICS_ROW} [data-testid="stColumn"] {{ flex: 1 1 28% !important; min-width: 28% !important;
                                                    width: auto !important; }}
  .st-key-{METRICS_ROW} [data-testid="stMetricValue"] {{ font-size: 1.4rem; }}
}}
</style>
"""


def apply_style() -> None:
    st.html(STYLE)
