"""Modules stay small enough to read in one sitting: no module in fitcore/ or ui/ runs past about 400 lines
unless its docstring says why its length is one idea ("Its length is one idea: …")."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 420  # "about 400": a docstring line or two of slack, not a second idea
ONE_IDEA = "Its length is one idea:"
MODULES = sorted(path for package in ("fitcore", "ui") for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_that_a_long_module_says_why_its_length_is_one_idea(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    if lines <= LIMIT:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert ONE_IDEA in docstring, f"{path.relative_to(ROOT)} has {lines} lines and its docstring does not say why"
