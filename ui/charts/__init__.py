"""Altair chart builders shared by every page, one module per chart family. Pure: no Streamlit here.

Each chart is a fixed spec over named datasets, one per layer: ``static_*`` tables hold what cannot
change during a run (the data, the true and least-squares curves) and ``live_*`` tables what moves.
``base`` says why the spec is built once and only data change between redraws.
"""
from .base import (HEIGHT, LINE, MAX_POINTS, NOW, TARGET, TOOLTIP_FORMAT, Chart, arrow_table, finite_rows, live,
                   live_table, static, static_table, thin, vega_spec)
from .extras import is_finite_number, log_ticks, panels_chart, schedule_chart
from .fit import fit_chart, fit_static
from .landscape import LANDSCAPE_HEIGHT, PICK_SELECTION, curve_frame, landscape_chart, landscape_static
from .progress import (HOVER_SELECTION, STEP_SELECTION, LiveFrame, live_frame_for, loss_chart, loss_static,
                       params_chart, params_static)

__all__ = ["HEIGHT", "LINE", "MAX_POINTS", "NOW", "TARGET", "TOOLTIP_FORMAT", "Chart", "arrow_table", "finite_rows",
           "live", "live_table", "static", "static_table", "thin", "vega_spec", "is_finite_number", "log_ticks",
           "panels_chart", "schedule_chart", "fit_chart", "fit_static", "LANDSCAPE_HEIGHT", "PICK_SELECTION",
           "curve_frame", "landscape_chart", "landscape_static", "HOVER_SELECTION", "STEP_SELECTION", "LiveFrame",
           "live_frame_for", "loss_chart", "loss_static", "params_chart", "params_static"]
