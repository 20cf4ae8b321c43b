"""Expressions over an exercise's parameters: `where` conditions and `{{ EXPR }}` in text.

They are written in the tensor language (`tensorlang.parse` validates them, so the
grammar is one), and interpreted here in plain Python over what parameters are:
numbers, vectors and small matrices as nested lists. Plain Python because a prompt is
rendered when a lesson opens, on the interface's thread, where torch is not imported.
Integers stay integers while the operations keep them so (`2 * a` with `a = 3` is 3's
double, 6, printed without a decimal point).
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from . import tensorlang
from .tensorlang import TensorLangError

Value = int | float | bool | list[Any]
"""A number, or a nested list of numbers (a vector or a matrix)."""

MAX_POWER = 10**6
"""The largest magnitude an integer power may reach before it is computed."""

SUBSTITUTION = re.compile(r"\{\{(.*?)\}\}", re.S)
"""`{{ EXPR }}` in text: `{{` opens, the first `}}` after it closes."""


@functools.lru_cache(maxsize=4096)
def parse(text: str, names: frozenset[str]) -> tensorlang.TensorExpr:
    """Validate an expression over `names` (the tensor language); raises TensorLangError.

    Parsed once per text and names: a `where` is evaluated for every draw."""
    return tensorlang.parse(text, names)


def evaluate(text: str, env: Mapping[str, Value]) -> Value:
    """The value of a tensor-language expression over numbers and lists."""
    expr = parse(text, frozenset(env))
    return _Interpreter(expr.text, env).value(expr.tree)


def truth(text: str, env: Mapping[str, Value]) -> bool:
    """A `where` condition: one truth value (a comparison of lists must hold everywhere)."""
    value = evaluate(text, env)
    return all(_flat(value)) if isinstance(value, list) else bool(value)


def format_value(value: Value) -> str:
    """How a value is printed in text: `3`, `0.3`, `-2.5`, `[1, -2]`.

    Integers (and floats with an integral value) without a decimal point; other numbers
    rounded to 10 significant digits, in their shortest form."""
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    rounded = float(f"{value:.10g}")
    if rounded == int(rounded) and abs(rounded) < 1e15:
        return str(int(rounded))
    return repr(rounded)


def render(text: str, env: Mapping[str, Value]) -> str:
    """Text with every `{{ EXPR }}` replaced by its value; raises TensorLangError."""
    return SUBSTITUTION.sub(lambda m: format_value(evaluate(m.group(1), env)), text)


def substitutions(text: str) -> list[tuple[int, str]]:
    """(offset, expression) of each `{{ EXPR }}` in text."""
    return [(m.start(), m.group(1)) for m in SUBSTITUTION.finditer(text)]


def _flat(value: Value) -> list[Any]:
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [value]


def _shape(value: Value) -> tuple[int, ...]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


def _sigmoid(t: float) -> float:
    return 1 / (1 + math.exp(-t)) if t > -700 else 0.0


_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "relu": lambda t: max(t, 0),
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "exp": math.exp,
    "log": math.log,
}


class _Interpreter:
    def __init__(self, text: str, env: Mapping[str, Value]) -> None:
        self.text = text
        self.env = env

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        col = node.col_offset + 1 if hasattr(node, "col_offset") else None
        raise TensorLangError(f"{message} (column {col})" if col else message, col)

    def value(self, node: ast.AST) -> Value:
        try:
            return self._eval(node)
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            why = "division by zero" if isinstance(exc, ZeroDivisionError) else str(exc)
            self.fail(node, f"`{ast.unparse(node)}` cannot be computed ({why})")

    def _eval(self, node: ast.AST) -> Value:
        match node:
            case ast.Constant(value=int() | float() as v):
                return v
            case ast.Name(id=name):
                return _copy(self.env[name])
            case ast.List(elts=elts):
                return [self.value(e) for e in elts]
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return _map(lambda a: -a, self.value(operand))
            case ast.UnaryOp(operand=operand):
                return self.value(operand)
            case ast.BinOp(left=left, op=ast.MatMult(), right=right):
                return self.matmul(node, self.value(left), self.value(right))
            case ast.BinOp(left=left, op=op, right=right):
                return self.binary(node, op, self.value(left), self.value(right))
            case ast.Compare(left=left, ops=[op], comparators=[right]):
                compare = _COMPARISONS[type(op)]
                return self.broadcast(node, compare, self.value(left), self.value(right))
            case ast.Attribute(value=value, attr="T"):
                return self.transpose(node, self.value(value))
            case ast.Call(func=ast.Name(id=name), args=args):
                values = [self.value(a) for a in args]
                if name == "mse":
                    diff = self.broadcast(node, lambda a, b: (a - b) ** 2, *values)
                    flat = _flat(diff)
                    mean: float = sum(flat) / len(flat)
                    return mean
                return _map(_FUNCTIONS[name], values[0])
            case ast.Call(func=ast.Attribute(value=value, attr=method), args=args, keywords=kw):
                return self.method(node, method, self.value(value), args, kw)
        self.fail(node, f"`{ast.unparse(node)}` cannot be computed here")

    def binary(self, node: ast.AST, op: ast.operator, a: Value, b: Value) -> Value:
        if isinstance(op, ast.Add):
            return self.broadcast(node, lambda x, y: x + y, a, b)
        if isinstance(op, ast.Sub):
            return self.broadcast(node, lambda x, y: x - y, a, b)
        if isinstance(op, ast.Mult):
            return self.broadcast(node, lambda x, y: x * y, a, b)
        if isinstance(op, ast.Div):
            return self.broadcast(node, lambda x, y: x / y, a, b)
        return self.broadcast(node, self.power, a, b)

    def power(self, x: Any, y: Any) -> Any:
        if abs(y) > 1 and abs(x) > 1 and abs(y) * math.log10(abs(x)) > math.log10(MAX_POWER):
            raise ValueError("the power is too large")
        result = x**y
        if isinstance(result, complex):
            raise ValueError("a negative number to a fractional power")
        return result

    def broadcast(self, node: ast.AST, fn: Callable[[Any, Any], Any], a: Value, b: Value) -> Value:
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                self.fail(node, f"shapes {_shape(a)} and {_shape(b)} do not match")
            return [self.broadcast(node, fn, x, y) for x, y in zip(a, b, strict=True)]
        if isinstance(a, list):
            return [self.broadcast(node, fn, x, b) for x in a]
        if isinstance(b, list):
            return [self.broadcast(node, fn, a, y) for y in b]
        return fn(a, b)  # type: ignore[no-any-return]

    def matmul(self, node: ast.AST, a: Value, b: Value) -> Value:
        sa, sb = _shape(a), _shape(b)
        if not sa or not sb or len(sa) > 2 or len(sb) > 2 or sa[-1] != sb[0]:
            self.fail(node, f"shapes {sa} and {sb} cannot be multiplied with @")
        assert isinstance(a, list) and isinstance(b, list)
        rows = a if len(sa) == 2 else [a]
        cols = self.transpose(node, b) if len(sb) == 2 else [b]
        assert isinstance(cols, list)
        out = [[sum(x * y for x, y in zip(r, c, strict=True)) for c in cols] for r in rows]
        if len(sb) == 1:
            out = [row[0] for row in out]
        return out[0] if len(sa) == 1 else out

    def transpose(self, node: ast.AST, a: Value) -> Value:
        shape = _shape(a)
        if len(shape) < 2:
            return a
        assert isinstance(a, list)
        return [list(col) for col in zip(*a, strict=True)]

    def method(
        self, node: ast.AST, name: str, a: Value, args: list[ast.expr], kw: list[ast.keyword]
    ) -> Value:
        if kw or (args and name not in ("pow", "clamp")):
            self.fail(node, f"`.{name}(...)` with arguments is not available in parameters")
        values = [self.value(x) for x in args]
        flat = _flat(a)
        if name == "sum":
            total: float = sum(flat)
            return total
        if name == "mean":
            mean: float = sum(flat) / len(flat)
            return mean
        if name == "t":
            return self.transpose(node, a)
        if name == "float":
            return _map(float, a)
        if name == "pow":
            return self.broadcast(node, self.power, a, values[0])
        if name == "clamp":
            lo = values[0] if values else -math.inf
            hi = values[1] if len(values) > 1 else math.inf
            return _map(lambda t: min(max(t, lo), hi), a)
        self.fail(node, f"`.{name}()` is not available in parameters")


def _map(fn: Callable[[Any], Any], value: Value) -> Value:
    if isinstance(value, list):
        return [_map(fn, v) for v in value]
    return fn(value)  # type: ignore[no-any-return]


def _copy(value: Value) -> Value:
    return [_copy(v) for v in value] if isinstance(value, list) else value


_COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Gt: lambda a, b: a > b,
    ast.Lt: lambda a, b: a < b,
    ast.GtE: lambda a, b: a >= b,
    ast.LtE: lambda a, b: a <= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}
