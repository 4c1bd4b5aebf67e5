"""Step-through math: one update written out with the run's own numbers.

``fitcore.explain`` computes every number (the NumPy implementation's arithmetic, so its next θ
is the engine's); this module only writes them as LaTeX, for the run's current step, the step
the Train tab replays, or step 0 before any run. "Step" applies the update to the run.
"""
from __future__ import annotations

import math
import re
from typing import Any, Sequence

import pandas as pd
import streamlit as st

from fitcore import FRAMEWORK_NAMES, IMPLEMENTATIONS, Problem, Run, RunConfig, experiment_of, is_available
from fitcore.explain import (RECOMPUTE_LIMIT, StateAt, StepExplanation, explain_step, largest_difference,
                             numpy_state, start_state, state_at)
from fitcore.impl import TrainState
from fitcore.optim import ADAM_BETAS, EPS, KERAS_RESIDUALS, MOMENTUM, RMS_ALPHA

from ui.page import controls
from ui.panels.replay import go_live, replayed_step
from ui.page.context import PageContext
from ui.page.state import DemoState, off_page, widget_key

DIGITS = 6
ROW_BUDGET = 150  # LaTeX characters of written-out terms that still fit one line of the wide layout
AGREEMENT = 1e-5  # relative: float32 rounding over one update
CHECK = "math_check"  # (config, run or None, step, θ the panel predicted for that step)
SOURCES = {
    "engine": "the run's current state",
    "recorded": "θ as the run recorded it",
    "exact": "θ (and any momentum buffer) from the closed form of the exact engine",
    "recomputed": "θ as the run recorded it, with the optimizer's state (which runs do not record) rebuilt by "
                  "re-running the NumPy implementation",
}


# --- numbers as LaTeX ----------------------------------------------------------------------------

def num(value: float, digits: int = DIGITS) -> str:
    """A number in LaTeX: 6 significant digits, powers of ten written out."""
    value = float(value)
    if math.isnan(value):
        return r"\text{NaN}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    text = f"{value:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return ("-" if mantissa == "-1" else "") + power
    return rf"{mantissa}\times {power}"


def par(value: float) -> str:
    """A number as a factor: parenthesised when negative or written with a power of ten."""
    text = num(value)
    return f"({text})" if text.startswith("-") or r"\times" in text else text


def sym(name: str) -> str:
    """A parameter's name as a LaTeX symbol: a, w₀ (from "w0"), or \\text{bias}."""
    match = re.fullmatch(r"([A-Za-z])(\d+)", name)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    return name if len(name) == 1 else rf"\text{{{name}}}"


def vector(values: Sequence[float]) -> str:
    return r"\left(" + r",\; ".join(num(v) for v in values) + r"\right)"


def aligned(rows: Sequence[str]) -> str:
    return r"\begin{aligned}" + r"\\[2pt]".join(rows) + r"\end{aligned}"


POWER = re.compile(r"([xz])(\^\{?\d+\}?)?")  # x, x^2, x^{3}; z^{2} for a standardised custom fit


def _symbol(latex: str) -> str:
    """A feature's LaTeX at the k-th point: x^2 → x_k^2 (other formulas as they are)."""
    match = POWER.fullmatch(latex)
    return f"{match[1]}_k{match[2] or ''}" if match else latex


def _at(latex: str, x: float, value: float) -> str:
    """A feature at one point: x^2 at −3 → (−3)^2 shows the substitution; any other feature (z = (x − μ)/σ
    of a standardised fit) shows its value."""
    match = POWER.fullmatch(latex)
    if match and match[1] == "x":
        return f"({num(x)}){match[2] or ''}"
    return par(value)


# --- the sections ----------------------------------------------------------------------------------

def prediction_rows(problem: Problem, ex: StepExplanation) -> list[str]:
    theta = [sym(n) for n in problem.param_names]
    terms = [t if f.is_constant else rf"{t}\,{_symbol(f.latex)}" for t, f in zip(theta, problem.features)]
    if problem.offset is not None:
        terms.insert(0, _symbol(problem.offset.latex))
    rows = [r"\hat y_k &= " + " + ".join(terms)]
    for k in range(ex.shown):
        x = ex.x[k]
        numbers = [par(p) if f.is_constant else rf"{par(p)}\cdot{_at(f.latex, x, phi)}"
                   for p, f, phi in zip(ex.params, problem.features, ex.features[k])]
        if problem.offset is not None:
            numbers.insert(0, _at(problem.offset.latex, x, ex.offset[k]))
        i = k + 1
        rows.append(rf"x_{{{i}}} = {num(x)}:\quad \hat y_{{{i}}} &= " + " + ".join(numbers)
                    + rf" = {num(ex.predictions[k])}")
        rows.append(rf"r_{{{i}}} &= \hat y_{{{i}}} - y_{{{i}}} = {num(ex.predictions[k])} - {par(ex.y[k])}"
                    + rf" = {num(ex.residuals[k])}")
    return rows


def _more(ex: StepExplanation) -> str:
    return r" + \dots" if ex.points > ex.shown else ""


def _scale_latex(ex: StepExplanation, factor: int) -> str:
    if ex.reduction == "mean":
        return rf"\frac{{{factor}}}{{{ex.points:,}}}".replace(",", "{,}")
    return "2" if factor == 2 else ""


def loss_row(ex: StepExplanation) -> str:
    squares = " + ".join(f"{par(r)}^2" for r in ex.residuals) + _more(ex)
    if ex.reduction == "mean":
        s = _scale_latex(ex, 1)
        return (rf"L &= \frac{{1}}{{N}}\sum_{{k=1}}^{{N}} r_k^2 = {s}\left({squares}\right)"
                rf" = {s}\cdot {num(ex.squares_sum)} = {num(ex.loss)}")
    return rf"L &= \sum_{{k=1}}^{{N}} r_k^2 = {squares} = {num(ex.loss)}"


def gradient_rows(problem: Problem, ex: StepExplanation) -> list[str]:
    s = _scale_latex(ex, 2)
    rows = []
    for i, (name, feature) in enumerate(zip(problem.param_names, problem.features)):
        parts = [par(r) if feature.is_constant else rf"{par(r)}\cdot{_at(feature.latex, x, phi)}"
                 for r, x, phi in zip(ex.residuals, ex.x, ex.features[:, i])]
        while len(parts) > 1 and len(" + ".join(parts)) > ROW_BUDGET:
            parts.pop()
        more = r" + \dots" if len(parts) < ex.points else ""
        symbol = r"r_k" if feature.is_constant else rf"r_k\,{_symbol(feature.latex)}"
        rows.append(rf"g_{{{sym(name)}}} = \frac{{\partial L}}{{\partial {sym(name)}}} &= {s}\sum_k {symbol}"
                    rf" = {s}\cdot {par(ex.sums[i])} = {num(ex.gradient[i])}")
        rows.append(r"\textstyle\sum_k " + symbol + r" &= " + " + ".join(parts) + more
                    + rf" = {num(ex.sums[i])}")
    return rows


def learning_rate_row(ex: StepExplanation) -> str:
    schedule, t, lr = ex.schedule, ex.t, ex.base_lr
    if schedule.kind == "step":
        return (rf"\eta_t &= \eta\,\gamma^{{\lfloor t/k \rfloor}} = {par(lr)}\cdot {par(schedule.gamma)}"
                rf"^{{\lfloor {t}/{schedule.step_size} \rfloor}} = {num(ex.lr)}")
    if schedule.kind == "exponential":
        return rf"\eta_t &= \eta\,\gamma^{{t}} = {par(lr)}\cdot {par(schedule.gamma)}^{{{t}}} = {num(ex.lr)}"
    if schedule.kind == "cosine":
        horizon = ex.total_steps
        return (rf"\eta_t &= \eta_{{\min}} + (\eta - \eta_{{\min}})\,\frac{{1 + \cos(\pi \min(t, T)/T)}}{{2}}"
                rf" = {num(schedule.lr_min)} + ({num(lr)} - {num(schedule.lr_min)})\,"
                rf"\frac{{1 + \cos(\pi\cdot {min(t, horizon)}/{horizon})}}{{2}} = {num(ex.lr)}")
    return rf"\eta_t &= \eta = {num(ex.lr)}"


def update_rows(problem: Problem, ex: StepExplanation) -> list[str]:
    rows = []
    eta = par(ex.lr)
    if ex.optimizer == "adam":
        beta1, beta2 = ADAM_BETAS
        c1, c2 = ex.corrections
        rows.append(rf"1 - \beta_1^{{t+1}} &= 1 - {beta1}^{{{ex.t + 1}}} = {num(c1)}, \qquad "
                    rf"1 - \beta_2^{{t+1}} = 1 - {beta2}^{{{ex.t + 1}}} = {num(c2)}")
    for i, name in enumerate(problem.param_names):
        p, g, new = sym(name), ex.gradient[i], ex.new_params[i]
        theta = par(ex.params[i])
        if ex.optimizer == "sgd":
            rows.append(rf"{p} &\leftarrow {p} - \eta_t\, g_{{{p}}} = {theta} - {eta}\cdot{par(g)} = {num(new)}")
        elif ex.optimizer == "momentum":
            v0, v1 = ex.slots_before["velocity"][i], ex.slots_after["velocity"][i]
            rows.append(rf"v_{{{p}}} &\leftarrow \mu\, v_{{{p}}} + g_{{{p}}} = {MOMENTUM}\cdot{par(v0)} + {par(g)}"
                        rf" = {num(v1)}")
            rows.append(rf"{p} &\leftarrow {p} - \eta_t\, v_{{{p}}} = {theta} - {eta}\cdot{par(v1)} = {num(new)}")
        elif ex.optimizer == "rmsprop":
            s0, s1 = ex.slots_before["square_avg"][i], ex.slots_after["square_avg"][i]
            rows.append(rf"s_{{{p}}} &\leftarrow \alpha\, s_{{{p}}} + (1 - \alpha)\, g_{{{p}}}^2 = {RMS_ALPHA}\cdot"
                        rf"{par(s0)} + {1 - RMS_ALPHA:.2g}\cdot{par(g)}^2 = {num(s1)}")
            rows.append(rf"{p} &\leftarrow {p} - \eta_t\,\frac{{g_{{{p}}}}}{{\sqrt{{s_{{{p}}}}} + \epsilon}} = {theta}"
                        rf" - {eta}\cdot\frac{{{num(g)}}}{{{num(ex.denominators[i])}}} = {num(new)}")
        elif ex.optimizer == "adam":
            beta1, beta2 = ADAM_BETAS
            m0, m1 = ex.slots_before["exp_avg"][i], ex.slots_after["exp_avg"][i]
            v0, v1 = ex.slots_before["exp_avg_sq"][i], ex.slots_after["exp_avg_sq"][i]
            c1, c2 = ex.corrections
            rows.append(rf"m_{{{p}}} &\leftarrow m_{{{p}}} + (1 - \beta_1)(g_{{{p}}} - m_{{{p}}}) = {par(m0)} + "
                        rf"{1 - beta1:.2g}\cdot({num(g)} - {par(m0)}) = {num(m1)}")
            rows.append(rf"v_{{{p}}} &\leftarrow \beta_2\, v_{{{p}}} + (1 - \beta_2)\, g_{{{p}}}^2 = {beta2}\cdot"
                        rf"{par(v0)} + {1 - beta2:.2g}\cdot{par(g)}^2 = {num(v1)}")
            rows.append(rf"{p} &\leftarrow {p} - \frac{{\eta_t}}{{1 - \beta_1^{{t+1}}}}\cdot"
                        rf"\frac{{m_{{{p}}}}}{{\sqrt{{v_{{{p}}}}}/\sqrt{{1 - \beta_2^{{t+1}}}} + \epsilon}}"
                        rf" = {theta} - \frac{{{num(ex.lr)}}}{{{num(c1)}}}\cdot"
                        rf"\frac{{{num(m1)}}}{{{num(ex.denominators[i])}}} = {num(new)}")
    return rows


def optimizer_intro(ex: StepExplanation) -> str:
    if ex.optimizer == "sgd":
        return "Plain gradient descent: each parameter moves against its gradient, scaled by the learning rate."
    if ex.optimizer == "momentum":
        return (f"Momentum (μ = {MOMENTUM}): the buffer v remembers past gradients, so steady directions "
                "speed up while oscillating ones cancel.")
    if ex.optimizer == "rmsprop":
        return (f"RMSprop (α = {RMS_ALPHA}, ε = {EPS:g}): each parameter's step is divided by the running "
                "root-mean-square of its gradient, so every direction moves at a similar pace.")
    c1, c2 = ex.corrections
    return (f"Adam (β₁ = {ADAM_BETAS[0]}, β₂ = {ADAM_BETAS[1]}, ε = {EPS:g}): a running mean m and mean square v "
            f"of the gradient; dividing by 1 − β₁ᵗ⁺¹ = {c1:.6g} and 1 − β₂ᵗ⁺¹ = {c2:.6g} undoes their start at "
            "zero (the bias corrections).")


def full_precision(problem: Problem, ex: StepExplanation) -> pd.DataFrame:
    """Every per-parameter number as Python prints it (repr): nothing rounded."""
    columns: dict[str, Any] = {"θₜ": ex.params, "Σ r·φ": ex.sums, "g": ex.gradient}
    for name, values in ex.slots_before.items():
        columns[f"{name} before"] = values
        columns[f"{name} after"] = ex.slots_after[name]
    columns["θₜ₊₁ − θₜ"] = ex.change
    columns["θₜ₊₁"] = ex.new_params
    return pd.DataFrame({k: [repr(float(v)) for v in values] for k, values in columns.items()},
                        index=list(problem.param_names))


def implementation_note(config: RunConfig) -> str:
    impl = IMPLEMENTATIONS[config.impl]
    if config.impl == "numpy" and not config.compiled:
        return (f"This is exactly what the NumPy implementation does ({config.dtype} forward pass and gradient, θ "
                "in float64): its next θ is the θₜ₊₁ shown here, to the last bit.")
    if config.impl == "numpy":
        return ("The compiled NumPy path gets the same gradient from the Gram matrix ΦᵀΦ instead of the residuals: "
                f"it agrees within {config.dtype} rounding.")
    if config.impl == "analytic":
        return ("The exact engine jumps along the same iterates in closed form (float64): it agrees to about 1e-14.")
    text = (f"{impl.label} computes this with {FRAMEWORK_NAMES[impl.framework]}'s own operations: it agrees "
            f"within {config.dtype} rounding.")
    if impl.framework == "tensorflow" and config.optimizer in KERAS_RESIDUALS:
        text += " " + KERAS_RESIDUALS[config.optimizer]
    return text


# --- the panel -----------------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Rebuilding the optimizer's state…")
def _numpy_state(config: RunConfig, step: int) -> TrainState:
    # Up to RECOMPUTE_LIMIT eager NumPy steps: in a worker, so every other session's page goes on meanwhile.
    return off_page(numpy_state, config, step)


def _step(state: DemoState, config: RunConfig) -> None:
    go_live(state)
    controls.step(state, config, 1)


def _state_to_explain(state: DemoState, run: Run | None) -> tuple[StateAt | None, int | None]:
    """The run's state at the replayed step (or its latest); the replayed step when that is unknown."""
    if run is None:
        return None, None
    wanted = replayed_step(state, run)
    if wanted is not None:
        found = state_at(run, wanted, recompute=_numpy_state)
        if found is not None:
            return found, None
        return state_at(run, run.step), wanted
    return state_at(run, run.step), None


def _engine_check(state: DemoState, run: Run | None, shown: StateAt | None) -> tuple[bool, str] | None:
    """After Step: does the engine's θ equal the θₜ₊₁ this panel showed before the click? (agrees, text)"""
    check = state.extras.get(CHECK)
    if check is None or run is None or shown is None or shown.source != "engine":
        return None
    checked_config, checked_run, step, predicted = check
    same_run = checked_run is run or (checked_run is None and checked_config == run.config)
    if not same_run or step != run.step:
        return None
    difference = largest_difference(predicted, run.current_params)
    engine = f"The engine's θ after that update, {', '.join(f'{v:.10g}' for v in run.current_params)},"
    if difference == 0:
        return True, f"{engine} equals the θₜ₊₁ this panel showed before you pressed Step, exactly."
    if difference <= AGREEMENT:
        return True, (f"{engine} agrees with the θₜ₊₁ this panel showed before you pressed Step to a relative "
                f"{difference:.1g} (rounding).")
    return False, (f"{engine} differs from the θₜ₊₁ this panel showed before you pressed Step by a relative "
            f"{difference:.1g}: the note at the end says how this implementation's formula differs.")


def math_panel(context: PageContext) -> None:
    problem, state, run, config = context.problem, context.state, context.run, context.config
    if state.training:
        st.info("Training… **Pause** (or let the run finish) to see the arithmetic of the current step.",
                icon=":material/function:")
        return
    shown, unknown = _state_to_explain(state, run)
    if shown is not None and run is not None:
        explained_config, data, train_state = run.config, run.data, shown.state
    elif config is not None:
        explained_config, data = config, experiment_of(config).data
        train_state = start_state(data, config.optimizer)
    else:
        st.info("These settings cannot run; the sidebar says why.")
        return
    ex = explain_step(explained_config, data, train_state)
    replaying = run is not None and replayed_step(state, run) is not None and unknown is None

    head, button = st.columns([4, 1], vertical_alignment="center")
    head.markdown(f"#### Update {ex.t:,} → {ex.t + 1:,}")
    blocked = config is None or not is_available(config.impl)
    button.button("Step", icon=":material/skip_next:", key=widget_key(problem.id, "math_step"), type="primary",
                  width="stretch", disabled=blocked, on_click=_step, args=(state, config),
                  help="Apply one update to the run (as Step ×1 does); this panel then shows the next one.")
    if run is None:
        st.caption("Before any run: the starting point θ₀ of the current settings. **Step** takes this update.")
    else:
        st.caption(f"Step {ex.t:,}: {SOURCES[shown.source]}."
                   + (" Replayed from the Train tab; **Step** applies the next update to the run's latest step "
                      f"({run.step:,}) instead." if replaying else ""))
        if context.stale:
            st.warning("The sidebar's settings have changed since this run started: these are the run's numbers, "
                       "and **Step** starts a new run with the new settings.", icon=":material/sync_problem:")
    if unknown is not None:
        st.info(f"The optimizer's state at replayed step {unknown:,} was not recorded and is only rebuilt up to "
                f"step {RECOMPUTE_LIMIT:,}: showing the run's latest step instead.", icon=":material/history:")
    check = _engine_check(state, run, shown)
    if check is not None:
        agrees, text = check
        if agrees:
            st.success(text, icon=":material/check_circle:")
        else:
            st.warning(text, icon=":material/difference:")

    st.markdown(f"**1 · Predict and compare** — the first {ex.shown} of {ex.points:,} points, at "
                f"{', '.join(f'{n} = {v:.6g}' for n, v in zip(problem.param_names, ex.params))}")
    st.latex(aligned(prediction_rows(problem, ex)))
    st.markdown("**2 · The loss** — the " + ("mean" if ex.reduction == "mean" else "sum")
                + " of the squared residuals" + (f" (s = 1/N, N = {ex.points:,})" if ex.reduction == "mean"
                                                 else " (s = 1)"))
    st.latex(aligned([loss_row(ex)]))
    st.markdown("**3 · The gradient** — the chain rule through rₖ²: ∂(s·rₖ²)/∂θᵢ = 2s·rₖ·φᵢ(xₖ), summed over "
                "all points")
    st.latex(aligned(gradient_rows(problem, ex) + [r"g &= " + vector(ex.gradient)]))
    st.markdown(f"**4 · The update** — {optimizer_intro(ex)}")
    st.latex(aligned([learning_rate_row(ex)] + update_rows(problem, ex)))
    st.markdown("**5 · The new parameters**")
    st.latex(aligned([rf"\theta_{{t+1}} &= {vector(ex.new_params)}",
                      rf"L(\theta_{{t+1}}) &= {num(ex.new_loss)} \qquad (\text{{was }} {num(ex.loss)})"]))
    st.caption(implementation_note(explained_config))
    with st.expander("Every number in full precision"):
        st.dataframe(full_precision(problem, ex), width="stretch")
        st.caption(f"L(θₜ) = {ex.loss!r}, ηₜ = {ex.lr!r}, L(θₜ₊₁) = {ex.new_loss!r}; forward pass and gradient "
                   f"in {ex.dtype}, θ in float64.")
    if run is None or (shown is not None and shown.source == "engine" and not replaying):
        state.extras[CHECK] = (explained_config, run, ex.t + 1, ex.new_params)
