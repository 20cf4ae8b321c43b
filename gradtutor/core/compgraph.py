"""A function as a computation graph: the chain rule, node by node.

Nodes are the elementary operations of a parsed function. A variable is one leaf however
often it is used, and an identical subexpression is one node (`sin(x)^2 + sin(x)` computes
`sin(x)` once and uses it twice), so every value used twice shows as a node with two
consumers, where backpropagation adds the gradients of both paths. Numbers and constants
are not nodes: they belong to the operation that uses them (`3*x` is one node).

Each edge (a node and one of its inputs) carries its local derivative, a math-language
tree in terms of the node's inputs (`cos(u1)` for `u2 = sin(u1)`). `evaluate` gives every
node's forward value and its gradient (the derivative of the function with respect to
that node, the adjoint backpropagation leaves there) at a point or at many points at
once; local derivative values come from torch autograd on each node's own formula, so
kinks follow PyTorch (`relu'(0) = 0`). `assemble` writes the derivative as the sum, over
the paths from the output to a variable, of the products of their local derivatives,
simplified. torch is imported only by the numeric parts.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import symbolic
from .mathlang import (
    BinOp,
    Call,
    MathError,
    Neg,
    Node,
    Var,
    kink_arguments,
    parse,
    pretty_text,
    to_text,
    variables,
    walk,
)
from .text import listed

if TYPE_CHECKING:
    import torch

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


# ----------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Evaluation:
    """Every node's value, every edge's local derivative and every node's gradient, at
    the same points (tensors of one shape: a scalar for one point)."""

    values: dict[str, torch.Tensor]
    local: dict[tuple[str, int], torch.Tensor]
    grads: dict[str, torch.Tensor]


def evaluate(graph: Graph, points: dict[str, Any]) -> Evaluation:
    """Forward values, local derivatives and gradients at `points` (floats or float64
    tensors of one shape), by torch."""
    import torch

    values: dict[str, torch.Tensor] = {}
    local: dict[tuple[str, int], torch.Tensor] = {}
    from .mathlang import to_torch

    for node in graph.nodes:
        if node.is_leaf:
            values[node.id] = torch.as_tensor(points[node.id], dtype=torch.float64)
            continue
        leaves = {i: values[i].detach().clone().requires_grad_(True) for i in node.inputs}
        out = to_torch(node.formula, leaves)
        grads = torch.autograd.grad(out.sum(), [leaves[i] for i in node.inputs], allow_unused=True)
        values[node.id] = out.detach()
        shape = out.shape
        for k, g in enumerate(grads):
            local[node.id, k] = torch.zeros(shape, dtype=torch.float64) if g is None else g.detach()
    return Evaluation(values, local, backward(graph, local))


def backward(
    graph: Graph,
    local: dict[tuple[str, int], torch.Tensor],
    edits: dict[tuple[str, int], float] | None = None,
) -> dict[str, torch.Tensor]:
    """Each node's gradient by reverse accumulation over the local derivatives; `edits`
    replaces some edges' local derivatives by a number (1: a factor forgotten, 0: a path
    forgotten), for diagnosis."""
    import torch

    out = graph.node(graph.output)
    shape = next(iter(local.values())).shape if local else torch.Size([])
    grads: dict[str, torch.Tensor] = {
        n.id: torch.zeros(shape, dtype=torch.float64) for n in graph.nodes
    }
    grads[out.id] = torch.ones(shape, dtype=torch.float64)
    for node in reversed(graph.nodes):
        if node.is_leaf:
            continue
        for k, inp in enumerate(node.inputs):
            factor = local[node.id, k]
            if edits and (node.id, k) in edits:
                factor = torch.full_like(factor, edits[node.id, k])
            grads[inp] = grads[inp] + grads[node.id] * factor
    return grads


def choose_point(graph: Graph, wrt: str, given: dict[str, float] | None = None) -> dict[str, float]:
    """A point where the function and every node are defined, finite and away from kinks:
    the values in `given`, the others drawn from [-2, 2] (two decimals), the same for the
    same function every time."""
    given = dict(given or {})
    seed = int.from_bytes(hashlib.sha256(to_text(graph.function).encode()).digest()[:8], "big")
    rng = random.Random(seed)
    kinks = kink_arguments(graph.function)
    free = [n.id for n in graph.nodes if n.is_leaf and n.id not in given]
    for attempt in range(400):
        point = {**given, **{v: round(rng.uniform(-2, 2), 2) for v in free}}
        if attempt < 200 and any(abs(point[v]) < 0.1 for v in free):
            continue  # 0 makes dull tables; keep it only if nothing else works
        if _usable(graph, point, kinks):
            return point
    raise MathError(
        "no point was found where the function and its graph are defined; give one with --at"
    )


def _usable(graph: Graph, point: dict[str, float], kinks: list[Node]) -> bool:
    from .mathlang import to_torch

    try:
        for kink in kinks:
            if abs(float(to_torch(kink, point_tensors(point)))) < 0.05:
                return False
        ev = evaluate(graph, point)
    except (ValueError, RuntimeError, ZeroDivisionError, OverflowError):
        return False
    numbers = [*ev.values.values(), *ev.grads.values(), *ev.local.values()]
    return all(math.isfinite(float(t)) for t in numbers)


def point_tensors(point: dict[str, float]) -> dict[str, Any]:
    """A point as float64 scalars for torch."""
    import torch

    return {k: torch.tensor(v, dtype=torch.float64) for k, v in point.items()}


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


# ----------------------------------------------------------------------------- explain


def explain(function_text: str, wrt: str, at: dict[str, float] | None = None) -> dict[str, Any]:
    """The object `gradtutor explain --json` prints (see DESIGN.md). Raises MathError
    for a function that cannot be read or a point that does not fit it."""
    return _explained(function_text, wrt, at)[0]


def _explained(
    function_text: str, wrt: str, at: dict[str, float] | None
) -> tuple[dict[str, Any], Graph, Evaluation]:
    try:
        function = parse(function_text)
    except MathError as exc:
        raise MathError(f"the function could not be read: {exc}") from exc
    names = variables(function)
    if wrt not in names:
        raise MathError(f"`{wrt}` does not occur in the function {to_text(function)}")
    unknown = sorted(set(at or {}) - names)
    if unknown:
        raise MathError(f"--at names {', '.join(unknown)}, which the function does not use")
    graph = build_graph(function)
    chosen = at is not None and set(at) >= names
    point = dict(at) if chosen and at is not None else choose_point(graph, wrt, at)
    ev = evaluate(graph, point)
    for node in graph.nodes:
        if not math.isfinite(float(ev.values[node.id])):
            at_text = ", ".join(f"{k} = {v:g}" for k, v in point.items())
            raise MathError(
                f"at {at_text} the function is not defined: {to_text(node.expr)} has no value there"
            )
    nodes = []
    for node in graph.nodes:
        nodes.append(
            {
                "id": node.id,
                "op": node.op,
                "expr": to_text(node.expr),
                "formula": to_text(node.formula),
                "inputs": list(node.inputs),
                "value": _number(ev.values[node.id]),
                "local": {
                    inp: to_text(graph.local_in_variables(node, k))
                    for k, inp in enumerate(node.inputs)
                },
                "local_formula": {inp: to_text(node.local[k]) for k, inp in enumerate(node.inputs)},
                "local_value": {
                    inp: _number(ev.local[node.id, k]) for k, inp in enumerate(node.inputs)
                },
                "rule": {inp: node.rules[k] for k, inp in enumerate(node.inputs)},
                "consumers": list(graph.consumers(node.id)),
                "grad": _number(ev.grads[node.id]),
            }
        )
    try:
        paths = [
            {
                "nodes": [graph.output, *[n.inputs[k] for n, k in path]],
                "factors": [to_text(graph.local_in_variables(n, k)) for n, k in path],
                "product": to_text(path_product(graph, path)),
            }
            for path in graph.paths(wrt)
        ]
    except OverflowError:
        paths = []
    doc = {
        "function": to_text(function),
        "wrt": wrt,
        "at": point,
        "point_chosen": not chosen,
        "nodes": nodes,
        "output": graph.output,
        "paths": paths,
        "derivative": to_text(assemble(graph, wrt)),
    }
    return doc, graph, ev


def fmt(v: float | None) -> str:
    """A value for a table: four significant digits, `undefined` for None."""
    if v is None:
        return "undefined"
    text = f"{v:.4g}"
    return "0" if text == "-0" else text


def name(node_id: str) -> str:
    """A node id as the interface shows it: u₁, x₁, w."""
    return pretty_text(Var(node_id))


def node_label(graph: Graph, node: GraphNode) -> str:
    """`u₂ = x·u₁` (a leaf: its name)."""
    if node.is_leaf:
        return name(node.id)
    return f"{name(node.id)} = {pretty_text(node.formula)}"


def fanout_note(graph: Graph, node_id: str) -> str:
    """What a join of lanes means: `x feeds u₁ and u₂: its gradient adds both paths`."""
    users = [name(c) for c in graph.consumers(node_id)]
    return f"{name(node_id)} feeds {listed(users)}: its gradient adds up over them"


def consumer_terms(
    graph: Graph, ev: Evaluation, node_id: str
) -> tuple[tuple[str, float, float], ...]:
    """What flows back into a node: (consumer id, the consumer's gradient, the local
    derivative of that edge) for each consumer; the node's gradient is the sum of the
    products."""
    terms = []
    for c in graph.consumers(node_id):
        k = graph.node(c).inputs.index(node_id)
        terms.append((c, float(ev.grads[c]), float(ev.local[c, k])))
    return tuple(terms)


def gradient_sum(node_id: str, terms: tuple[tuple[str, float, float], ...]) -> tuple[str, str]:
    """A node's gradient written out from `consumer_terms`: the symbols
    (`u₂.grad·∂u₂/∂x + u₁.grad·∂u₁/∂x`) and the numbers (`1·(−0.95) + (−1.26)·0.31`)."""
    who = name(node_id)
    symbols = " + ".join(f"{name(c)}.grad·∂{name(c)}/∂{who}" for c, _, _ in terms)
    numbers = " + ".join(f"{paren(g)}·{paren(loc)}" for _, g, loc in terms)
    return symbols, numbers


def backward_line(graph: Graph, ev: Evaluation, node: GraphNode) -> str:
    """`x.grad = u₂.grad·∂u₂/∂x + u₁.grad·∂u₁/∂x = 1·(−0.95) + (−1.26)·0.31 = −1.34`."""
    if node.id == graph.output:
        return f"{name(node.id)}.grad = 1 (the output: d f / d f)"
    symbols, numbers = gradient_sum(node.id, consumer_terms(graph, ev, node.id))
    return f"{name(node.id)}.grad = {symbols} = {numbers} = {fmt(_number(ev.grads[node.id]))}"


def paren(v: float) -> str:
    """A value for a product: four digits, in parentheses when negative."""
    text = fmt(v if math.isfinite(v) else None)
    return f"({text})" if text.startswith("-") else text


def explain_text(function_text: str, wrt: str, at: dict[str, float] | None = None) -> str:
    """`gradtutor explain` as text: the graph, the forward pass, the local derivatives,
    the backward pass and the derivative assembled over paths."""
    doc, graph, ev = _explained(function_text, wrt, at)
    point = ", ".join(f"{k} = {fmt(v)}" for k, v in doc["at"].items())
    lines = [f"f = {pretty_text(graph.function)}, with respect to {name(wrt)}, at {point}"]
    if doc["point_chosen"]:
        lines.append(
            "  (a point chosen away from kinks and undefined points; set one with --at NAME=VALUE)"
        )
    lines += ["", "The graph: the output on top, each node's inputs below it"]
    drawn = draw(graph)
    width = max(len(r.lanes) for r in drawn) + 3
    for row in drawn:
        if row.node is not None:
            lines.append(f"  {row.lanes.ljust(width)}{node_label(graph, graph.node(row.node))}")
        elif row.joined is not None:
            lines.append(f"  {row.lanes.ljust(width)}{fanout_note(graph, row.joined)}")
        else:
            lines.append(f"  {row.lanes}")
    lines += ["", "Forward pass: each node's value"]
    idw = max(len(name(n.id)) for n in graph.nodes)
    for node in graph.nodes:
        what = pretty_text(node.expr)
        lines.append(
            f"  {name(node.id).ljust(idw)}  {fmt(_number(ev.values[node.id])).rjust(10)}   {what}"
        )
    lines += ["", "Local derivatives: each node with respect to each of its inputs"]
    for node, inp, k in graph.edges():
        local = pretty_text(node.local[k])
        full = pretty_text(graph.local_in_variables(node, k))
        value = fmt(_number(ev.local[node.id, k]))
        shown = [local] + ([full] if full != local else []) + ([value] if value != full else [])
        lines.append(f"  ∂{name(node.id)}/∂{name(inp)} = {' = '.join(shown)}   ({node.rules[k]})")
    lines += [
        "",
        "Backward pass: from the output, each gradient sums consumer gradient × local derivative",
    ]
    for node in reversed(graph.nodes):
        lines.append(f"  {backward_line(graph, ev, node)}")
    count = len(doc["paths"])
    lines += [
        "",
        f"The derivative: over the {count} path{'s' if count != 1 else ''} from the output to "
        f"{name(wrt)}, the product of the local derivatives along each, added up",
    ]
    for path in doc["paths"]:
        route = " → ".join(name(n) for n in path["nodes"])
        lines.append(f"  {route}: {pretty_text(parse(path['product']))}")
    grad = fmt(_number(ev.grads[wrt]))
    lines.append(f"  d f/d{name(wrt)} = {pretty_text(parse(doc['derivative']))}   (= {grad} here)")
    return "\n".join(lines)


def _number(t: Any) -> float | None:
    v = float(t)
    return v if math.isfinite(v) else None


# ----------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class DrawnRow:
    """One line of the graph as drawn: the lanes, and the node on it (None for a line
    that joins or splits lanes; `joined` names the node whose uses join there)."""

    lanes: str
    node: str | None
    joined: str | None = None


def draw(graph: Graph) -> list[DrawnRow]:
    """The graph top-down, output first, in box-drawing lanes (as `git log --graph` draws
    history): a node's inputs open lanes below it, and where a value feeds two nodes their
    lanes join into it (├─╯), so every fan-out is visible."""
    lanes: list[str | None] = [graph.output]
    rows: list[DrawnRow] = []
    for node in reversed(graph.nodes):
        waiting = [i for i, lane in enumerate(lanes) if lane == node.id]
        if not waiting:
            continue
        home = waiting[0]
        if len(waiting) > 1:
            rows.append(DrawnRow(_span(lanes, home, waiting[1:], "├", "┴", "╯"), None, node.id))
            for i in waiting[1:]:
                lanes[i] = None
        rows.append(DrawnRow(_cells(lanes, {home: "●"}), node.id))
        lanes[home] = node.inputs[0] if node.inputs else None
        opened = []
        for inp in node.inputs[1:]:
            slot = next((i for i in range(home + 1, len(lanes)) if lanes[i] is None), None)
            if slot is None:
                lanes.append(inp)
                slot = len(lanes) - 1
            else:
                lanes[slot] = inp
            opened.append(slot)
        if opened:
            rows.append(DrawnRow(_span(lanes, home, opened, "├", "┬", "╮"), None))
        while lanes and lanes[-1] is None:
            lanes.pop()
    return rows


def _cells(lanes: list[str | None], marks: dict[int, str]) -> str:
    return " ".join(marks.get(i, "│" if lane else " ") for i, lane in enumerate(lanes)).rstrip()


def _span(
    lanes: list[str | None], home: int, others: list[int], left: str, mid: str, end: str
) -> str:
    """A row where lanes `others` (right of `home`) join or leave lane `home`."""
    last = max(others)
    out = []
    for i, lane in enumerate(lanes):
        if i == home:
            cell = left
        elif i == last:
            cell = end
        elif i in others:
            cell = mid
        elif home < i < last:
            cell = "┼" if lane else "─"
        else:
            cell = "│" if lane else " "
        out.append(cell)
        if i < len(lanes) - 1:
            out.append("─" if home <= i < last else " ")
    return "".join(out).rstrip()
