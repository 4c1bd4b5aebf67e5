"""The table of settings (fitcore.settings): one row per setting a user can give a run, and every place
that takes settings (the checks, the CLI, links) reads its names and bounds from it."""
from __future__ import annotations

import ast
import dataclasses
import math

import pytest

from fitcore import ConfigError, RunConfig, Schedule, StopConditions, cli
from fitcore.config import choices, config_from_settings, setting_values
from fitcore.problems import get_problem
from fitcore.settings import FIELD, FIELDS, Bounds

PAGE = "sine-cubic"   # every setting applies to it, and its points may change
NOT_USER_SETTINGS = {"problem", "custom"}   # the page or the demo chooses these; the data source has its own table


def user_settings() -> list[str]:
    """RunConfig's fields a user sets, with a schedule's and the stopping rules' fields by their own names."""
    names = []
    for field in dataclasses.fields(RunConfig):
        if field.name in ("schedule", "stop"):
            part = Schedule if field.name == "schedule" else StopConditions
            names += ["schedule" if f.name == "kind" else f.name for f in dataclasses.fields(part)]
        elif field.name not in NOT_USER_SETTINGS:
            names.append(field.name)
    return names


def test_that_every_setting_a_user_can_give_a_run_has_exactly_one_row() -> None:
    assert sorted(f.name for f in FIELDS) == sorted(user_settings())


def test_that_no_two_rows_share_a_url_key_a_flag_or_a_label() -> None:
    for column in ("name", "url", "flag", "label"):
        values = [getattr(f, column) for f in FIELDS if getattr(f, column) is not None]
        assert len(set(values)) == len(values), column


def test_that_the_url_keys_are_the_ones_links_have_always_carried() -> None:
    assert {f.name: f.url for f in FIELDS if f.url is not None} == {
        "variant": "nb", "impl": "impl", "compiled": "compiled", "device": "device", "optimizer": "opt",
        "lr": "lr", "steps": "steps", "seed": "seed", "reduction": "red", "dtype": "dtype", "points": "points",
        "noise": "noise", "schedule": "sched", "gamma": "gamma", "step_size": "every", "lr_min": "lrmin",
        "loss_below": "below", "plateau_tol": "plateau", "plateau_window": "window",
        "start": "start"}  # θ₀ (a start chosen on the charts), added in December 2026: old links lack it


def test_that_setting_values_and_config_from_settings_round_trip_every_row() -> None:
    config = RunConfig.notebook(PAGE, seed=3, schedule=Schedule("step", 0.7, 13), compiled=True,
                                stop=StopConditions(1e-3, 1e-5, 17))
    values = setting_values(config)
    assert set(values) == set(FIELD)
    assert config_from_settings(PAGE, values) == config


def _with(name: str, value: object) -> RunConfig:
    values = setting_values(RunConfig.notebook(PAGE, seed=0)) | {name: value}
    if name == "gamma" or name == "step_size":
        values["schedule"] = "step"
    if name == "lr_min":
        values["schedule"] = "cosine"
    if name == "plateau_window":
        values["plateau_tol"] = 1e-6
    return config_from_settings(PAGE, values)


def _outside(bounds: Bounds, whole: bool) -> list[float]:
    """Values just past each finite end of the bounds (an open end: the end itself)."""
    step = 1 if whole else 0.0
    values = []
    if math.isfinite(bounds.low):
        values.append(bounds.low if bounds.low_open else (bounds.low - step if whole
                                                           else -math.ulp(0) if bounds.low == 0
                                                           else math.nextafter(bounds.low, -math.inf)))
    if math.isfinite(bounds.high):
        values.append(bounds.high if bounds.high_open else (bounds.high + step if whole
                                                             else math.nextafter(bounds.high, math.inf)))
    return values


BOUNDED = [f for f in FIELDS if f.bounds is not None]


@pytest.mark.parametrize("field", BOUNDED, ids=[f.name for f in BOUNDED])
def test_that_a_run_takes_every_value_a_row_offers_and_refuses_what_is_past_its_bounds(field) -> None:
    low, high = field.widest
    assert field.bounds.holds(low) and field.bounds.holds(high), "a widget offers only what a run takes"
    def typed(value: float) -> object:
        if field.kind == "optional-floats":  # θ₀: the value for each of the problem's parameters
            return (float(value),) * get_problem(PAGE).n_params
        return int(value) if field.whole else float(value)
    for end in (low, high):
        assert setting_values(_with(field.name, typed(end)))[field.name] == typed(end)
    for value in _outside(field.bounds, field.whole):
        with pytest.raises(ConfigError):
            _with(field.name, typed(value))


def test_that_every_choice_row_lists_the_values_a_run_takes() -> None:
    problem = get_problem(PAGE)
    for field in FIELDS:
        if field.kind == "choice":
            options = choices(field.name, problem)
            assert options and setting_values(RunConfig.notebook(PAGE))[field.name] in options, field.name


# --- the command line ------------------------------------------------------------------------------------

def _cli_value(field) -> list[str]:
    """A command line that sets the row to a value other than the notebook's."""
    other = {"variant": "nn-rmsprop", "impl": "tf-tape", "device": "auto", "optimizer": "momentum", "lr": "0.003",
             "steps": "77", "seed": "5", "reduction": "mean", "dtype": "float32", "points": "64", "noise": "0.25",
             "schedule": "step", "gamma": "0.7", "step_size": "13", "lr_min": "0.001", "loss_below": "0.5",
             "plateau_tol": "1e-05", "plateau_window": "17", "start": "0.5,-2,1,0"}
    if field.kind == "bool":
        return [field.flag]
    argv = [f"{field.flag}={other[field.name]}"]
    if field.name in ("gamma", "step_size"):
        argv.append("--schedule=step")
    if field.name == "lr_min":
        argv.append("--schedule=cosine")
    if field.name == "plateau_window":
        argv.append("--plateau-tol=1e-6")
    if field.name == "device":
        argv.append("--impl=torch-autograd")
    if field.name == "noise":
        argv.append("--seed=0")  # other noise than the notebook's is fresh data
    return argv


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_that_every_row_has_a_cli_flag_that_sets_it(field) -> None:
    argv = ["run", PAGE, *_cli_value(field)]
    config = cli.config_from_args(cli._parser().parse_args(argv))
    value = setting_values(config)[field.name]
    expected = True if field.kind == "bool" else _cli_value(field)[0].split("=", 1)[1]
    if field.kind in ("choice", "bool"):
        assert value == expected
    elif field.kind == "optional-floats":
        assert value == tuple(float(v) for v in expected.split(","))
    else:
        assert value == (int(expected) if field.whole else float(expected))
    assert setting_values(RunConfig.notebook(PAGE))[field.name] != value, "the flag changed the setting"


# --- which schedule reads which setting: the rows' own (Field.schedules, fitcore.settings.schedule_settings) ---

def test_that_each_schedule_reads_the_settings_its_rows_name_and_the_help_says_which() -> None:
    from fitcore import SCHEDULES
    from fitcore.settings import schedule_settings
    assert {kind: schedule_settings(kind) for kind in SCHEDULES} == {
        "constant": (), "step": ("gamma", "step_size"), "exponential": ("gamma",), "cosine": ("lr_min",)}
    for field in FIELDS:
        assert set(field.schedules) <= set(SCHEDULES), field.name
        assert not field.schedules or field.part == "schedule", field.name
    assert [cli._option(FIELD[name])["help"] for name in ("gamma", "step_size", "lr_min")] == \
        ["decay factor (step, exponential)", "steps between decays (step)", "final learning rate (cosine)"]


def test_that_a_schedule_setting_given_to_another_schedule_is_read_so_by_the_cli_the_export_and_the_sidebar(
        monkeypatch) -> None:
    from fitcore import cli_arguments, export_script
    from test_dashboard import open_page
    monkeypatch.setitem(FIELD, "gamma", dataclasses.replace(FIELD["gamma"], schedules=("step", "exponential",
                                                                                       "cosine")))
    args = cli._parser().parse_args(["run", PAGE, "--schedule", "cosine", "--gamma", "0.25", "--lr-min", "0.001"])
    config = cli.config_from_args(args)
    assert (config.schedule.kind, config.schedule.gamma, config.schedule.lr_min) == ("cosine", 0.25, 0.001)
    assert "--gamma F --lr-min F" in next(line for line in cli.listing_lines() if line.startswith("  cosine"))
    arguments = cli_arguments(config)
    assert arguments[arguments.index("--gamma") + 1] == "0.25"
    assert "GAMMA = 0.25" in export_script(config).splitlines()
    page = "linear-2x"
    shown = {w.key for w in open_page(page, {"sched": "cosine"}).sidebar.number_input}
    assert {f"{page}:gamma", f"{page}:lr_min"} <= shown and f"{page}:step_size" not in shown


# --- the page: links and the sidebar's changes (ui.page.settings, ui.page.sidebar) -------------------------

PAGE_VALUES = {"variant": "nn-rmsprop", "impl": "torch-nn", "compiled": True, "device": "auto",
               "optimizer": "momentum", "lr": 0.0003, "steps": 77, "seed": 5, "reduction": "mean",
               "dtype": "float32", "points": 500, "noise": 0.125, "schedule": "step", "gamma": 0.7, "step_size": 13,
               "lr_min": 0.001, "loss_below": 0.001, "plateau_tol": 1e-05, "plateau_window": 17,
               "start": (0.5, -2.0, 1.0, 0.25)}


def test_that_every_row_the_page_offers_goes_through_a_link_and_comes_back() -> None:
    from ui.page.settings import PAGE_FIELDS, defaults, parse_query, to_query
    problem = get_problem(PAGE)
    assert {f.name for f in PAGE_FIELDS} == set(PAGE_VALUES)
    base = defaults(problem) | {"seed": 0}   # fresh data, so other points and noise are possible
    for field in PAGE_FIELDS:
        assert base[field.name] != PAGE_VALUES[field.name], field.name
        values = base | {field.name: PAGE_VALUES[field.name]}
        query = to_query(problem, values)
        assert field.url in query and field.name not in query or field.name == field.url, field.name
        parsed, problems = parse_query(problem, query)
        assert problems == [] and parsed[field.name] == PAGE_VALUES[field.name], (field.name, problems)
    everything = base | PAGE_VALUES
    assert parse_query(problem, to_query(problem, everything)) == (everything, [])


def test_that_a_link_is_read_by_its_url_keys_and_the_values_by_runconfig_names() -> None:
    from ui.page.settings import parse_query
    values, problems = parse_query(get_problem(PAGE), {"opt": "adam", "red": "mean", "every": "9", "sched": "step"})
    assert problems == []
    assert (values["optimizer"], values["reduction"], values["step_size"], values["schedule"]) == \
        ("adam", "mean", 9, "step")
    assert parse_query(get_problem(PAGE), {"optimizer": "adam"})[1] == ["unknown setting 'optimizer' ignored"]


def test_that_the_page_table_takes_its_bounds_from_the_fitcore_table() -> None:
    from ui.page.settings import settings_for
    for setting in settings_for(get_problem(PAGE)):
        if setting.run and setting.name != "points":
            assert (setting.low, setting.high) == (FIELD[setting.name].widest or (None, None)), setting.name
            assert (setting.key, setting.label) == (FIELD[setting.name].url, FIELD[setting.name].label)


def test_that_the_sidebar_takes_a_faster_path_by_runconfig_names_and_refuses_any_other_name() -> None:
    from fitcore.estimate import Alternative
    from ui.page import sidebar
    from ui.page.settings import PAGE_NAMES
    from ui.page.state import DemoState
    exact = Alternative("analytic", "Use the exact engine", {"impl": "analytic", "compiled": False,
                                                             "dtype": "float64"}, "")
    assert set(exact.changes) <= PAGE_NAMES
    with pytest.raises(KeyError, match="opt"):
        sidebar.set_values(get_problem(PAGE), DemoState(), {"opt": "adam"})


def test_that_the_json_of_a_run_names_every_row_as_the_table_does() -> None:
    from fitcore import train
    config = RunConfig.notebook("linear-2x", schedule=Schedule("step", 0.7, 13), stop=StopConditions(plateau_tol=1e-5))
    result = train(config).result()
    assert {name: result[name] for name in FIELD} == setting_values(config)


def test_that_a_link_carries_a_chosen_start_as_the_cli_writes_it_and_one_without_starts_where_the_data_does() -> None:
    from ui.page.settings import defaults, parse_query, to_query
    problem = get_problem(PAGE)
    assert "start" not in to_query(problem, defaults(problem)), "a link without a chosen start looks as before"
    assert parse_query(problem, {"steps": "50"}) == (defaults(problem) | {"steps": 50}, [])
    assert parse_query(problem, {"start": "0.5, -2,1e-3,4"})[0]["start"] == (0.5, -2.0, 0.001, 4.0)
    assert parse_query(problem, {"start": "notebook"}) == (defaults(problem), [])
    for bad, why in (("1,2,3", "not 4 numbers (one for each of a, b, c, d)"), ("1,2,x,4", "not a number"),
                     ("1,2,3,nan", "not a finite number"), ("1,2,3,2e6", "outside -1e+06 … 1e+06")):
        values, problems = parse_query(problem, {"start": bad})
        assert values["start"] is None and problems == [f"start={bad!r} is {why}; using notebook"], problems


def test_that_the_sidebar_labels_bounds_and_explains_its_widgets_as_the_rows_say() -> None:
    from test_dashboard import open_page
    from ui.page.settings import settings_for
    page = "linear-2x"
    at = open_page(page)
    widget = lambda kind, name: getattr(at.sidebar, kind)(key=f"{page}:{name}")  # noqa: E731
    for kind, name in (("selectbox", "variant"), ("selectbox", "impl"), ("toggle", "compiled"),
                       ("selectbox", "optimizer"), ("number_input", "lr"), ("number_input", "steps"),
                       ("radio", "reduction"), ("radio", "dtype"), ("number_input", "points"),
                       ("number_input", "noise"), ("selectbox", "schedule")):
        assert widget(kind, name).label == FIELD[name].widget_label, name
        if FIELD[name].tip is not None:
            assert widget(kind, name).help == FIELD[name].tip, name
    for name in ("seed", "loss_below", "plateau_tol"):   # an optional setting's switch
        switch = widget("toggle", f"{name}_on")
        assert (switch.label, switch.help or None) == (FIELD[name].toggle, FIELD[name].tip), name
    bounds = {s.name: (s.low, s.high) for s in settings_for(get_problem(page))}
    for name in ("lr", "steps", "noise"):
        assert (widget("number_input", name).min, widget("number_input", name).max) == \
            pytest.approx(bounds[name]), name
    assert widget("select_slider", "decade").label.startswith(FIELD["lr"].label)


# --- the notebook comparison (fitcore.config.notebook_differences) ------------------------------------------

def test_that_a_run_is_said_to_depart_from_its_notebook_in_the_rows_own_phrases() -> None:
    from fitcore.config import notebook_differences
    config = RunConfig.notebook(PAGE).replace(lr=0.02, steps=77, dtype="float32", optimizer="momentum",
                                              impl="torch-autograd")
    phrase = lambda name, value: FIELD[name].departs.format(value)  # noqa: E731
    assert notebook_differences(config) == [phrase("optimizer", "momentum"), phrase("lr", 0.02)], \
        "steps, dtype and the implementation leave the printed lines comparable"
    fresh = RunConfig.notebook(PAGE, seed=0, points=500, noise=0.125, schedule=Schedule("exponential", 0.5))
    assert notebook_differences(fresh) == [phrase("seed", 0), phrase("points", 500), phrase("noise", 0.125),
                                           phrase("schedule", "exponential")]
    assert notebook_differences(RunConfig.notebook(PAGE)) == []


# --- your own data's source: rows of the same schema (fitcore.settings.SOURCE_FIELDS) ------------------------

def test_that_no_two_rows_of_the_whole_schema_share_a_url_key_or_a_flag() -> None:
    from fitcore.settings import SOURCE_FIELDS
    for column in ("url", "flag"):
        values = [getattr(f, column) for f in FIELDS + SOURCE_FIELDS if getattr(f, column) is not None]
        assert len(set(values)) == len(values), column


def test_that_the_source_rows_keep_the_link_keys_and_options_links_and_commands_have_always_used() -> None:
    from fitcore.settings import SOURCE_FIELDS
    assert {f.name: f.url for f in SOURCE_FIELDS if f.url is not None} == {
        "kind": "src", "expression": "fn", "x_min": "xmin", "x_max": "xmax", "degree": "deg", "standardise": "std"}
    assert {f.name: f.flag for f in SOURCE_FIELDS if f.flag is not None} == {
        "expression": "--function", "x_min": "--x-min", "x_max": "--x-max", "file": "--csv",
        "x_column": "--x-column", "y_column": "--y-column", "degree": "--degree", "standardise": "--standardise"}


def test_that_a_new_source_row_shows_up_in_the_link_and_on_the_command_line(monkeypatch) -> None:
    import ui.custom.settings as source_settings
    from fitcore.custom import function_source
    from fitcore.settings import SOURCE_FIELDS, Field
    again = Field("degree", "int", "Degree, once more", "deg2", "--degree-again", "the degree, once more",
                  Bounds(1, 5), part="custom")
    monkeypatch.setattr(source_settings, "SOURCE_FIELDS", SOURCE_FIELDS + (again,))
    monkeypatch.setattr(cli, "SOURCE_FIELDS", SOURCE_FIELDS + (again,))
    assert source_settings.source_query(function_source("sin(x)", -1, 1, 4))["deg2"] == "4"
    assert source_settings.parse_source_query({"deg2": "2"}) == (source_settings.default_source_values() |
                                                                  {"deg2": 2}, [])
    assert source_settings.parse_source_query({"deg2": "7"})[1] == ["deg2='7' is not a whole number from 1 to 5; "
                                                                    "using 3"]
    args = cli._parser().parse_args(["run", "custom", "--function", "sin(x)", "--degree-again", "2"])
    assert cli.config_from_args(args).custom.degree == 2


CONSTANT = (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Tuple)


def _literal_constants(path) -> dict[str, int]:
    """Module-level names a file gives a literal value (a number, -1e6, 2**32 - 1, (1, 8)), with their lines."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, CONSTANT):
            for target in node.targets:
                for name in (target.elts if isinstance(target, ast.Tuple) else [target]):
                    if isinstance(name, ast.Name):
                        found[name.id] = node.lineno
    return found


def test_that_each_bound_is_written_once_in_the_schema_and_read_from_there() -> None:
    from pathlib import Path
    from fitcore import custom, expression, settings
    from fitcore.settings import SOURCE_FIELD
    assert SOURCE_FIELD["degree"].bounds == Bounds(settings.MIN_DEGREE, settings.MAX_DEGREE)
    assert SOURCE_FIELD["x_min"].bounds == SOURCE_FIELD["x_max"].bounds == \
        Bounds(-settings.MAX_ABS_X, settings.MAX_ABS_X)
    assert SOURCE_FIELD["expression"].bounds.high == settings.MAX_EXPRESSION_LENGTH == expression.MAX_LENGTH
    assert (custom.MIN_DEGREE, custom.MAX_DEGREE, custom.MAX_ABS_X) == \
        (settings.MIN_DEGREE, settings.MAX_DEGREE, settings.MAX_ABS_X)
    root = Path(settings.__file__).resolve().parent.parent
    bounds = {name for name in _literal_constants(Path(settings.__file__)) if name.startswith(("MAX_", "MIN_"))}
    again = {f"{path.relative_to(root)}:{line} {name}" for package in ("fitcore", "ui")
             for path in (root / package).rglob("*.py") if path.name != "settings.py" or path.parent.name != "fitcore"
             for name, line in _literal_constants(path).items() if name in bounds}
    assert again == set(), "a bound of fitcore.settings written a second time"


@pytest.mark.parametrize("name, inside, outside", [("degree", "8", "9"), ("x_min", "-1e6", "-1.5e6")])
def test_that_the_link_the_command_line_and_the_check_take_a_source_bound_alike(name, inside, outside) -> None:
    from ui.custom.settings import parse_source_query
    from fitcore.settings import SOURCE_FIELD
    field = SOURCE_FIELD[name]
    assert parse_source_query({field.url: inside})[1] == []
    assert parse_source_query({field.url: outside})[1] != []
    function = ["run", "custom", "--function", "x"]
    assert cli.main([*function, f"{field.flag}={inside}", "--steps", "1"]) == 0
    assert cli.main([*function, f"{field.flag}={outside}", "--steps", "1"]) == 2
