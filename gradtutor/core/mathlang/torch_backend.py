"""Trees to torch operations in float64, through the function table."""

from __future__ import annotations

import math
from typing import Any

from .functions import FUNCTIONS
from .tree import BinOp, Call, Const, Neg, Node, Num, Var


def to_torch(node: Node, env: dict[str, Any]) -> Any:
    """Evaluate a tree with torch operations (float64) over the tensors in `env`.

    Differentiable wherever the function is; the table's functions decide how (step is
    built from comparisons, so that autograd sees a zero derivative away from its jump).
    """
    import torch

    def build(n: Node) -> Any:
        match n:
            case Num(value):
                return torch.tensor(float(value), dtype=torch.float64)
            case Var(name):
                return env[name]
            case Const(name):
                return torch.tensor(math.pi if name == "pi" else math.e, dtype=torch.float64)
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
                return torch.pow(a, b)
            case Call(func, args):
                return FUNCTIONS[func].torch(torch, *(build(a) for a in args))
        raise TypeError(n)

    return build(node)
