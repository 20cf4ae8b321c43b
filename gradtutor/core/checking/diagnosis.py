"""What a wrong derivative answer got wrong, and a point that shows it."""

from __future__ import annotations

import math
from typing import Any

import torch

from .. import compgraph, mathlang
from ..mathlang import Node
from ..text import listed
from .reference import DTYPE, KINK_MARGIN, DerivativeReference, autograd_at
from .verdict import ATOL, RTOL


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = RTOL, atol: float = ATOL) -> torch.Tensor:
    """Where `a` is finite and agrees with `b` within the tolerances."""
    return torch.isclose(a, b, rtol=rtol, atol=atol) & torch.isfinite(a)


CHAIN_MISTAKE = ("A chain factor is missing", "A path is missing")
"""How the diagnoses that the breakdown can show begin."""


def diagnose(ref: DerivativeReference, got: torch.Tensor) -> str | None:
    """The mistake a wrong answer makes, when it is one of the telling ones: a flipped
    sign, a missing chain factor (which one), a path of a fan-out left out, a constant
    factor or offset."""
    expected = ref.reference
    finite = torch.isfinite(got)
    if not bool(finite.any()):
        return "Your answer is undefined at the sample points."
    significant = expected.abs() > 1e-6
    if bool(close(got, -expected).all()) and bool(significant.any()):
        return "The sign is flipped: your answer is the negative of the derivative."
    for inner in mathlang.inner_functions(ref.function, ref.wrt):
        inner_grad = ref.gradient(inner)
        if bool((inner_grad.abs() > 1e-9).any()) and bool(
            close(got * inner_grad, expected, 1e-6, 1e-8).all()
        ):
            shown = mathlang.to_text(inner)
            inner_d = _inner_derivative_text(inner, ref)
            return (
                f"A chain factor is missing: multiply by the derivative of the inner function "
                f"{shown}{inner_d}."
            )
    for call in (
        n for n in mathlang.walk(ref.function) if isinstance(n, mathlang.Call) and len(n.args) == 1
    ):
        if ref.wrt not in mathlang.variables(call.args[0]):
            continue
        local = ref.local_derivative(call)
        if bool((local.abs() > 1e-9).any()) and bool(
            close(got * local, expected, 1e-6, 1e-8).all()
        ):
            return (
                f"A chain factor is missing: the derivative of {call.func} at its argument "
                f"{mathlang.to_text(call.args[0])}."
            )
    graph = _graph_of(ref)
    missing = _missing_factor(ref, got, graph) if graph else None
    if missing:
        return missing
    if bool(significant.any()) and bool(finite.all()):
        ratio = got[significant] / expected[significant]
        c = float(ratio.median())
        if abs(c) > 1e-9 and bool(close(got, c * expected, 1e-6, 1e-8).all()):
            nice = nice_number(c)
            if nice == "1/2":
                return "Your answer is half the derivative: a factor of 2 is missing."
            if nice == "2":
                return "Your answer is twice the derivative: a factor of 2 too many."
            return f"Your answer is off by a constant factor: it is {nice} times the derivative."
    diff = got - expected
    if bool(finite.all()):
        c = float(diff.median())
        if abs(c) > 1e-9 and bool(
            torch.isclose(diff, torch.full_like(diff, c), rtol=1e-6, atol=1e-8).all()
        ):
            return f"Your answer is off by a constant: it is the derivative {'+' if c > 0 else '-'} {nice_number(abs(c))}."
    return _missing_path(ref, got, graph) if graph else None


def _graph_of(ref: DerivativeReference) -> Any:
    """The function's computation graph with its numbers at the sample points (None
    when it cannot be built, or is too large to try every edge quickly)."""
    try:
        graph = compgraph.build_graph(ref.function)
        if len(graph.nodes) > 60:  # each edit is a backward pass: keep wrong answers quick
            return None
        return graph, compgraph.evaluate(graph, ref.points)
    except (mathlang.MathError, RuntimeError, ValueError, KeyError):
        return None


def _missing_factor(ref: DerivativeReference, got: torch.Tensor, built: Any) -> str | None:
    """An answer equal to the derivative with one edge's local derivative replaced by 1
    forgot that chain factor."""
    graph, ev = built
    name = compgraph.name
    for node, inp, k in graph.edges():
        if ref.wrt not in mathlang.variables(graph.node(inp).expr):
            continue
        local = ev.local[node.id, k]
        if bool(close(local, torch.ones_like(local)).all()):
            continue
        edited = compgraph.backward(graph, ev.local, {(node.id, k): 1.0})[ref.wrt]
        if bool(close(got, edited, 1e-6, 1e-8).all()):
            factor = mathlang.pretty_text(graph.local_in_variables(node, k))
            source = graph.node(inp)
            of = (
                name(inp)
                if source.is_leaf
                else f"{name(inp)} = {mathlang.pretty_text(source.expr)}"
            )
            return (
                f"A chain factor is missing: the local derivative of {name(node.id)} = "
                f"{mathlang.pretty_text(node.expr)} with respect to {of}, which is {factor}."
            )
    return None


def _missing_path(ref: DerivativeReference, got: torch.Tensor, built: Any) -> str | None:
    """An answer equal to the derivative with one path of a fan-out left out (its edge
    replaced by 0) followed only the other uses of that value."""
    graph, ev = built
    for node, inp, k in graph.edges():
        users = graph.consumers(inp)
        if len(users) < 2 or ref.wrt not in mathlang.variables(graph.node(inp).expr):
            continue
        edited = compgraph.backward(graph, ev.local, {(node.id, k): 0.0})[ref.wrt]
        if bool(close(got, edited, 1e-6, 1e-8).all()) and not bool(
            close(edited, ref.reference, 1e-6, 1e-8).all()
        ):
            shown = mathlang.pretty_text(graph.node(inp).expr)
            places = [mathlang.pretty_text(graph.node(u).expr) for u in users]
            where = listed(places)
            f = node.formula
            product = (
                isinstance(f, mathlang.BinOp)
                and f.op == "*"
                and bool(mathlang.variables(f.left))
                and bool(mathlang.variables(f.right))
            )
            rule = " (the product rule)" if product else ""
            return (
                f"A path is missing: {shown} is used in {len(users)} places ({where}), and the "
                f"derivative adds one term for each. Your answer leaves out the term through "
                f"its use in {mathlang.pretty_text(node.expr)}{rule}."
            )
    return None


def _inner_derivative_text(inner: Node, ref: DerivativeReference) -> str:
    grad = ref.gradient(inner)
    if bool(torch.isclose(grad, grad[0].expand_as(grad), rtol=1e-9, atol=1e-12).all()):
        return f" (which is {nice_number(float(grad[0]))})"
    return ""


def nice_number(c: float) -> str:
    """A ratio as a person reads it: `2`, `1/2`, `-3`, or 4 significant digits."""
    for den in (1, 2, 3, 4):
        num = c * den
        if abs(num - round(num)) < 1e-6:
            num = int(round(num))
            return str(num) if den == 1 else f"{num}/{den}"
    return f"{c:.4g}"


def counterexample(
    ref: DerivativeReference, node: Node, got: torch.Tensor, agree: torch.Tensor
) -> dict[str, Any] | None:
    """A point where the answer (values `got` at the sample points) disagrees, with both values."""
    bad = (~agree).nonzero()
    if not len(bad):
        return None
    i = int(bad[0])
    point = {k: float(v[i]) for k, v in sorted(ref.points.items())}
    # Prefer a short, round point where the answer is still wrong.
    rounded = {k: round(v, 2) for k, v in point.items()}
    single = {k: torch.tensor([v], dtype=DTYPE) for k, v in rounded.items()}
    try:
        exp = autograd_at(ref.function, ref.wrt, single)
        with torch.no_grad():
            got_there = torch.broadcast_to(mathlang.to_torch(node, single), (1,))
            kinked = any(
                abs(float(torch.broadcast_to(mathlang.to_torch(k, single), (1,))[0])) <= KINK_MARGIN
                for k in ref.kinks
            )
        if not kinked and torch.isfinite(exp).all() and not bool(close(got_there, exp).all()):
            return {
                "point": rounded,
                "expected": _round(float(exp[0])),
                "got": _round(float(got_there[0])),
            }
    except (RuntimeError, ValueError):
        pass
    return {
        "point": {k: _round(v) for k, v in point.items()},
        "expected": _round(float(ref.reference[i])),
        "got": _round(float(got[i])),
    }


def _round(v: float) -> float | str:
    if not math.isfinite(v):
        return "undefined" if math.isnan(v) else str(v)
    return float(f"{v:.6g}")


# ----------------------------------------------------------------------------- values
