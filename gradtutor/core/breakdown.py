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
from typing import TYPE_CHECKING, Literal

from . import compgraph, symbolic
from .compgraph import Graph, GraphNode, name
from .mathlang import BinOp, MathError, Node, parse, pretty_text, to_text, variables
from .text import listed

if TYPE_CHECKING:
    from .checking import Verdict
    from .packs import Exercise

LOCAL = (
    "A local derivative looks at one node alone: how it changes with one input while its "
    "other inputs are held fixed, as if they were numbers."
)
"""What "local derivative" means, said the first time a learner gets one wrong."""

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

    avoid: frozenset[float] = frozenset()
    """Numbers the breakdown must not show: the answers of exercises still ahead."""

    def __post_init__(self) -> None:
        self.graph = compgraph.build_graph(parse(self.function_text))
        if self.wrt not in variables(self.graph.function):
            raise MathError(f"`{self.wrt}` does not occur in the function")
        self.point = compgraph.choose_point(self.graph, self.wrt, avoid=self.avoid)
        self.evaluation = compgraph.evaluate(self.graph, self.point)

    # -- local derivatives -------------------------------------------------------------

    @functools.cached_property
    def on_path(self) -> frozenset[tuple[str, int]]:
        """The edges (node id, input index) on some path from the output to `wrt`: the
        only local derivatives the derivative needs."""
        return frozenset((n.id, k) for path in self.graph.paths(self.wrt) for n, k in path)

    @functools.cached_property
    def path_nodes(self) -> frozenset[str]:
        """The nodes on some path from the output to `wrt` (the output and `wrt` too);
        the others are drawn greyed and never asked about."""
        nodes = {self.graph.output, self.wrt}
        for node_id, k in self.on_path:
            nodes.update((node_id, self.graph.node(node_id).inputs[k]))
        return frozenset(nodes)

    @functools.cached_property
    def edges(self) -> list[EdgeTask]:
        """The local derivatives to give (those on the paths to `wrt`), leaves'
        consumers first."""
        return [
            EdgeTask(n, inp, k) for n, inp, k in self.graph.edges() if (n.id, k) in self.on_path
        ]

    def shown_on_paths(self) -> int:
        """How many of the local derivatives on the paths to `wrt` were shown with F3:
        any makes an answer carried from the breakdown a shown solution."""
        return len(self.revealed & self.on_path)

    def prompt(self, task: EdgeTask) -> str:
        """What the learner is asked for one edge: `u₁ = w₁·x₁, by w₁ with x₁ held fixed`."""
        others = [name(i) for i in task.node.inputs if i != task.input]
        held = f" with {listed(others)} held fixed" if others else ""
        return (
            f"{name(task.node.id)} = {pretty_text(task.node.formula)}, by {name(task.input)}{held}"
        )

    def check_edge(self, task: EdgeTask, answer: str) -> Verdict:
        """Check a local derivative and keep a correct one for the assembly (headless
        use; a session checks with `judge_edge` off the UI thread and accepts on it)."""
        verdict = self.judge_edge(task, answer)
        local = verdict.details.get("local")
        if verdict.correct and isinstance(local, Node):
            self.accept_edge(task, local)
        return verdict

    def accept_edge(self, task: EdgeTask, local: Node) -> None:
        """Keep the learner's local derivative of an edge for the assembly."""
        self.given[task.node.id, task.index] = local

    def judge_edge(self, task: EdgeTask, answer: str) -> Verdict:
        """Check a local derivative with the derivative checker, against the node's own
        formula; an answer written in the function's variables instead is accepted when
        it has the same values. Changes nothing: a correct verdict carries the tree to
        keep in `details["local"]`."""
        from .checking import Verdict, check_derivative

        verdict = check_derivative(task.formula_text, task.input, answer)
        if not verdict.correct:
            expanded = self._in_function_variables(task, answer)
            if expanded is not None:
                return Verdict(
                    "correct",
                    "Correct (in the function's variables).",
                    answer,
                    details={"local": expanded},
                )
            if verdict.verdict == "incorrect":
                if self._is_total_derivative(task, answer):
                    return Verdict(
                        "incorrect",
                        f"That is the total derivative of {name(task.node.id)} with respect "
                        f"to {name(task.input)}, with the other inputs moving along. {LOCAL} "
                        "The total derivative is what the breakdown assembles at the end.",
                        verdict.normalized,
                        details={"explained": True},
                    )
                # one operation: the rule says more than a diagnosis of a chain could
                sentence = verdict.counterexample_sentence(name)  # u₁ as the graph draws it
                if sentence:  # the inputs are free: the point need not lie on the function
                    inputs = listed([name(i) for i in task.node.inputs])
                    sentence = (
                        f"With {inputs} as independent numbers: {sentence[0].lower()}{sentence[1:]}"
                    )
                return Verdict(
                    verdict.verdict,
                    f"Not quite. {sentence} Hint: {task.rule}.".replace("  ", " "),
                    verdict.normalized,
                    counterexample=verdict.counterexample,
                )
            return verdict
        allowed = set(variables(task.node.formula))
        verdict.details["local"] = parse(answer, allowed, equation=True)
        return verdict

    def _is_total_derivative(self, task: EdgeTask, answer: str) -> bool:
        """Whether the answer is the derivative of the node, written out in the
        function's variables, with respect to its input (the others moving along)."""
        if task.input not in variables(self.graph.function) or len(task.node.inputs) < 2:
            return False
        names = variables(self.graph.function)
        try:
            tree = parse(answer, names, equation=True)
            total = symbolic.differentiate(self.graph.in_variables(task.node.formula), task.input)
        except (MathError, ValueError, KeyError):
            return False
        local = self.graph.in_variables(task.node.local[task.index])
        return _same_values(tree, total, names) and not _same_values(tree, local, names)

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
        """The gradient of every node on the paths to `wrt`, from the output down, with
        the terms that add up to it (every consumer of such a node is on a path too)."""
        ev = self.evaluation
        return [
            GradStep(
                node, compgraph.consumer_terms(self.graph, ev, node.id), float(ev.grads[node.id])
            )
            for node in reversed(self.graph.nodes)
            if node.id in self.path_nodes
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


def answers_ahead(exercises: list[Exercise], after: str) -> frozenset[float]:
    """The numbers that answer the value exercises after `after` in a lesson (as
    authored; drawn ones differ per learner anyway): a breakdown must not show them.
    Needs torch: call it off the UI thread."""
    from .kinds import kind_of

    ids = [ex.id for ex in exercises]
    numbers: set[float] = set()
    for ex in exercises[ids.index(after) + 1 :] if after in ids else ():
        try:
            numbers.update(kind_of(ex).answer_numbers(ex))
        except Exception:  # an exercise that cannot be computed hides nothing
            continue
    return frozenset(v for v in numbers if v not in (0.0, 1.0, -1.0))


Stage = Literal["local", "backward", "assemble"]
"""Giving local derivatives; filling in gradients from the output down; carrying back."""


@dataclass(frozen=True)
class Carried:
    """What the breakdown sends back to the exercise: the assembled answer, and how
    many local derivatives on its paths were shown (any makes it a shown solution)."""

    answer: str
    shown: int


class BreakdownSession:
    """Where the learner is in a breakdown: the stage, the edge or gradient at hand, and
    the result. The screen renders it; checks run off the UI thread with `judge`, and
    every change happens through the methods below, on one thread."""

    def __init__(self, breakdown: Breakdown) -> None:
        self.breakdown = breakdown
        self.stage: Stage = "local"
        self.position = 0
        """The edge (stage "local") or the gradient step (stage "backward") at hand."""
        self.steps = breakdown.backward_steps()
        self.shown_grads: set[str] = set()
        """Nodes whose gradient is on screen."""
        self.checking = False
        """A local derivative is being checked: F3 and Enter wait for it."""
        self.result: Carried | None = None
        self.explained_local = False
        """Whether "local derivative" has been explained (at the first wrong one)."""

    @property
    def edges(self) -> list[EdgeTask]:
        """Every local derivative to give, in order."""
        return self.breakdown.edges

    def current_edge(self) -> EdgeTask | None:
        """The edge at hand (stage "local")."""
        if self.stage == "local" and self.position < len(self.edges):
            return self.edges[self.position]
        return None

    def current_step(self) -> GradStep | None:
        """The gradient at hand (stage "backward")."""
        if self.stage == "backward" and self.position < len(self.steps):
            return self.steps[self.position]
        return None

    def current_node(self) -> str | None:
        """The node the stage is about (highlighted in the drawing)."""
        edge, step = self.current_edge(), self.current_step()
        return edge.node.id if edge else step.node.id if step else None

    # -- local derivatives ------------------------------------------------------------

    def begin_check(self) -> int | None:
        """Start checking the edge at hand: its index, or None when a check is pending
        or no edge is at hand."""
        if self.checking or self.current_edge() is None:
            return None
        self.checking = True
        return self.position

    def judge(self, index: int, answer: str) -> Verdict:
        """Check an answer for edge `index` (off the UI thread; changes nothing)."""
        from .checking import Verdict

        try:
            return self.breakdown.judge_edge(self.edges[index], answer)
        except Exception:  # never take the tutor down over a check
            return Verdict("undecided", "This could not be checked; try writing it another way.")

    def checked(self, index: int, verdict: Verdict) -> bool:
        """Take a verdict in: a right local derivative is kept and the next edge comes
        up. True when the session moved on."""
        self.checking = False
        if self.stage != "local" or index != self.position or not verdict.correct:
            return False
        local = verdict.details.get("local")
        if isinstance(local, Node):
            self.breakdown.accept_edge(self.edges[index], local)
        self._next_edge()
        return True

    def wrong_edge_message(self, verdict: Verdict) -> str:
        """What to say of a local derivative that was not accepted: the first wrong one
        also says what a local derivative is."""
        if verdict.verdict != "incorrect" or self.explained_local:
            return verdict.message
        self.explained_local = True
        if verdict.details.get("explained"):
            return verdict.message
        return f"{LOCAL} {verdict.message}"

    def _next_edge(self) -> None:
        if self.position + 1 < len(self.edges):
            self.position += 1
        else:
            self.stage, self.position = "backward", 0

    def reveal(self) -> tuple[str, Node | None] | None:
        """F3: show the edge at hand (its local derivative) or the gradient at hand.
        None while a check is pending (the answer being checked decides first)."""
        if self.checking:
            return None
        edge = self.current_edge()
        if edge is not None:
            local = self.breakdown.reveal_edge(edge)
            self._next_edge()
            return "edge", local
        if self.current_step() is not None:
            self.next_grad()
            return "grad", None
        return None

    # -- the backward pass -------------------------------------------------------------

    def grad_answer(self, answer: str) -> tuple[bool, str]:
        """A typed gradient (or Enter alone, to see it): (moved on, what to say)."""
        step = self.current_step()
        if step is None:
            return False, ""
        if answer and step.terms:
            right, sentence = Breakdown.check_grad(step, answer)
            if not right:
                return False, sentence
            self.next_grad()
            return True, f"✓ {sentence}"
        self.next_grad()
        return True, ""

    def next_grad(self) -> None:
        """Show the gradient at hand and move on; after the last one, the assembly."""
        step = self.steps[self.position]
        self.shown_grads.add(step.node.id)
        if self.position + 1 < len(self.steps):
            self.position += 1
            return
        self.stage = "assemble"
        self.result = Carried(
            to_text(self.breakdown.assembled()[1]), self.breakdown.shown_on_paths()
        )
