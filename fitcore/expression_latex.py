"""A checked typed function written as LaTeX, with only the parentheses its precedence needs."""
from __future__ import annotations

import ast

from .expression_vocabulary import CONSTANTS, FUNCTIONS, VARIABLE

_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}


def _latex_number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        head = "" if mantissa in ("1.0", "1") else mantissa.removesuffix(".0") + r" \times "
        return f"{head}10^{{{int(exponent)}}}"
    return text.removesuffix(".0")


def _starts_with_letter(latex: str) -> bool:
    return bool(latex) and (latex[0].isalpha() or latex[0] == "\\" or latex.startswith("e^"))


def latex_of(node: ast.AST) -> str:
    """The LaTeX of a checked tree (``fitcore.expression`` has checked every node against the vocabulary)."""
    return _latex(node)[0]


def _latex(node: ast.AST) -> tuple[str, int]:
    """(LaTeX, precedence): 5 for atoms, 4 powers, 3 unary minus, 2 products, 1 sums."""
    if isinstance(node, ast.Constant):
        return _latex_number(node.value), 5 if node.value >= 0 else 3
    if isinstance(node, ast.Name):
        return (VARIABLE if node.id == VARIABLE else CONSTANTS[node.id][2]), 5
    if isinstance(node, ast.Call):
        inner, _ = _latex(node.args[0])
        return FUNCTIONS[node.func.id].latex.format(inner), 5  # type: ignore[attr-defined]
    if isinstance(node, ast.UnaryOp):
        inner, level = _latex(node.operand)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return sign + (f"\\left({inner}\\right)" if level < 3 else inner), 3
    assert isinstance(node, ast.BinOp)
    level = _PRECEDENCE[type(node.op)]
    left, left_level = _latex(node.left)
    right, right_level = _latex(node.right)
    if isinstance(node.op, ast.Div):
        return f"\\frac{{{left}}}{{{right}}}", 5
    if isinstance(node.op, ast.Pow):
        base = left if left_level == 5 and not left.startswith("\\") else f"\\left({left}\\right)"
        return f"{base}^{{{right}}}", 4
    if left_level < level:
        left = f"\\left({left}\\right)"
    if right_level < level or (right_level == level and isinstance(node.op, ast.Sub)) or right_level == 3:
        right = f"\\left({right}\\right)"
    if isinstance(node.op, ast.Mult):
        joined = f"{left}\\,{right}" if isinstance(node.left, ast.Constant) and _starts_with_letter(right) \
            else f"{left} \\cdot {right}"
        return joined, level
    return f"{left} {'+' if isinstance(node.op, ast.Add) else '-'} {right}", level
