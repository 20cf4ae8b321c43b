"""The derivative as a sum over paths of products of local derivatives, simplified."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import symbolic
from ..mathlang import (
    BinOp,
    Node,
)

if TYPE_CHECKING:
    pass

from .model import Graph, GraphNode

# ----------------------------------------------------------------------------- the derivative


def path_product(graph: Graph, path: list[tuple[GraphNode, int]]) -> Node:
    """The product of a path's local derivatives, in the function's variables."""
    tree: Node = symbolic.ONE
    for node, k in path:
        tree = BinOp("*", tree, graph.in_variables(node.local[k]))
    return symbolic.simplify(tree)


def assemble(graph: Graph, wrt: str) -> Node:
    """d function / d wrt: the sum over paths of the products of local derivatives,
    simplified (accumulated node by node when there are too many paths)."""
    try:
        paths = graph.paths(wrt)
    except OverflowError:
        return _accumulated(graph, wrt)
    total: Node = symbolic.ZERO
    for path in paths:
        total = BinOp("+", total, path_product(graph, path))
    return symbolic.simplify(total)


def _accumulated(graph: Graph, wrt: str) -> Node:
    adjoint: dict[str, Node] = {graph.output: symbolic.ONE}
    for node in reversed(graph.nodes):
        if node.is_leaf or node.id not in adjoint:
            continue
        upstream = symbolic.simplify(adjoint[node.id])
        for k, inp in enumerate(node.inputs):
            term = BinOp("*", upstream, graph.in_variables(node.local[k]))
            adjoint[inp] = BinOp("+", adjoint[inp], term) if inp in adjoint else term
    return symbolic.simplify(adjoint.get(wrt, symbolic.ZERO))
