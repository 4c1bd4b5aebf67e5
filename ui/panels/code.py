"""The exported script for the current settings, and the run's data as CSV and JSON."""
from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import streamlit as st

from fitcore import Run, RunConfig

from ui.page.state import widget_key


def history_frame(run: Run) -> pd.DataFrame:
    steps, losses, params = run.history.arrays()
    frame = pd.DataFrame({"step": steps, "loss": losses})
    for i, name in enumerate(run.problem.param_names):
        frame[name] = params[:, i] if len(params) else []
    return frame


def _strict_json(value: object) -> object:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict_json(v) for v in value]
    return value


@functools.lru_cache(maxsize=64)
def _script(config: RunConfig) -> str:
    """The exported script, made once per settings (a page redraws it on every rerun)."""
    from fitcore.export import export_script
    return export_script(config)


def code_panel(page_id: str, config: RunConfig | None, run: Run | None) -> None:
    if config is None:
        st.info("Fix the settings in the sidebar to see the script.")
        return
    script = _script(config)
    st.caption("A standalone script in the notebook's style for exactly these settings: it needs only NumPy and "
               "the implementation's framework, and prints the same lines and final numbers as this page.")
    st.download_button("Download the script", script, file_name=f"{config.problem}-{config.impl}.py",
                       mime="text/x-python", key=widget_key(page_id, "dl_script"), on_click="ignore")
    st.code(script, language="python")
    if run is None or not len(run.history):
        st.caption("Run or step to download the run's data.")
        return
    left, right = st.columns(2)
    # Made only when clicked: the page does not serialise 2,000 rows on every rerun.
    left.download_button("Run data (CSV)", lambda: history_frame(run).to_csv(index=False),
                         file_name=f"{config.problem}-run.csv", mime="text/csv",
                         key=widget_key(page_id, "dl_csv"), on_click="ignore")
    right.download_button("Run data (JSON)", lambda: json.dumps(_strict_json(run.result()), indent=1),
                          file_name=f"{config.problem}-run.json", mime="application/json",
                          key=widget_key(page_id, "dl_json"), on_click="ignore")
