"""What the checker asks of a tree: where its kinks are, which inner functions it chains."""

from __future__ import annotations

from .functions import KINKED
from .tree import BinOp, Call, Node, Var, variables, walk


def kink_arguments(node: Node) -> list[Node]:
    """The expressions whose zero is a kink or jump (relu, abs, Heaviside, max, min)."""
    out = []
    for n in walk(node):
        if isinstance(n, Call) and n.func in KINKED:
            out.append(n.args[0] if len(n.args) == 1 else BinOp("-", n.args[0], n.args[1]))
    return out


def inner_functions(node: Node, wrt: str) -> list[Node]:
    """Inner functions of the chain: arguments of calls and bases of powers that are
    more than the bare variable and depend on it."""
    out: list[Node] = []
    for n in walk(node):
        candidates: tuple[Node, ...] = ()
        if isinstance(n, Call):
            candidates = n.args
        elif isinstance(n, BinOp) and n.op == "^":
            candidates = (n.left, n.right)
        for c in candidates:
            if c != Var(wrt) and wrt in variables(c) and c not in out:
                out.append(c)
    return out
