"""The Compare tab: the current settings on every framework, every optimizer and a grid of learning
rates, and the pinned runs that stay on the Train tab's loss chart.

Comparisons run only when their button is pressed. Each one draws its progress between short
chunks of training, so a click anywhere stops it at once; what finished is kept in the page's
state (``extras``) and drawn on every rerun until the next comparison replaces it.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import pandas as pd
import streamlit as st

from fitcore import RunConfig
from fitcore.compare import Comparison, Plan, plan_frameworks, plan_optimizers, plan_sweep, run_plan
from fitcore.compare_report import (DIGITS_CAP, agreement, agreement_sentence, difference_rows, framework_rows,
                                    summarize_sweep)
from fitcore.run_labels import setting_phrases

from ui.charts import compare as compare_charts
from ui.page.limits import compare_limit, max_pinned, run_limits
from ui.page.context import PageContext
from ui.page.state import DemoState, clear_pins, open_run, pin_blocker, pin_run, unpin, widget_key
from ui.page.view import draw_chart

SECTIONS: dict[str, tuple[str, Callable[[RunConfig], Plan]]] = {
    "frameworks": ("Compare frameworks", plan_frameworks),
    "optimizers": ("Compare optimizers", plan_optimizers),
    "sweep": ("Sweep learning rates", plan_sweep),
}


def _number(value: float, digits: int = 6) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def _difference(value: float) -> str:
    return "–" if not math.isfinite(value) else "0" if value == 0 else f"{value:.2e}"


def run_comparison(state: DemoState, kind: str, plan: Plan) -> None:
    """Run a plan with a progress bar, keeping each finished run in the page state as it arrives.

    The whole comparison stops at the deployment's cap on its wall time, keeping what finished."""
    key = f"compare:{kind}"
    comparison = Comparison(plan)
    state.extras[key] = comparison
    state.extras.pop(f"{key}:capped", None)
    total = len(plan.jobs)
    limit, capped = compare_limit()
    started = time.perf_counter()
    bar = st.progress(0.0, text=f"Starting {total} runs…")
    for progress in run_plan(plan, run_limits(plan.config), open_run=open_run):
        if progress.outcome is not None:
            comparison = comparison.adding(progress.outcome)
            state.extras[key] = comparison
        if not comparison.complete and time.perf_counter() - started >= limit:
            state.extras[f"{key}:capped"] = capped
            break
        running = min(progress.done + 1, total)
        bar.progress(min(progress.fraction, 1.0), text=f"Run {running} of {total}: {progress.label}")
    bar.empty()


def _section(context: PageContext, kind: str, icon: str) -> Comparison | None:
    """The caption, button and progress shared by the three comparisons; returns the stored result."""
    label, planner = SECTIONS[kind]
    problem, state, config = context.problem, context.state, context.config
    plan = planner(config) if config is not None else None
    if plan is None:
        st.info("These settings cannot run; the sidebar says why.")
    else:
        st.caption(plan.path)
    pressed = st.button(label, icon=icon, key=widget_key(problem.id, f"compare_{kind}"), disabled=plan is None,
                        help="Runs now and takes a few seconds; a click anywhere else stops it.")
    if pressed and plan is not None:
        run_comparison(state, kind, plan)
    result: Comparison | None = state.extras.get(f"compare:{kind}")
    if result is None:
        return None
    capped = state.extras.get(f"compare:{kind}:capped")
    if not result.complete and capped:
        st.warning(f"{len(result.outcomes)} of {len(result.plan.jobs)} runs finished. {capped}",
                   icon=":material/timer_off:")
    elif not result.complete:
        st.warning(f"Interrupted after {len(result.outcomes)} of {len(result.plan.jobs)} runs: press "
                   f"**{label}** to run them all.", icon=":material/pause_circle:")
    if config is not None and result.plan.config != config:
        st.info("These results are for earlier settings; press the button to compare the current ones.",
                icon=":material/history:")
    return result if result.outcomes else None


def frameworks_section(context: PageContext) -> None:
    result = _section(context, "frameworks", ":material/compare_arrows:")
    if result is None:
        st.caption("Runs the current settings on NumPy, PyTorch (three styles) and TensorFlow, with the exact "
                   "closed form as the reference where it applies. The first comparison in a session also loads "
                   "PyTorch and TensorFlow, which takes several seconds more.")
        return
    if result.outcomes:
        st.markdown(f"**{agreement_sentence(result)}**")
    chart = compare_charts.curves_chart(result.outcomes, result.plan.optimum_loss, "Loss by implementation",
                                        bool(context.values.get("logx")))
    draw_chart(st.container(), chart)
    rows = framework_rows(result)
    st.dataframe(pd.DataFrame({
        "implementation": [r.label for r in rows],
        "path": [r.path for r in rows],
        "status": [r.status for r in rows],
        "final loss": [_number(r.final_loss, 8) for r in rows],
        "max |θ − θ_ref| at the end": [_difference(r.final_diff) if not r.status.startswith("reference") else "–"
                                       for r in rows],
        "digits agreeing": ["–" if r.digits is None else "all" if r.digits >= DIGITS_CAP else str(r.digits)
                            for r in rows],
        "seconds": [_number(r.seconds, 3) for r in rows],
        "note": [r.note if r.status in ("skipped", "failed") or "diverged" in r.status else "" for r in rows],
    }), hide_index=True, width="stretch", height="content")
    steps, columns = difference_rows(result)
    if columns:
        st.markdown("**Largest parameter difference from the reference, max |θ − θ_ref|, at recorded steps**")
        table = pd.DataFrame({"step": [f"{int(s):,}" for s in steps]})
        for name, values in columns.items():
            table[name] = [_difference(v) for v in values]
        st.dataframe(table, hide_index=True, width="stretch", height="content")
        reference = result.outcomes[0]
        agreements = [agreement(reference, o) for o in result.outcomes[1:] if o.ran]
        draw_chart(st.container(), compare_charts.differences_chart(agreements))


def optimizers_section(context: PageContext) -> None:
    result = _section(context, "optimizers", ":material/speed:")
    if result is None:
        st.caption("Runs SGD, SGD with momentum, RMSprop and Adam from the same start on the same data.")
        return
    chart = compare_charts.curves_chart(result.outcomes, result.plan.optimum_loss, "Loss by optimizer",
                                        bool(context.values.get("logx")))
    draw_chart(st.container(), chart)
    ran = [o for o in result.outcomes if o.ran]
    st.caption(f"The least-squares optimum, the lowest loss any run can reach: {_number(result.plan.optimum_loss)}.")
    st.dataframe(pd.DataFrame({
        "optimizer": [o.label for o in ran],
        "status": [o.status for o in ran],
        "final loss": [_number(o.final_loss, 8) for o in ran],
        "steps": [f"{o.final_step:,}" for o in ran],
        "seconds": [_number(o.seconds, 3) for o in ran],
    }), hide_index=True, width="stretch", height="content")
    for outcome in result.outcomes:
        if not outcome.ran:
            st.error(f"{outcome.label}: {outcome.message}")


def sweep_section(context: PageContext) -> None:
    result = _section(context, "sweep", ":material/tune:")
    if result is None:
        st.caption("Runs the current settings at about a dozen learning rates on a log grid, from far below "
                   "2/λmax to past it, and plots the final loss of each.")
        return
    summary = summarize_sweep(result)
    st.markdown(f"**{summary.sentence}**")
    draw_chart(st.container(), compare_charts.sweep_chart(summary))
    st.dataframe(pd.DataFrame({
        "learning rate": [f"{p.lr:.3g}" + (" (yours)" if p.is_current else "") for p in summary.points],
        "the loss": ["diverged" if p.diverged else "grows" if p.growing else "falls" for p in summary.points],
        "final loss": ["–" if p.diverged else _number(p.final_loss, 6) for p in summary.points],
        "ended at step": [f"{p.diverged_at:,}" if p.diverged else f"{result.plan.steps:,}" for p in summary.points],
    }), hide_index=True, width="stretch", height="content")
    for outcome in result.outcomes:
        if not outcome.ran:
            st.error(f"{outcome.label}: {outcome.message}")


def history_section(context: PageContext) -> None:
    problem, state, run = context.problem, context.state, context.run
    st.caption(f"Pinned runs stay on the Train tab's loss chart, labelled by the settings that tell them apart "
               f"(up to {max_pinned()} per page).")
    blocker = pin_blocker(state, run)
    left, right = st.columns(2)
    left.button("Pin this run", icon=":material/push_pin:", key=widget_key(problem.id, "pin"),
                disabled=blocker is not None, on_click=pin_run, args=(state, run), help=blocker, width="stretch")
    right.button("Clear all", icon=":material/delete_sweep:", key=widget_key(problem.id, "unpin_all"),
                 disabled=not state.pinned, on_click=clear_pins, args=(state,), width="stretch")
    if not state.pinned:
        st.caption("Nothing pinned yet: finish a run, then pin it here to keep its loss curve while you try others.")
        return
    for pinned in state.pinned:
        text, remove = st.columns([5, 1], vertical_alignment="center")
        phrases = setting_phrases(pinned.config) if pinned.config is not None else {}
        detail = " · ".join(phrases[k] for k in ("impl", "optimizer", "lr", "steps", "reduction", "dtype")
                            if k in phrases)
        text.markdown(f"**{pinned.label}** — {pinned.status}, final loss {_number(pinned.final_loss)}")
        text.caption(detail)
        remove.button("Remove", icon=":material/close:", key=widget_key(problem.id, f"unpin_{pinned.number}"),
                      on_click=unpin, args=(state, pinned.number), width="stretch")


def compare_panel(context: PageContext) -> None:
    frameworks, optimizers, rates, history = st.tabs([
        ":material/stacks: Frameworks", ":material/speed: Optimizers", ":material/tune: Learning rates",
        ":material/push_pin: History"])
    with frameworks:
        frameworks_section(context)
    with optimizers:
        optimizers_section(context)
    with rates:
        sweep_section(context)
    with history:
        history_section(context)
