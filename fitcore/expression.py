"""Typed target functions: a whitelist parser and a NumPy evaluator, never eval or exec.

The text is read by ``ast.parse`` (which only builds a syntax tree; nothing runs) and every node
is checked against a short whitelist: numbers, the variable x, the constants pi and e, the
operators + - * / ** and unary minus, parentheses, and calls of named functions with one
argument. Evaluation walks that checked tree and applies the same Python operators and NumPy
functions that ``Expression.numpy_code`` writes out, so an exported script computes the same
values bit for bit.

Whole numbers stay Python ints (``x**3`` reads better than ``x**3.0``) but may never grow past
``MAX_WHOLE``: Python's unbounded ints would otherwise let ``9**9**9`` run for hours.

What may be typed (functions, constants, operators, and what each refused construct is called) is
``fitcore.expression_vocabulary``; the LaTeX reading of a checked tree is ``fitcore.expression_latex``. The
values and the NumPy code stay here side by side: they must agree bit for bit, node type by node type.
"""
from __future__ import annotations

import ast
import difflib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .expression_latex import latex_of
from .expression_vocabulary import (ALLOWED, CONSTANTS, EXAMPLE, FUNCTIONS, OPERATORS, REFUSED, REFUSED_OPERATORS,
                                    VARIABLE)
from .settings import MAX_EXPRESSION_LENGTH

MAX_LENGTH = MAX_EXPRESSION_LENGTH  # characters (your own data's "fn" row in fitcore.settings)
MAX_DEPTH = 40          # nested operations
MAX_NODES = 150
MAX_EXPONENT = 100      # |k| in x**k
MAX_WHOLE = 10**15      # whole numbers beyond this must be written as decimals (1e20)

# Typographic characters people paste, each replaced by one ASCII character (columns stay put).
TYPOGRAPHIC = str.maketrans({"−": "-", "×": "*", "·": "*", "÷": "/", "–": "-"})


class DataSourceError(ValueError):
    """Custom data or a typed function cannot be used; the message says why and what would work."""


class ParseError(DataSourceError):
    """A typed function is not allowed. ``column`` (1-based) and ``snippet`` point at the culprit."""

    def __init__(self, message: str, text: str = "", column: int | None = None, snippet: str = "") -> None:
        super().__init__(message)
        self.text = text
        self.column = column
        self.snippet = snippet

    @property
    def pointer(self) -> str:
        """The text with a caret line under the offending part (empty when there is no position)."""
        if self.column is None or not self.text:
            return ""
        width = max(1, min(len(self.snippet), len(self.text) - self.column + 1))
        return f"{self.text}\n{' ' * (self.column - 1)}{'^' * width}"


class EvaluationError(DataSourceError):
    """A function that parses but has no finite value somewhere (division by zero, overflow, log of a
    negative number)."""


def _char_column(text: str, byte_offset: int | None) -> int | None:
    """ast gives UTF-8 byte offsets; messages count characters (1-based)."""
    if byte_offset is None:
        return None
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1


@dataclass(frozen=True)
class Expression:
    """A checked target function of x. Build it with ``parse_function``."""

    text: str
    tree: ast.Expression = field(compare=False, repr=False)

    @property
    def uses_x(self) -> bool:
        return _uses_x(self.tree)

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """The function at every x, in x's dtype where the operations keep it; never raises anything but
        EvaluationError. Non-finite values are returned as they are: ``values`` checks them."""
        with np.errstate(all="ignore"):
            value = _evaluate(self.tree.body, x, self.text)
        if isinstance(value, complex):
            raise EvaluationError(f"{self.text} is not a real number (a negative number to a fractional power)")
        if not isinstance(value, np.ndarray) or value.shape != np.shape(x):
            value = np.full(np.shape(x), value)
        return value

    def values(self, x: np.ndarray) -> np.ndarray:
        """The function at every x, or an EvaluationError naming the first x where it is not finite."""
        y = self.evaluate(x)
        bad = ~np.isfinite(y)
        if bad.any():
            at = float(np.asarray(x, dtype=np.float64).reshape(-1)[int(np.argmax(bad.reshape(-1)))])
            count = int(bad.sum())
            raise EvaluationError(
                f"{self.text} is not finite at x = {at:.6g}"
                + (f" (and {count - 1:,} more points)" if count > 1 else "")
                + ": a division by zero, a logarithm or square root of a negative number, or a value too large for "
                "the number format. Choose an x range that avoids it, or change the function.")
        return y

    def numpy_code(self, variable: str = VARIABLE) -> str:
        """The same computation as NumPy code over ``variable``, e.g. 0.5 * x ** 3 - np.sin(2 * x)."""
        code = ast.unparse(_to_numpy(self.tree.body, variable))
        return code if self.uses_x else f"np.full({variable}.shape, {code})"

    @property
    def latex(self) -> str:
        return latex_of(self.tree.body)


def parse_function(text: str) -> Expression:
    """Check a typed function of x; raises ParseError naming the offending part and what is allowed."""
    if not isinstance(text, str):
        raise ParseError(f"a function must be text, not {type(text).__name__}")
    source = text.translate(TYPOGRAPHIC).strip()
    if not source:
        raise ParseError(f"type a function of x, for example {EXAMPLE}")
    if len(source) > MAX_LENGTH:
        raise ParseError(f"the function is {len(source)} characters long; keep it under {MAX_LENGTH}")
    for column, char in enumerate(source, start=1):
        if not char.isprintable():
            raise ParseError(f"character {column} is an invisible control character ({ord(char):#04x}); "
                             f"retype the function", source, column, char)
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the message below says it
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(source, error) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ParseError(f"{source!r} cannot be read as a function ({error}); allowed: {ALLOWED}") from None
    _check(tree, source)
    return Expression(source, tree)


def _syntax_error(source: str, error: SyntaxError) -> ParseError:
    column = min(max(error.offset or 1, 1), len(source))
    snippet = source[column - 1:column + 9].split(" ")[0] or source[column - 1:column]
    hint = ""
    for i in range(len(source) - 1):
        if source[i].isdigit() and (source[i + 1].isalpha() or source[i + 1] == "("):
            hint = f" Write multiplication with *: {source[:i + 1]}*{source[i + 1:]}."
            break
    if not hint and source.count("(") != source.count(")"):
        hint = " The parentheses do not pair up."
    return ParseError(f"the function cannot be read at column {column} (near {snippet!r}).{hint} "
                      f"Allowed: {ALLOWED}; for example {EXAMPLE}", source, column, snippet)


def _where(node: ast.AST, source: str) -> tuple[int | None, str]:
    column = _char_column(source, getattr(node, "col_offset", None))
    snippet = ast.get_source_segment(source, node) or ""
    return column, snippet


def _refuse(node: ast.AST, source: str, what: str, advice: str = "", verdict: str = "is not allowed") -> ParseError:
    """'<what> at column N (<snippet>) <verdict>. <advice>.'"""
    column, snippet = _where(node, source)
    place = f" at column {column}" if column is not None else ""
    shown = f" ({snippet!r})" if snippet and snippet != source and snippet not in what else ""
    return ParseError(f"{what}{place}{shown} {verdict}. {advice or 'Allowed: ' + ALLOWED}.", source, column, snippet)


def _check(tree: ast.Expression, source: str) -> None:
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ParseError(f"the function has {len(nodes)} parts; keep it under {MAX_NODES}", source)
    _check_node(tree.body, source, 1)
    for part in _constant_parts(tree.body):
        # A part without x has one value everywhere: if it fails (1/0, 9**9**9, (-8)**(1/3)) it always
        # fails, so it is refused now, with its position, rather than for some x range later.
        try:
            with np.errstate(all="ignore"):
                value = _evaluate(part, np.zeros(0), source)
            segment = ast.get_source_segment(source, part)
            if isinstance(value, complex):
                raise EvaluationError(f"{segment} is not a real number (a negative number to a fractional power)")
            if not np.isfinite(value):
                raise EvaluationError(f"{segment} is not a finite number (a square root or logarithm of a negative "
                                      "number, or a value too large for the number format)")
        except EvaluationError as error:
            column, snippet = _where(part, source)
            raise ParseError(f"{error} (column {column}).", source, column, snippet) from None


def _uses_x(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == VARIABLE for n in ast.walk(node))


def _constant_parts(node: ast.AST) -> list[ast.AST]:
    """The largest parts of the tree that do not involve x."""
    if not _uses_x(node):
        return [node]
    children = node.args if isinstance(node, ast.Call) else [c for c in ast.iter_child_nodes(node)
                                                             if isinstance(c, ast.expr)]
    return [part for child in children for part in _constant_parts(child)]


def _check_node(node: ast.AST, source: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _refuse(node, source, f"nesting deeper than {MAX_DEPTH} levels", "Simplify the function.")
    if isinstance(node, ast.Constant):
        _check_constant(node, source)
    elif isinstance(node, ast.Name):
        _check_name(node, source)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _refuse(node, source, "'not' or '~'", f"Only + - * / ** are allowed. Allowed: {ALLOWED}")
        _check_node(node.operand, source, depth + 1)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in OPERATORS:
            reason = REFUSED_OPERATORS.get(type(node.op), "this operator is not allowed")
            column, snippet = _where(node, source)
            raise ParseError(f"{reason} (at {snippet!r}, column {column}). Allowed: {ALLOWED}.",
                             source, column, snippet)
        _check_node(node.left, source, depth + 1)
        _check_node(node.right, source, depth + 1)
        if isinstance(node.op, ast.Pow):  # after its parts: only checked names may be evaluated
            _check_exponent(node.right, source)
    elif isinstance(node, ast.Call):
        _check_call(node, source, depth)
    else:
        what = REFUSED.get(type(node), type(node).__name__)
        raise _refuse(node, source, what[0].upper() + what[1:])


def _check_constant(node: ast.Constant, source: str) -> None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {str: "text in quotes", bytes: "bytes", complex: "a complex number", bool: "True/False"}.get(
            type(value), repr(value))
        raise _refuse(node, source, kind[0].upper() + kind[1:], f"Use plain numbers such as 2, 0.5 or 1e-3. "
                      f"Allowed: {ALLOWED}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _refuse(node, source, "A number too large to be finite", "Keep numbers below 1e300")
    if isinstance(value, int) and abs(value) > MAX_WHOLE:
        raise _refuse(node, source, f"A whole number above {MAX_WHOLE:.0e}", "Write it in e-notation, like 1e20")


def _check_name(node: ast.Name, source: str) -> None:
    name = node.id
    if name == VARIABLE or name in CONSTANTS:
        return
    if name in FUNCTIONS:
        raise _refuse(node, source, f"{name!r}", f"Call it with one argument: {name}(x)",
                      verdict="is a function without its parentheses")
    if name.lower() == VARIABLE:
        advice = "The variable is a lower-case x"
    else:
        close = difflib.get_close_matches(name, [VARIABLE, *CONSTANTS, *FUNCTIONS], n=1)
        advice = (f"Did you mean {close[0]}? " if close else "") + \
            "The only variable is x; the constants are pi and e"
    raise _refuse(node, source, f"{name!r}", f"{advice}. Allowed: {ALLOWED}", verdict="is not a name you can use")


def _check_exponent(node: ast.AST, source: str) -> None:
    value = _constant_value(node)
    if value is None and not _uses_x(node):
        try:
            with np.errstate(all="ignore"):
                computed = _evaluate(node, np.zeros(0), source)
            value = float(computed) if not isinstance(computed, complex) else None
        except (EvaluationError, TypeError, OverflowError):
            value = None  # the constant-part check below says what is wrong with it
    if value is not None and abs(value) > MAX_EXPONENT:
        raise _refuse(node, source, f"The exponent {value:g}",
                      f"Exponents are limited to ±{MAX_EXPONENT}: a power like x**{value:g} is far beyond what a "
                      "polynomial fit or the number format can follow", verdict="is too large")


def _constant_value(node: ast.AST) -> float | None:
    """A literal number, or minus one, written as the exponent."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _constant_value(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    return None


def _check_call(node: ast.Call, source: str, depth: int) -> None:
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            raise _refuse(node.func, source, "Attribute access (the '.')",
                          f"Call functions by their bare name, like sin(x). Allowed: {ALLOWED}")
        raise _refuse(node, source, "Calling the result of an expression", f"Allowed: {ALLOWED}")
    name = node.func.id
    if name not in FUNCTIONS:
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
        raise _refuse(node.func, source, f"{name!r}", (f"Did you mean {close[0]}? " if close else "")
                      + f"Allowed: {ALLOWED}", verdict="is not a function you can use")
    if node.keywords:
        raise _refuse(node.keywords[0].value, source, f"A keyword argument to {name}",
                      f"{name} takes exactly one plain argument, like {name}(2*x)")
    if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise _refuse(node, source, f"{name} with {len(node.args)} arguments",
                      f"{name} takes exactly one argument, like {name}(2*x)")
    _check_node(node.args[0], source, depth + 1)


# --- evaluation ------------------------------------------------------------------------------------

def _whole_checked(value: Any, node: ast.AST, source: str) -> Any:
    if isinstance(value, int) and abs(value) > MAX_WHOLE:
        column, snippet = _where(node, source)
        raise EvaluationError(f"{snippet or source} is a whole number above {MAX_WHOLE:.0e}; write one of its "
                              f"numbers with a decimal point (2.0 rather than 2) so it is computed as a decimal")
    return value


def _evaluate(node: ast.AST, x: np.ndarray, source: str) -> Any:
    """Walk a checked tree with the operators and NumPy calls ``numpy_code`` writes out."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return x if node.id == VARIABLE else CONSTANTS[node.id][1]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, x, source)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id].apply(_evaluate(node.args[0], x, source))  # type: ignore[attr-defined]
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, x, source), _evaluate(node.right, x, source)
    segment = ast.get_source_segment(source, node) or source
    if isinstance(left, complex) or isinstance(right, complex):
        raise EvaluationError(f"{segment} is not a real number (a negative number to a fractional power)")
    try:
        if isinstance(node.op, ast.Add):
            value = left + right
        elif isinstance(node.op, ast.Sub):
            value = left - right
        elif isinstance(node.op, ast.Mult):
            value = left * right
        elif isinstance(node.op, ast.Div):
            value = left / right
        else:
            if np.ndim(right) == 0 and abs(float(right)) > MAX_EXPONENT:
                raise EvaluationError(f"the exponent in {segment} is {float(right):g}; exponents are limited to "
                                      f"±{MAX_EXPONENT}")
            value = left ** right
    except ZeroDivisionError:
        raise EvaluationError(f"{segment} divides by zero") from None
    except OverflowError:
        raise EvaluationError(f"{segment} is too large for the number format") from None
    return _whole_checked(value, node, source)


def _to_numpy(node: ast.AST, variable: str) -> ast.expr:
    """The checked tree with NumPy names: sin → np.sin, pi → np.pi, x → ``variable``."""
    if isinstance(node, ast.Constant):
        return ast.Constant(node.value)
    if isinstance(node, ast.Name):
        if node.id == VARIABLE:
            return ast.Name(variable, ast.Load())
        return ast.parse(CONSTANTS[node.id][0], mode="eval").body
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(node.op, _to_numpy(node.operand, variable))
    if isinstance(node, ast.BinOp):
        return ast.BinOp(_to_numpy(node.left, variable), node.op, _to_numpy(node.right, variable))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    call = ast.parse(FUNCTIONS[node.func.id].code.format("ARG"), mode="eval").body
    assert isinstance(call, ast.Call)
    call.args[0] = _to_numpy(node.args[0], variable)
    return call
