"""Break it down: a derivative exercise as a computation graph, rebuilt node by node.

Three stages, each on the same screen under the graph: the learner gives every edge's
local derivative (checked like any derivative answer, hints naming the rule), then
fills in or watches each node's gradient from the output back to the variables (the sum
shown where paths meet), then sees the derivative assembled from their own local
derivatives and carries it back to the exercise's answer field with Enter. The session
itself is `core.breakdown.Breakdown`; this screen only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from ..core.sizes import MAX_MATH_CHARS
from ..widgets.inputs import HEADER_ICON, AnswerInput

if TYPE_CHECKING:
    from ..app import GradTutorApp
    from ..core.breakdown import Breakdown, EdgeTask, GradStep


class BreakdownReady(Message):
    """The graph is built (in a worker: it needs torch), or could not be."""

    def __init__(self, breakdown: Breakdown | None, problem: str = "") -> None:
        super().__init__()
        self.breakdown = breakdown
        self.problem = problem


class EdgeChecked(Message):
    """A local derivative was checked."""

    def __init__(self, index: int, answer: str, verdict: Any) -> None:
        super().__init__()
        self.index = index
        self.answer = answer
        self.verdict = verdict


@dataclass(frozen=True)
class Carried:
    """What the breakdown hands back to its exercise."""

    answer: str
    """The assembled derivative, in the math language."""
    shown: int
    """How many of the local derivatives on its paths the learner was shown (F3): any
    makes the carried answer count as a shown solution, not the learner's own."""


class BreakdownScreen(Screen["Carried | None"]):
    """The breakdown of one derivative; dismissed with the assembled derivative (carried
    to the exercise) or None."""

    BINDINGS = [
        Binding("escape", "leave", "Back to the exercise"),
        Binding("enter", "carry", "Carry it to the exercise"),
        Binding("f2", "hint", "Rule"),
        Binding("f3", "reveal", "Show this one"),
    ]
    """Enter checks (or steps on); F2 names the rule for the edge at hand; F3 fills it
    in (or shows the gradient at hand); Escape goes back without carrying anything."""

    stage: reactive[str] = reactive("loading")
    """"loading", "local", "backward", "assemble" or "failed"."""
    position: reactive[int] = reactive(0)
    """The edge (stage "local") or the backward step (stage "backward") at hand."""

    def __init__(self, function: str, wrt: str, title: str) -> None:
        super().__init__()
        self.function = function
        self.wrt = wrt
        self.heading = title
        self.breakdown: Breakdown | None = None
        self.steps: list[GradStep] = []
        self.shown_grads: set[str] = set()
        self.checking = False
        self.result: Carried | None = None

    @property
    def app(self) -> GradTutorApp:  # type: ignore[override]
        """The tutor, typed."""
        return cast("GradTutorApp", super().app)

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        with VerticalScroll(id="breakdown-body"):
            yield Static(Text(self.heading, style="bold"), id="breakdown-title", markup=False)
            yield Static(
                Text("⋯ building the graph", style="italic"), id="breakdown-graph", markup=False
            )
        with Vertical(id="breakdown-task"):
            yield Static("", id="breakdown-prompt", markup=False)
            yield AnswerInput(
                placeholder="",
                id="breakdown-input",
                select_on_focus=False,
                max_length=MAX_MATH_CHARS,
            )
            yield Static("", id="breakdown-verdict", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#breakdown-task").display = False
        self.build()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def build(self) -> None:
        """Build the graph and choose the point, off the UI thread."""
        from ..core.breakdown import Breakdown

        try:
            self.post_message(BreakdownReady(Breakdown(self.function, self.wrt)))
        except Exception as exc:  # a graph that cannot be built is said, not raised
            self.post_message(BreakdownReady(None, str(exc)))

    @on(BreakdownReady)
    def ready(self, event: BreakdownReady) -> None:
        if event.breakdown is None:
            self.stage = "failed"
            self._graph_text(
                Text(f"This function cannot be broken down: {event.problem}", style="red")
            )
            return
        self.breakdown = event.breakdown
        self.steps = event.breakdown.backward_steps()
        self.query_one("#breakdown-task").display = True
        self.stage = "local"
        self.position = 0
        self._refresh_all()
        self.query_one("#breakdown-input", Input).focus()

    # -- what is on screen ----------------------------------------------------------------

    @property
    def edges(self) -> list[EdgeTask]:
        return self.breakdown.edges if self.breakdown else []

    def _graph_text(self, text: Text) -> None:
        self.query_one("#breakdown-graph", Static).update(text)

    def _refresh_all(self) -> None:
        self._graph_text(self.graph_text())
        self._show_task()
        self.refresh_bindings()

    def graph_text(self) -> Text:
        """The graph in lanes, each node with what is known of it at this stage."""
        from ..core.compgraph import draw, fanout_note, fmt, node_label

        b = self.breakdown
        assert b is not None
        graph = b.graph
        rows = draw(graph)
        width = max(len(r.lanes) for r in rows) + 2
        current = self._current_node()
        text = Text()
        if self.stage in ("backward", "assemble"):
            at = ", ".join(f"{k} = {fmt(v)}" for k, v in b.point.items())
            text.append(f"at {at}\n", style="dim")
        for row in rows:
            line = Text(row.lanes.ljust(width), style="bold cyan")
            if row.node is not None:
                node = graph.node(row.node)
                marker = row.node == current
                line.append(node_label(graph, node), style="bold reverse" if marker else "bold")
                line.append_text(self._annotation(node.id))
                if marker:
                    line.append("  ◀", style="bold yellow")
            elif row.joined is not None:
                line.append(fanout_note(graph, row.joined), style="yellow")
            line.no_wrap = True
            line.overflow = "ellipsis"
            text.append_text(line)
            text.append("\n")
        return text

    def _annotation(self, node_id: str) -> Text:
        from ..core.compgraph import fmt, name

        b = self.breakdown
        assert b is not None
        node = b.graph.node(node_id)
        out = Text()
        if self.stage == "local":
            for k, inp in enumerate(node.inputs):
                given = b.given.get((node_id, k))
                if given is not None:
                    from ..core.mathlang import pretty_text

                    out.append(f"  ∂/∂{name(inp)} = {pretty_text(given)}", style="green")
            return out
        out.append(f"  = {fmt(b.value(node_id))}", style="dim")
        if node_id in self.shown_grads or self.stage == "assemble":
            grad = next(s.grad for s in self.steps if s.node.id == node_id)
            out.append(f"  grad {fmt(grad)}", style="magenta")
        return out

    def _current_node(self) -> str | None:
        if self.stage == "local" and self.position < len(self.edges):
            return self.edges[self.position].node.id
        if self.stage == "backward" and self.position < len(self.steps):
            return self.steps[self.position].node.id
        return None

    def _show_task(self) -> None:
        prompt = self.query_one("#breakdown-prompt", Static)
        field = self.query_one("#breakdown-input", Input)
        b = self.breakdown
        assert b is not None
        if self.stage == "local":
            task = self.edges[self.position]
            head = Text(
                f"Local derivatives · {self.position + 1} of {len(self.edges)}\n", style="bold"
            )
            head.append(b.prompt(task))
            prompt.update(head)
            field.placeholder = f"{task.symbol} = …   (Enter checks · F2 the rule · F3 shows it)"
        elif self.stage == "backward":
            prompt.update(self._grad_prompt(self.steps[self.position]))
            field.placeholder = "the gradient, a number · Enter on empty shows it"
        elif self.stage == "assemble":
            prompt.update(self._assembly_text())
            field.display = False

    def _grad_prompt(self, step: GradStep) -> Text:
        from ..core.compgraph import gradient_sum, name
        from ..core.text import listed

        head = Text(
            f"Backward pass · node {self.position + 1} of {len(self.steps)}\n", style="bold"
        )
        who = name(step.node.id)
        if not step.terms:
            head.append(
                f"{who}.grad = 1: the output's gradient with respect to itself. Enter goes on."
            )
            return head
        symbols, numbers = gradient_sum(step.node.id, step.terms)
        head.append(f"{who}.grad = {symbols} = {numbers} = ?")
        if step.joins:
            users = listed([name(c) for c, _, _ in step.terms])
            head.append(
                f"\n{who} feeds {users}: its gradient is the sum "
                "(+=) of what comes back along each path.",
                style="yellow",
            )
        return head

    def _assembly_text(self) -> Text:
        from ..core.compgraph import name
        from ..core.mathlang import pretty_text

        b = self.breakdown
        assert b is not None
        paths, total = b.assembled()
        text = Text("The derivative, assembled from your local derivatives\n", style="bold")
        text.append(
            f"Over each path from the output to {name(b.wrt)}, multiply the local derivatives; "
            "add the paths:\n"
        )
        for route, product in paths:
            text.append(f"  {route}:  {pretty_text(product)}\n")
        text.append(f"d/d{name(b.wrt)} = {pretty_text(total)}\n", style="bold green")
        if b.shown_on_paths():
            text.append(
                "You were shown some of these local derivatives (F3): carried back, the "
                "exercise counts as shown, not solved; F4 then gives fresh numbers.\n",
                style="yellow",
            )
        text.append(
            "Enter carries it to the exercise's answer field · Escape goes back without it",
            style="dim",
        )
        return text

    def _say(self, text: Text | str, style: str = "") -> None:
        widget = self.query_one("#breakdown-verdict", Static)
        widget.update(Text(text, style=style) if isinstance(text, str) else text)

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The rule and F3 apply while there is an edge or a gradient at hand."""
        if action == "hint":
            return self.stage == "local"
        if action == "reveal":
            return self.stage in ("local", "backward")
        if action == "carry":
            return self.stage == "assemble"
        return True

    @on(Input.Submitted, "#breakdown-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        answer = event.value.strip()
        if self.stage == "local":
            if not answer:
                self._say("Type the local derivative, or F3 to see it.", "italic")
            elif not self.checking:
                self.checking = True
                self._say("⋯ checking", "italic")
                self.check_edge(self.position, answer)
        elif self.stage == "backward":
            self._grad_answer(answer)

    def action_carry(self) -> None:
        """Back to the exercise with the assembled derivative in its answer field."""
        if self.stage == "assemble":
            self.dismiss(self.result)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def check_edge(self, index: int, answer: str) -> None:
        """Check a local derivative in the core, off the UI thread."""
        b = self.breakdown
        assert b is not None
        try:
            verdict = b.check_edge(self.edges[index], answer)
        except Exception:  # never take the tutor down over a check
            from ..core.checking import Verdict

            verdict = Verdict("undecided", "This could not be checked; try writing it another way.")
        self.post_message(EdgeChecked(index, answer, verdict))

    @on(EdgeChecked)
    def edge_checked(self, event: EdgeChecked) -> None:
        self.checking = False
        if self.stage != "local" or event.index != self.position:
            return
        verdict = event.verdict
        if verdict.correct:
            self._say(f"✓ {verdict.message}", "green")
            self._next_edge()
        else:
            style = "red" if verdict.verdict == "incorrect" else "yellow"
            self._say(verdict.message, style)

    def _next_edge(self) -> None:
        field = self.query_one("#breakdown-input", Input)
        field.value = ""
        if self.position + 1 < len(self.edges):
            self.position += 1
        else:
            self.stage = "backward"
            self.position = 0
            self._say(
                "Every local derivative is in. Now the gradients, from the output down.", "green"
            )
        self._refresh_all()

    def _grad_answer(self, answer: str) -> None:
        step = self.steps[self.position]
        if answer and step.terms:
            from ..core.breakdown import Breakdown

            right, sentence = Breakdown.check_grad(step, answer)
            if not right:
                self._say(sentence, "red")
                return
            self._say(f"✓ {sentence}", "green")
        else:
            self._say("")
        self._next_grad()

    def _next_grad(self) -> None:
        from ..core.compgraph import fmt, name

        step = self.steps[self.position]
        self.shown_grads.add(step.node.id)
        self.query_one("#breakdown-input", Input).value = ""
        shown = f"{name(step.node.id)}.grad = {fmt(step.grad)}"
        if self.position + 1 < len(self.steps):
            self.position += 1
            self._say(Text(shown, style="magenta"))
        else:
            self.stage = "assemble"
            b = self.breakdown
            assert b is not None
            from ..core.mathlang import to_text

            self.result = Carried(to_text(b.assembled()[1]), b.shown_on_paths())
            self._say(Text(f"{shown}: the derivative's value at the point.", style="magenta"))
            self.set_focus(None)
        self._refresh_all()

    def action_hint(self) -> None:
        """Name the rule for the edge at hand."""
        if self.stage == "local":
            self._say(f"Rule: {self.edges[self.position].rule}.", "cyan")

    def action_reveal(self) -> None:
        """Fill in the edge (or the gradient) at hand."""
        b = self.breakdown
        if b is None:
            return
        if self.stage == "local":
            from ..core.mathlang import pretty_text

            task = self.edges[self.position]
            local = b.reveal_edge(task)
            self._say(f"{task.symbol} = {pretty_text(local)} ({task.rule})", "yellow")
            self._next_edge()
        elif self.stage == "backward":
            self._say("")
            self._next_grad()

    def action_leave(self) -> None:
        """Back to the exercise, carrying nothing."""
        self.dismiss(None)
