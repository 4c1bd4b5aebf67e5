"""Altair builders for the Compare tab. Pure: no Streamlit here, and no numerics beyond laying out data.

As in ``ui.charts``: each spec is cached per legend, each layer reads its own table (no filtering in
Vega), every table stays under ``charts.MAX_POINTS`` rows and none holds a NaN, an infinity or, on
a log axis, a value ≤ 0.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import altair as alt
import numpy as np
import pandas as pd

from fitcore.compare import Outcome
from fitcore.compare_report import Agreement, SweepSummary

from .base import HEIGHT, LINE, MAX_POINTS, NOW, TARGET, TOOLTIP_FORMAT, Chart, finite_rows, live, thin, vega_spec
from .ink import TEXT, WARNING

# Distinct dashes, so curves that lie exactly on top of each other still show as separate lines.
DASHES = [[1, 0], [7, 3], [2, 3], [10, 3, 2, 3], [4, 5], [1, 5], [12, 6]]
STATUS_ORDER = ["falls", "grows", "diverged"]
STATUS_COLORS = [LINE, "#E39A2B", TARGET]
STATUS_SHAPES = ["circle", "triangle-up", "cross"]
NEGLIGIBLE = 1e-12  # an optimum this far under the starting loss is round-off, not worth 20 decades of axis
TALL = HEIGHT + 40


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _series(labels: tuple[str, ...]) -> dict[str, Any]:
    """Colour and dash by run, in the comparison's order, with the legend beside the plot."""
    domain = list(labels)
    return {"color": alt.Color("run:N", sort=domain, scale=alt.Scale(domain=domain),
                               legend=alt.Legend(orient="right", labelLimit=240, title=None)),
            "strokeDash": alt.StrokeDash("run:N", sort=domain, legend=None,
                                         scale=alt.Scale(domain=domain, range=DASHES[:len(domain)]))}


# --- loss curves of several runs ---------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def curves_spec(labels: tuple[str, ...], title: str, log_x: bool) -> dict[str, Any]:
    x = alt.X("step:Q", title="step" + (" (log scale)" if log_x else ""),
              scale=alt.Scale(type="symlog") if log_x else alt.Scale(zero=False))
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q", format=","), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    curves = alt.Chart(live("curves")).mark_line(strokeWidth=2, opacity=0.9).encode(
        x=x, y=y, tooltip=tooltip, **_series(labels))
    optimum = alt.Chart(live("optimum")).mark_rule(strokeDash=[6, 4], color="#888888").encode(
        y="loss:Q", tooltip=[alt.Tooltip("loss:Q", title="least-squares optimum", format=TOOLTIP_FORMAT)])
    return vega_spec(alt.layer(curves, optimum).properties(height=TALL, title=title))


def curves_chart(outcomes: Sequence[Outcome], optimum_loss: float, title: str, log_x: bool = False) -> Chart:
    """Loss against step for each finished run, overlaid, with the least-squares optimum as a rule."""
    shown = [o for o in outcomes if o.ran and len(o.steps)]
    per_run = max(2, (MAX_POINTS - 1) // max(len(shown), 1))
    frames = [pd.DataFrame({"step": np.empty(0), "loss": np.empty(0), "run": np.empty(0, dtype=object)})]
    for outcome in shown:
        keep = thin(len(outcome.steps), per_run)
        frames.append(pd.DataFrame({"step": outcome.steps[keep], "loss": outcome.losses[keep], "run": outcome.label}))
    starts = [float(o.losses[0]) for o in shown if np.isfinite(o.losses[0])]
    show_optimum = optimum_loss > NEGLIGIBLE * max(starts, default=0.0)
    optimum = pd.DataFrame({"loss": [optimum_loss] if show_optimum else []}, dtype=np.float64)
    tables = {"curves": finite_rows(pd.concat(frames, ignore_index=True), ["step", "loss"], positive="loss"),
              "optimum": finite_rows(optimum, ["loss"], positive="loss")}
    parts = [f"{o.label} {_fmt(o.final_loss)}" + (" (diverged)" if o.diverged else "") for o in shown]
    text = (f"Loss against step on a log scale for {len(shown)} runs, overlaid; final losses: {', '.join(parts)}"
            + (f"; the dashed line is the least-squares optimum {_fmt(optimum_loss)}." if show_optimum else
               f"; the least-squares optimum {_fmt(optimum_loss)} is zero up to round-off and not drawn."))
    return Chart(curves_spec(tuple(o.label for o in shown), title, log_x), tables, {}, text)


# --- distance from the reference ------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def differences_spec(labels: tuple[str, ...]) -> dict[str, Any]:
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q", format=","),
               alt.Tooltip("diff:Q", title="max |θ − θ_ref|", format=".3g")]
    line = alt.Chart(live("diffs")).mark_line(strokeWidth=2, opacity=0.9).encode(
        x=alt.X("step:Q", title="step"),
        # a long vertical axis title would squeeze the plot: the chart's title says the rest
        y=alt.Y("diff:Q", title="max |θ − θ_ref|", scale=alt.Scale(type="log")),
        tooltip=tooltip, **_series(labels))
    return vega_spec(alt.layer(line).properties(height=TALL, title="Difference from the reference"))


def differences_chart(agreements: Sequence[Agreement]) -> Chart:
    """max |θ − θ_ref| against step for each implementation (exact zeros cannot sit on a log axis)."""
    per_run = max(2, MAX_POINTS // max(len(agreements), 1))
    frames = [pd.DataFrame({"step": np.empty(0), "diff": np.empty(0), "run": np.empty(0, dtype=object)})]
    for found in agreements:
        keep = thin(len(found.steps), per_run)
        frames.append(pd.DataFrame({"step": found.steps[keep], "diff": found.max_diff[keep], "run": found.label}))
    table = finite_rows(pd.concat(frames, ignore_index=True), ["step", "diff"], positive="diff")
    exact = [a.label for a in agreements if len(a.max_diff) and not np.any(a.max_diff > 0)]
    text = "Largest parameter difference from the float64 reference against step, on a log scale"
    text += f"; {', '.join(exact)} equal the reference exactly and are not drawn." if exact else "."
    return Chart(differences_spec(tuple(a.label for a in agreements)), {"diffs": table}, {}, text)


# --- learning-rate sweep ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def sweep_spec() -> dict[str, Any]:
    x = alt.X("lr:Q", title="learning rate (log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("shown:Q", title="final loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("lr:Q", title="learning rate", format=".3g"), alt.Tooltip("status:N", title="the loss"),
               alt.Tooltip("loss:Q", title="final loss", format=TOOLTIP_FORMAT), alt.Tooltip("note:N", title="note")]
    region = alt.Chart(live("region")).mark_rect(color=TARGET, opacity=0.12).encode(
        x=x, x2="lr_hi:Q", tooltip=[alt.Tooltip("note:N", title="region")])
    region_label = alt.Chart(live("region")).mark_text(align="left", baseline="middle", dx=4,
                                                       color=WARNING.value).encode(
        x=x, y=y, text="note:N")
    rules = alt.Chart(live("limits")).mark_rule(strokeDash=[6, 4], color=TEXT.value).encode(
        x=x, tooltip=[alt.Tooltip("note:N", title="limit"), alt.Tooltip("lr:Q", title="learning rate", format=".4g")])
    rule_labels = alt.Chart(live("limits")).mark_text(align="left", baseline="bottom", dx=3, dy=-3,
                                                      color=TEXT.value).encode(x=x, y=alt.value("height"),
                                                                              text="label:N")
    line = alt.Chart(live("settled")).mark_line(color="#999999", strokeWidth=1).encode(x=x, y=y, order="lr:Q")
    points = alt.Chart(live("points")).mark_point(size=90, filled=True, opacity=1).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("status:N", title="the loss", sort=STATUS_ORDER,
                        scale=alt.Scale(domain=STATUS_ORDER, range=STATUS_COLORS), legend=alt.Legend(orient="right")),
        shape=alt.Shape("status:N", sort=STATUS_ORDER, legend=None,
                        scale=alt.Scale(domain=STATUS_ORDER, range=STATUS_SHAPES)))
    current = alt.Chart(live("current")).mark_point(size=320, strokeWidth=2.5, color=NOW).encode(
        x=x, y=y, tooltip=tooltip)
    return vega_spec(alt.layer(region, region_label, rules, rule_labels, line, points, current)
                 .properties(height=TALL, title="Final loss against learning rate"))


POINT_COLUMNS = ("lr", "loss", "shown", "status", "note")


def sweep_chart(summary: SweepSummary) -> Chart:
    """Final loss per learning rate; the diverging region shaded, 2/λmax (and momentum's limit) as rules.

    Runs ended as diverged have no final loss: they sit along the top edge of the chart, as crosses.
    """
    points = summary.points
    finite = [p.final_loss for p in points if not p.diverged and math.isfinite(p.final_loss) and p.final_loss > 0]
    starts = [p.initial_loss for p in points if math.isfinite(p.initial_loss) and p.initial_loss > 0]
    ceiling = 10 * max(finite + starts) if finite + starts else 1.0
    floor = min(finite) if finite else ceiling / 1e6
    rows = []
    for p in points:
        if p.diverged:
            status, shown, note = "diverged", ceiling, f"ended at step {p.diverged_at:,}: loss past 10⁸ × its start"
        else:
            status = "grows" if p.growing else "falls"
            shown = max(p.final_loss, floor)  # a loss of exactly 0 sits on the floor of the log axis
            note = "ended above its starting loss" if p.growing else ""
        if p.is_current:
            note = "; ".join(filter(None, [note, "your learning rate"]))
        rows.append({"lr": p.lr, "loss": np.nan if p.diverged else p.final_loss, "shown": shown, "status": status,
                     "note": note, "current": p.is_current})
    table = pd.DataFrame(rows, columns=[*POINT_COLUMNS, "current"])
    table = finite_rows(table, ["lr", "shown"], positive="lr")
    plotted = table.drop(columns="current")
    limits = [{"lr": summary.max_stable_lr, "label": "2/λmax", "note": "2/λmax, plain SGD's largest stable rate"}]
    if summary.momentum_limit is not None:
        limits.append({"lr": summary.momentum_limit, "label": "2(1+μ)/λmax",
                       "note": "2(1 + μ)/λmax, momentum's largest stable rate"})
    region = []
    if summary.diverging_region is not None:
        low, high = summary.diverging_region
        # the label sits halfway up the log axis, below the diverged crosses along the top
        region.append({"lr": low, "lr_hi": high * 1.25, "shown": math.sqrt(floor * ceiling), "note": "diverging"})
    tables = {
        "points": plotted.reset_index(drop=True),
        "settled": plotted[plotted.status != "diverged"].reset_index(drop=True),
        "current": plotted[table.current.to_numpy(dtype=bool)].reset_index(drop=True),
        "limits": finite_rows(pd.DataFrame(limits, columns=["lr", "label", "note"]), ["lr"], positive="lr"),
        "region": finite_rows(pd.DataFrame(region, columns=["lr", "lr_hi", "shown", "note"]),
                              ["lr", "lr_hi", "shown"], positive="lr"),
    }
    cut = [p for p in points if p.diverged]
    text = (f"Final loss against learning rate, both on log scales, for {len(points)} runs"
            + (f"; {len(cut)} diverged runs are drawn as crosses along the top" if cut else "")
            + (f"; the shaded region from lr {_fmt(summary.diverging_region[0])} up diverges"
               if summary.diverging_region else "")
            + f"; a dashed rule marks 2/λmax = {_fmt(summary.max_stable_lr)}.")
    return Chart(sweep_spec(), tables, {}, text)
