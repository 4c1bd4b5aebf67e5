"""The "Your own data" page's data-source settings and the query string. Pure (no Streamlit).

A shareable link carries a typed function with its x range, the degree and standardisation;
the run settings (points, noise, seed, optimizer, …) travel in the same link through
``ui.page.settings``. An uploaded file never does: the link records only that the data came from a
file, and the page asks for it again.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from fitcore.custom import MAX_ABS_X, MAX_DEGREE, MIN_DEGREE, PRESETS, CustomSource, function_source
from fitcore.expression import MAX_LENGTH

SOURCE_KEYS = ("src", "fn", "xmin", "xmax", "deg", "std")
KIND_LABELS = {"function": "A function of x", "csv": "A CSV file"}
CUSTOM_PRESET = "own"
POLYNOMIAL_PRESET = "poly"
PRESET_LABELS = {**{p.key: p.label for p in PRESETS}, POLYNOMIAL_PRESET: "polynomial with coefficients …",
                 CUSTOM_PRESET: "your own formula"}
DEFAULT_COEFFICIENTS = "0, -1, 0, 0.5"


def default_source_values() -> dict[str, Any]:
    first = PRESETS[0]
    return {"src": "function", "fn": first.expression, "xmin": first.x_min, "xmax": first.x_max, "deg": 3,
            "std": False}


def preset_of(expression: str) -> str:
    """The ready-made function a typed one is, if any (so a link reopens with it selected)."""
    for preset in PRESETS:
        if preset.expression == expression.strip():
            return preset.key
    return CUSTOM_PRESET


def source_values(source: CustomSource) -> dict[str, Any]:
    values = {"src": source.kind, "deg": source.degree, "std": source.standardise}
    if source.kind == "function":
        values |= {"fn": source.expression, "xmin": source.x_min, "xmax": source.x_max}
    return values


def source_query(source: CustomSource) -> dict[str, str]:
    """The source as query-string text; a file's data stay out of it."""
    query = {"src": source.kind}
    if source.kind == "function":
        query |= {"fn": source.expression, "xmin": repr(float(source.x_min)), "xmax": repr(float(source.x_max))}
    return query | {"deg": str(source.degree), "std": "1" if source.standardise else "0"}


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


def parse_source_query(query: Mapping[str, str | Sequence[str]]) -> tuple[dict[str, Any], list[str]]:
    """Source settings from a link, and what was refused; refused values fall back to the defaults.

    A typed function is taken as it stands, valid or not: the page shows it with its own message,
    where the visitor can fix it.
    """
    raw = {str(k): (v[-1] if isinstance(v, (list, tuple)) and v else str(v)) for k, v in query.items()
           if k in SOURCE_KEYS}
    values = default_source_values()
    problems: list[str] = []
    if "src" in raw:
        if raw["src"].strip().lower() in KIND_LABELS:
            values["src"] = raw["src"].strip().lower()
        else:
            problems.append(f"src={_shown(raw['src'])} is not function or csv; using function")
    if "fn" in raw:
        if len(raw["fn"]) <= MAX_LENGTH:
            values["fn"] = raw["fn"]
        else:
            problems.append(f"the function in the link is longer than {MAX_LENGTH} characters; using "
                            f"{values['fn']}")
    for key in ("xmin", "xmax"):
        if key in raw:
            number = _number(raw[key])
            if number is None:
                problems.append(f"{key}={_shown(raw[key])} is not a number from {-MAX_ABS_X:g} to {MAX_ABS_X:g}; "
                                f"using {values[key]:g}")
            else:
                values[key] = number
    if values["xmin"] >= values["xmax"]:
        defaults = default_source_values()
        problems.append(f"the x range [{values['xmin']:g}, {values['xmax']:g}] is empty; using "
                        f"[{defaults['xmin']:g}, {defaults['xmax']:g}]")
        values["xmin"], values["xmax"] = defaults["xmin"], defaults["xmax"]
    if "deg" in raw:
        number = _number(raw["deg"])
        if number is not None and number.is_integer() and MIN_DEGREE <= number <= MAX_DEGREE:
            values["deg"] = int(number)
        else:
            problems.append(f"deg={_shown(raw['deg'])} is not a whole number from {MIN_DEGREE} to {MAX_DEGREE}; "
                            f"using {values['deg']}")
    if "std" in raw:
        text = raw["std"].strip().lower()
        if text in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            values["std"] = text in ("1", "true", "yes", "on")
        else:
            problems.append(f"std={_shown(raw['std'])} is not true or false; using "
                            f"{'1' if values['std'] else '0'}")
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
