"""The graph itself: nodes of elementary operations, built from a parsed function."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import symbolic
from ..mathlang import (
    BinOp,
    Call,
    MathError,
    Neg,
    Node,
    Var,
    to_text,
    variables,
    walk,
)

if TYPE_CHECKING:
    pass


MAX_NODES = 200
MAX_PATHS = 256  # beyond this, the derivative is accumulated node by node instead
OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow"}


@dataclass(frozen=True)
class GraphNode:
    """One operation (or a variable) of the function."""

    id: str
    """The variable's name for a leaf; `u1`, `u2`, … in forward order otherwise."""
    op: str
    """`var`, `add`, `sub`, `mul`, `div`, `pow`, `neg`, or a function's name."""
    expr: Node
    """What the node computes, in the function's variables."""
    formula: Node
    """What the node computes from its inputs (`sin(u1)`); a leaf is its variable."""
    inputs: tuple[str, ...]
    """The nodes it reads, each once, in order of first use."""
    local: tuple[Node, ...]
    """d formula / d input for each input, in terms of the inputs."""
    rules: tuple[str, ...]
    """For each input, the rule that gives the local derivative, in words."""

    @property
    def is_leaf(self) -> bool:
        """Whether the node is a variable."""
        return self.op == "var"


@dataclass(frozen=True)
class Graph:
    """The nodes of a function in forward order, leaves first."""

    function: Node
    nodes: tuple[GraphNode, ...]
    output: str
    _by_id: dict[str, GraphNode] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({n.id: n for n in self.nodes})

    def node(self, node_id: str) -> GraphNode:
        """The node with this id."""
        return self._by_id[node_id]

    def consumers(self, node_id: str) -> tuple[str, ...]:
        """The nodes that read this one, in forward order."""
        return tuple(n.id for n in self.nodes if node_id in n.inputs)

    def edges(self) -> Iterator[tuple[GraphNode, str, int]]:
        """Every (node, input id, index of the input) in forward order of the nodes."""
        for n in self.nodes:
            for i, inp in enumerate(n.inputs):
                yield n, inp, i

    def in_variables(self, tree: Node) -> Node:
        """A tree in node ids, rewritten in the function's variables."""
        return symbolic.substitute(tree, {n.id: n.expr for n in self.nodes if not n.is_leaf})

    def local_in_variables(self, node: GraphNode, index: int) -> Node:
        """The local derivative of an edge, in the function's variables, simplified."""
        return symbolic.simplify(self.in_variables(node.local[index]))

    def paths(self, wrt: str) -> list[list[tuple[GraphNode, int]]]:
        """Every path from the output down to the leaf `wrt`, as (node, input index) steps;
        at most MAX_PATHS (more raises OverflowError)."""
        found: list[list[tuple[GraphNode, int]]] = []

        def walk(node_id: str, path: list[tuple[GraphNode, int]]) -> None:
            if node_id == wrt:
                found.append(list(path))
                if len(found) > MAX_PATHS:
                    raise OverflowError("too many paths")
                return
            node = self.node(node_id)
            for i, inp in enumerate(node.inputs):
                if wrt in variables(self.node(inp).expr):
                    path.append((node, i))
                    walk(inp, path)
                    path.pop()

        walk(self.output, [])
        return found


def build_graph(function: Node) -> Graph:
    """The computation graph of a parsed function."""
    names = sorted(variables(function), key=lambda v: _first_use(function, v))
    if not names:
        raise MathError("the function has no variable, so there is no graph to break down")
    leaves = [GraphNode(v, "var", Var(v), Var(v), (), (), ()) for v in names]
    ops: list[GraphNode] = []
    ids: dict[str, str] = {v: v for v in names}  # text of a subtree -> node id
    counter = 0

    def fresh_id() -> str:
        nonlocal counter
        while True:
            counter += 1
            candidate = f"u{counter}"
            if candidate not in names:
                return candidate

    def visit(tree: Node) -> Node:
        """The tree as its consumer reads it: a node id, or itself when constant."""
        if not variables(tree):
            return tree
        key = to_text(tree)
        if key in ids:
            return Var(ids[key])
        match tree:
            case BinOp(op, left, right):
                formula: Node = BinOp(op, visit(left), visit(right))
                name = OPS[op]
            case Neg(operand):
                formula, name = Neg(visit(operand)), "neg"
            case Call(func, args):
                formula, name = Call(func, tuple(visit(a) for a in args)), func
            case _:
                raise MathError(f"cannot break down {key}")
        if len(ops) >= MAX_NODES:
            raise MathError(f"the function has more than {MAX_NODES} operations")
        inputs = tuple(dict.fromkeys(v for v in _vars_in_order(formula)))
        node_id = fresh_id()
        ids[key] = node_id
        ops.append(
            GraphNode(
                node_id,
                name,
                tree,
                formula,
                inputs,
                tuple(symbolic.differentiate(formula, inp) for inp in inputs),
                tuple(symbolic.rule_of(formula, inp) for inp in inputs),
            )
        )
        return Var(node_id)

    top = visit(function)
    assert isinstance(top, Var)
    return Graph(function, (*leaves, *ops), top.name)


def _vars_in_order(tree: Node) -> Iterator[str]:
    """The variables of a tree as they are read, left to right (with repeats)."""
    return (n.name for n in walk(tree) if isinstance(n, Var))


def _first_use(tree: Node, name: str) -> int:
    for i, v in enumerate(_vars_in_order(tree)):
        if v == name:
            return i
    return 0
