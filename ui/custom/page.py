"""The "Your own data" page: a data-source panel, then the shared page over the problem it defines.

The panel turns an uploaded CSV or a typed function (with its x range, points, noise, degree and
standardisation) into a ``fitcore.custom.CustomSource``; everything below it — sidebar, controls,
charts, lessons, compare, replay, step-through math, code — is ``ui.page.problem_page``, as on
the demo pages. Panel widgets keep their values in the page state, because Streamlit forgets a
widget's value when another page is shown; an uploaded file's bytes are kept there too.
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from fitcore import IMPLEMENTATIONS, RunConfig, is_available, missing_message
from fitcore.device import resolve_device
from fitcore.compare import setting_phrases
from fitcore.custom import (CUSTOM_ID, DEFAULT_NOISE, DEFAULT_POINTS, MAX_ABS_X, MAX_DEGREE, MAX_POINTS, MIN_DEGREE,
                            MIN_FUNCTION_POINTS, PRESETS, CsvTable, CustomSource, DataSourceError, ParseError,
                            check_function_range, csv_source, custom_problem, polynomial_text, read_csv)
from fitcore.custom_conditioning import Conditioning, conditioning, max_stable_lr
from fitcore.custom_lessons import custom_lessons
from fitcore.expression import parse_function
from fitcore.lessons import Lesson

from ui.page import sidebar
from ui.page.controls import reset, start_run
from ui.custom.settings import (CUSTOM_PRESET, DEFAULT_COEFFICIENTS, KIND_LABELS, POLYNOMIAL_PRESET, PRESET_LABELS,
                              default_source_values, function_source_of, parse_coefficients, parse_source_query,
                              preset_of, source_values)
from ui.page.limits import accelerated_points, how_to_raise, upload_limits
from ui.page.assembly import problem_page
from ui.page.context import PageContext
from ui.page.settings import notice_text, values_from_config
from ui.page.state import DemoState, demo_state, widget_key

KIND_ICONS = {"function": ":material/function:", "csv": ":material/upload_file:"}
PRESET_KEYS = tuple(p.key for p in PRESETS) + (POLYNOMIAL_PRESET, CUSTOM_PRESET)
SUMMARY_KEYS = ("impl", "optimizer", "lr", "steps")
PROMISE_WORDS = {"completed": "runs all its steps", "diverged": "diverges"}
SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def key(name: str) -> str:
    return widget_key(CUSTOM_ID, name)


MARKDOWN_SPECIALS = set("\\`*_{}[]<>#+-!|~$:")


def literal(text: str) -> str:
    """Text shown exactly as it is inside Streamlit's Markdown: messages quote what was typed or uploaded
    (x**2 would otherwise turn italic, a file name with :material/…: into an icon)."""
    return "".join("\\" + char if char in MARKDOWN_SPECIALS else char for char in text)


# --- keeping the panel's values --------------------------------------------------------------------

def _initialise(state: DemoState) -> None:
    """First visit in this session: the link's data source and run settings (or the defaults)."""
    values, problems = parse_source_query(dict(st.query_params))
    values |= {"preset": preset_of(values["fn"]), "coef": DEFAULT_COEFFICIENTS}
    state.extras["source_values"] = values
    try:
        problem = custom_problem(function_source_of(values))
    except DataSourceError:  # the panel shows what is wrong with the link's function
        problem = custom_problem(function_source_of(default_source_values()))
    state.extras["problem"] = problem
    sidebar.initialise(problem, state)
    if problems:
        notice = notice_text(problems)
        state.url_notice = f"{state.url_notice} {notice}" if state.url_notice else notice


def _seed_panel(state: DemoState) -> None:
    """Restore the panel's widgets Streamlit forgot (another page was shown), keeping everything set."""
    for name, value in state.extras["source_values"].items():
        if key(name) not in st.session_state and value is not None:
            st.session_state[key(name)] = value


def _set_panel(state: DemoState, values: dict[str, Any]) -> None:
    """Change panel settings from a callback (a lesson)."""
    state.extras["source_values"].update(values)
    for name, value in values.items():
        st.session_state[key(name)] = value


# --- callbacks -------------------------------------------------------------------------------------

def _preset_chosen() -> None:
    chosen = st.session_state[key("preset")]
    preset = next((p for p in PRESETS if p.key == chosen), None)
    if preset is not None:
        st.session_state[key("fn")] = preset.expression
        st.session_state[key("xmin")], st.session_state[key("xmax")] = preset.x_min, preset.x_max
    elif chosen == POLYNOMIAL_PRESET:
        _coefficients_typed()


def _function_typed() -> None:
    """Editing a ready-made function makes it your own."""
    chosen, typed = st.session_state[key("preset")], st.session_state[key("fn")].strip()
    preset = next((p for p in PRESETS if p.key == chosen), None)
    if preset is not None and typed != preset.expression:
        st.session_state[key("preset")] = CUSTOM_PRESET
    if chosen == POLYNOMIAL_PRESET:
        try:
            if typed != polynomial_text(parse_coefficients(st.session_state[key("coef")])):
                st.session_state[key("preset")] = CUSTOM_PRESET
        except ValueError:
            st.session_state[key("preset")] = CUSTOM_PRESET


def _coefficients_typed() -> None:
    try:
        st.session_state[key("fn")] = polynomial_text(parse_coefficients(st.session_state[key("coef")]))
    except ValueError:
        pass  # the panel shows the message under the coefficients


def _kind_chosen(state: DemoState) -> None:
    """A file fixes points and noise: keep the function's own and give them back on the way back."""
    if st.session_state[key("src")] == "csv":
        state.extras["function_data"] = {name: st.session_state.get(key(name)) for name in ("points", "noise")}
    else:
        kept = state.extras.get("function_data", {})
        st.session_state[key("points")] = kept.get("points") or DEFAULT_POINTS
        st.session_state[key("noise")] = kept.get("noise") if kept.get("noise") is not None else DEFAULT_NOISE


def _file_changed(state: DemoState) -> None:
    """A new upload replaces the kept file (and its column choices); removing it forgets the file."""
    uploaded = st.session_state.get(key("upload"))
    for name in ("xcol", "ycol"):
        st.session_state.pop(key(name), None)
        state.extras["source_values"].pop(name, None)
    state.extras.pop("table", None)
    state.extras.pop("csv_source", None)
    if uploaded is None:
        state.extras.pop("upload", None)
    else:
        state.extras["upload"] = {"name": uploaded.name, "data": uploaded.getvalue(), "id": uploaded.file_id}


def _forget_file(state: DemoState) -> None:
    for name in ("upload", "table", "csv_source"):
        state.extras.pop(name, None)


# --- the panel ------------------------------------------------------------------------------------------

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


def _conditioning_panel(source: CustomSource, points: int) -> None:
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


def _learning_rate_check(state: DemoState, source: CustomSource, points: int) -> None:
    """Warn before a run when plain SGD's learning rate is already past 2/λmax for these data."""
    lr, reduction = st.session_state.get(key("lr")), st.session_state.get(key("red"), "mean")
    if st.session_state.get(key("opt")) != "sgd" or not isinstance(lr, (int, float)):
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


def _function_widgets() -> bool:
    """The function, its range, points and noise; False (after saying why) when the function is refused."""
    pick, formula = st.columns([1, 2])
    pick.selectbox("Function", PRESET_KEYS, key=key("preset"), format_func=PRESET_LABELS.get,
                   on_change=_preset_chosen, help="A ready-made target, or your own formula.")
    formula.text_input("y =", key=key("fn"), on_change=_function_typed, max_chars=200,
                       help="Numbers, x, pi, e, + − * / ** and parentheses, and sin cos tan exp log sqrt abs tanh "
                            "sinh cosh arcsin arccos arctan floor ceil sign step. Nothing you type is run as code.")
    if st.session_state[key("preset")] == POLYNOMIAL_PRESET:
        st.text_input("Coefficients a₀, a₁, a₂, … (lowest power first)", key=key("coef"),
                      on_change=_coefficients_typed, help="0, -1, 0, 0.5 means −x + 0.5·x³.")
        try:
            parse_coefficients(st.session_state[key("coef")])
        except ValueError as error:
            st.error(literal(str(error)), icon=":material/error:")
    try:
        parse_function(st.session_state[key("fn")])
        parsed = True
    except ParseError as error:
        st.error(literal(str(error)), icon=":material/error:")
        if error.pointer:
            st.code(error.pointer, language=None)
        parsed = False
    low, high, points, noise = st.columns(4)
    low.number_input("x from", min_value=-MAX_ABS_X, max_value=MAX_ABS_X, key=key("xmin"), format="%g", step=0.5)
    high.number_input("x to", min_value=-MAX_ABS_X, max_value=MAX_ABS_X, key=key("xmax"), format="%g", step=0.5)
    most = _function_points_limit()
    if int(st.session_state.get(key("points"), MIN_FUNCTION_POINTS)) > most:  # a GPU run's points, now on the CPU
        st.session_state[key("points")] = most
    points.number_input("Points", min_value=MIN_FUNCTION_POINTS, max_value=most, step=10, key=key("points"),
                        help="Evenly spaced over the range." + (f" Up to {most:,} on the GPU." if most > MAX_POINTS
                                                                 else ""))
    noise.number_input("Noise (standard deviation)", min_value=0.0, max_value=1000.0, step=0.05, key=key("noise"),
                       format="%g", help="Gaussian noise added to y; the sidebar's seed draws it.")
    return parsed


def _function_points_limit() -> int:
    """A typed function's points: more with a PyTorch implementation on an accelerator (the sidebar's)."""
    impl, device = st.session_state.get(key("impl")), st.session_state.get(key("device")) or "cpu"
    if impl is None or IMPLEMENTATIONS[impl].framework != "torch" or device == "cpu" or resolve_device(device) == "cpu":
        return MAX_POINTS
    return max(MAX_POINTS, accelerated_points())


def _function_source(degree: int, standardise: bool) -> CustomSource | None:
    values = {"fn": st.session_state[key("fn")], "xmin": st.session_state[key("xmin")],
              "xmax": st.session_state[key("xmax")], "deg": degree, "std": standardise}
    try:
        source = function_source_of(values)
        check_function_range(source, int(st.session_state[key("points")]))
    except DataSourceError as error:
        st.error(literal(str(error)), icon=":material/error:")
        return None
    return source


def _table(state: DemoState) -> CsvTable | None:
    upload = state.extras["upload"]
    cached = state.extras.get("table")
    if cached is None or cached[0] != upload["id"]:
        try:
            max_bytes, max_rows = upload_limits()
            cached = (upload["id"], read_csv(upload["data"], upload["name"], max_bytes, max_rows,
                                             f"{how_to_raise('max_upload_mb')} {how_to_raise('max_upload_rows')}"),
                      None)
        except DataSourceError as error:
            cached = (upload["id"], None, str(error))
        state.extras["table"] = cached
    if cached[2] is not None:
        st.error(literal(cached[2]), icon=":material/error:")
    return cached[1]


def _csv_widgets(state: DemoState) -> tuple[CsvTable, tuple[int | None, int | None]] | None:
    """The upload box and, for a file with more than two numeric columns, the x and y columns."""
    max_bytes, max_rows = upload_limits()
    st.file_uploader("CSV file: two numeric columns, x and y (a header row is optional)", key=key("upload"),
                     on_change=_file_changed, args=(state,), max_upload_size=max_bytes // 1024**2,
                     help=f"Values separated by commas, semicolons or tabs; up to {max_rows:,} rows and "
                          f"{max_bytes // 1024**2} MB.")
    if "upload" not in state.extras:
        st.info("Upload a CSV file to fit it, e.g. a file whose lines read `x,y`, `0,1.2`, `1,2.9`, `2,5.1`.",
                icon=":material/upload_file:")
        return None
    upload = state.extras["upload"]
    if st.session_state.get(key("upload")) is None:
        note, forget = st.columns([4, 1], vertical_alignment="center")
        note.caption(f"Using **{literal(upload['name'])}**, uploaded earlier (the upload box forgets its file when you "
                     "switch pages). Upload another file to replace it.")
        forget.button("Forget it", key=key("forget"), on_click=_forget_file, args=(state,), width="stretch")
    table = _table(state)
    if table is None:
        return None
    numeric = table.numeric_columns
    if len(numeric) <= 2:
        return table, (None, None)
    left, right = st.columns(2)
    if st.session_state.get(key("xcol")) not in numeric:
        st.session_state.pop(key("xcol"), None)
    x = left.selectbox("x column", numeric, key=key("xcol"), format_func=lambda i: table.names[i])
    others = [i for i in numeric if i != x]
    if st.session_state.get(key("ycol")) not in others:
        st.session_state.pop(key("ycol"), None)
    y = right.selectbox("y column", others, key=key("ycol"), format_func=lambda i: table.names[i])
    return table, (x, y)


def _csv_source(state: DemoState, table: CsvTable, choice: tuple[int | None, int | None], degree: int,
                standardise: bool) -> CustomSource | None:
    upload = state.extras["upload"]
    wanted = (upload["id"], choice, degree, standardise)
    cached = state.extras.get("csv_source")
    if cached is None or cached[0] != wanted:
        try:
            cached = (wanted, csv_source(table, choice[0], choice[1], degree, standardise), None)
        except DataSourceError as error:
            cached = (wanted, None, str(error))
        state.extras["csv_source"] = cached
    if cached[2] is not None:
        st.error(literal(cached[2]), icon=":material/error:")
        return None
    source = cached[1]
    st.caption(f"{literal(upload['name'])}: {literal(table.describe())}; fitting **{literal(source.layout.y_name)}** "
               f"against **{literal(source.layout.x_name)}**.")
    # A file fixes the run's points and takes no noise (the panel draws neither widget for a file).
    st.session_state[key("points")], st.session_state[key("noise")] = source.rows, 0.0
    return source


def data_panel(state: DemoState) -> CustomSource | None:
    """Draw the data-source panel; returns the source, or None after showing what is wrong."""
    with st.container(border=True):
        kind = st.radio("Data from", tuple(KIND_LABELS), key=key("src"), horizontal=True,
                        format_func=lambda k: f"{KIND_ICONS[k]} {KIND_LABELS[k]}", on_change=_kind_chosen,
                        args=(state,))
        ready = _function_widgets() if kind == "function" else _csv_widgets(state)
        degree_col, standard_col = st.columns([2, 1], vertical_alignment="bottom")
        degree = degree_col.slider("Polynomial degree", MIN_DEGREE, MAX_DEGREE, key=key("deg"),
                                   help="The model is w₀ + w₁x + … + w_d·x^d: still linear in w, so the "
                                        "least-squares optimum, 2/λmax and the exact engine all apply.")
        standardise = standard_col.toggle("Standardise x", key=key("std"),
                                          help="Fit powers of z = (x − μ)/σ instead of x.")
        source = None
        if kind == "function" and ready:
            source = _function_source(degree, standardise)
        elif kind == "csv" and ready:
            source = _csv_source(state, *ready, degree, standardise)
        state.extras["source_values"].update({name: st.session_state.get(key(name)) for name in
                                              ("src", "preset", "fn", "coef", "xmin", "xmax", "deg", "std",
                                               "xcol", "ycol")})
        if source is not None:
            points = int(st.session_state[key("points")])
            _conditioning_panel(source, points)
            _learning_rate_check(state, source, points)
        if kind == "function":
            st.caption(":material/link: The page's link (the address bar) carries this function, its range, "
                       "points, noise and every other setting: share it and the same data and run come back.")
        else:
            st.caption(":material/link_off: The page's link carries every setting but not the uploaded file: "
                       "whoever opens it uploads the file again.")
    return source


def model_intro(problem: Any) -> None:
    source: CustomSource = problem.source
    model = f"Fit a degree-{source.degree} polynomial" + (" in standardised x" if source.standardise else "")
    if source.kind == "function":
        data = (f"to y = `{source.expression}` at {int(st.session_state[key('points')]):,} evenly spaced x in "
                f"[{source.x_min:g}, {source.x_max:g}]")
    else:
        shown = source.file.replace("`", "'")  # a backtick would end the code span
        data = (f"to the {source.rows:,} rows of `{shown}` ({literal(source.layout.y_name)} against "
                f"{literal(source.layout.x_name)})")
    text, formulas = st.columns([3, 2], vertical_alignment="center")
    text.markdown(f"{model} {data}. Every implementation starts from θ = 0, as on the demo pages.")
    formulas.latex(r"\begin{aligned}&" + problem.formula_latex + r"\\ &" + problem.data_latex + r"\end{aligned}")


# --- lessons -------------------------------------------------------------------------------------------

def load_lesson(state: DemoState, lesson: Lesson, run: bool) -> None:
    """Button callback: the lesson's data source and every setting, a fresh start, and the run if asked."""
    config = lesson.config(CUSTOM_ID)
    source = config.custom
    _set_panel(state, source_values(source) | {"preset": preset_of(source.expression)})
    sidebar.set_values(custom_problem(source), state, values_from_config(config))
    reset(state)
    if run:
        start_run(state, config)


def _lesson_card(context: PageContext, number: int, lesson: Lesson) -> None:
    state = context.state
    config: RunConfig = lesson.config(CUSTOM_ID)
    phrases = setting_phrases(config)
    runnable = is_available(config.impl)
    with st.container(border=True):
        head, load, start = st.columns([4, 1, 1.3], vertical_alignment="center")
        badge = " :blue-badge[:material/check: loaded]" if context.config == config else ""
        head.markdown(f"**{number}. {lesson.title}**{badge}")
        head.caption(config.custom.describe() + " · " + " · ".join(phrases[k] for k in SUMMARY_KEYS)
                     + f" · {PROMISE_WORDS[lesson.promise]}")
        load.button("Load", icon=":material/input:", key=key(f"lesson_{lesson.key}_load"), width="stretch",
                    on_click=load_lesson, args=(state, lesson, False),
                    help="Set the data source and every setting to this lesson's, ready to run.")
        start.button("Load and run", icon=":material/play_arrow:", type="primary", width="stretch",
                     key=key(f"lesson_{lesson.key}_run"), disabled=not runnable, on_click=load_lesson,
                     args=(state, lesson, True),
                     help="Set everything to this lesson's and start training." if runnable
                     else missing_message(config.impl))
        st.markdown(lesson.look)
        st.markdown(f":material/psychology_alt: **Think about it:** {lesson.question}")
        with st.expander("Answer (for the presenter)"):
            st.markdown(lesson.answer)
        run = context.run
        if run is not None and run.finished and run.config == config:
            if run.status == lesson.promise:
                st.success(f"This run {PROMISE_WORDS[lesson.promise]}, as the lesson says: {run.message}",
                           icon=":material/check_circle:")
            else:
                st.warning(f"This run ended {run.status}, not {lesson.promise} as the lesson expects: "
                           f"{run.message}", icon=":material/info:")


def custom_lessons_panel(context: PageContext) -> None:
    lessons = custom_lessons()
    st.caption(f"{len(lessons)} presets on why raw powers of x make gradient descent crawl. Each replaces the data "
               "source above and every setting; pin a run on the Compare tab before loading the next to see both "
               "loss curves together.")
    for number, lesson in enumerate(lessons, start=1):
        _lesson_card(context, number, lesson)


# --- the page ------------------------------------------------------------------------------------------

def custom_page() -> None:
    state = demo_state(CUSTOM_ID)
    st.title("Your own data")
    st.markdown("Bring a CSV file or type a function of x, and watch every implementation fit it with a polynomial "
                "of degree 1 to 8 — with the same charts, comparisons, replay and exported code as the demos.")
    if not state.values or "source_values" not in state.extras:
        _initialise(state)
    else:
        sidebar.initialise(state.extras["problem"], state)
    _seed_panel(state)
    source = data_panel(state)
    if source is None:
        st.info("Fix the data source above to train.", icon=":material/arrow_upward:")
        return
    problem = custom_problem(source)
    state.extras["problem"] = problem
    problem_page(problem, state, intro=model_intro, lessons=custom_lessons_panel)
