"""What a typed function may contain: the functions (each with its NumPy call, its code and its LaTeX), the
constants, the operators, and what each refused construct is called in a message. A leaf that
``fitcore.expression`` checks, evaluates and writes out with, and ``fitcore.expression_latex`` renders with.
The words that tell a learner what may be typed (a refusal's message, the function box's help) are built
from the same tables, so a function added here shows up in them.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np


@dataclass(frozen=True)
class Function:
    """One allowed function: its NumPy call as code ({} is the argument), the call itself, and LaTeX."""

    code: str
    apply: Callable[[Any], Any]
    latex: str  # {} is the argument


def _np(name: str, latex: str) -> Function:
    return Function(f"np.{name}({{}})", getattr(np, name), latex)


FUNCTIONS: Mapping[str, Function] = {
    "sin": _np("sin", r"\sin\left({}\right)"),
    "cos": _np("cos", r"\cos\left({}\right)"),
    "tan": _np("tan", r"\tan\left({}\right)"),
    "arcsin": _np("arcsin", r"\arcsin\left({}\right)"),
    "arccos": _np("arccos", r"\arccos\left({}\right)"),
    "arctan": _np("arctan", r"\arctan\left({}\right)"),
    "asin": _np("arcsin", r"\arcsin\left({}\right)"),
    "acos": _np("arccos", r"\arccos\left({}\right)"),
    "atan": _np("arctan", r"\arctan\left({}\right)"),
    "sinh": _np("sinh", r"\sinh\left({}\right)"),
    "cosh": _np("cosh", r"\cosh\left({}\right)"),
    "tanh": _np("tanh", r"\tanh\left({}\right)"),
    "exp": _np("exp", r"e^{{{}}}"),
    "log": _np("log", r"\ln\left({}\right)"),
    "ln": _np("log", r"\ln\left({}\right)"),
    "log10": _np("log10", r"\log_{{10}}\left({}\right)"),
    "log2": _np("log2", r"\log_{{2}}\left({}\right)"),
    "sqrt": _np("sqrt", r"\sqrt{{{}}}"),
    "abs": _np("abs", r"\left|{}\right|"),
    "floor": _np("floor", r"\left\lfloor {} \right\rfloor"),
    "ceil": _np("ceil", r"\left\lceil {} \right\rceil"),
    "sign": _np("sign", r"\operatorname{{sign}}\left({}\right)"),
    # the unit step: 0 for x < 0, 1 for x ≥ 0
    "step": Function("np.heaviside({}, 1.0)", lambda v: np.heaviside(v, 1.0), r"\operatorname{{step}}\left({}\right)"),
}
CONSTANTS: Mapping[str, tuple[str, float, str]] = {  # name -> (code, value, LaTeX)
    "pi": ("np.pi", math.pi, r"\pi"),
    "π": ("np.pi", math.pi, r"\pi"),
    "e": ("np.e", math.e, "e"),
}
VARIABLE = "x"
OPERATORS: Mapping[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _spellings(table: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The names of each entry, its first name first: names with an equal entry are spellings of one
    function or constant (``arcsin`` and ``asin``, ``pi`` and ``π``)."""
    names: dict[Any, tuple[str, ...]] = {}
    for name, entry in table.items():
        names[entry] = names.get(entry, ()) + (name,)
    return list(names.values())


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _allowed(every_spelling: bool) -> str:
    """What a typed function may contain, in words; with every spelling, "arcsin (or asin)"."""
    def spelled(names: tuple[str, ...]) -> str:
        return f"{names[0]} (or {', '.join(names[1:])})" if every_spelling and len(names) > 1 else names[0]
    return (f"numbers, {VARIABLE}, {_listed([spelled(n) for n in _spellings(CONSTANTS)])}, "
            f"{' '.join(OPERATORS.values())} and parentheses, and the functions "
            + ", ".join(spelled(names) for names in _spellings(FUNCTIONS)))


ALLOWED = _allowed(every_spelling=False)   # in a refusal's message
_IN_FULL = _allowed(every_spelling=True)
ALLOWED_IN_FULL = _IN_FULL[:1].upper() + _IN_FULL[1:]   # a sentence: the typed function's hover help
EXAMPLE = "0.5*x**3 - sin(2*x)"

# What a refused construct is called in a message, by node type.
REFUSED: Mapping[type, str] = {
    ast.Attribute: "attribute access (the '.')", ast.Lambda: "a lambda", ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension", ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression", ast.Subscript: "indexing with [ ]", ast.List: "a list",
    ast.Tuple: "a tuple (a comma)", ast.Dict: "a dict", ast.Set: "a set", ast.Compare: "a comparison",
    ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.NamedExpr: "the := operator", ast.Starred: "a starred *",
    ast.JoinedStr: "an f-string", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield from",
    ast.Slice: "a slice",
}
REFUSED_OPERATORS: Mapping[type, str] = {
    ast.BitXor: "^ is not a power here: write powers as x**2",
    ast.Mod: "% (remainder) is not allowed", ast.FloorDiv: "// (floor division) is not allowed: use floor(a/b)",
    ast.MatMult: "@ is not allowed", ast.LShift: "<< is not allowed", ast.RShift: ">> is not allowed",
    ast.BitOr: "| is not allowed: for |x| write abs(x)", ast.BitAnd: "& is not allowed",
}
