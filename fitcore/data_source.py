"""What "Your own data" is made of: a typed function or a file's columns, and the polynomial that fits them.

A leaf below ``fitcore.demo``: a ``Problem`` built from your own data names its ``CustomSource`` with this
type, and ``fitcore.custom`` (which imports ``demo``) checks sources and builds the problems.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .csvfile import CsvLayout


@dataclass(frozen=True)
class CustomSource:
    """Where a custom run's data come from and the polynomial that fits them.

    kind "function": y = expression(x) on ``points`` evenly spaced x in [x_min, x_max], plus noise
    (points, noise and seed are the run's own settings). kind "csv": the x and y columns of a file,
    as read (``layout`` says how, so an exported script can read the same file).
    """

    kind: str
    degree: int = 3
    standardise: bool = False
    expression: str = ""
    x_min: float = -2.0
    x_max: float = 2.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    file: str = ""
    layout: CsvLayout | None = None

    @property
    def rows(self) -> int:
        return len(self.x)

    def describe(self) -> str:
        model = f"degree-{self.degree} polynomial" + (" in standardised x" if self.standardise else "")
        if self.kind == "csv":
            columns = f" (x: {self.layout.x_name}, y: {self.layout.y_name})" if self.layout else ""
            return f"{model} fitted to the {self.rows:,} rows of {self.file}{columns}"
        return f"{model} fitted to y = {self.expression} on [{self.x_min:g}, {self.x_max:g}]"

    def replace(self, **changes: Any) -> "CustomSource":
        return dataclasses.replace(self, **changes)

