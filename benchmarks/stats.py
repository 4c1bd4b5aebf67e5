"""What a benchmark reports: samples as median [min–max], ratios taken pair by pair, targets met or not."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

MIN_RUNS = 5


@dataclass(frozen=True)
class Stat:
    """Repeated measurements of one quantity (seconds, a ratio, megabytes…)."""

    samples: tuple[float, ...]
    unit: str = ""

    @property
    def median(self) -> float:
        return float(statistics.median(self.samples))

    @property
    def low(self) -> float:
        return float(min(self.samples))

    @property
    def high(self) -> float:
        return float(max(self.samples))

    def text(self, digits: int = 3) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if len(self.samples) == 1:
            return f"{_number(self.median, digits)}{unit} (1 run)"
        return f"{_number(self.median, digits)} [{_number(self.low, digits)}–{_number(self.high, digits)}]{unit}"

    def scaled(self, factor: float, unit: str) -> "Stat":
        return Stat(tuple(v * factor for v in self.samples), unit)


def _number(value: float, digits: int) -> str:
    if value == 0 or not (abs(value) < 1e15):
        return f"{value:g}"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def stat(samples: Sequence[float], unit: str = "") -> Stat:
    return Stat(tuple(float(v) for v in samples), unit)


def ratios(numerators: Sequence[float], denominators: Sequence[float], unit: str = "×") -> Stat:
    """Each pair's ratio (measured back to back in the same repetition), never a ratio of medians."""
    if len(numerators) != len(denominators):
        raise ValueError("ratios pair measurements one to one")
    return Stat(tuple(n / d if d > 0 else float("inf") for n, d in zip(numerators, denominators)), unit)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def paired(first: Callable[[], float], second: Callable[[], float], runs: int) -> tuple[list[float], list[float]]:
    """Run two measurements ``runs`` times, alternating which goes first so a drift in the machine's
    load falls on both; returns their samples in pairs."""
    a: list[float] = []
    b: list[float] = []
    for index in range(runs):
        if index % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


@dataclass
class Row:
    """One line of the report: a measured figure, and the target it is held to (if any)."""

    group: str
    name: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.met is None:
            return ""
        return "met" if self.met else "not met"


@dataclass
class Section:
    """A group's rows plus the paragraphs that explain them (how measured, what limits them)."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: Stat | str, target: str = "", met: bool | None = None, note: str = "") -> Row:
        row = Row(self.name, name, value.text() if isinstance(value, Stat) else value, target, met, note)
        self.rows.append(row)
        return row
