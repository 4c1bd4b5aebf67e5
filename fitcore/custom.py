"""Your own data: a polynomial of degree 1–8 fitted to a typed function or to a CSV file's columns.

A ``CustomSource`` says where the data come from and which model fits them; it is frozen and
hashable, so a ``RunConfig`` that carries it describes the run completely. ``custom_problem``
turns it into an ordinary ``Problem`` — features 1, x, …, x^d, still linear in the parameters,
so the least-squares optimum, 2/λmax and the exact engine all apply — and every implementation,
chart and export treats it like a demo.

Standardising replaces x by z = (x − μ)/σ inside the features. Raw powers of x have wildly
different sizes and are nearly parallel, so the loss's Hessian H = 2sΦᵀΦ has a huge condition
number λmax/λmin; gradient descent must keep its step under 2/λmax, and the flattest direction
then shrinks by only about 1 − λmin/λmax per step. For a typed function μ and σ are those of the
uniform spread over the x range (they do not depend on the number of points); for a file they
are the mean and standard deviation of its x column.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable

import numpy as np

from .analytic import loss_scale
from .custom_presets import PRESETS, Preset, polynomial_text
from .csvfile import CsvError, CsvLayout, CsvTable, read_csv
from .expression import DataSourceError, EvaluationError, Expression, ParseError, parse_function
from .data_source import CustomSource
from .settings import MAX_ABS_X, MAX_DEGREE, MIN_DEGREE
from .demo import CONSTANT, Feature, NotebookVariant, Problem, Sample, ScriptParts, make_dataset

CUSTOM_ID = "custom"
KINDS = ("function", "csv")
MAX_POINTS = 100_000
MIN_FUNCTION_POINTS = 2
DEFAULT_POINTS = 200
DEFAULT_NOISE = 0.1
DEFAULT_STEPS = 2000
LOG_EVERY = 200
EMBED_LIMIT = 1000  # an exported script embeds a file's data up to this many rows, and reads the file beyond

__all__ = ["CUSTOM_ID", "CsvError", "CsvLayout", "CsvTable", "CustomSource", "DataSourceError",
           "EvaluationError", "Expression", "ParseError", "Preset", "PRESETS", "check_function_range",
           "check_run_data", "csv_source", "custom_problem", "function_source", "parse_function", "polynomial_text", "read_csv", "standardisation"]


def function_source(expression: str, x_min: float, x_max: float, degree: int = 3,
                    standardise: bool = False) -> CustomSource:
    """A typed-function source, checked (ParseError / DataSourceError)."""
    source = CustomSource("function", degree, standardise, expression.strip(), float(x_min), float(x_max))
    check_source(source)
    return source


def csv_source(table: CsvTable, x_column: int | None = None, y_column: int | None = None, degree: int = 3,
               standardise: bool = False) -> CustomSource:
    """A file source from a table read by ``read_csv``, checked (CsvError / DataSourceError)."""
    layout = table.layout(x_column, y_column)
    x, y = table.xy(layout.x_column, layout.y_column)
    source = CustomSource("csv", degree, standardise, x=tuple(x.tolist()), y=tuple(y.tolist()), file=table.name,
                          layout=layout)
    check_source(source)
    return source


# --- checks ------------------------------------------------------------------------------------------

def _whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_source(source: CustomSource) -> None:
    """Raise DataSourceError (or ParseError) when the source cannot define a problem."""
    if not isinstance(source, CustomSource):
        raise DataSourceError(f"a custom run needs a CustomSource, got {type(source).__name__}")
    if source.kind not in KINDS:
        raise DataSourceError(f"data source kind {source.kind!r} is not one of: {', '.join(KINDS)}")
    if not _whole(source.degree) or not MIN_DEGREE <= source.degree <= MAX_DEGREE:
        raise DataSourceError(f"the polynomial degree must be a whole number from {MIN_DEGREE} to {MAX_DEGREE}, "
                              f"got {source.degree!r}")
    if source.kind == "function":
        _expression(source.expression)
        for name, value in (("x min", source.x_min), ("x max", source.x_max)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > MAX_ABS_X:
                raise DataSourceError(f"{name} must be a number from {-MAX_ABS_X:g} to {MAX_ABS_X:g}, got {value!r}")
        if not source.x_min < source.x_max:
            raise DataSourceError(f"the x range must run from a smaller to a larger number, got "
                                  f"[{source.x_min:g}, {source.x_max:g}]")
        return
    if len(source.x) != len(source.y):
        raise DataSourceError(f"the file's x and y columns differ in length ({len(source.x)} and {len(source.y)})")
    if not 2 <= len(source.x) <= MAX_POINTS:
        raise DataSourceError(f"a file needs 2 to {MAX_POINTS:,} rows, this one has {len(source.x):,}")
    x, y = np.asarray(source.x, dtype=np.float64), np.asarray(source.y, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataSourceError("the file's x and y values must all be finite numbers")
    distinct = len(np.unique(x))
    if distinct == 1:
        raise DataSourceError(f"every x value is {x[0]:g}: with x constant the design matrix is singular (a line's "
                              "slope is undetermined). Pick an x column whose values vary.")
    _check_distinct(distinct, source.degree)


def _check_distinct(distinct: int, degree: int) -> None:
    if distinct < degree + 1:
        raise DataSourceError(f"a degree-{degree} polynomial needs at least {degree + 1} distinct x values and the "
                              f"data have {distinct}, so the fit is not determined (the design matrix is singular). "
                              f"Lower the degree to {max(distinct - 1, 1)}" + (" or add points." if distinct > 1
                                                                             else "."))


@functools.lru_cache(maxsize=64)
def _expression(text: str) -> Expression:
    return parse_function(text)


# --- the problem ----------------------------------------------------------------------------------------

def standardisation(source: CustomSource) -> tuple[float, float]:
    """(μ, σ) of the x values: the uniform spread over a function's range, or a file's x column."""
    if source.kind == "function":
        return (source.x_min + source.x_max) / 2, (source.x_max - source.x_min) / math.sqrt(12)
    x = np.asarray(source.x, dtype=np.float64)
    return float(x.mean()), float(x.std())


# Named functions, not lambdas: TensorFlow's AutoGraph reads a feature's source when it traces the
# compiled path, and cannot tell two lambdas on one line apart.
def _power(k: int) -> Callable[[Any], Any]:
    def power(x: Any) -> Any:
        return x if k == 1 else x**k
    return power


def _standard_power(mu: float, sigma: float, k: int) -> Callable[[Any], Any]:
    def standard_power(x: Any) -> Any:
        # (x − μ)/σ with Python floats: NumPy, torch and TensorFlow all compute it in the data's dtype
        z = (x - mu) / sigma
        return z if k == 1 else z**k
    return standard_power


def _superscript(k: int) -> str:
    return "" if k == 1 else f"^{{{k}}}"


def polynomial_features(degree: int, standard: tuple[float, float] | None = None) -> tuple[Feature, ...]:
    """1, x, …, x^d — or 1, z, …, z^d with z = (x − μ)/σ, written out with μ and σ as numbers."""
    features = [CONSTANT]
    for k in range(1, degree + 1):
        if standard is None:
            features.append(Feature("x" if k == 1 else f"x**{k}", "x" + _superscript(k), _power(k)))
        else:
            mu, sigma = standard
            z = f"((x - {mu!r}) / {sigma!r})"
            features.append(Feature(z if k == 1 else f"{z}**{k}", "z" + _superscript(k),
                                    _standard_power(mu, sigma, k)))
    return tuple(features)


def _formula_code(features: tuple[Feature, ...], names: tuple[str, ...]) -> str:
    return " + ".join(name if f.is_constant else f"{name}*{f.code}" for name, f in zip(names, features))


def _formula_latex(degree: int, standard: tuple[float, float] | None) -> str:
    variable = "x" if standard is None else "z"
    terms = ["w_{0}"] + [f"w_{{{k}}}\\,{variable}{_superscript(k)}" for k in range(1, degree + 1)]
    latex = r"\hat y = " + " + ".join(terms)
    if standard is not None:
        mu, sigma = standard
        latex += rf",\quad z = \frac{{x - {mu:.4g}}}{{{sigma:.4g}}}"
    return latex


def _default_lr(source: CustomSource, features: tuple[Feature, ...]) -> float:
    """A stable starting learning rate for the mean loss: 1, 2 or 5 × a power of ten, at most 1/λmax."""
    if source.kind == "function":
        x = np.linspace(source.x_min, source.x_max, DEFAULT_POINTS)
    else:
        x = np.asarray(source.x, dtype=np.float64)
    with np.errstate(all="ignore"):
        phi = np.stack([np.broadcast_to(np.asarray(f.fn(x), dtype=np.float64), x.shape) for f in features], axis=1)
        top = float(np.linalg.norm(phi, 2) ** 2) * 2 / len(x) if np.isfinite(phi).all() else math.inf
    if not math.isfinite(top) or top <= 0:
        return 1e-12
    stable = 1.0 / top
    decade = 10.0 ** math.floor(math.log10(stable))
    return float(max(next(m * decade for m in (5, 2, 1) if m * decade <= stable), 1e-12))


def _log_line(t: int, loss: float, mse: float, params: np.ndarray) -> str:
    return f"step {t:>7}  loss {loss:.6g}"


def _final_lines(params: np.ndarray) -> list[str]:
    return ["Result: w = [" + ", ".join(f"{float(v):.6g}" for v in params) + "]"]


def custom_problem(source: CustomSource) -> Problem:
    """The polynomial problem a source defines; raises DataSourceError for a source that cannot."""
    if not isinstance(source, CustomSource):
        raise DataSourceError(f"a custom run needs a CustomSource, got {type(source).__name__}")
    try:
        hash(source)
    except TypeError:
        raise DataSourceError("a CustomSource holds its data as tuples of numbers (x=tuple(...)), "
                              "so that a run's settings stay one frozen, hashable value") from None
    return _custom_problem(source)


# Bounded caches: a file source holds up to 100,000 rows, and these caches are shared by every session.
@functools.lru_cache(maxsize=16)
def _custom_problem(source: CustomSource) -> Problem:
    check_source(source)
    degree = source.degree
    standard = standardisation(source) if source.standardise else None
    features = polynomial_features(degree, standard)
    names = tuple(f"w{k}" for k in range(degree + 1))
    init = np.zeros(degree + 1)
    if source.kind == "function":
        expression = _expression(source.expression)

        def sample(seed: int, points: int, noise: float) -> Sample:
            z = np.random.RandomState(seed).standard_normal(points) if noise > 0 else np.zeros(points)
            return Sample(x=np.linspace(source.x_min, source.x_max, points), z=z, init=init)

        def target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
            with np.errstate(all="ignore"):  # non-finite values are refused by check_run_data, not here
                y = expression.evaluate(x)
                return y + (noise * z).astype(x.dtype) if noise > 0 else y

        def truth(x: np.ndarray) -> np.ndarray:
            try:
                with np.errstate(all="ignore"):
                    return np.asarray(expression.evaluate(np.asarray(x, dtype=np.float64)), dtype=np.float64)
            except EvaluationError:
                return np.full(np.shape(x), np.nan)
        data_latex = rf"y = {expression.latex},\; x \in [{source.x_min:.4g}, {source.x_max:.4g}]"
        teaches = (f"Fit a degree-{degree} polynomial to y = {source.expression} on [{source.x_min:g}, "
                   f"{source.x_max:g}], with noise and points of your choosing.")
        points_range, default_points, default_noise = (MIN_FUNCTION_POINTS, MAX_POINTS), DEFAULT_POINTS, DEFAULT_NOISE
    else:
        x_data, y_data = np.asarray(source.x, dtype=np.float64), np.asarray(source.y, dtype=np.float64)

        def sample(seed: int, points: int, noise: float) -> Sample:
            return Sample(x=x_data.copy(), z=np.zeros(len(x_data)), init=init)

        def target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
            return y_data.astype(x.dtype)

        def truth(x: np.ndarray) -> np.ndarray:
            return np.full(np.shape(x), np.nan)  # a file has no true curve: nothing is drawn
        columns = f"{source.layout.x_name} → {source.layout.y_name}" if source.layout else "x → y"
        x_name, y_name = (source.layout.x_name, source.layout.y_name) if source.layout else ("x", "y")
        data_latex = (rf"(x, y) = (\text{{{_latex_text(x_name, 20)}}}, \text{{{_latex_text(y_name, 20)}}}),\; "
                      rf"{source.rows:,}\text{{ rows}}")
        teaches = f"Fit a degree-{degree} polynomial to the {source.rows:,} rows of {source.file} ({columns})."
        points_range, default_points, default_noise = (source.rows, source.rows), source.rows, 0.0
    settings = {"impl": "numpy", "optimizer": "sgd", "lr": _default_lr(source, features), "steps": DEFAULT_STEPS,
                "reduction": "mean", "dtype": "float64"}
    variant = NotebookVariant(CUSTOM_ID, "Gradient descent from θ = 0 (plain SGD, mean loss, float64)", "",
                              settings, log_every=LOG_EVERY, prints_intro=False)
    return Problem(
        id=CUSTOM_ID, title="Your own data", teaches=teaches, seed_files=(), notebook_frameworks=(),
        param_names=names, features=features, offset=None, formula_code=_formula_code(features, names),
        formula_latex=_formula_latex(degree, standard), data_latex=data_latex, true_params=None,
        default_points=default_points, points_range=points_range, default_noise=default_noise, rng="numpy",
        variants=(variant,), sample=sample, truth=truth, target=target, log_line=_log_line,
        script=ScriptParts("parts/data/custom.jinja", "parts/printers/custom.jinja"),
        final_lines=_final_lines, source=source, grows_on_accelerator=source.kind == "function")


def _latex_text(text: str, limit: int = 60) -> str:
    """Plain text safe inside \\text{…}, cut to ``limit`` characters."""
    out = []
    for char in (text if len(text) <= limit else text[:limit - 1] + "…"):
        if char in "\\{}$&#^_%~":
            out.append("\\" + char if char not in "\\^~" else " ")
        else:
            out.append(char)
    return "".join(out)


def script_problem(problem: Problem) -> Problem:
    """The same polynomial over plain powers of its input: what an exported script fits after it has
    standardised x itself (``x = (x - MU) / SIGMA``), so its formula reads w0 + w1*x + w2*x**2 …"""
    source = problem.source
    if source is None or not source.standardise:
        return problem
    features = polynomial_features(source.degree)
    return dataclasses.replace(problem, features=features, formula_code=_formula_code(features, problem.param_names))


# --- checks on one run's data ---------------------------------------------------------------------------

def check_function_range(source: CustomSource, points: int) -> None:
    """For a typed function: raise EvaluationError naming the first x of the range where it is not finite
    (in float64, so the message does not depend on the run's dtype)."""
    if source.kind == "function":
        _expression(source.expression).values(np.linspace(source.x_min, source.x_max, max(int(points), 2)))


def check_run_data(source: CustomSource, points: int, noise: float, seed: int, dtype: str) -> None:
    """Raise DataSourceError when the data a run would train on are unusable: values that are not
    finite, features that overflow the dtype, or too few distinct x for the degree."""
    message = _run_data_problem(source, points, float(noise), seed, dtype)
    if message is not None:
        raise DataSourceError(message)


@functools.lru_cache(maxsize=32)
def _run_data_problem(source: CustomSource, points: int, noise: float, seed: int, dtype: str) -> str | None:
    problem = custom_problem(source)
    if source.kind == "function":
        try:
            _expression(source.expression).values(np.linspace(source.x_min, source.x_max, points))
        except EvaluationError as error:
            return str(error)
    with np.errstate(all="ignore"):
        data = make_dataset(problem, seed, points, noise, dtype)
        kind = np.dtype(dtype)
        if not np.isfinite(data.y).all():
            return (f"y values overflow {dtype} (the largest is {np.nanmax(np.abs(data.y.astype(np.float64))):.3g}); "
                    "use float64, or rescale y")
        if not np.isfinite(data.features).all():
            column = int(np.argmax(~np.isfinite(data.features).all(axis=0)))
            feature = problem.features[column].latex
            return (f"the feature {feature} overflows {dtype} at the largest |x| = "
                    f"{np.abs(data.x.astype(np.float64)).max():.3g}: standardise x, lower the degree, or use float64")
        squares = float(np.sum(data.y.astype(np.float64) ** 2)) * loss_scale("sum", len(data.y))
        if squares > np.finfo(kind).max / 16:
            return (f"the y values are too large for a {dtype} loss (their squares sum to {squares:.3g}); use float64 "
                    "or rescale y")
    distinct = len(np.unique(data.x))
    if distinct < source.degree + 1:
        try:
            _check_distinct(distinct, source.degree)
        except DataSourceError as error:
            return str(error)
    return None
