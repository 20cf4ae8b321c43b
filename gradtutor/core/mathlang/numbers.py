"""Numbers of the math language: literals kept exact, sizes checked before computing.

A literal beyond 10^±MAX_LOG10 is refused before it is built (`1e99999999` would be a
number with a hundred million digits), and so is a power too large to work with
(`9^9^9`); `evaluate_constant` gives the float value of a tree without variables.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .functions import FUNCTIONS
from .lexer import Token
from .tree import BinOp, Call, Const, MathError, Neg, Node, Num

MAX_EXPONENT = 1000
MAX_LOG10 = 300  # exact constants beyond 10^300 are refused (they do not fit a float)


_LITERAL = re.compile(r"(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")


def number(tok: Token) -> Num:
    """A literal, kept exact; refused when it is beyond 10^±MAX_LOG10 (before it is built:
    `1e99999999` would otherwise be a number with a hundred million digits)."""
    match = _LITERAL.fullmatch(tok.text)
    if match is None:
        raise MathError(f"`{tok.text}` at column {tok.col} is not a number", tok.col)
    whole, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3) or 0)
    digits = (whole + fraction).lstrip("0")
    if digits:
        if whole.lstrip("0"):
            magnitude = exponent + len(whole.lstrip("0")) - 1
        else:
            magnitude = exponent - (len(fraction) - len(fraction.lstrip("0")) + 1)
        if abs(magnitude) > MAX_LOG10:
            size = "large" if magnitude > 0 else "small"
            raise MathError(
                f"`{tok.text}` at column {tok.col} is too {size} to work with "
                f"(numbers must lie between 1e-{MAX_LOG10} and 1e{MAX_LOG10})",
                tok.col,
            )
    try:
        value = Fraction(tok.text)
    except (ValueError, ZeroDivisionError) as exc:
        raise MathError(f"`{tok.text}` at column {tok.col} is not a number", tok.col) from exc
    return Num(value, tok.text)


def _const_log10(node: Node) -> float | None:
    """log10 of |value| for a constant subtree (None when it has variables or is zero)."""
    match node:
        case Num(value):
            return math.log10(abs(value)) if value else None
        case Const(name):
            return math.log10(math.pi) if name == "pi" else math.log10(math.e)
        case Neg(operand):
            return _const_log10(operand)
        case BinOp(op, left, right):
            a, b = _const_log10(left), _const_log10(right)
            if a is None or b is None:
                return None
            if op == "*":
                return a + b
            if op == "/":
                return a - b
            if op in "+-":
                return max(a, b) + 0.31
            exponent = evaluate_constant(right)
            return None if exponent is None else a * exponent
    return None


def evaluate_constant(node: Node) -> float | None:
    """The float value of a tree without variables; None where it is undefined.

    Plain `math`, no torch: value answers are read with it, on the start path too.
    """
    match node:
        case Num(value):
            return float(value)
        case Const(name):
            return math.pi if name == "pi" else math.e
        case Neg(operand):
            v = evaluate_constant(operand)
            return None if v is None else -v
        case BinOp(op, left, right):
            a, b = evaluate_constant(left), evaluate_constant(right)
            if a is None or b is None:
                return None
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b
                result = a**b
                return result if isinstance(result, float | int) else None
            except (OverflowError, ZeroDivisionError):
                return None
        case Call(func, args):
            values = [evaluate_constant(a) for a in args]
            if any(v is None for v in values):
                return None
            try:
                return float(FUNCTIONS[func].math(*values))
            except (OverflowError, ValueError, ZeroDivisionError, KeyError):
                return None
    return None


def check_power_size(node: BinOp, col: int) -> None:
    """Refuse a power too large to work with (`9^9^9`), before anything computes it."""
    exponent = evaluate_constant(node.right)
    if exponent is None:
        if _const_log10(node.right) is not None:  # a constant too large to evaluate
            raise MathError(f"the power at column {col} is too large to work with", col)
        return
    if abs(exponent) > MAX_EXPONENT:
        raise MathError(f"the exponent at column {col} is too large (at most {MAX_EXPONENT})", col)
    magnitude = _const_log10(node)
    if magnitude is not None and abs(magnitude) > MAX_LOG10:
        raise MathError(f"the power at column {col} is too large to work with", col)
