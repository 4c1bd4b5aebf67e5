"""Replay and step-through math in the running app (AppTest), on three demo pages.

Charts are read back from the vega_lite_chart elements' Arrow datasets; expectations come from the
run's own recorded snapshots, from closed forms and from hand computations written out here.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from fitcore import get_problem

from conftest import REPO, quadratic_of

pytestmark = pytest.mark.filterwarnings("ignore")


def open_page(page_id: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page(f"app_pages/{page_id.replace('-', '_')}.py")
    at.run()
    assert not at.exception
    return at


def demo(at: AppTest, page_id: str) -> Any:
    return at.session_state[f"state:{page_id}"]


def act(at: AppTest) -> None:
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def chart(at: AppTest, title: str) -> dict[str, pd.DataFrame]:
    """The chart with this title as two tables, "live" and "static": each layer ships its own
    dataset (live_fit, live_marker, …), so the tables of one group are stacked together."""
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        if title in json.dumps(spec.get("title", "")):
            groups: dict[str, list[pd.DataFrame]] = {}
            for d in element.proto.datasets:
                groups.setdefault(d.name.split("_", 1)[0], []).append(
                    dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data))
            return {name: pd.concat(tables, ignore_index=True) for name, tables in groups.items()}
    raise AssertionError(f"no chart titled {title!r}")


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def latex(at: AppTest) -> str:
    return "\n".join(element.body for element in at.latex)


def numbers(at: AppTest) -> pd.DataFrame:
    """The step-through panel's full-precision table, as floats."""
    table = next(d.value for d in at.dataframe if "θₜ₊₁" in d.value.columns)
    return table.astype(float)


def assert_charts_show(at: AppTest, problem_id: str, step: int, loss: float, params: np.ndarray) -> None:
    """Every chart is at (step, loss, θ): the fit, the loss marker, the parameter markers, the landscape."""
    problem = get_problem(problem_id)
    assert metric(at, "Step") == f"{step:,}"
    fit = chart(at, "Data and fits")["live"]
    grid = fit.x.to_numpy()
    expected = np.broadcast_to(problem.predict(grid, list(params)), grid.shape)
    np.testing.assert_allclose(fit.y.to_numpy(), expected, rtol=1e-14, atol=0)
    live = chart(at, "Loss")["live"]
    marker = live[live.kind == "marker"]
    if loss > 0:
        assert marker.step.tolist() == [step]
        assert marker.loss.tolist() == pytest.approx([loss], rel=1e-14)
    else:  # a loss of exactly 0 has no place on the log axis
        assert marker.empty
    assert live[live.kind == "curve"].step.max() <= step
    values = chart(at, "Parameters")["live"]
    markers = values[values.kind == "marker"].set_index("param").loc[list(problem.param_names)]
    assert markers.step.tolist() == [step] * problem.n_params
    np.testing.assert_allclose(markers.value.to_numpy(), params, rtol=1e-14, atol=0)
    land = chart(at, "Loss landscape")["live"]
    current = land[land.kind == "current"]
    if problem.n_params == 1:
        assert current.theta.tolist() == pytest.approx([params[0]], rel=1e-14)
    else:
        i, j = get_problem(problem_id).page.landscape_axes
        assert (current.p1.tolist(), current.p2.tolist()) == ([params[i]], [params[j]])


# --- replay -------------------------------------------------------------------------------------------

def test_that_replaying_step_k_shows_exactly_the_runs_snapshot_of_step_k_and_leaves_the_run_alone() -> None:
    at = open_page("linear-2x")  # the NumPy notebook: 20 steps, every one recorded
    at.button(key="linear-2x:run").click()
    act(at)
    state = demo(at, "linear-2x")
    run = state.run
    assert run.status == "completed" and run.step == 20
    steps, losses, params = run.history.arrays()
    before = (steps.copy(), losses.copy(), params.copy(), run.log_text())

    at.select_slider(key="linear-2x:replay_slider").set_value(7)
    act(at)
    assert_charts_show(at, "linear-2x", 7, losses[7], params[7])
    assert any("Replaying step 7" in c.value for c in at.caption)
    assert "Update 7 → 8" in "\n".join(m.value for m in at.markdown)
    assert numbers(at)["θₜ"].tolist() == params[7].tolist()

    at.number_input(key="linear-2x:replay_step").set_value(3)
    act(at)
    assert_charts_show(at, "linear-2x", 3, losses[3], params[3])

    at.button(key="linear-2x:replay_live").click()
    act(at)
    assert_charts_show(at, "linear-2x", 20, losses[20], params[20])
    assert at.select_slider(key="linear-2x:replay_slider").value == 20
    # Scrubbing only read the run: the same object, at the same step, with the same history.
    assert state.run is run and not state.training and run.step == 20 and run.status == "completed"
    after = run.history.arrays()
    assert all(np.array_equal(a, b) for a, b in zip(before[:3], after)) and run.log_text() == before[3]


def test_that_a_step_the_run_did_not_record_replays_the_last_recorded_one_and_says_so() -> None:
    at = open_page("sine-cubic")  # NumPy, 2000 steps: more than the 2000 points a history keeps
    at.button(key="sine-cubic:run").click()
    act(at)
    run = demo(at, "sine-cubic").run
    steps, losses, params = run.history.arrays()
    assert run.status == "completed" and len(steps) < 2001
    missing = next(s for s in range(1000, 2000) if s not in set(steps.tolist()))
    shown = int(steps[steps < missing].max())
    at.number_input(key="sine-cubic:replay_step").set_value(missing)
    act(at)
    index = int(np.flatnonzero(steps == shown)[0])
    assert_charts_show(at, "sine-cubic", shown, losses[index], params[index])
    assert any(f"Step {missing:,} was not recorded" in c.value for c in at.caption)

    # The step-through math of a replayed SGD step starts from that snapshot and takes one float64 step.
    quad = quadratic_of(run.data, "sum")
    table = numbers(at)
    assert table["θₜ"].tolist() == params[index].tolist()
    np.testing.assert_allclose(table["θₜ₊₁"], params[index] - 1e-6 * quad.grad(params[index]), rtol=1e-13)


def test_that_the_exact_engine_replays_step_one_million_and_any_step_between_records_exactly() -> None:
    at = open_page("quadratic-recovery")
    at.selectbox(key="quadratic-recovery:impl").set_value("analytic")
    at.number_input(key="quadratic-recovery:steps").set_value(2_000_000)
    act(at)
    at.button(key="quadratic-recovery:run").click()
    act(at)
    run = demo(at, "quadratic-recovery").run
    assert run.status == "completed" and run.step == 2_000_000
    data = run.data.as_float64()
    quad = quadratic_of(data, "mean")
    optimum, _ = quad.optimum()
    lam, vecs = np.linalg.eigh(2 * quad.scale * quad.phi.T @ quad.phi)

    def exact(step: int) -> np.ndarray:  # θ* + V·diag((1 − ηλ)^k)·Vᵀ(θ₀ − θ*)
        return optimum + vecs @ ((1 - 1e-5 * lam) ** step * (vecs.T @ (data.init - optimum)))

    for step, widget in ((1_000_000, "slider"), (123_457, "box")):
        if widget == "slider":
            at.select_slider(key="quadratic-recovery:replay_slider").set_value(step)
        else:
            at.number_input(key="quadratic-recovery:replay_step").set_value(step)
        act(at)
        params = chart(at, "Parameters")["live"]
        markers = params[params.kind == "marker"].set_index("param").loc[["a", "b", "c"]]
        assert markers.step.tolist() == [step] * 3
        np.testing.assert_allclose(markers.value.to_numpy(), exact(step), rtol=1e-9)
        loss = chart(at, "Loss")["live"]
        assert loss[loss.kind == "marker"].loss.tolist() == pytest.approx([quad.loss(exact(step))], rel=1e-9)
        assert metric(at, "Step") == f"{step:,}"
        assert f"Update {step:,} → {step + 1:,}" in "\n".join(m.value for m in at.markdown)
    assert run.step == 2_000_000 and run.status == "completed"


def test_that_the_exact_engine_slider_runs_on_a_log_scale() -> None:
    at = open_page("quadratic-recovery")
    at.selectbox(key="quadratic-recovery:impl").set_value("analytic")
    act(at)
    at.button(key="quadratic-recovery:run").click()
    act(at)
    options = at.select_slider(key="quadratic-recovery:replay_slider").options
    assert options == [f"{v:,}" for v in (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000,
                                          50_000, 100_000, 200_000, 500_000, 1_000_000, 1_000_001)]


# --- step-through math ----------------------------------------------------------------------------------

def test_that_the_step_through_numbers_are_the_hand_computed_ones_and_step_advances_them() -> None:
    at = open_page("linear-2x")
    at.radio(key="linear-2x:dtype").set_value("float64")
    act(at)
    # w = 0: ŷ = 0, r = −2, −4, −6, −8; L = Σr² = 120; g = 2·Σ r·x = −120; w ← 0 − 0.01·(−120) = 1.2
    text = latex(at)
    assert r"r_{4} &= \hat y_{4} - y_{4} = 0 - 8 = -8" in text
    assert "= (-2)^2 + (-4)^2 + (-6)^2 + (-8)^2 = 120" in text
    assert r"= 2\cdot (-60) = -120" in text
    assert r"w &\leftarrow w - \eta_t\, g_{w} = 0 - 0.01\cdot(-120) = 1.2" in text
    assert numbers(at)["θₜ₊₁"].tolist() == pytest.approx([1.2], rel=1e-15)

    at.button(key="linear-2x:math_step").click()
    act(at)
    assert demo(at, "linear-2x").run.step == 1
    # w = 1.2: r = −0.8x; L = 0.64·30 = 19.2; g = 2·(−0.8·30) = −48; w ← 1.2 + 0.48 = 1.68
    text = latex(at)
    assert "Update 1 → 2" in "\n".join(m.value for m in at.markdown)
    assert r"r_{1} &= \hat y_{1} - y_{1} = 1.2 - 2 = -0.8" in text
    assert "= 19.2" in text and "= -48" in text
    assert r"= 1.2 - 0.01\cdot(-48) = 1.68" in text
    assert any("equals the θₜ₊₁ this panel showed" in s.value for s in at.success)

    at.button(key="linear-2x:math_step").click()
    act(at)
    # w = 1.68: r = −0.32x; L = 0.1024·30 = 3.072; g = −19.2; w ← 1.68 + 0.192 = 1.872
    table = numbers(at)
    assert table["g"].tolist() == pytest.approx([-19.2], rel=1e-13)
    assert table["θₜ₊₁"].tolist() == pytest.approx([1.872], rel=1e-14)
    assert "= 3.072" in latex(at)
    assert demo(at, "linear-2x").run.step == 2


def test_that_adam_steps_show_their_moments_and_bias_corrections_as_computed_by_hand() -> None:
    at = open_page("quadratic-recovery")
    at.selectbox(key="quadratic-recovery:impl").set_value("numpy")
    at.selectbox(key="quadratic-recovery:optimizer").set_value("adam")
    at.radio(key="quadratic-recovery:dtype").set_value("float64")
    at.number_input(key="quadratic-recovery:lr").set_value(0.01)
    act(at)
    at.button(key="quadratic-recovery:math_step").click()
    act(at)
    run = demo(at, "quadratic-recovery").run
    assert run.step == 1
    quad = quadratic_of(run.data.as_float64(), "mean")
    theta = run.data.init.astype(np.float64)
    m = v = np.zeros(3)
    for t in (1, 2):  # Adam by hand: moments, bias corrections 1 − β^t, then the step
        g = quad.grad(theta)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        theta = theta - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    table = numbers(at)
    np.testing.assert_allclose(table["g"], g, rtol=1e-12)
    np.testing.assert_allclose(table["exp_avg after"], m, rtol=1e-12)
    np.testing.assert_allclose(table["exp_avg_sq after"], v, rtol=1e-12)
    np.testing.assert_allclose(table["θₜ₊₁"], theta, rtol=1e-12)
    text = latex(at)
    assert r"1 - \beta_1^{t+1} &= 1 - 0.9^{2} = 0.19" in text
    assert r"1 - \beta_2^{t+1} = 1 - 0.999^{2} = 0.001999" in text


def test_that_linear_2x_reaching_a_loss_of_exactly_zero_says_so_under_its_log_chart() -> None:
    at = open_page("linear-2x")  # the NumPy notebook in float32: the loss is exactly 0 from step 19
    at.button(key="linear-2x:run").click()
    act(at)
    steps, losses, _ = demo(at, "linear-2x").run.history.arrays()
    first = int(steps[np.flatnonzero(losses == 0)[0]])
    notes = [c.value for c in at.caption if "The loss is exactly 0" in c.value]
    assert notes == [f":material/info: The loss is exactly 0 from step {first}: the fit is exact in this dtype. "
                     "A log axis has no 0, so the loss line stops at the step before."]

    at.select_slider(key="linear-2x:replay_slider").set_value(first - 1)  # before the zero: no note
    act(at)
    assert not any("The loss is exactly 0" in c.value for c in at.caption)
