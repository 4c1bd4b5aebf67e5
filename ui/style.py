"""The few style rules Streamlit's own layout lacks: a control bar that stays one row on a projector
and folds into a keypad on a phone, metrics two or three to a row instead of one per screenful there,
and small text that reads (WCAG AA) on both themes. Applied once per script run, before the page."""
from __future__ import annotations

import streamlit as st

from ui.charts import HEIGHT, LANDSCAPE_HEIGHT

CONTROL_BAR = "control-bar"  # the key of the control bar's container: Streamlit gives it class st-key-<key>
METRICS_ROW = "metrics-row"
NARROW = 640  # px: where Streamlit itself stacks columns
# The slot of a chart that is a widget at rest (the loss curve's steps, the landscape's starts): its key
# comes at rest and goes while training, so at every Run and at every run's end the browser draws it afresh,
# and until Vega has drawn it the chart had no height: the page below jumped up and back. Its slot is a
# container keyed "<SELECTABLE_SLOT>-<the chart's height>-<name>" and keeps that height meanwhile.
SELECTABLE_SLOT = "selectable-chart"
SELECTABLE_RULES = "\n".join(f'[class*="st-key-{SELECTABLE_SLOT}-{height}-"] [data-testid="stVegaLiteChart"] '
                             f"{{ min-height: {height}px; }}" for height in sorted({HEIGHT, LANDSCAPE_HEIGHT}))

# With Streamlit's spacing (1rem between buttons, 0.75rem inside each) the eight buttons, Run … Reset with
# their icons and keys, took 840 px: two rows at a projector's 1280 px with the sidebar open (820 px of
# page). Half the gap and a little less padding keep them in one row there, with room to spare.
# On a phone the bar is a keypad: two rows of four equal buttons, words only (no icons, and no key hints:
# a phone has no keyboard; the keys still work on a tablet's).
# Streamlit draws captions and a button's key hint at 60 % opacity (3.9:1 on white, under AA's 4.5:1 for
# 14 px text) and a slider's value in the primary colour (3.7:1 on the dark page, whose primary must leave
# a white "Run" readable), and so the chosen tab's name: captions at 80 %, key hints whole, the slider's
# value and the chosen tab's name in the text's colour (the tab keeps its primary underline).
STYLE = f"""
<style>
[data-testid="stCaptionContainer"] {{ opacity: 0.8; }}
button kbd {{ opacity: 1 !important; }}
[data-testid="stSliderThumbValue"], [role="tab"][aria-selected="true"],
[role="tab"][aria-selected="true"] * {{ color: inherit; }}
{SELECTABLE_RULES}
.st-key-{CONTROL_BAR} {{ gap: 0.5rem; }}
.st-key-{CONTROL_BAR} button {{ padding-left: 0.6rem; padding-right: 0.6rem; }}
@media (max-width: {NARROW}px) {{
  .st-key-{CONTROL_BAR} {{ gap: 0.3rem; }}
  .st-key-{CONTROL_BAR} > div {{ flex: 1 1 22%; min-width: 0; }}
  .st-key-{CONTROL_BAR} button {{ width: 100%; padding: 0.15rem 0.25rem; min-height: 2.25rem; }}
  .st-key-{CONTROL_BAR} button p {{ font-size: 0.85rem; }}
  .st-key-{CONTROL_BAR} button span:has(> [data-testid="stIconMaterial"]),
  .st-key-{CONTROL_BAR} button [aria-label^="Shortcut"] {{ display: none; }}
  .st-key-{METRICS_ROW} [data-testid="stHorizontalBlock"] {{ flex-flow: row wrap; gap: 0.25rem 1rem; }}
  .st-key-{METRICS_ROW} [data-testid="stColumn"] {{ flex: 1 1 28% !important; min-width: 28% !important;
                                                    width: auto !important; }}
  .st-key-{METRICS_ROW} [data-testid="stMetricValue"] {{ font-size: 1.4rem; }}
}}
</style>
"""


def apply_style() -> None:
    st.html(STYLE)
