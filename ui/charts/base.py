"""What every chart shares: the Chart record, its tables, the spec's fixed settings. Pure: no Streamlit.

Each chart is a fixed spec over named datasets, one per layer: ``static_*`` tables hold what cannot
change during a run (the data, the true and least-squares curves, the landscape) and ``live_*``
tables the iterates. The spec is built once with Altair and cached, so a live update sends only
data and the browser updates the chart in place (no flicker). No layer filters its rows in Vega:
Streamlit evaluates Vega expressions with a CSP-safe interpreter, slow enough per row that
filtering live tables saturated the browser; the rows each layer needs are chosen here instead.
Every table stays under ``MAX_POINTS`` rows and never holds a NaN or infinity.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, TypeVar

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from .ink import themed_text

MAX_POINTS = 2000
CURVE_POINTS = 200
DATA_POINTS_SHOWN = 400  # every update repaints them: enough to see the shape, cheap to redraw
PATH_POINTS = 300
LIVE_POINTS = 200  # per line while training: Vega re-encodes every point of a changed table on each update
LIVE_CURVE_POINTS = 100  # the current fit while training (a polynomial of degree ≤ 3 needs no more)
GRID = 20  # landscape cells per side: 400 rects, repainted with every update
TOOLTIP_FORMAT = ".6g"
PANEL_WIDTH = 320  # fits a half-page column at a projector's 1280 px with the sidebar open
HEIGHT = 300  # the whole chart (title, axes, legend): Streamlit fits the spec into it
SERIES_ORDER = ["data", "current fit", "true curve", "least squares"]
# Readable on the light and the dark theme alike; orange is always "where the run is now".
SERIES_COLORS = ["#8C9AAB", "#F58518", "#54A24B", "#E45756"]
# Each series' colour and dash; "your data" is drawn like "data".
SERIES_STYLE = {"data": (SERIES_COLORS[0], [1, 0]), "your data": (SERIES_COLORS[0], [1, 0]),
                "current fit": (SERIES_COLORS[1], [1, 0]), "true curve": (SERIES_COLORS[2], [6, 3]),
                "least squares": (SERIES_COLORS[3], [2, 2])}
NOW = "#F58518"
TARGET = "#E45756"
LINE = "#4C78A8"
# Engineering notation for a loss axis: 0.01 … 9,999 as they are, otherwise a mantissa and a power of
# ten that is a multiple of three (12e-6, 340e3): losses span many decades and the digits stay few.
ENGINEERING = ("datum.value >= 0.01 && datum.value < 10000 ? format(datum.value, ',~g') : "
               "format(datum.value / pow(10, 3 * floor(log(datum.value) / LN10 / 3 + 1e-9)), '~g') + 'e' + "
               "(3 * floor(log(datum.value) / LN10 / 3 + 1e-9))")
LIVE_DATA = alt.Data(name="live")  # the single table of a chart that is drawn whole each time
# Altair checks every object against the schema as it is made, for friendlier tracebacks while writing a
# chart: most of a spec's build, which the first session on a fresh server waits for (a workshop's room
# waits behind it). The specs are checked against Vega-Lite's schema in the tests instead.
alt.utils.schemapi.disable_debug_mode()


def live(layer: str) -> alt.Data:
    return alt.Data(name=f"live_{layer}")


def static(layer: str) -> alt.Data:
    return alt.Data(name=f"static_{layer}")


@dataclass(frozen=True)
class Chart:
    spec: dict[str, Any]
    live: dict[str, pd.DataFrame | pa.Table]
    static: dict[str, pd.DataFrame] = field(default_factory=dict)
    alt_text: str = ""
    stretch: bool = True  # fill the column's width; a stack of panels keeps its own width instead
    caption: str = ""  # one line under the chart, in the page's own text colours (themes follow)

    def __post_init__(self) -> None:
        # A chart drawn whole each time may pass one table: it is the single "live" dataset.
        if isinstance(self.live, pd.DataFrame):
            object.__setattr__(self, "live", {"live": self.live})
        if self.static is None:
            object.__setattr__(self, "static", {})

    def with_data(self, static_tables: dict[str, Any] | None = None,
                  live_tables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec with its tables attached (pass the static tables' cached Arrow bytes to reuse
        them, and the live tables' where a caller kept them: ``live_tables``, by the same names as
        ``live``). Streamlit ships each table as Arrow and keeps the spec text itself unchanged."""
        chosen_live = live_tables if live_tables is not None else {k: arrow_table(v) for k, v in self.live.items()}
        tables = {f"live_{k}" if k != "live" else k: v for k, v in chosen_live.items()}
        chosen = static_tables if static_tables is not None else self.static
        tables.update({f"static_{k}": v for k, v in chosen.items()})
        return {**self.spec, "datasets": tables}

    @property
    def rows(self) -> int:
        return sum(len(t) for t in self.live.values()) + sum(len(t) for t in self.static.values())


def arrow_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A table's columns as Arrow, straight from their arrays: what Streamlit would send, without
    pandas' schema metadata, whose conversion cost most of a live redraw."""
    if isinstance(frame, pa.Table):
        return frame
    return pa.table({str(name): pa.array(frame[name].to_numpy(), from_pandas=True) for name in frame.columns})


def static_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A table that does not change during a run, as Arrow for sending with every redraw: without pandas'
    schema metadata, each column of numbers in the narrowest type that holds them exactly (``lossless``)
    and each column of a few words repeated down its rows as a dictionary (the words once, a byte a row).
    The browser reads the same values."""
    table = arrow_table(frame)
    columns = []
    for column in table.columns:
        if (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)) and column.null_count == 0:
            column = pa.array(lossless(column.to_numpy()))
        elif pa.types.is_string(column.type) and len(column) > WORDS_AS_DICTIONARY:
            encoded = column.combine_chunks().dictionary_encode()
            if len(encoded.dictionary) <= 127:
                column = pa.DictionaryArray.from_arrays(encoded.indices.cast(pa.int8()), encoded.dictionary)
        columns.append(column)
    return pa.table(dict(zip(table.column_names, columns)))


def live_table(finite: Sequence[str], positive: str | None = None, narrow: Mapping[str, float | None] | None = None,
               unsent: Sequence[str] = (), **columns: Any) -> pa.Table:
    """A layer redrawn on every update, as Arrow straight from its arrays (a scalar fills its column),
    without the rows that have a NaN or infinity in ``finite`` or a value ≤ 0 in ``positive``.
    ``narrow`` names the columns that only place marks (no tooltip shows them), each with its axis's
    span (None: a log axis): they travel as float32 where that moves no mark (``positions``). The
    columns in ``unsent`` only choose the rows (nothing shows them now): they are left out."""
    sequences = (np.ndarray, list, pa.Array)
    length = max((len(v) for v in columns.values() if isinstance(v, sequences)), default=1)
    arrays = {k: v for k, v in columns.items() if isinstance(v, sequences)}
    keep = np.ones(length, dtype=bool)
    for name in finite:
        keep &= np.isfinite(np.asarray(arrays[name] if name in arrays else [columns[name]], dtype=np.float64))
    if positive is not None:
        keep &= np.asarray(arrays[positive] if positive in arrays else [columns[positive]], dtype=np.float64) > 0
    if not keep.all():
        arrays = {k: v.filter(pa.array(keep)) if isinstance(v, pa.Array) else np.asarray(v)[keep]
                  for k, v in arrays.items()}
    for name, span in (narrow or {}).items():
        arrays[name] = positions(arrays[name], span)
    arrays = {k: v if isinstance(v, pa.Array) else lossless(np.asarray(v)) for k, v in arrays.items()}
    rows = int(keep.sum())
    # A scalar fills its column: a Python list of a label 200 times long cost more than the numbers
    # themselves on every live redraw.
    return pa.table({k: (arrays[k] if isinstance(arrays[k], pa.Array) else pa.array(arrays[k], from_pandas=True))
                     if k in arrays else _filled(v, rows) for k, v in columns.items() if k not in unsent})


# float32 keeps 24 bits: a value moves by at most 2⁻²⁴ of its size, and a normal float32 (not a zero or a
# subnormal in place of a tiny float64) keeps its place on a log axis to a hundred-millionth of a decade.
_FLOAT32_TINY, _FLOAT32_HUGE = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max) / 4
MOVE_LIMIT = 1e-6  # of the axis's span: what a mark may move by as float32 (0.001 px on a 1000 px chart)


def positions(values: Any, span: float | None) -> np.ndarray:
    """A column that only places marks on an axis spanning ``span`` (None: a log axis), as float32 when
    that moves no mark by more than ``MOVE_LIMIT`` of the span (on a log axis: every value a normal
    float32); otherwise as it was. Half the bytes of a live line, sent on every update (issue 11)."""
    array = np.asarray(values)
    if array.dtype != np.float64 or not len(array):
        return array
    size = np.abs(array[np.isfinite(array)])
    nonzero = size[size > 0]
    if not len(nonzero):
        return array.astype(np.float32)
    if float(nonzero.min()) < _FLOAT32_TINY or float(nonzero.max()) > _FLOAT32_HUGE:
        return array
    if span is not None and not float(nonzero.max()) * 2.0**-24 <= MOVE_LIMIT * abs(span):
        return array
    return array.astype(np.float32)


def lossless(array: np.ndarray) -> np.ndarray:
    """``array`` in the narrowest type that holds every value exactly: float64 values that are float32
    values (a float32 run's losses, parameters and data) as float32, whole numbers (steps) as int32.
    The browser reads the same numbers from half the bytes."""
    if array.dtype == np.float64 and len(array):
        narrow = array.astype(np.float32)
        if np.array_equal(narrow, array, equal_nan=True):
            return narrow
    elif array.dtype == np.int64 and len(array):
        if np.iinfo(np.int32).min <= int(array.min()) and int(array.max()) <= np.iinfo(np.int32).max:
            return array.astype(np.int32)
    return array


def live_columns(training: bool, **spans: float | None) -> dict[str, float | None] | None:
    """For ``live_table``'s ``narrow``: while training (the axes fixed, the lines without tooltips) the
    columns that only place a line's marks, each with its axis's span (None: a log axis); None at rest,
    where tooltips show every column. A builder sends a line's other columns only at rest."""
    return spans if training else None


WORDS_AS_DICTIONARY = 16  # rows from which a repeated word travels once, in a dictionary, with a byte a row


def _filled(value: Any, rows: int) -> pa.Array:
    """A column of ``rows`` copies of ``value``; NaN is missing (null), as pandas' conversion has it. A word
    in a long column is one entry of a dictionary: the browser reads the same word in every row. Arrow
    arrays never change, so each one is made once and shared: every live redraw of every session fills the
    same labels ("marker", a parameter's name) into its tables, and making them took a twentieth of a redraw."""
    if isinstance(value, float) and value != value:
        return pa.nulls(rows, pa.float64())
    try:
        return _filled_once(type(value), value, rows)  # the type too: 1, 1.0 and True are equal keys
    except TypeError:  # a value that cannot be a key
        return _repeated(value, rows)


@functools.lru_cache(maxsize=1024)
def _filled_once(kind: type, value: Any, rows: int) -> pa.Array:
    return _repeated(value, rows)


def _repeated(value: Any, rows: int) -> pa.Array:
    if isinstance(value, str) and rows > WORDS_AS_DICTIONARY:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int8)), pa.array([value]))
    return pa.repeat(pa.scalar(value), rows)


def finite_rows(frame: pd.DataFrame, columns: Sequence[str], positive: str | None = None) -> pd.DataFrame:
    """Drop every row with a NaN or infinity in ``columns`` (and a value ≤ 0 in ``positive``, for a
    log axis): none may reach a chart."""
    if frame.empty:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for column in columns:
        keep &= np.isfinite(frame[column].to_numpy(dtype=np.float64))
    if positive is not None:
        keep &= frame[positive].to_numpy(dtype=np.float64) > 0
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def vega_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """An Altair chart as the fixed Vega-Lite spec Streamlit draws (tables are attached per draw)."""
    # Not validated here: tests/test_charts_base.py validates every shape against Vega-Lite's schema, and
    # validation was a third of a spec's build, paid by the first session of a fresh server (issue 11).
    spec = chart.to_dict(validate=False)
    spec.pop("datasets", None)
    # Rows are checked finite (and positive for log axes) before they are sent, so Vega's own
    # per-row validity filter — an interpreted expression on every update — is switched off.
    spec.setdefault("config", {}).setdefault("mark", {})["invalid"] = None
    # Canvas redraws a thousand marks far faster than SVG rebuilds its DOM.
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return themed_text(spec)


Builder = TypeVar("Builder", bound=Callable[..., dict[str, Any]])


def numbers_filled_in(builder: Builder) -> Builder:
    """Cache a spec builder by everything but the numbers in its arguments (axis domains).

    Each session's run has axes of its own (its data, its seed), and Altair takes a fifth of a second of
    the server's one interpreter to build and validate a spec: thirty attendees pressing Run together
    queued seconds behind each other. The spec is built once per shape with stand-in numbers; each new
    set of numbers is filled into a copy (microseconds). Builders pass these numbers through to the spec
    unchanged (scale domains), so the stand-ins land exactly where the numbers go. One session builds a
    shape while the others wait for it: a room pressing Run at once would otherwise build it once each."""
    shaped = functools.lru_cache(maxsize=None)(builder)
    building = threading.Lock()

    @functools.lru_cache(maxsize=256)
    def filled(*args: Any, **kwargs: Any) -> dict[str, Any]:
        numbers: dict[float, float] = {}
        stand_ins = itertools.count(1)
        holes = [_holes(a, numbers, stand_ins) for a in args]
        named = {k: _holes(v, numbers, stand_ins) for k, v in kwargs.items()}
        with building:
            spec = shaped(*holes, **named)
        return _fill(spec, numbers) if numbers else spec

    functools.update_wrapper(filled, builder)
    return filled  # type: ignore[return-value]


def _holes(value: Any, numbers: dict[float, float], stand_ins: Any) -> Any:
    """``value`` with every number replaced by a stand-in no spec holds otherwise (noted in ``numbers``)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        hole = -1e-300 * (next(stand_ins) + 0.5)
        numbers[hole] = value.item() if isinstance(value, np.generic) else value
        return hole
    if isinstance(value, tuple):
        return tuple(_holes(v, numbers, stand_ins) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _holes(getattr(value, f.name), numbers, stand_ins)
                                             for f in dataclasses.fields(value)})
    return value


def _fill(spec: Any, numbers: dict[float, float]) -> Any:
    if isinstance(spec, dict):
        return {k: _fill(v, numbers) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_fill(v, numbers) for v in spec]
    if isinstance(spec, float):
        return numbers.get(spec, spec)
    return spec


def tips_at_rest(tooltip: list[Any], at_rest: bool) -> dict[str, Any]:
    """Tooltips for a long live line only while the run is at rest: Vega evaluates a tooltip per
    point on every update, which costs the browser more than drawing the line itself."""
    return {"tooltip": tooltip} if at_rest else {}


def thin(count: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` evenly spread items out of ``count``, first and last kept."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, limit)).astype(np.int64))


def fmt4(value: float) -> str:
    return f"{value:.4g}"


def table_of(**columns: Any) -> pd.DataFrame:
    length = max((len(v) for v in columns.values() if isinstance(v, (np.ndarray, list))), default=1)
    return pd.DataFrame({k: (v if isinstance(v, (np.ndarray, list)) else [v] * length) for k, v in columns.items()})
