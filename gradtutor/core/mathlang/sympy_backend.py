"""Trees to sympy expressions (variables as real symbols), through the function table."""

from __future__ import annotations

from typing import Any

from .functions import FUNCTIONS
from .tree import BinOp, Call, Const, Neg, Node, Num, Var


def to_sympy(node: Node, symbols: dict[str, Any] | None = None, display: bool = False) -> Any:
    """Build the sympy expression for a tree (variables as real symbols).

    With `display`, functions sympy would rewrite (sigmoid, relu, step, max, min) stay
    named, unevaluated functions, so that printing reads like what was typed; such an
    expression is for printing only.
    """
    import sympy

    symbols = symbols if symbols is not None else {}

    def build(n: Node) -> Any:
        match n:
            case Num(value):
                return sympy.Rational(value.numerator, value.denominator)
            case Var(name):
                if name not in symbols:
                    symbols[name] = sympy.Symbol(name, real=True)
                return symbols[name]
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
                if op == "/":
                    return a / b
                return a**b
            case Call(func, args):
                xs = [build(a) for a in args]
                f = FUNCTIONS[func]
                if display and func in _DISPLAYED:
                    return sympy.Function(f.shown)(*xs)
                return f.sympy(sympy, *xs)
        raise TypeError(n)

    return build(node)


_DISPLAYED = {"sigmoid", "relu", "Heaviside", "max", "min"}
