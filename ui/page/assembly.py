"""One demo page: sidebar → config → controls → charts → live loop. Every demo page is this."""
from __future__ import annotations

import functools
from typing import Any, Callable

import streamlit as st

from fitcore import (ConfigError, Problem, Run, RunConfig, compiled_unavailable, get_problem, is_available,
                     missing_message)
from fitcore.device import resolve_device
from fitcore.landscape import SliceChoice

from ui.page import sidebar
from ui.panels.code import code_panel
from ui.panels.compare import compare_panel
from ui.page.context import PageContext
from ui.page.controls import control_bar
from ui.panels.by_hand import by_hand_panel, has_by_hand
from ui.panels.challenges import challenges_panel, has_challenges
from ui.panels.lessons import lessons_panel
from ui.page.limits import run_limits, steps_notice
from ui.page.live import step_now, train_live
from ui.panels.pace import pace_panel
from ui.panels.replay import can_replay, replay_bar, step_picked
from ui.panels.stepmath import math_panel
from ui.page.settings import config_from_values, runs_on_device
from ui import charts
from ui.page.start import chosen_start_note, start_picked, with_chosen_start
from ui.page.state import DemoState, demo_state, start_workers, widget_key
from ui.page.view import TrainView, live_frame


def header(problem: Problem) -> None:
    st.title(problem.title)
    text, formulas = st.columns([3, 2], vertical_alignment="center")
    text.markdown(problem.teaches)
    files = ", ".join(f"`{name}`" for name in problem.seed_files)
    text.caption(f"From the notebook{'s' if len(problem.seed_files) > 1 else ''} {files} "
                 f"({' and '.join(problem.notebook_frameworks)}).")
    formulas.latex(r"\small\begin{aligned}&" + problem.formula_latex + r"\\ &" + problem.data_latex
                   + r"\end{aligned}")


def guarded(panel: Callable[..., None], *args: Any) -> None:
    """Draw a secondary panel; if it fails, say so in place instead of stopping the page (and its run)."""
    try:
        panel(*args)
    except Exception as error:  # a panel's bug must not take training down with it
        st.error(f"This panel could not be drawn: {type(error).__name__}: {error}")


def fix_learning_rate(problem: Problem, state: DemoState, lr: float) -> None:
    sidebar.set_values(problem, state, {"lr": lr})
    state.run = None


def divergence_fix(problem: Problem, state: DemoState, run: Run) -> None:
    stable = float(f"{0.9 * run.quad.max_stable_lr:.2g}")
    st.button(f"Set the learning rate to {stable:g} (0.9 × 2/λmax, stable)", key=widget_key(problem.id, "fix_lr"),
              on_click=fix_learning_rate, args=(problem, state, stable), type="primary")


def landscape_axes(problem: Problem) -> SliceChoice | None:
    """Which slice the landscape shows: two parameters, or two of the Hessian's eigen-directions
    (numbered from the flattest), picked in a popover beside that chart."""
    if problem.n_params == 1:
        return None
    names = list(problem.param_names)
    default = problem.page.landscape_axes
    with st.popover("Slice axes", icon=":material/tune:"):
        eigen = st.toggle("Along the Hessian's eigen-directions", key=widget_key(problem.id, "eigen"),
                          help="Slice along the directions gradient descent moves in independently: the "
                               "flattest (v₁) is the slowest to converge.")
        if eigen:
            names = [f"v{k + 1}" for k in range(problem.n_params)]
            default = (0, problem.n_params - 1)
        x = st.selectbox("Horizontal", names, index=default[0], key=widget_key(problem.id, "ex" if eigen else "ax"))
        others = [n for n in names if n != x]
        y = st.selectbox("Vertical", others, key=widget_key(problem.id, "ey" if eigen else "ay"),
                         index=others.index(names[default[1]]) if names[default[1]] != x else 0)
    return SliceChoice(names.index(x), names.index(y), eigen)


def demo_page(problem_id: str) -> None:
    """A demo's page: the shared page over one of fitcore's demos."""
    problem_page(get_problem(problem_id), demo_state(problem_id))


def show_link_notice(state: DemoState) -> None:
    """Once, what a shared link asked for that the page could not use."""
    if state.url_notice:
        st.warning(state.url_notice, icon=":material/link:")
        state.url_notice = None


def problem_page(problem: Problem, state: DemoState, intro: Callable[[Problem], None] = header,
                 lessons: Callable[[PageContext], None] = lessons_panel) -> None:
    """Sidebar, controls, tabs and the live loop over any problem: a demo, or one built from your own
    data (whose page passes its own ``intro`` and ``lessons``)."""
    state.wait_for_older_script()
    values = sidebar.render(problem, state)
    intro(problem)
    show_link_notice(state)
    try:
        config: RunConfig | None = with_chosen_start(config_from_values(problem, values), state)
        config_error = None
    except ConfigError as error:
        config, config_error = None, str(error)
    sidebar.lr_schedule_preview(problem, values)
    blocked = config_error or (None if is_available(values["impl"]) else missing_message(values["impl"])) \
        or (compiled_unavailable(values["impl"], resolve_device(runs_on_device(values))) if values["compiled"] else None)
    run = state.run
    stale = run is not None and config is not None and run.config != config
    control_bar(problem.id, state, config, stale, blocked)
    # Filled after the charts: the pace panel may time a few steps of a just-started run, which
    # imports its framework (seconds for PyTorch), and the page must show its charts meanwhile.
    pace_slot = st.container()
    if blocked:
        st.error(blocked)
    elif config is not None and (capped := steps_notice(config)):
        st.info(capped, icon=":material/speed:")
    if state.error:
        st.error(state.error)
    spinner_slot = st.empty()
    if state.pending_steps:
        step_now(state, spinner_slot)
        run = state.run
    if run is not None and run.status == "diverged":
        divergence_fix(problem, state, run)
    context = PageContext(problem, state, values, config, run, stale)

    # Predict and By hand appear where the demo has them: challenges written for it, few enough parameters
    predict, by_hand = has_challenges(problem.id), has_by_hand(problem)
    tabs = iter(st.tabs([
        ":material/monitoring: Train", ":material/school: Lessons", *([":material/quiz: Predict"] if predict else []),
        *([":material/pan_tool: By hand"] if by_hand else []), ":material/compare_arrows: Compare",
        ":material/function: Step-through math", ":material/code: Code"]))
    with next(tabs):
        view = train_panel(context)
    # The server's training processes start once the charts are out: their start (a process, NumPy's import)
    # takes a core for a second, which the first page on a fresh server would otherwise wait behind.
    start_workers()
    with next(tabs):
        guarded(lessons, context)
    if predict:
        with next(tabs):
            guarded(challenges_panel, context)
    if by_hand:
        with next(tabs):
            guarded(by_hand_panel, context)
    with next(tabs):
        guarded(compare_panel, context)
    with next(tabs):
        guarded(math_panel, context)
    with next(tabs):
        guarded(code_panel, problem.id, config, run)
    with pace_slot:
        guarded(pace_panel, problem, state, config, blocked)

    if state.training and run is not None and view is not None and (not stale or state.resumed_under == config):
        log_x = bool(values["logx"])
        train_live(state, int(values["rate"]), spinner_slot,
                   lambda r: view.draw(r, live_frame(r), state.pinned, log_x, training=True))


def train_panel(context: PageContext) -> TrainView | None:
    """The charts; before any run they show the starting point of the current settings, after (or
    paused) any step the replay bar picks."""
    config, run = context.config, context.run
    shown = run if run is not None else (Run(config, run_limits(config)) if config is not None else None)
    if shown is None:
        st.info("These settings cannot run; the sidebar says why.")
        return None
    replayed = replay_bar(context.problem.id, context.state, run)
    on_pick = functools.partial(start_picked, context.state, charts.PICK_SELECTION)
    on_step = functools.partial(step_picked, context.state, run, charts.STEP_SELECTION) \
        if can_replay(context.state, run) else None
    view = TrainView(shown, lambda: landscape_axes(context.problem), on_pick, on_step)
    live = context.state.training and not context.stale
    preparing = live and run is not None and not run.prepared
    view.draw(shown, replayed if replayed is not None else live_frame(shown), context.state.pinned,
              bool(context.values["logx"]), context.stale, training=live and not preparing, preparing=preparing)
    chosen_start_note(context.problem, context.state)
    return view
