"""Numbers on the graph: forward values and gradients by autograd, and a point to show."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..mathlang import (
    MathError,
    Node,
    kink_arguments,
    to_text,
)

if TYPE_CHECKING:
    import torch

from .model import Graph

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
    from ..mathlang import to_torch

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


def choose_point(
    graph: Graph,
    wrt: str,
    given: dict[str, float] | None = None,
    avoid: frozenset[float] = frozenset(),
) -> dict[str, float]:
    """A point where the function and every node are defined, finite and away from kinks,
    and, when one can be found, where no number shown is degenerate (a value or gradient
    within 0.01 of 0 without being 0, or saturated beyond 10⁴) and none is in `avoid` (the
    answers of exercises still ahead): the values in `given`, the others drawn from
    [-2, 2] (two decimals), the same for the same function every time."""
    given = dict(given or {})
    seed = int.from_bytes(hashlib.sha256(to_text(graph.function).encode()).digest()[:8], "big")
    rng = random.Random(seed)
    kinks = kink_arguments(graph.function)
    free = [n.id for n in graph.nodes if n.is_leaf and n.id not in given]
    fallback = None
    for attempt in range(400):
        point = {**given, **{v: round(rng.uniform(-2, 2), 2) for v in free}}
        if attempt < 200 and any(abs(point[v]) < 0.1 for v in free):
            continue  # 0 makes dull tables; keep it only if nothing else works
        if not _usable(graph, point, kinks):
            continue
        if attempt >= 300 or _clear(graph, point, avoid):
            return point
        fallback = fallback or point
    if fallback is not None:
        return fallback
    raise MathError(
        "no point was found where the function and its graph are defined; give one with --at"
    )


def _clear(graph: Graph, point: dict[str, float], avoid: frozenset[float]) -> bool:
    """No number the breakdown shows is nearly 0, saturated, or one to avoid."""
    ev = evaluate(graph, point)
    for t in (*ev.values.values(), *ev.grads.values(), *ev.local.values()):
        v = float(t)
        if v != 0 and (abs(v) < 0.01 or abs(v) > 1e4):
            return False
        if any(math.isclose(v, a, rel_tol=5e-4, abs_tol=5e-4) for a in avoid):
            return False
    return True


def _usable(graph: Graph, point: dict[str, float], kinks: list[Node]) -> bool:
    from ..mathlang import to_torch

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
