"""What a typed function may contain (fitcore.expression_vocabulary), and the words that tell the learner so:
the function box's help on "Your own data" is built from the same tables the parser checks with."""
from __future__ import annotations

import builtins
import math
import re

import numpy as np
import pytest

from fitcore.expression import ParseError, parse_function
from fitcore.expression_vocabulary import FUNCTIONS
from fitcore.settings import SOURCE_FIELD


def _accepted(text: str) -> bool:
    try:
        parse_function(text)
    except ParseError:
        return False
    return True


def _named_functions(text: str) -> set[str]:
    """The names a help text gives after "the functions": "arcsin (or asin), log10" -> arcsin, asin, log10."""
    listed = text.split("the functions ", 1)[1].split(".", 1)[0]
    return set(re.findall(r"[^\W\d]\w*", listed)) - {"or"}


def test_that_the_function_box_help_names_every_function_the_parser_accepts_and_nothing_it_refuses() -> None:
    tip = SOURCE_FIELD["expression"].tip
    named = _named_functions(tip)
    candidates = {name for name in {*dir(np), *dir(math), *dir(builtins)} if name.isidentifier()} | named
    accepted = {name for name in candidates if _accepted(f"{name}(x)")}
    assert named == accepted
    assert set(FUNCTIONS) <= named


def test_that_the_function_box_help_names_the_constants_and_operators_the_parser_accepts() -> None:
    tip = SOURCE_FIELD["expression"].tip
    for constant in ("pi", "π", "e"):
        assert re.search(rf"(^|[\s(]){constant}[\s,)]", tip) and _accepted(f"x + {constant}"), constant
    for operator in ("+", "-", "*", "/", "**"):
        assert f" {operator} " in f" {tip} " and _accepted(f"x {operator} 2"), operator


def test_that_a_refused_function_is_told_every_allowed_function_once_by_its_first_spelling() -> None:
    with pytest.raises(ParseError) as refused:
        parse_function("erf(x)")
    named = _named_functions(str(refused.value))
    listed = _named_functions(SOURCE_FIELD["expression"].tip)
    assert named <= listed
    assert len({FUNCTIONS[name] for name in named}) == len(named), "each function once"
    for alias in listed - named:   # another spelling of a function the message names
        assert any(FUNCTIONS[alias] == FUNCTIONS[name] for name in named), alias
