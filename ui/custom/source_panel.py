"""The data-source panel of "Your own data": a typed function or an uploaded CSV, the polynomial's degree
and standardisation, turned into a ``fitcore.custom.CustomSource``.

Its callbacks keep the panel consistent (a preset fills the formula, editing it makes it your own, a new
upload replaces the kept file); an uploaded file's bytes are kept in the page state, since the upload
box forgets its file when another page is shown.
"""
from __future__ import annotations

import streamlit as st

from fitcore import IMPLEMENTATIONS
from fitcore.custom import (DEFAULT_NOISE, DEFAULT_POINTS, MAX_POINTS, MIN_FUNCTION_POINTS, PRESETS, CsvTable,
                            CustomSource, DataSourceError, ParseError, check_function_range, csv_source,
                            polynomial_text, read_csv)
from fitcore.device import resolve_device
from fitcore.expression import parse_function
from fitcore.settings import FIELD, SOURCE_FIELD, Field

from ui.custom.conditioning import conditioning_panel, learning_rate_check
from ui.custom.keys import key, literal
from ui.custom.settings import (CUSTOM_PRESET, KIND_LABELS, POLYNOMIAL_PRESET, PRESET_LABELS, SOURCE_KEYS,
                                function_source_of, parse_coefficients)
from ui.page.limits import accelerated_points, how_to_raise, upload_limits
from ui.page.state import DemoState

KIND_ICONS = {"function": ":material/function:", "csv": ":material/upload_file:"}
PRESET_KEYS = tuple(p.key for p in PRESETS) + (POLYNOMIAL_PRESET, CUSTOM_PRESET)


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


def _function_widgets() -> bool:
    """The function, its range, points and noise; False (after saying why) when the function is refused."""
    pick, formula = st.columns([1, 2])
    pick.selectbox("Function", PRESET_KEYS, key=key("preset"), format_func=PRESET_LABELS.get,
                   on_change=_preset_chosen, help="A ready-made target, or your own formula.")
    typed = SOURCE_FIELD["expression"]
    formula.text_input(typed.label, key=key(str(typed.url)), on_change=_function_typed,
                       max_chars=int(_bounds(typed)[1]), help=typed.tip)
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
    for column, end in ((low, SOURCE_FIELD["x_min"]), (high, SOURCE_FIELD["x_max"])):
        smallest, largest = _bounds(end)
        column.number_input(end.label, min_value=smallest, max_value=largest, key=key(str(end.url)), format="%g",
                            step=0.5)
    most = _function_points_limit()
    if int(st.session_state.get(key("points"), MIN_FUNCTION_POINTS)) > most:  # a GPU run's points, now on the CPU
        st.session_state[key("points")] = most
    points.number_input(FIELD["points"].label, min_value=MIN_FUNCTION_POINTS, max_value=most, step=10,
                        key=key("points"), help="Evenly spaced over the range." +
                        (f" Up to {most:,} on the GPU." if most > MAX_POINTS else ""))
    noise_field = FIELD["noise"]
    noise.number_input(noise_field.label, min_value=noise_field.low, max_value=noise_field.high, step=0.05,
                       key=key("noise"), format="%g", help="Gaussian noise added to y; the sidebar's seed draws it.")
    return parsed


def _bounds(field: Field) -> tuple[float, float]:
    """A row's range in fitcore.settings (a text's: its length)."""
    assert field.bounds is not None, field.name
    return field.bounds.low, field.bounds.high


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
    st.file_uploader(SOURCE_FIELD["file"].label, key=key("upload"),
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
    x = left.selectbox(SOURCE_FIELD["x_column"].label, numeric, key=key("xcol"), format_func=lambda i: table.names[i])
    others = [i for i in numeric if i != x]
    if st.session_state.get(key("ycol")) not in others:
        st.session_state.pop(key("ycol"), None)
    y = right.selectbox(SOURCE_FIELD["y_column"].label, others, key=key("ycol"), format_func=lambda i: table.names[i])
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
        kind = st.radio(SOURCE_FIELD["kind"].label, tuple(KIND_LABELS), key=key("src"), horizontal=True,
                        format_func=lambda k: f"{KIND_ICONS[k]} {KIND_LABELS[k]}", on_change=_kind_chosen,
                        args=(state,))
        ready = _function_widgets() if kind == "function" else _csv_widgets(state)
        degree_col, standard_col = st.columns([2, 1], vertical_alignment="bottom")
        degree_row, standard_row = SOURCE_FIELD["degree"], SOURCE_FIELD["standardise"]
        lowest, highest = _bounds(degree_row)
        degree = degree_col.slider(degree_row.label, int(lowest), int(highest), key=key(str(degree_row.url)),
                                   help=degree_row.tip)
        standardise = standard_col.toggle(standard_row.label, key=key(str(standard_row.url)), help=standard_row.tip)
        source = None
        if kind == "function" and ready:
            source = _function_source(degree, standardise)
        elif kind == "csv" and ready:
            source = _csv_source(state, *ready, degree, standardise)
        state.extras["source_values"].update({name: st.session_state.get(key(name)) for name in
                                              (*SOURCE_KEYS, "preset", "coef", "xcol", "ycol")})
        if source is not None:
            points = int(st.session_state[key("points")])
            conditioning_panel(source, points)
            learning_rate_check(state, source, points)
        if kind == "function":
            st.caption(":material/link: The page's link (the address bar) carries this function, its range, "
                       "points, noise and every other setting: share it and the same data and run come back.")
        else:
            st.caption(":material/link_off: The page's link carries every setting but not the uploaded file: "
                       "whoever opens it uploads the file again.")
    return source

