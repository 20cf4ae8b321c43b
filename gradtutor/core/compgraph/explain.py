"""`gradtutor explain`: the graph as JSON and as text, and the phrases the screens share."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..mathlang import (
    MathError,
    Var,
    parse,
    pretty_text,
    to_text,
    variables,
)
from ..text import listed

if TYPE_CHECKING:
    pass

from .derivative import assemble, path_product
from .drawing import draw
from .evaluation import Evaluation, choose_point, evaluate
from .model import Graph, GraphNode, build_graph

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


def fanout_note(graph: Graph, node_id: str, rule: bool = True) -> str:
    """What a join of lanes means: `x feeds u₁ and u₂: its gradient adds up over them`
    (without `rule`, only who it feeds: the breakdown lets the learner find the sum)."""
    users = [name(c) for c in graph.consumers(node_id)]
    said = f"{name(node_id)} feeds {listed(users)}"
    return f"{said}: its gradient adds up over them" if rule else said


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
