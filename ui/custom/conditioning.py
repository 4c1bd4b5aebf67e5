"""How well conditioned your own data's fit is: λmax/λmin raw and standardised, and a learning-rate check.

Raw powers of x differ in size by orders of magnitude and rise almost in step, so the loss's Hessian
is badly conditioned; the panel says how badly, and warns before a run whose plain-SGD rate is past
2/λmax.
"""
from __future__ import annotations

import math

import streamlit as st

from fitcore.custom import CustomSource, custom_problem
from fitcore.custom_conditioning import Conditioning, conditioning, max_stable_lr

from ui.custom.keys import key
from ui.page import sidebar
from ui.page.state import DemoState

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _scientific(value: float) -> str:
    """9.1 × 10⁷: short enough for a metric."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPTS)}"


def _ratio_text(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "∞"
    return f"{ratio:,.0f}" if ratio < 1e5 else _scientific(ratio)


def _steps_text(steps: float) -> str:
    if not math.isfinite(steps):
        return "endless"
    return f"about {steps:,.0f}" if steps < 1e6 else f"about {_scientific(steps)}"


def conditioning_panel(source: CustomSource, points: int) -> None:
    measured: Conditioning = conditioning(source, points)
    raw, standard = measured.raw_ratio, measured.standardised_ratio
    using = standard if source.standardise else raw
    power = "x" + str(source.degree).translate(SUPERSCRIPTS) if source.degree > 1 else "x"
    st.markdown("**Condition number λmax/λmin** of the loss's Hessian — how much steeper its steepest direction is "
                "than its flattest:")
    left, right, words = st.columns([1.2, 1.2, 2.6], vertical_alignment="top")
    left.metric("raw x" + (" · in use" if not source.standardise else ""), _ratio_text(raw),
                help=f"Features 1, x, …, x^{source.degree}.")
    right.metric("standardised x" + (" · in use" if source.standardise else ""), _ratio_text(standard),
                 help=f"Features 1, z, …, z^{source.degree} with z = (x − μ)/σ.")
    words.markdown(
        f"**Why raw {power} can make gradient descent crawl:** the step must stay below 2/λmax, and then the "
        f"flattest direction shrinks by only about 1 − λmin/λmax per step — "
        f"{_steps_text(measured.steps_per_tenfold(using))} steps to cut its error tenfold here — because raw powers "
        "differ in size by orders of magnitude and rise almost in step; standardising x gives them similar sizes.")


def _use_default_lr(state: DemoState, source: CustomSource) -> None:
    problem = custom_problem(source)
    sidebar.set_values(problem, state, {"lr": problem.default_variant.settings["lr"]})


def learning_rate_check(state: DemoState, source: CustomSource, points: int) -> None:
    """Warn before a run when plain SGD's learning rate is already past 2/λmax for these data."""
    lr, reduction = st.session_state.get(key("lr")), st.session_state.get(key("reduction"), "mean")
    if st.session_state.get(key("optimizer")) != "sgd" or not isinstance(lr, (int, float)):
        return
    limit = max_stable_lr(source, points, reduction)
    if lr < limit:
        return
    default = custom_problem(source).default_variant.settings["lr"]
    words, fix = st.columns([4, 1], vertical_alignment="center")
    words.warning(f"The learning rate {lr:g} is above 2/λmax = {limit:.3g} for these data ({reduction} loss): plain "
                  "SGD will diverge. Lower it in the sidebar, or standardise x.", icon=":material/warning:")
    if default < limit:
        fix.button(f"Use {default:g}", key=key("default_lr"), on_click=_use_default_lr, args=(state, source),
                   width="stretch", help="The largest 1, 2 or 5 × 10ᵏ below 1/λmax of the mean loss.")

