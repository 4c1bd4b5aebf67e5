"""Your own data: the typed-function parser, the CSV reader, the polynomial problems they define, their
condition numbers, runs on every implementation, the lessons, exported scripts and the CLI.

Expectations are computed here, independently: function values with NumPy written out by hand, the
design matrix and its Hessian from the formulas, optimizer trajectories with tests/conftest's
reference formulas. The bad CSV files are fixtures in tests/fixtures/csv/ (the one file over 5 MB
is written at test time rather than kept in the repository).
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fitcore
from fitcore import ConfigError, Run, RunConfig, export_script, train
from fitcore import cli
from fitcore.csvfile import MAX_BYTES, CsvError, read_csv
from fitcore.custom import (CUSTOM_ID, PRESETS, CustomSource, DataSourceError, EvaluationError, check_run_data,
                            csv_source, custom_problem, function_source, polynomial_text, standardisation)
from fitcore.custom_conditioning import Conditioning, conditioning
from fitcore.custom_lessons import CUSTOM_LESSONS
from fitcore.lessons import lesson_config
from fitcore.expression import MAX_LENGTH, ParseError, parse_function

from conftest import ALL_IMPLS, assert_params_close, csv_fixture, reference_run, require

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "csv"
REPO = Path(__file__).resolve().parent.parent
MIXED = "0.5*x**3 - sin(2*x)"


def fixture(name: str) -> bytes:
    return csv_fixture(name)


def table(name: str) -> Any:
    return read_csv(fixture(name), name)


# --- the parser: accepted ------------------------------------------------------------------------------

ACCEPTED: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
    (MIXED, lambda x: 0.5 * x**3 - np.sin(2 * x)),
    ("x", lambda x: x),
    ("-x**2", lambda x: -(x**2)),
    ("(-x)**2", lambda x: x**2),
    ("2*pi*x", lambda x: 2 * math.pi * x),
    ("e**x", lambda x: math.e**x),
    ("exp(-x**2/2)/sqrt(2*pi)", lambda x: np.exp(-(x**2) / 2) / np.sqrt(2 * math.pi)),
    ("abs(x) + sign(x)", lambda x: np.abs(x) + np.sign(x)),
    ("step(x)", lambda x: (x >= 0).astype(float)),
    ("x - floor(x)", lambda x: x - np.floor(x)),
    ("ceil(x)", np.ceil),
    ("tanh(3*x) + sinh(x) - cosh(x)", lambda x: np.tanh(3 * x) + np.sinh(x) - np.cosh(x)),
    ("asin(x/2) + arccos(x/2) + atan(x) + arctan(x)", lambda x: np.pi / 2 + 2 * np.arctan(x)),
    ("log(x + 2) + ln(x + 2) + log10(x + 2) + log2(x + 2)",
     lambda x: 2 * np.log(x + 2) + np.log10(x + 2) + np.log2(x + 2)),
    ("tan(x/4)", lambda x: np.tan(x / 4)),
    ("x**-2 * 0 + 3", lambda x: np.full_like(x, 3.0)),  # x = 0 is not in the test grid
    ("5", lambda x: np.full_like(x, 5.0)),
    ("pi * e", lambda x: np.full_like(x, math.pi * math.e)),
    ("1e-3*x + 2.5E2", lambda x: 0.001 * x + 250.0),
    ("  2 × x − 1 ÷ 4 · x  ", lambda x: 2 * x - 1 / 4 * x),  # typographic operators, spaces around
    ("2*π*x", lambda x: 2 * math.pi * x),
    ("x**100 * 0", lambda x: np.zeros_like(x)),
    ("((((((x))))))", lambda x: x),
]
GRID = np.linspace(-1.75, 1.75, 8)  # avoids 0 and ±2, where some accepted functions are singular


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_that_an_allowed_function_evaluates_to_what_numpy_gives(text: str, expected: Callable) -> None:
    values = parse_function(text).values(GRID)
    np.testing.assert_allclose(values, expected(GRID), rtol=1e-13, atol=1e-13)
    assert values.shape == GRID.shape


@pytest.mark.parametrize("text", [t for t, _ in ACCEPTED])
def test_that_the_written_out_numpy_code_has_the_same_operations_as_the_typed_function(text: str) -> None:
    expression = parse_function(text)
    code = expression.numpy_code("x")
    names = {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}
    assert names <= {"x", "np"}, code
    calls = [node.func for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)]
    assert all(isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "np" for f in calls)


def test_that_latex_reads_like_the_formula() -> None:
    assert parse_function(MIXED).latex == r"0.5\,x^{3} - \sin\left(2\,x\right)"
    assert parse_function("exp(-x)/sqrt(x)").latex == r"\frac{e^{-x}}{\sqrt{x}}"
    assert parse_function("abs(x)**2").latex == r"\left(\left|x\right|\right)^{2}"
    assert parse_function("1e-05*pi").latex == r"10^{-5}\,\pi"
    assert parse_function("2.5e-30*2").latex == r"2.5 \times 10^{-30} \cdot 2"


# --- the parser: refused -------------------------------------------------------------------------------

REFUSED = [
    # (text, words the message must contain, column it points at, or None)
    ("y + 1", ["'y'", "not a name", "only variable is x"], 1),
    ("sin(2*t)", ["'t'", "column 7"], 7),
    ("X**2", ["lower-case x"], 1),
    ("sine(x)", ["'sine'", "not a function", "Did you mean sin"], 1),
    ("__import__('os').system('ls')", ["Attribute access", "column 1"], 1),
    ("__import__('os')", ["'__import__'", "not a function you can use"], 1),
    ("np.sin(x)", ["Attribute access", "bare name"], 1),
    ("x.real", ["Attribute access"], 1),
    ("lambda x: x", ["lambda"], 1),
    ("[x for x in range(3)]", ["list comprehension"], 1),
    ("sum(x for x in [1])", ["'sum'", "not a function"], 1),
    ("{x for x in [1]}", ["set comprehension"], 1),
    ("x[0]", ["Indexing"], 1),
    ("(x, 1)", ["tuple"], 1),
    ("x if x > 0 else 1", ["If/else"], 1),
    ("x > 1", ["comparison"], 1),
    ("x and 1", ["And/or"], 1),
    ("(y := 2)", ["The := operator"], 2),
    ("'x' + x", ["Text in quotes"], 1),
    ("f'{x}'", ["f-string"], 1),
    ("1j * x", ["complex number"], 1),
    ("True * x", ["True/False"], 1),
    ("x^2", ["^ is not a power", "x**2"], 1),
    ("x % 2", ["remainder"], 1),
    ("x // 2", ["floor division"], 1),
    ("x | 1", ["abs(x)"], 1),
    ("~x", ["'not' or '~'"], 1),
    ("sin(x, 2)", ["exactly one argument"], 1),
    ("sin()", ["exactly one argument"], 1),
    ("sin(x=1)", ["keyword argument"], 7),
    ("sin(*x)", ["exactly one argument"], 1),
    ("sin", ["without its parentheses"], 1),
    ("x**1000", ["exponent 1000", "too large", "±100"], 4),
    ("x**(2*60)", ["exponent 120", "too large"], 5),
    ("9**9**9", ["exponent 3.8742e+08", "limited to ±100"], 4),
    ("2**60 * x", ["whole number", "2.0"], 1),
    ("99999999999999999999 * x", ["whole number above", "e-notation"], 1),
    ("1e400 * x", ["too large to be finite"], 1),
    ("1/0 + x", ["1/0 divides by zero"], 1),
    ("x + (-8)**(1/3)", ["not a real number"], 5),
    ("sqrt(-1) * x", ["sqrt(-1) is not a finite number"], 1),
    ("exp(1000) + x", ["exp(1000) is not a finite number"], 1),
    ("2x", ["Write multiplication with *", "2*x"], 1),
    ("3 sin(x)", ["column"], None),
    ("(x + 1", ["parentheses do not pair up"], None),
    ("x +", ["cannot be read"], None),
    ("import os", ["cannot be read"], None),
    ("x; import os", ["cannot be read"], None),
    ("", ["type a function of x"], None),
    ("   ", ["type a function of x"], None),
    ("x" + " + x" * 60, [f"under {MAX_LENGTH}"], None),
    ("-" * 45 + "x", ["nesting deeper"], None),
    ("x\x00", ["invisible control character"], 2),
]


@pytest.mark.parametrize("text, words, column", REFUSED, ids=[repr(t[0])[:40] for t in REFUSED])
def test_that_a_refused_function_gets_a_message_pointing_at_its_offending_part(
        text: str, words: list[str], column: int | None) -> None:
    with pytest.raises(ParseError) as caught:
        parse_function(text)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    if column is not None:
        assert caught.value.column == column, message
        pointer = caught.value.pointer.splitlines()
        assert pointer[1].index("^") == column - 1


def test_that_a_function_that_divides_by_zero_over_the_range_names_the_x_where_it_fails() -> None:
    expression = parse_function("1/x")
    with pytest.raises(EvaluationError, match=r"1/x is not finite at x = 0: a division by zero.*x range"):
        expression.values(np.linspace(-1, 1, 101))
    expression.values(np.linspace(-1, 1, 100))  # an even count steps over 0: fine
    with pytest.raises(EvaluationError, match=r"log\(x\) is not finite at x = -1 \(and 49 more points\)"):
        parse_function("log(x)").values(np.linspace(-1, 1, 100))
    with pytest.raises(EvaluationError, match="not finite at x = 710"):
        parse_function("exp(x)").values(np.array([709.0, 710.0]))


# --- the parser never runs anything ------------------------------------------------------------------------

TOKENS = ["x", "pi", "e", "1", "2.5", "1e3", "0", "+", "-", "*", "/", "**", "(", ")", " ", "sin", "exp", "log",
          "sqrt", "abs", "step", ",", ".", "[", "]", "lambda", ":", "for", "in", "if", "else", "__import__", "'os'",
          "os", "system", "eval", "exec", "open", "^", "%", "//", "@", "=", "==", "<", "not", "and", "~", "9**9",
          "1/0", "**-1", "()", "{", "}", "j", "x.", "__class__", "__subclasses__", "globals", ";", "\n", "\\",
          "#", "\"", "'", "`", "$", "π", "−", "×", "1" * 30]
TEXTS = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_that_no_typed_text_runs_code_or_raises_anything_but_the_parsers_own_error(text: str) -> None:
    """eval and exec must never be called; compile only to build a syntax tree (ast.parse's own call)."""
    real_compile = builtins.compile

    def syntax_tree_only(source: Any, filename: Any, mode: Any, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
        assert flags & ast.PyCF_ONLY_AST, "compile() was asked for code, not a syntax tree"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eval or exec was called")

    with mock.patch.object(builtins, "eval", forbidden), mock.patch.object(builtins, "exec", forbidden), \
            mock.patch.object(builtins, "compile", syntax_tree_only), \
            mock.patch.object(builtins, "__import__", wraps=builtins.__import__) as imports:
        try:
            expression = parse_function(text)
        except ParseError as error:
            assert str(error)
            return
        try:
            values = expression.evaluate(np.linspace(-3, 3, 7))
            assert values.shape == (7,)
            expression.values(np.linspace(-3, 3, 7))
        except EvaluationError as error:
            assert str(error)
        assert ast.parse(expression.numpy_code("x"))
    assert not any(call.args and call.args[0] in ("os", "subprocess", "shutil") for call in imports.call_args_list)


def test_that_an_attack_through_the_function_box_leaves_no_trace(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    attacks = [f"__import__('os').system('touch {target}')", f"open('{target}', 'w')",
               "(lambda: __import__('os').system('touch " + str(target) + "'))()",
               "[c for c in ().__class__.__base__.__subclasses__()]", "eval('1')", "exec('x=1')",
               "globals()", "x.__class__.__mro__"]
    for attack in attacks:
        with pytest.raises(ParseError):
            parse_function(attack)
    assert not target.exists()


# --- the CSV reader --------------------------------------------------------------------------------------

GOOD = [
    ("measurements.csv", ("time", "temperature"), [0, 1, 2, 3, 4, 5], [1.2, 2.9, 5.1, 9.8, 17.2, 26.1], "commas"),
    ("no_header.csv", ("column 1", "column 2"), [0, 1, 2, 3], [1, 3, 5, 7], "no header row"),
    ("semicolon_decimal_comma.csv", ("zeit", "wert"), [0.5, 1.5, 2.5, 3.5], [1.25, 2.25, 6.25, 12.25],
     "semicolons, decimal commas"),
    ("tab_separated.csv", ("x", "y"), [-1, 0, 1, 2], [1, 0, 1, 4], "tabs"),
    ("comments_blank_lines_quotes.csv", ("x", "y"), [1, 2, 3, 4], [2.5, 4.5, 6.5, 8.5], "commas"),
    ("trailing_delimiters.csv", ("x", "y"), [1, 2, 3], [2, 4, 6], "2 columns"),
    ("windows_bom_crlf.csv", ("x", "y"), [1, 2, 3], [10, 20, 30], "a header row"),
]


@pytest.mark.parametrize("name, names, x, y, described", GOOD, ids=[g[0] for g in GOOD])
def test_that_a_good_file_is_read_to_its_two_columns(name: str, names: tuple, x: list, y: list,
                                                     described: str) -> None:
    read = table(name)
    got_x, got_y = read.xy()
    assert read.names[:2] == names
    np.testing.assert_array_equal(got_x, np.array(x, dtype=float))
    np.testing.assert_array_equal(got_y, np.array(y, dtype=float))
    assert described in read.describe()


def test_that_the_x_and_y_columns_can_be_any_two_numeric_columns_and_text_columns_are_skipped() -> None:
    read = table("three_columns.csv")
    assert read.numeric_columns == [1, 2, 3]
    x, y = read.xy()  # by default the first two numeric columns
    np.testing.assert_array_equal(x, [1.60, 1.75, 1.82, 1.68])
    np.testing.assert_array_equal(y, [55.0, 72.5, 80.1, 61.3])
    x, y = read.xy(3, 1)
    np.testing.assert_array_equal(x, [31, 45, 27, 52])
    np.testing.assert_array_equal(y, [1.60, 1.75, 1.82, 1.68])
    source = csv_source(read, 3, 2, degree=2)
    assert (source.layout.x_name, source.layout.y_name) == ("age", "weight")
    with pytest.raises(CsvError, match="same column"):
        read.xy(1, 1)
    with pytest.raises(CsvError, match="line 2, column 'label' holds 'ann', which is not a number"):
        read.xy(0, 1)


BAD = [
    ("empty.csv", ["is empty", "x,y"]),
    ("blank_lines_only.csv", ["is empty"]),
    ("header_only.csv", ["header (x, y) but no data rows"]),
    ("one_row.csv", ["single data row (line 2)", "at least two points"]),
    ("non_numeric.csv", ["line 4, column 'y' holds 'abc', which is not a number"]),
    ("units_in_cells.csv", ["line 2, column 'y' holds '2 kg'", "no units"]),
    ("nan.csv", ["line 3, column 'y' holds 'NaN'", "missing, infinite"]),
    ("infinity.csv", ["line 4, column 'x' holds 'inf'", "missing, infinite"]),
    ("huge_number.csv", ["line 3, column 'y' holds '1e999'", "too large to be a finite number"]),
    ("empty_cell.csv", ["line 3, column 'y' is empty"]),
    ("excel_error.csv", ["line 3, column 'y' holds '#DIV/0!'"]),
    ("ragged_row.csv", ["line 3 has 3 values but the first line has 2"]),
    ("pipe_delimiter.csv", ["separated by '|'", "commas, semicolons or tabs"]),
    ("space_delimiter.csv", ["separated by spaces", "commas, semicolons or tabs"]),
    ("one_column.csv", ["only one column", "x and y"]),
    ("text_only.csv", ["no column of numbers"]),
    ("latin1.csv", ["not UTF-8", "byte 0xe9 on line 1, column 7", "CSV UTF-8"]),
    ("utf16.csv", ["UTF-16", "UTF-8"]),
    ("nul_bytes.csv", ["binary data"]),
    ("excel_renamed.csv", ["Excel workbook", "Save As", "CSV"]),
    ("png_renamed.csv", ["PNG image", "not a CSV text file"]),
    ("too_many_rows.csv", ["more than 100,000 rows", "Thin the data"]),
    ("x_constant.csv", ["every x value (column 'x') is 3", "singular"]),
]


@pytest.mark.parametrize("name, words", BAD, ids=[b[0] for b in BAD])
def test_that_every_bad_file_gets_a_message_naming_the_problem_and_what_would_work(name: str,
                                                                                  words: list[str]) -> None:
    with pytest.raises(CsvError) as caught:
        csv_source(read_csv(fixture(name), name), degree=1)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert "Traceback" not in message and "\n" not in message


def test_that_a_file_over_5_mb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"x,y\n" + b"1,2\n" * (MAX_BYTES // 4 + 1))
    with pytest.raises(CsvError, match=r"big.csv is 5.0 MB; files are limited to 5 MB"):
        read_csv(big.read_bytes(), "big.csv")


def test_that_exactly_100000_rows_are_accepted_and_one_more_is_not() -> None:
    rows = "\n".join(f"{i},{i % 7}" for i in range(100_000))
    assert len(read_csv(("x,y\n" + rows).encode(), "ok.csv").rows) == 100_000
    with pytest.raises(CsvError, match="100,001 data rows; the limit is 100,000"):
        read_csv((rows + "\n100000,1").encode(), "over.csv")


def test_that_a_degree_needs_more_distinct_x_values_than_it_has_coefficients() -> None:
    read = table("few_distinct_x.csv")
    assert csv_source(read, degree=2).degree == 2
    with pytest.raises(DataSourceError, match="degree-3 polynomial needs at least 4 distinct x values and the data "
                                              "have 3.*Lower the degree to 2"):
        csv_source(read, degree=3)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.lists(st.sampled_from(["1", "-2.5", "3e2", "x", "", "nan", "1,5", " 7 ", "\"4\"",
                                                    "#", "é", "inf"]), min_size=0, max_size=4), max_size=8)
                 .map(lambda rows: "\n".join(st_join(row) for row in rows).encode()),
                 st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_that_no_file_makes_the_reader_raise_anything_but_its_own_message(data: bytes) -> None:
    try:
        read = read_csv(data, "random.csv")
        source = csv_source(read, degree=1)
    except DataSourceError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert len(source.x) == len(source.y) >= 2
    assert np.isfinite(source.x).all() and np.isfinite(source.y).all()


def st_join(row: list[str]) -> str:
    return ",".join(row) if len(row) % 2 else ";".join(row)


# --- the polynomial problem ------------------------------------------------------------------------------

def test_that_the_features_are_the_powers_of_x_up_to_the_degree() -> None:
    source = function_source(MIXED, -2, 2, degree=5)
    problem = custom_problem(source)
    x = np.linspace(-2, 2, 9)
    phi, offset = problem.design(x)
    np.testing.assert_array_equal(phi, np.stack([x**k for k in range(6)], axis=1))
    assert not offset.any()
    assert problem.param_names == ("w0", "w1", "w2", "w3", "w4", "w5")
    assert problem.formula_code == "w0 + w1*x + w2*x**2 + w3*x**3 + w4*x**4 + w5*x**5"
    np.testing.assert_allclose(problem.truth(x), 0.5 * x**3 - np.sin(2 * x), rtol=1e-15)


def test_that_standardised_features_are_powers_of_the_standardised_x() -> None:
    function = function_source(MIXED, 0, 4, degree=3, standardise=True)
    mu, sigma = 2.0, 4 / math.sqrt(12)  # the uniform distribution on [0, 4]
    assert standardisation(function) == pytest.approx((mu, sigma), rel=1e-15)
    x = np.linspace(0, 4, 7)
    phi, _ = custom_problem(function).design(x)
    np.testing.assert_allclose(phi, np.stack([((x - mu) / sigma) ** k for k in range(4)], axis=1), rtol=1e-15)
    read = csv_source(table("measurements.csv"), degree=2, standardise=True)
    data = np.array([0, 1, 2, 3, 4, 5.0])
    assert standardisation(read) == pytest.approx((data.mean(), data.std()), rel=1e-15)
    assert "z = \\frac{x - 2.5}{1.708}" in custom_problem(read).formula_latex


def test_that_a_function_source_draws_evenly_spaced_x_and_seeded_noise() -> None:
    source = function_source("x**2", -1, 3, degree=2)
    data = fitcore.make_dataset(custom_problem(source), 7, 41, 0.25, "float64")
    x = np.linspace(-1, 3, 41)
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, x**2 + 0.25 * np.random.RandomState(7).standard_normal(41))
    np.testing.assert_array_equal(data.init, np.zeros(3))


def test_that_a_file_source_trains_on_the_files_values_as_they_are() -> None:
    source = csv_source(table("measurements.csv"), degree=2)
    data = fitcore.make_dataset(custom_problem(source), 3, 6, 0.0, "float32")
    np.testing.assert_array_equal(data.x, np.float32([0, 1, 2, 3, 4, 5]))
    np.testing.assert_array_equal(data.y, np.float32([1.2, 2.9, 5.1, 9.8, 17.2, 26.1]))
    assert not np.isfinite(custom_problem(source).truth(np.array([0.5]))).any()  # a file has no true curve


def _hessian_eigenvalues(phi: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(2.0 / len(phi) * phi.T @ phi)


@pytest.mark.parametrize("x_range, degree", [((-2, 2), 3), ((-3, 3), 6), ((0, 4), 4), ((-1, 1), 8)])
def test_that_the_condition_numbers_are_those_of_the_hessian_before_and_after_standardising(
        x_range: tuple[float, float], degree: int) -> None:
    source = function_source(MIXED, *x_range, degree=degree)
    measured = conditioning(source, 200)
    x = np.linspace(*x_range, 200)
    raw = _hessian_eigenvalues(np.stack([x**k for k in range(degree + 1)], axis=1))
    mu, sigma = (x_range[0] + x_range[1]) / 2, (x_range[1] - x_range[0]) / math.sqrt(12)
    standard = _hessian_eigenvalues(np.stack([((x - mu) / sigma) ** k for k in range(degree + 1)], axis=1))
    assert measured.raw == pytest.approx((raw[-1], raw[0]), rel=1e-6)
    assert measured.standardised == pytest.approx((standard[-1], standard[0]), rel=1e-6)
    assert measured.raw_ratio == pytest.approx(raw[-1] / raw[0], rel=1e-6)


def test_that_standardising_shrinks_the_condition_number_of_raw_x6_by_orders_of_magnitude() -> None:
    measured = conditioning(function_source(MIXED, 0, 10, degree=6), 200)
    assert measured.raw_ratio > 1e13 and measured.standardised_ratio < 1e4
    assert Conditioning.steps_per_tenfold(measured.standardised_ratio) == pytest.approx(
        math.log(10) / -math.log(1 - 1 / measured.standardised_ratio))
    assert Conditioning.steps_per_tenfold(math.inf) == math.inf


def test_that_the_default_learning_rate_is_stable_for_the_mean_loss() -> None:
    for preset in PRESETS:
        for degree in (1, 4, 8):
            config = RunConfig.notebook(CUSTOM_ID, custom=function_source(preset.expression, preset.x_min,
                                                                           preset.x_max, degree))
            assert config.lr < fitcore.Run(config).quad.max_stable_lr, (preset.key, degree)


def test_that_every_preset_parses_and_is_finite_over_its_range() -> None:
    for preset in PRESETS:
        expression = parse_function(preset.expression)
        assert np.isfinite(expression.values(np.linspace(preset.x_min, preset.x_max, 1001))).all()


def test_that_polynomial_coefficients_become_a_function_the_parser_accepts() -> None:
    assert polynomial_text([0, -1, 0, 0.5]) == "-x + 0.5*x**3"
    assert polynomial_text([1.5, 1, -2]) == "1.5 + x - 2*x**2"
    assert polynomial_text([0, 0]) == "0"
    x = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(parse_function(polynomial_text([3, -0.25, 0, 1e-3])).values(x),
                               3 - 0.25 * x + 1e-3 * x**3)


# --- RunConfig describes a custom run ------------------------------------------------------------------------

def test_that_a_custom_config_is_hashable_equal_by_value_and_self_contained() -> None:
    first = RunConfig.notebook(CUSTOM_ID, custom=function_source(MIXED, -2, 2, 4), steps=10)
    again = RunConfig.notebook(CUSTOM_ID, custom=function_source(MIXED, -2.0, 2.0, 4), steps=10)
    assert first == again and hash(first) == hash(again)
    assert first != first.replace(custom=first.custom.replace(standardise=True))
    read = RunConfig.notebook(CUSTOM_ID, custom=csv_source(table("measurements.csv"), degree=2))
    assert (read.points, read.noise) == (6, 0.0)
    assert {read: 1}[read] == 1
    assert train(read.replace(steps=3)).data.x.tolist() == [0, 1, 2, 3, 4, 5]


CONFIG_ERRORS = [
    (lambda: RunConfig.notebook(CUSTOM_ID), "needs its data source"),
    (lambda: RunConfig.notebook("linear-2x", custom=function_source("x", 0, 1)), "only a 'custom' run"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=function_source(MIXED, -2, 2), points=1), "points for custom"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=function_source(MIXED, -2, 2, 5), points=4),
     "needs at least 6 distinct x values and the data have 4"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=function_source("1/x", -1, 1), points=101), "not finite at x = 0"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=function_source("x", 0, 1e6, 8), dtype="float32"),
     "overflows float32"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=function_source("1e30*x", 1, 2, 1), dtype="float32"),
     "too large for a float32 loss"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=csv_source(table("measurements.csv"), degree=2), points=7),
     "the file has 6 rows, so points must be 6"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=csv_source(table("measurements.csv"), degree=2), noise=0.5),
     "noise applies to generated data only"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=CustomSource("function", 9, expression="x")), "degree must be"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=CustomSource("function", 2, expression="x", x_min=3, x_max=1)),
     "smaller to a larger"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=CustomSource("csv", 1, x=[1, 2], y=[3, 4])), "tuples"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=CustomSource("csv", 1, x=(1.0, 1.0), y=(3.0, 4.0))),
     "x constant"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=CustomSource("sheet", 1)), "not one of: function, csv"),
    (lambda: RunConfig.notebook(CUSTOM_ID, custom=CustomSource("function", 2, expression="exp(y)")), "'y'"),
]


@pytest.mark.parametrize("build, words", CONFIG_ERRORS, ids=[w for _, w in CONFIG_ERRORS])
def test_that_an_unusable_custom_run_is_a_config_error_that_says_why(build: Callable, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        build()


def test_that_check_run_data_accepts_the_defaults_and_refuses_float32_overflow_with_advice() -> None:
    check_run_data(function_source(MIXED, -2, 2, 8), 200, 0.1, 0, "float32")
    with pytest.raises(DataSourceError, match="standardise x, lower the degree, or use float64"):
        check_run_data(function_source("x", 0, 1e6, 8), 10, 0.0, 0, "float32")
    check_run_data(function_source("x", 0, 1e6, 8, standardise=True), 10, 0.0, 0, "float32")


# --- custom runs on every implementation agree ------------------------------------------------------------

class Reference:
    """s·‖Φθ − y‖² and its gradient, with Φ written out here from the powers of (standardised) x."""

    def __init__(self, x: np.ndarray, y: np.ndarray, degree: int, standard: tuple[float, float] | None) -> None:
        z = x if standard is None else (x - standard[0]) / standard[1]
        self.phi = np.stack([z**k for k in range(degree + 1)], axis=1)
        self.y, self.scale = y, 1.0 / len(x)

    def loss(self, theta: np.ndarray) -> float:
        r = self.phi @ theta - self.y
        return float(self.scale * r @ r)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return 2 * self.scale * self.phi.T @ (self.phi @ theta - self.y)


SOURCES = {
    "function-raw": function_source(MIXED, -2, 2, degree=4),
    "csv-standardised": csv_source(read_csv(fixture("measurements.csv"), "measurements.csv"), degree=3,
                                   standardise=True),
}


def _reference_params(config: RunConfig, convention: str) -> np.ndarray:
    source = config.custom
    data = fitcore.make_dataset(custom_problem(source), config.seed, config.points, config.noise, "float64")
    x = np.linspace(source.x_min, source.x_max, config.points) if source.kind == "function" \
        else np.array(source.x)
    np.testing.assert_array_equal(data.x, x)
    standard = None if not source.standardise else (
        (float(x.mean()), float(x.std())) if source.kind == "csv"
        else ((source.x_min + source.x_max) / 2, (source.x_max - source.x_min) / math.sqrt(12)))
    reference = Reference(x, data.y, source.degree, standard)
    _, trail = reference_run(reference, np.zeros(source.degree + 1), config.optimizer,
                             np.full(config.steps, config.lr), convention)
    return trail[-1]


@pytest.mark.parametrize("impl", ALL_IMPLS)
@pytest.mark.parametrize("name", list(SOURCES))
def test_that_a_custom_run_agrees_with_the_written_out_reference_on_every_implementation(impl: str,
                                                                                        name: str) -> None:
    require(impl)
    source = SOURCES[name]
    for optimizer in (("sgd", "momentum") if impl == "analytic" else ("sgd", "adam")):
        lr = {"sgd": 0.01 if name == "function-raw" else 0.05, "momentum": 0.005, "adam": 0.05}[optimizer]
        config = RunConfig.notebook(CUSTOM_ID, custom=source, impl=impl, optimizer=optimizer, lr=lr, steps=40,
                                    dtype="float64")
        run = train(config)
        assert run.status == "completed"
        convention = "keras" if impl == "tf-tape" and optimizer == "adam" else "torch"
        assert_params_close(run.current_params, _reference_params(config, convention), 1e-9)


@pytest.mark.parametrize("impl", ["tf-tape", "torch-autograd"])
def test_that_compiled_paths_keep_one_compiled_model_per_standardisation(impl: str) -> None:
    """Two standardised sources with the same degree differ only in μ and σ baked into the features:
    the compiled caches must not hand one the other's compiled code."""
    require(impl)
    first = function_source(MIXED, -2, 2, degree=3, standardise=True)
    second = first.replace(x_min=0.0, x_max=6.0)
    assert custom_problem(first).model != custom_problem(second).model
    sources = (first, second) if impl == "tf-tape" else (second,)  # torch.compile costs seconds per model
    for source in sources:
        config = RunConfig.notebook(CUSTOM_ID, custom=source, impl=impl, compiled=True, lr=0.05, steps=24,
                                    dtype="float64", points=50)
        assert_params_close(train(config).current_params, _reference_params(config, "torch"), 1e-9)


# --- lessons -----------------------------------------------------------------------------------------------

def test_that_the_lessons_quote_the_conditioning_of_their_data() -> None:
    """The data's numbers the lessons quote (λ ratios, stable rates): linear algebra, the same on any machine.
    How each lesson's run ends, with the numbers it quotes, is held on every implementation and from a
    nudged start by tests/test_lessons.py."""
    raw, standard = (lesson_config(next(l for l in CUSTOM_LESSONS if l.key == key), CUSTOM_ID)
                     for key in ("raw-crawls", "standardised"))
    raw_loss, standard_loss = Run(raw).quad, Run(standard).quad
    assert raw_loss.optimum_loss == pytest.approx(0.0094, rel=0.01)
    assert 2 / raw_loss.lambda_max == pytest.approx(7.0e-7, rel=0.01) and raw.lr < 2 / raw_loss.lambda_max
    assert raw_loss.lambda_max == pytest.approx(2.86e6, rel=0.01)
    measured = conditioning(raw.custom, 200)
    assert measured.raw_ratio == pytest.approx(3.3e10, rel=0.02)
    assert measured.standardised_ratio == pytest.approx(9900, rel=0.01)
    assert Conditioning.steps_per_tenfold(measured.raw_ratio) == pytest.approx(7.7e10, rel=0.01)
    assert 2 / standard_loss.lambda_max == pytest.approx(0.014, rel=0.02)
    assert standard.lr < 2 / standard_loss.lambda_max


# --- exported scripts reproduce custom runs ---------------------------------------------------------------

def _script_result(script: str, cwd: Path) -> tuple[list[str], float, list[float]]:
    path = cwd / "script.py"
    path.write_text(script)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "-I", str(path)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    final = lines[-1]
    loss, params = final.removeprefix("FINAL loss=").split(" params=")
    return lines[:-1], float(loss), json.loads(params)


EXPORTS = [
    ("numpy", dict(custom=function_source(MIXED, -2, 2, 4), impl="numpy", dtype="float32", steps=250)),
    ("numpy-constant", dict(custom=function_source("step(x) + 2**0.5*abs(x) - pi", -1, 1, 3, True), impl="numpy",
                            steps=50, noise=0.0)),
    ("torch-nn", dict(custom=function_source("exp(-x**2)", -3, 3, 6, True), impl="torch-nn", optimizer="adam",
                      lr=0.02, steps=60)),
    ("tf-tape", dict(custom=csv_source(read_csv(fixture("semicolon_decimal_comma.csv"), "semicolon_decimal_comma.csv"),
                                       degree=2), impl="tf-tape", steps=60, lr=0.01)),
]


@pytest.mark.parametrize("name, settings_", EXPORTS, ids=[e[0] for e in EXPORTS])
def test_that_an_exported_custom_script_reproduces_the_run(name: str, settings_: dict, tmp_path: Path) -> None:
    config = RunConfig.notebook(CUSTOM_ID, **settings_)
    require(config.impl)
    run = train(config)
    lines, loss, params = _script_result(export_script(config), tmp_path)
    assert lines == [line.text for line in run.log]
    rtol = 1e-5 if config.dtype == "float32" else 1e-9
    assert loss == pytest.approx(run.current_loss, rel=rtol)
    np.testing.assert_allclose(params, run.current_params, rtol=rtol, atol=rtol * np.abs(run.current_params).max())


def test_that_a_long_file_is_read_by_the_script_from_the_same_csv(tmp_path: Path) -> None:
    x = np.linspace(-2, 2, 1500)
    text = "# long file\nt;v\n" + "\n".join(f"{a:.6f};{b:.6f}".replace(".", ",") for a, b in zip(x, np.cos(x)))
    (tmp_path / "long data.csv").write_text(text)
    read = read_csv(text.encode(), "long data.csv")
    config = RunConfig.notebook(CUSTOM_ID, custom=csv_source(read, degree=4, standardise=True), steps=30)
    script = export_script(config)
    assert "DATA_FILE = 'long data.csv'" in script and "import csv" in script and "0,1" not in script
    run = train(config)
    lines, loss, params = _script_result(script, tmp_path)
    assert lines == [line.text for line in run.log]
    assert loss == pytest.approx(run.current_loss, rel=1e-12)
    np.testing.assert_allclose(params, run.current_params, rtol=1e-12)


def test_that_a_short_file_is_written_into_the_script() -> None:
    config = RunConfig.notebook(CUSTOM_ID, custom=csv_source(table("measurements.csv"), degree=2), steps=5)
    script = export_script(config)
    tree = ast.parse(script)
    assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("X", "Y")}
    assert assigned == {"X": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "Y": [1.2, 2.9, 5.1, 9.8, 17.2, 26.1]}
    assert "import csv" not in script


# --- the command line --------------------------------------------------------------------------------------

def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def test_that_run_custom_with_a_function_trains_what_fitcore_trains() -> None:
    code, out, err = call(["run", "custom", "--function", MIXED, "--degree", "4", "--x-min", "-1.5", "--x-max=2",
                           "--points", "60", "--noise", "0.2", "--seed", "3", "--steps", "80", "--standardise",
                           "--json"])
    assert (code, err) == (0, "")
    result = json.loads(out)
    config = RunConfig.notebook(CUSTOM_ID, custom=function_source(MIXED, -1.5, 2, 4, True), points=60, noise=0.2,
                                seed=3, steps=80)
    assert result["final"]["params"] == train(config).current_params.tolist()
    assert result["param_names"] == ["w0", "w1", "w2", "w3", "w4"]


def test_that_run_custom_with_a_csv_file_trains_on_its_columns() -> None:
    path = str(FIXTURES / "three_columns.csv")
    code, out, err = call(["run", "custom", "--csv", path, "--x-column", "AGE", "--y-column", "2", "--degree", "1",
                           "--steps", "5", "--json"])
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["data"] == {"x": [31.0, 45.0, 27.0, 52.0], "y": [1.60, 1.75, 1.82, 1.68]}
    code, out, _ = call(["run", "custom", "--csv", path, "--steps", "5"])
    assert code == 0 and "Result: w = [" in out


CLI_ERRORS = [
    (["run", "custom"], "custom needs one data source: --function"),
    (["run", "custom", "--function", "x", "--csv", "a.csv"], "not both"),
    (["run", "custom", "--function", "2x"], "Write multiplication with *: 2*x"),
    (["run", "custom", "--function", "__import__('os').system('true')"], "Attribute access"),
    (["run", "custom", "--function", "x**1000"], "exponent 1000"),
    (["run", "custom", "--function", "1/x", "--x-min=-1", "--x-max", "1", "--points", "101"], "not finite at x = 0"),
    (["run", "custom", "--function", "x", "--degree", "9"], "degree must be a whole number from 1 to 8"),
    (["run", "custom", "--function", "x", "--x-min", "2", "--x-max", "1"], "smaller to a larger"),
    (["run", "custom", "--function", "x", "--x-column", "1"], "--x-column applies to --csv data"),
    (["run", "custom", "--csv", "tests/fixtures/csv/measurements.csv", "--points", "3"],
     "--points applies to --function data"),
    (["run", "custom", "--csv", "tests/fixtures/csv/measurements.csv", "--x-column", "day"],
     "--x-column 'day' is not a column of"),
    (["run", "custom", "--csv", "/no/such/file.csv"], "there is no file"),
    (["run", "custom", "--csv", "tests/fixtures"], "is a folder"),
    (["run", "custom", "--csv", "tests/fixtures/csv/latin1.csv"], "not UTF-8"),
    (["run", "custom", "--csv", "tests/fixtures/csv/excel_renamed.csv"], "Excel workbook"),
    (["run", "custom", "--csv", "tests/fixtures/csv/x_constant.csv"], "singular"),
    (["run", "custom", "--csv", "tests/fixtures/csv/few_distinct_x.csv", "--degree", "4"], "distinct x values"),
    (["export", "custom", "--function", "sin(x)", "--variant", "numpy"], "no notebook variant 'numpy'"),
    (["run", "linear-2x", "--degree", "2"], "--degree applies to custom"),
    (["run", "sine-cubic", "--function", "x"], "--function applies to custom"),
]


@pytest.mark.parametrize("argv, words", CLI_ERRORS, ids=[" ".join(a)[:50] for a, _ in CLI_ERRORS])
def test_that_bad_custom_input_on_the_command_line_exits_2_with_one_line(argv: list[str], words: str) -> None:
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        code, out, err = call(argv)
    finally:
        os.chdir(cwd)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("fitcore: ") and words in err, err


def test_that_the_header_command_of_a_custom_export_exports_the_same_script(capsys: pytest.CaptureFixture) -> None:
    config = RunConfig.notebook(CUSTOM_ID, custom=function_source("0.5 * x**3 - sin(2*x)", -1.25, 3, 5, True),
                                impl="torch-manual", optimizer="momentum", lr=0.002, steps=77, points=90, noise=0.3,
                                seed=4)
    script = export_script(config)
    lines = script.splitlines()
    first = lines.index("# Regenerate this file with:") + 1
    words = []
    for line in lines[first:]:
        if line == "#":
            break
        words.append(line[1:].strip().removesuffix("\\"))
    import shlex
    command = shlex.split(" ".join(words))
    assert command[:5] == ["python", "-m", "fitcore", "export", "custom"]
    assert cli.main(command[3:]) == 0
    assert capsys.readouterr().out == script


CUSTOM_TOKENS = ["run", "export", "custom", "--function", "--csv", "--degree", "--x-min", "--x-max", "--points",
                 "--noise", "--standardise", "--x-column", "--y-column", "--json", "x", "sin(x)", "2x", "1/x",
                 "tests/fixtures/csv/measurements.csv", "tests/fixtures/csv/three_columns.csv",
                 "tests/fixtures/csv/nan.csv", "tests/fixtures/csv/empty.csv", "tests/fixtures", "-3", "3", "0",
                 "1e9", "nan", "9", "time", "AGE", ""]


def _quick_train(config: RunConfig, *args: Any, **kwargs: Any) -> fitcore.Run:
    return train(config.replace(impl="numpy", steps=min(config.steps, 3)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(CUSTOM_TOKENS), st.text(max_size=8)), max_size=9))
def test_that_no_custom_command_line_raises_or_prints_a_traceback(argv: list[str]) -> None:
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with mock.patch.object(cli, "train", _quick_train):
            code, out, err = call(argv)
    finally:
        os.chdir(cwd)
    assert code in (0, 2), err
    assert "Traceback" not in err + out
    if code == 2:
        assert len(err.splitlines()) == 1 and out == ""


def test_that_import_fitcore_still_imports_neither_torch_nor_tensorflow() -> None:
    code = textwrap.dedent("""
        import sys, fitcore, fitcore.custom, fitcore.custom_lessons
        fitcore.custom.custom_problem(fitcore.function_source("sin(x)", -1, 1))
        print("torch" in sys.modules, "tensorflow" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr
