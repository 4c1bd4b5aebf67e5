"""Ready-made target functions for "Your own data", and a polynomial written as a function the parser reads."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    expression: str
    x_min: float
    x_max: float


PRESETS: tuple[Preset, ...] = (
    Preset("mixed", "0.5·x³ − sin 2x", "0.5*x**3 - sin(2*x)", -2.0, 2.0),
    Preset("sin", "sin x", "sin(x)", -math.pi, math.pi),
    Preset("cos", "cos x", "cos(x)", -math.pi, math.pi),
    Preset("exp", "eˣ", "exp(x)", -2.0, 2.0),
    Preset("abs", "|x|", "abs(x)", -1.0, 1.0),
    Preset("step", "step (0 below 0, 1 from 0)", "step(x)", -1.0, 1.0),
    Preset("sawtooth", "sawtooth (x − ⌊x⌋)", "x - floor(x)", -2.0, 2.0),
)


def polynomial_text(coefficients: list[float]) -> str:
    """a₀ + a₁x + a₂x² … as a function the parser accepts, e.g. [1, 0, -2] → '1 - 2*x**2'."""
    terms: list[str] = []
    for power, value in enumerate(coefficients):
        if value == 0:
            continue
        number = repr(abs(float(value))).removesuffix(".0")
        body = number if power == 0 else (("" if number == "1" else number + "*") + ("x" if power == 1 else
                                                                                      f"x**{power}"))
        sign = "-" if value < 0 else "+"
        terms.append(("-" + body if sign == "-" else body) if not terms else f" {sign} {body}")
    return "".join(terms) or "0"
