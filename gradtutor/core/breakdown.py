"""A breakdown session, headless: a derivative exercise rebuilt node by node.

The learner first gives each edge's local derivative (checked by the same checker as any
derivative, against that node's own formula), then fills in, or watches, every node's
gradient from the output back to the variables, meeting the sum where a value feeds two
nodes, and finally assembles the derivative from their own local derivatives: the sum
over paths of the products along each. The interface (screens/breakdown.py) only shows
what this returns.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import compgraph, symbolic
from .compgraph import Graph, GraphNode, name
from .mathlang import BinOp, MathError, Node, parse, pretty_text, to_text, variables
from .text import listed

if TYPE_CHECKING:
    from .checking import Verdict

GRAD_RTOL = 2e-3
GRAD_ATOL = 2e-3
"""How close a typed gradient must come: the numbers on screen have four digits."""


@dataclass(frozen=True)
class EdgeTask:
    """One local derivative to give: ∂node/∂input."""

    node: GraphNode
    input: str
    index: int

    @property
    def symbol(self) -> str:
        """`∂u₂/∂x`."""
        return f"∂{name(self.node.id)}/∂{name(self.input)}"

    @property
    def formula_text(self) -> str:
        """The node's formula in the math language, what the checker differentiates."""
        return to_text(self.node.formula)

    @property
    def rule(self) -> str:
        """The rule that gives it, for the hint."""
        return self.node.rules[self.index]


@dataclass(frozen=True)
class GradStep:
    """One node's gradient in the backward pass: the sum over its consumers of the
    consumer's gradient times the local derivative of that edge."""

    node: GraphNode
    terms: tuple[tuple[str, float, float], ...]
    """(consumer id, consumer's gradient, local derivative) per consumer."""
    grad: float

    @property
    def joins(self) -> bool:
        """Whether two or more paths meet here (the `+=`)."""
        return len(self.terms) > 1


@dataclass
class Breakdown:
    """The state of one breakdown of `function` with respect to `wrt`."""

    function_text: str
    wrt: str
    graph: Graph = field(init=False)
    point: dict[str, float] = field(init=False)
    given: dict[tuple[str, int], Node] = field(default_factory=dict, init=False)
    """The local derivatives accepted so far, in the node's inputs."""
    revealed: set[tuple[str, int]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.graph = compgraph.build_graph(parse(self.function_text))
        if self.wrt not in variables(self.graph.function):
            raise MathError(f"`{self.wrt}` does not occur in the function")
        self.point = compgraph.choose_point(self.graph, self.wrt)
        self.evaluation = compgraph.evaluate(self.graph, self.point)

    # -- local derivatives -------------------------------------------------------------

    @functools.cached_property
    def edges(self) -> list[EdgeTask]:
        """Every local derivative to give, leaves' consumers first."""
        return [EdgeTask(n, inp, k) for n, inp, k in self.graph.edges()]

    def shown_on_paths(self) -> int:
        """How many of the local derivatives on the paths to `wrt` were shown with F3:
        any makes an answer carried from the breakdown a shown solution."""
        on_paths = {(n.id, k) for path in self.graph.paths(self.wrt) for n, k in path}
        return len(self.revealed & on_paths)

    def prompt(self, task: EdgeTask) -> str:
        """What the learner is asked for one edge."""
        inputs = listed([name(i) for i in task.node.inputs])
        return (
            f"{task.symbol}: the local derivative of {name(task.node.id)} = "
            f"{pretty_text(task.node.formula)} with respect to {name(task.input)}, "
            f"in terms of {inputs}"
        )

    def check_edge(self, task: EdgeTask, answer: str) -> Verdict:
        """Check a local derivative with the derivative checker, against the node's own
        formula; an answer written in the function's variables instead is accepted when
        it has the same values. A correct one is kept for the assembly."""
        from .checking import Verdict, check_derivative

        verdict = check_derivative(task.formula_text, task.input, answer)
        if not verdict.correct:
            expanded = self._in_function_variables(task, answer)
            if expanded is not None:
                self.given[task.node.id, task.index] = expanded
                return Verdict("correct", "Correct (in the function's variables).", answer)
            if verdict.verdict == "incorrect":
                # one operation: the rule says more than a diagnosis of a chain could
                sentence = verdict.counterexample_sentence()
                return Verdict(
                    verdict.verdict,
                    f"Not quite. {sentence} Hint: {task.rule}.".replace("  ", " "),
                    verdict.normalized,
                    counterexample=verdict.counterexample,
                )
            return verdict
        allowed = set(variables(task.node.formula))
        self.given[task.node.id, task.index] = parse(answer, allowed, equation=True)
        return verdict

    def _in_function_variables(self, task: EdgeTask, answer: str) -> Node | None:
        """The answer as a tree over the inputs, when it is written in the function's
        variables and agrees with the local derivative there."""
        names = variables(self.graph.function)
        try:
            tree = parse(answer, names, equation=True)
        except MathError:
            return None
        truth = self.graph.in_variables(task.node.local[task.index])
        if not _same_values(tree, truth, names):
            return None
        return tree

    def reveal_edge(self, task: EdgeTask) -> Node:
        """Give the learner an edge's local derivative."""
        local = task.node.local[task.index]
        self.given[task.node.id, task.index] = local
        self.revealed.add((task.node.id, task.index))
        return local

    # -- the backward pass -------------------------------------------------------------

    def backward_steps(self) -> list[GradStep]:
        """Every node's gradient from the output down, with the terms that add up to it."""
        ev = self.evaluation
        return [
            GradStep(
                node, compgraph.consumer_terms(self.graph, ev, node.id), float(ev.grads[node.id])
            )
            for node in reversed(self.graph.nodes)
        ]

    def value(self, node_id: str) -> float:
        """A node's forward value at the point."""
        return float(self.evaluation.values[node_id])

    def local_value(self, node_id: str, index: int) -> float:
        """An edge's local derivative at the point."""
        return float(self.evaluation.local[node_id, index])

    @staticmethod
    def check_grad(step: GradStep, answer: str) -> tuple[bool, str]:
        """A typed gradient against the step's: (right, what to say)."""
        from .valuelang import parse_value

        try:
            value = parse_value(answer)
        except MathError as exc:
            return False, f"Not understood: {exc}. Type a number, or press Enter to see it."
        if not isinstance(value, int | float):
            return False, "One number, please: this gradient is a scalar."
        if math.isclose(value, step.grad, rel_tol=GRAD_RTOL, abs_tol=GRAD_ATOL):
            return True, "Right."
        if step.joins and any(
            math.isclose(value, g * loc, rel_tol=GRAD_RTOL, abs_tol=GRAD_ATOL)
            for _, g, loc in step.terms
        ):
            return False, (
                "That is what comes back along one path. This value feeds "
                f"{len(step.terms)} nodes: add what comes back along each (+=)."
            )
        return False, "Not quite: multiply each consumer's gradient by its local derivative."

    # -- the assembly ------------------------------------------------------------------

    def assembled(self) -> tuple[list[tuple[str, Node]], Node]:
        """Each path to `wrt` with the product of the learner's local derivatives along
        it (in the function's variables), and their sum, simplified."""
        graph = self.graph
        paths = []
        total: Node = symbolic.ZERO
        for path in graph.paths(self.wrt):
            product: Node = symbolic.ONE
            route = [name(graph.output)]
            for node, k in path:
                local = self.given.get((node.id, k), node.local[k])
                product = BinOp("*", product, graph.in_variables(local))
                route.append(name(node.inputs[k]))
            simplified = symbolic.simplify(product)
            paths.append((" → ".join(route), simplified))
            total = BinOp("+", total, simplified)
        return paths, symbolic.simplify(total)


def _same_values(a: Node, b: Node, names: set[str] | frozenset[str]) -> bool:
    """Whether two trees agree at random points (where both are defined)."""
    import torch

    from .mathlang import to_torch

    gen = torch.Generator().manual_seed(5)
    points = {n: -2 + 4 * torch.rand(32, generator=gen, dtype=torch.float64) for n in names}
    with torch.no_grad():
        va = torch.broadcast_to(to_torch(a, points), (32,))
        vb = torch.broadcast_to(to_torch(b, points), (32,))
    ok = torch.isfinite(va) & torch.isfinite(vb)
    if int(ok.sum()) < 8:
        return False
    return bool(torch.isclose(va[ok], vb[ok], rtol=1e-6, atol=1e-8).all())
