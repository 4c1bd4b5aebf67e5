"""Reading a user's CSV file: two numeric columns out of any text table, or one clear message.

The reader accepts commas, semicolons or tabs between values (semicolon and tab files may use
decimal commas, as European spreadsheets write them), an optional header row, blank lines and
``#`` comment lines. Everything else is refused with a message that names the line and column and
says what would work. Numbers are read with Python's ``float`` after a strict pattern check, so an
exported script that reads the same file with ``float`` gets the same values bit for bit.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .expression import DataSourceError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
SNIFF_LINES = 50

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d*(?:[eE][+-]?\d+)?")
MISSING = {"nan", "+nan", "-nan", "na", "n/a", "null", "none", "inf", "+inf", "-inf", "infinity", "+infinity",
           "-infinity", "#n/a", "#div/0!", "#value!", "#num!", "#ref!", "#null!", "#name?"}
# File signatures of formats people rename to .csv, with what to do instead.
SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "an SQLite database"),
)
EXAMPLE = "x,y / 0,1.2 / 1,2.9 / 2,5.1"


class CsvError(DataSourceError):
    """The file cannot be used; the message names the problem and what would work."""


@dataclass(frozen=True)
class CsvLayout:
    """How a file was read: enough for a script to read the same two columns with the csv module."""

    delimiter: str
    header: bool
    decimal_comma: bool
    x_column: int  # 0-based
    y_column: int
    x_name: str
    y_name: str


@dataclass(frozen=True)
class CsvTable:
    """A text table read from a file: column names, cells as text, and the file line of each row."""

    name: str
    delimiter: str
    header: bool
    names: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]  # 1-based line number in the file of each row

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter != ","

    @property
    def numeric_columns(self) -> list[int]:
        """Columns that hold at least one number: the candidates for x and y (text columns are skipped)."""
        return [i for i in range(len(self.names)) if any(_looks_numeric(row[i], self.decimal_comma)
                                                        for row in self.rows[:SNIFF_LINES])]

    def describe(self) -> str:
        header = "a header row" if self.header else "no header row"
        comma = ", decimal commas" if self.decimal_comma and any(
            "," in cell for row in self.rows[:SNIFF_LINES] for cell in row) else ""
        return (f"{len(self.rows):,} rows × {len(self.names)} columns, values separated by "
                f"{DELIMITERS[self.delimiter]}{comma}, {header}")

    def column(self, index: int) -> np.ndarray:
        """One column as float64; CsvError names the first cell that is not a finite number."""
        name = self.names[index]
        values = np.empty(len(self.rows))
        for i, row in enumerate(self.rows):
            values[i] = _number(row[index], self.decimal_comma, self.lines[i], name)
        return values

    def xy(self, x_column: int | None = None, y_column: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The x and y columns (by default the first two numeric columns), checked."""
        layout = self.layout(x_column, y_column)
        x, y = self.column(layout.x_column), self.column(layout.y_column)
        if np.all(x == x[0]):
            raise CsvError(f"every x value (column {layout.x_name!r}) is {x[0]:g}: with x constant, a line's slope "
                           "and every higher coefficient are undetermined (the design matrix is singular). Pick an x "
                           "column whose values vary.")
        return x, y

    def layout(self, x_column: int | None = None, y_column: int | None = None) -> CsvLayout:
        numeric = self.numeric_columns
        if x_column is None or y_column is None:
            if len(numeric) == 1 and len(self.names) > 1:
                # One column of numbers: say what is wrong with the next one (units, text, commas).
                self.column(next(i for i in range(len(self.names)) if i not in numeric))
            if len(numeric) < 2:
                raise CsvError(f"{self.name} has no column of numbers; a fit needs two, x and y. A file like "
                               f"{EXAMPLE} works.")
            x_column = numeric[0] if x_column is None else x_column
            y_column = next(i for i in numeric if i != x_column) if y_column is None else y_column
        for index in (x_column, y_column):
            if not 0 <= index < len(self.names):
                raise CsvError(f"{self.name} has {len(self.names)} columns; there is no column {index + 1}")
        if x_column == y_column:
            raise CsvError("x and y are the same column; pick two different columns")
        return CsvLayout(self.delimiter, self.header, self.decimal_comma, x_column, y_column,
                         self.names[x_column], self.names[y_column])


def _looks_numeric(cell: str, decimal_comma: bool) -> bool:
    text = cell.strip()
    return bool(NUMBER.fullmatch(text) or (decimal_comma and DECIMAL_COMMA.fullmatch(text)))


def _number(cell: str, decimal_comma: bool, line: int, column: str) -> float:
    text = cell.strip()
    where = f"line {line}, column {column!r}"
    if not text:
        raise CsvError(f"{where} is empty: every row needs both an x and a y value. Fill it in or delete the row.")
    if text.lower() in MISSING:
        raise CsvError(f"{where} holds {text!r}: missing, infinite or error values cannot be fitted. Delete that row "
                       "or replace the value with a number.")
    if decimal_comma and DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    if not NUMBER.fullmatch(text):
        shown = text if len(text) <= 24 else text[:21] + "…"
        raise CsvError(f"{where} holds {shown!r}, which is not a number. Write plain numbers such as 3.5 or -1.2e-3 "
                       "(no units, currency signs or thousands separators).")
    value = float(text)
    if not np.isfinite(value):
        raise CsvError(f"{where} holds {text!r}, which is too large to be a finite number.")
    return value


def _refuse_binary(data: bytes, name: str) -> None:
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            raise CsvError(f"{name} is {kind}, not a CSV text file, even if its name ends in .csv. In a spreadsheet, "
                           "use File → Save As (or Download) → CSV, then upload that file.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvError(f"{name} is UTF-16 text. Save it as UTF-8 CSV (in Excel: File → Save As → CSV UTF-8).")
    if b"\x00" in data[:65536]:
        raise CsvError(f"{name} contains binary data (zero bytes), so it is not a CSV text file. Export your data "
                       f"as CSV text, e.g. {EXAMPLE}.")


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        raise CsvError(f"{name} is not UTF-8 text: byte {data[error.start]:#04x} on line {line}, column {column} "
                       "cannot be read. Save the file as UTF-8 (in Excel: File → Save As → CSV UTF-8).") from None


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) for every line that is neither blank nor a # comment."""
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def _split(lines: Sequence[str], delimiter: str) -> list[list[str]]:
    try:
        return [next(csv.reader([line], delimiter=delimiter), []) for line in lines]
    except csv.Error as error:
        raise CsvError(f"a line cannot be split into values ({error}); check the quotes") from None


def _sniff(lines: Sequence[str], name: str) -> str:
    """The delimiter that splits the first lines into equally many values, the most of them numbers."""
    sample = list(lines[:SNIFF_LINES])
    best, best_score = None, (-1.0, -1.0, 0)
    for delimiter in DELIMITERS:
        rows = _split(sample, delimiter)
        widths = [len(row) for row in rows[1:] or rows]
        width = max(set(widths), key=widths.count)
        share = widths.count(width) / len(widths)
        if width < 2 or share < 0.5:  # a stray line may differ: the width check names it
            continue
        cells = [cell for row in rows for cell in row]
        numeric = sum(_looks_numeric(cell, delimiter != ",") for cell in cells) / max(len(cells), 1)
        score = (share, numeric, -list(DELIMITERS).index(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    if best is not None:
        return best
    text = "\n".join(sample)
    for other, called in (("|", "'|'"), (" ", "spaces"), (":", "':'"), ("/", "'/'")):
        if any(len([part for part in line.strip().split(other) if part]) >= 2 for line in sample[-5:]) \
                and other in text:
            raise CsvError(f"the values in {name} seem to be separated by {called}. Separate them with commas, "
                           f"semicolons or tabs, e.g. {EXAMPLE}.")
    if len(sample) > 1 and all(len(row) == 1 for row in _split(sample, ",")):
        raise CsvError(f"{name} has only one column; a fit needs two, x and y, e.g. {EXAMPLE}.")
    raise CsvError(f"the lines of {name} do not split into the same number of values with commas, semicolons or "
                   f"tabs; check the first lines (a file like {EXAMPLE} works).")


def _megabytes(size: int) -> str:
    megabytes = size / 1024**2
    return f"{megabytes:g} MB" if megabytes.is_integer() or megabytes < 0.1 else f"{megabytes:.1f} MB"


def check_size(size: int, name: str = "the file", max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS,
               limit_hint: str = "") -> None:
    """Refuse a file over ``max_bytes`` before reading it; ``limit_hint`` says how to raise the limit."""
    if size > max_bytes:
        raise CsvError(f"{name} is {size / 1024**2:.1f} MB; files are limited to {_megabytes(max_bytes)} "
                       f"(and {max_rows:,} rows). Keep only the x and y columns, or fewer rows. {limit_hint}".rstrip())


def read_csv(data: bytes, name: str = "the file", max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS,
             limit_hint: str = "") -> CsvTable:
    """Read an uploaded file's bytes as a table; CsvError says what is wrong and what would work.

    A deployment may lower (or raise) the size and row limits; ``limit_hint`` then says how to raise them.
    """
    check_size(len(data), name, max_bytes, max_rows, limit_hint)
    if not data.strip():
        raise CsvError(f"{name} is empty. Upload a CSV with an x and a y column, e.g. {EXAMPLE}.")
    _refuse_binary(data, name)
    text = _decode(data, name)
    numbered = _content_lines(text)
    if not numbered:
        raise CsvError(f"{name} has no data: only blank or # comment lines. A file like {EXAMPLE} works.")
    numbers, lines = [n for n, _ in numbered], [line for _, line in numbered]
    if len(lines) > max_rows + 1:
        raise CsvError(f"{name} has more than {max_rows:,} rows ({len(lines):,} lines); the limit is {max_rows:,}. "
                       f"Thin the data (every second row, say) or fit a part of it. {limit_hint}".rstrip())
    delimiter = _sniff(lines, name) if len(lines) > 1 else next((d for d in DELIMITERS if d in lines[0]), ",")
    rows = _split(lines, delimiter)
    rows = _drop_empty_trailing_columns(rows)
    first = rows[0]
    header = any(not _looks_numeric(cell, delimiter != ",") and cell.strip().lower() not in MISSING
                 for cell in first)
    width = len(first)
    names = tuple(cell.strip() or f"column {i + 1}" for i, cell in enumerate(first)) if header \
        else tuple(f"column {i + 1}" for i in range(width))
    body, body_lines = (rows[1:], numbers[1:]) if header else (rows, numbers)
    if not body:
        raise CsvError(f"{name} has a header ({', '.join(names)}) but no data rows below it. Add rows of numbers, "
                       f"e.g. {EXAMPLE}.")
    if len(body) > max_rows:
        raise CsvError(f"{name} has {len(body):,} data rows; the limit is {max_rows:,}. Thin the data (every second "
                       f"row, say) or fit a part of it. {limit_hint}".rstrip())
    if width < 2:
        raise CsvError(f"{name} has only one column; a fit needs two, x and y, e.g. {EXAMPLE}.")
    for row, line in zip(body, body_lines):
        if len(row) != width:
            raise CsvError(f"line {line} has {len(row)} value{'s' if len(row) != 1 else ''} but the first line has "
                           f"{width}: check that line for a missing value or an extra "
                           f"{DELIMITERS[delimiter][:-1]}.")
    if len(body) == 1:
        raise CsvError(f"{name} has a single data row (line {body_lines[0]}); a fit needs at least two points, and one "
                       "more than the polynomial's degree.")
    return CsvTable(name, delimiter, header, names, tuple(tuple(row) for row in body), tuple(body_lines))


def _drop_empty_trailing_columns(rows: list[list[str]]) -> list[list[str]]:
    """Spreadsheets often end every line with a delimiter: drop columns that are empty on every line."""
    width = max(len(row) for row in rows)
    while width > 1 and all(len(row) < width or not row[width - 1].strip() for row in rows):
        width -= 1
        rows = [row[:width] for row in rows]
    return rows
