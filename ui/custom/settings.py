"""The "Your own data" page's data-source settings and the query string. Pure (no Streamlit).

A shareable link carries a typed function with its x range, the degree and standardisation;
the run settings (points, noise, seed, optimizer, …) travel in the same link through
``ui.page.settings``. An uploaded file never does: the link records only that the data came from a
file, and the page asks for it again.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from fitcore.custom import KINDS, PRESETS, CustomSource, function_source
from fitcore.settings import FALSE_WORDS, MAX_ABS_X, MAX_DEGREE, SOURCE_FIELDS, TRUE_WORDS, Field

# The link's keys and the panel's widget keys (after "custom:"): the source's rows in fitcore.settings.
SOURCE_KEYS = tuple(str(f.url) for f in SOURCE_FIELDS if f.url is not None)
KIND_LABELS = {"function": "A function of x", "csv": "A CSV file"}
CUSTOM_PRESET = "own"
POLYNOMIAL_PRESET = "poly"
PRESET_LABELS = {**{p.key: p.label for p in PRESETS}, POLYNOMIAL_PRESET: "polynomial with coefficients …",
                 CUSTOM_PRESET: "your own formula"}
DEFAULT_COEFFICIENTS = "0, -1, 0, 0.5"
CHOICES = {"kind": KINDS}   # the values each choice row takes


def default_source_values() -> dict[str, Any]:
    first = PRESETS[0]
    return source_values(CustomSource("function", expression=first.expression, x_min=first.x_min, x_max=first.x_max))


def preset_of(expression: str) -> str:
    """The ready-made function a typed one is, if any (so a link reopens with it selected)."""
    for preset in PRESETS:
        if preset.expression == expression.strip():
            return preset.key
    return CUSTOM_PRESET


def _linked(source: CustomSource) -> tuple[Field, ...]:
    """The rows a link carries for this source: a file's data stay out of it."""
    return tuple(f for f in SOURCE_FIELDS if f.url is not None and f.only in (None, source.kind))


def source_values(source: CustomSource) -> dict[str, Any]:
    """The source's settings by their link keys (the panel's widget keys)."""
    return {f.url: getattr(source, f.name) for f in _linked(source)}


def _text(field: Field, value: Any) -> str:
    if field.kind == "bool":
        return "1" if value else "0"
    return repr(float(value)) if field.kind == "float" else str(value)


def source_query(source: CustomSource) -> dict[str, str]:
    """The source as query-string text; a file's data stay out of it."""
    return {str(f.url): _text(f, getattr(source, f.name)) for f in _linked(source)}


def _shown(text: str) -> str:
    """Quoted, then cut to about 40 characters (as ui.page.settings quotes the values it refuses)."""
    quoted = repr(text)
    return quoted if len(quoted) <= 42 else quoted[:40] + "…" + quoted[0]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_ABS_X else None


def _parse(field: Field, raw: str) -> tuple[Any, str | None]:
    """(value, None), or (None, why it was refused), within the row's kind and bounds."""
    text = raw.strip()
    if field.kind == "choice":
        options = CHOICES[field.name]
        return (text.lower(), None) if text.lower() in options else (None, f"not {' or '.join(options)}")
    if field.kind == "bool":
        lowered = text.lower()
        return (lowered in TRUE_WORDS, None) if lowered in TRUE_WORDS + FALSE_WORDS else (None, "not true or false")
    assert field.bounds is not None, field.name   # a text's length, a number's value
    low, high = field.bounds.low, field.bounds.high
    if field.kind == "text":   # a typed function is taken as it stands: the page says what is wrong with it
        return (raw, None) if field.bounds.holds(len(raw)) else (None, f"longer than {high:g} characters")
    try:
        number = float(text)
    except (ValueError, OverflowError):
        number = math.nan
    whole = field.whole
    if not field.bounds.holds(number) or (whole and not number.is_integer()):
        return None, f"not a {'whole ' if whole else ''}number from {low:g} to {high:g}"
    return (int(number) if whole else number), None


def _default_text(field: Field, value: Any) -> str:
    return f"{value:g}" if field.kind == "float" else _text(field, value)


def parse_source_query(query: Mapping[str, str | Sequence[str]]) -> tuple[dict[str, Any], list[str]]:
    """Source settings from a link, and what was refused; refused values fall back to the defaults.

    A typed function is taken as it stands, valid or not: the page shows it with its own message,
    where the visitor can fix it.
    """
    rows = {str(f.url): f for f in SOURCE_FIELDS if f.url is not None}
    raw = {str(k): (v[-1] if isinstance(v, (list, tuple)) and v else str(v)) for k, v in query.items() if k in rows}
    values = default_source_values()
    problems: list[str] = []
    for key, text in raw.items():
        field = rows[key]
        value, why = _parse(field, text)
        if why is None:
            values[key] = value
        else:
            problems.append(f"{key}={_shown(text)} is {why}; using {_default_text(field, values[key])}")
    if values["xmin"] >= values["xmax"]:
        defaults = default_source_values()
        problems.append(f"the x range [{values['xmin']:g}, {values['xmax']:g}] is empty; using "
                        f"[{defaults['xmin']:g}, {defaults['xmax']:g}]")
        values["xmin"], values["xmax"] = defaults["xmin"], defaults["xmax"]
    return values, problems


def function_source_of(values: Mapping[str, Any]) -> CustomSource:
    """The typed-function source the values describe (ParseError / DataSourceError when they cannot)."""
    return function_source(str(values["fn"]), float(values["xmin"]), float(values["xmax"]), int(values["deg"]),
                           bool(values["std"]))


def parse_coefficients(text: str) -> list[float]:
    """'1, 0, -2' → [1.0, 0.0, -2.0]; ValueError names the piece that is not a number."""
    pieces = [piece.strip() for piece in text.replace(";", ",").split(",")]
    if not any(pieces):
        raise ValueError("type the coefficients a₀, a₁, a₂, … separated by commas, e.g. 0, -1, 0, 0.5")
    values = []
    for piece in pieces:
        number = _number(piece) if piece else None
        if number is None:
            raise ValueError(f"{_shown(piece)} is not a number; type the coefficients a₀, a₁, a₂, … separated by "
                             "commas, e.g. 0, -1, 0, 0.5")
        values.append(number)
    if len(values) > MAX_DEGREE + 1:
        raise ValueError(f"give at most {MAX_DEGREE + 1} coefficients (up to x^{MAX_DEGREE})")
    return values
