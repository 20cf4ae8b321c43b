"""Pretty-printing parsed math with sympy's Unicode printer, as the learner wrote it."""

from __future__ import annotations

from typing import Any

from .mathlang import BinOp, Call, Const, Neg, Num, Var, to_sympy


def pretty(expr: Any) -> str:
    """Unicode pretty-print of a tree or a sympy expression; Heaviside shown as step."""
    import sympy

    if isinstance(expr, Num | Var | Const | BinOp | Neg | Call):
        expr = to_sympy(expr, display=True)
    else:
        expr = expr.replace(sympy.Heaviside, sympy.Function("step"))
    return str(sympy.pretty(expr, use_unicode=True))
