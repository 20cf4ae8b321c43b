"""Pretty-printing parsed math with sympy's Unicode printer, as the learner wrote it.

sigmoid, relu and the step function are kept as named functions (sympy would expand
sigmoid and write Heaviside as θ), so the preview reads like the answer typed.
"""

from __future__ import annotations

from typing import Any

from .mathlang import BinOp, Call, Const, Neg, Node, Num, Var

_DISPLAY_NAMES = {"sigmoid": "σ", "relu": "relu", "Heaviside": "step"}


def to_display_sympy(node: Node) -> Any:
    """A sympy expression for display only (named functions stay unevaluated)."""
    import sympy

    symbols: dict[str, Any] = {}

    def build(n: Node) -> Any:
        match n:
            case Num(value):
                return sympy.Rational(value.numerator, value.denominator)
            case Var(name):
                return symbols.setdefault(name, sympy.Symbol(name, real=True))
            case Const(name):
                return sympy.pi if name == "pi" else sympy.E
            case Neg(operand):
                return -build(operand)
            case BinOp(op, left, right):
                a, b = build(left), build(right)
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                return a / b if op == "/" else a**b
            case Call(func, args):
                xs = [build(a) for a in args]
                if func in _DISPLAY_NAMES:
                    return sympy.Function(_DISPLAY_NAMES[func])(*xs)
                if func == "abs":
                    return sympy.Abs(xs[0], evaluate=False)
                if func in ("max", "min"):
                    return sympy.Function(func)(*xs)
                return getattr(sympy, func)(xs[0], evaluate=False)
        raise TypeError(n)

    return build(node)


def pretty(expr: Any) -> str:
    """Unicode pretty-print of a tree or a sympy expression; Heaviside shown as step."""
    import sympy

    if isinstance(expr, Num | Var | Const | BinOp | Neg | Call):
        expr = to_display_sympy(expr)
    else:
        expr = expr.replace(sympy.Heaviside, sympy.Function("step"))
    return sympy.pretty(expr, use_unicode=True)
