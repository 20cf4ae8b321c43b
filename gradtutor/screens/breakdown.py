"""Break it down: a derivative exercise as a computation graph, rebuilt node by node.

Three stages, each on the same screen under the graph: the learner gives every edge's
local derivative (checked like any derivative answer, hints naming the rule), then
fills in or watches each node's gradient from the output back to the variables (the sum
shown where paths meet), then sees the derivative assembled from their own local
derivatives and carries it back to the exercise's answer field with Enter. The session
itself is `core.breakdown.Breakdown`; this screen only shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from ..core.breakdown import Carried
from ..core.sizes import MAX_MATH_CHARS
from ..widgets.failures import WorkerFailures
from ..widgets.inputs import HEADER_ICON, AnswerInput

if TYPE_CHECKING:
    from ..app import GradTutorApp
    from ..core.breakdown import Breakdown, BreakdownSession, EdgeTask, GradStep

__all__ = ["BreakdownScreen", "Carried"]


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


class BreakdownScreen(WorkerFailures, Screen["Carried | None"]):
    """The breakdown of one derivative; dismissed with the assembled derivative (carried
    to the exercise) or None."""

    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("enter", "carry", "Carry it to the exercise"),
        Binding("f2", "hint", "Hint"),
        Binding("f3", "reveal", "Show this one"),
        Binding("up", "scroll_graph(-1)", "Scroll", show=False),
        Binding("down", "scroll_graph(1)", "Scroll", show=False),
        Binding("pageup", "scroll_graph(-10)", "Graph ↑", priority=True),
        Binding("pagedown", "scroll_graph(10)", "Graph ↓", priority=True),
    ]
    """Enter checks (or steps on); F2 names the rule for the edge at hand, or writes out
    the sum for the gradient at hand; F3 fills it in (or shows the gradient at hand);
    ↑ ↓ PageUp PageDown scroll the graph (the answer field keeps the focus); Escape goes
    back without carrying anything."""

    def __init__(
        self,
        function: str,
        wrt: str,
        title: str,
        exercises: list[Any] | None = None,
        exercise_id: str = "",
    ) -> None:
        super().__init__()
        self.function = function
        self.wrt = wrt
        self.heading = title
        self.exercises = list(exercises or [])
        """The lesson's exercises: the breakdown shows none of the later ones' answers."""
        self.exercise_id = exercise_id
        self.session: BreakdownSession | None = None
        """Where the learner is (core/breakdown.py); None while loading or failed."""
        self.problem = ""
        self.sum_shown = False
        """The sum for the gradient at hand is written out (after F2 or an answer)."""

    @property
    def stage(self) -> str:
        """The session's stage, or "loading" / "failed" before it exists."""
        if self.session is None:
            return "failed" if self.problem else "loading"
        return self.session.stage

    @property
    def breakdown(self) -> Breakdown | None:
        """The graph and its numbers."""
        return self.session.breakdown if self.session else None

    @property
    def position(self) -> int:
        """The edge or gradient at hand."""
        return self.session.position if self.session else 0

    @property
    def steps(self) -> list[GradStep]:
        """The backward pass, node by node."""
        return self.session.steps if self.session else []

    @property
    def result(self) -> Carried | None:
        """What Enter carries back, once assembled."""
        return self.session.result if self.session else None

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
        from ..core.breakdown import Breakdown, answers_ahead

        try:
            avoid = answers_ahead(self.exercises, self.exercise_id)
            self.post_message(BreakdownReady(Breakdown(self.function, self.wrt, avoid)))
        except Exception as exc:  # a graph that cannot be built is said, not raised
            self.post_message(BreakdownReady(None, str(exc)))

    @on(BreakdownReady)
    def ready(self, event: BreakdownReady) -> None:
        if event.breakdown is None:
            self.problem = event.problem or "it could not be built"
            self._graph_text(
                Text(f"This function cannot be broken down: {event.problem}", style="red")
            )
            return
        from ..core.breakdown import BreakdownSession

        self.session = BreakdownSession(event.breakdown)
        self.query_one("#breakdown-task").display = True
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
        self.call_after_refresh(self._scroll_to_current)

    def graph_text(self) -> Text:
        """The graph in lanes, each node with what is known of it at this stage."""
        from ..core.compgraph import draw, fanout_note, fmt, node_label

        b = self.breakdown
        assert b is not None
        graph = b.graph
        rows = draw(graph)
        width = max(len(r.lanes) for r in rows) + 2
        current = self._current_node()
        on_path = b.path_nodes
        text = Text()
        if self.stage in ("backward", "assemble"):
            at = ", ".join(f"{k} = {fmt(v)}" for k, v in b.point.items())
            text.append(f"at {at}\n", style="dim")
        for row in rows:
            line = Text(row.lanes.ljust(width), style="bold cyan")
            if row.node is not None:
                node = graph.node(row.node)
                marker = row.node == current
                if node.id not in on_path:  # plays no part in this derivative: not asked
                    line.append(node_label(graph, node), style="dim")
                    line.stylize("dim")
                else:
                    style = "bold reverse" if marker else "bold"
                    line.append(node_label(graph, node), style=style)
                    line.append_text(self._annotation(node.id))
                if marker:
                    line.append("  ◀", style="bold yellow")
            elif row.joined is not None:
                # the rule (+=) is said once the learner has met that node's gradient
                met = self.session is not None and row.joined in self.session.shown_grads
                line.append(fanout_note(graph, row.joined, rule=met), style="yellow")
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
        assert self.session is not None
        if node_id in self.session.shown_grads or self.stage == "assemble":
            grad = next(s.grad for s in self.steps if s.node.id == node_id)
            out.append(f"  grad {fmt(grad)}", style="magenta")
        return out

    def _current_node(self) -> str | None:
        return self.session.current_node() if self.session else None

    def _show_task(self) -> None:
        prompt = self.query_one("#breakdown-prompt", Static)
        field = self.query_one("#breakdown-input", Input)
        b = self.breakdown
        assert b is not None
        if self.stage == "local":
            task = self.edges[self.position]
            head = Text(
                f"Local derivatives · {self.position + 1} of {len(self.edges)} · {task.symbol}\n",
                style="bold",
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
        if not self.sum_shown:
            # the sum is the point of this step: the learner writes it first (F2 shows it)
            head.append(f"{who}.grad = ?  (the graph shows what {who} feeds)")
            return head
        symbols, numbers = gradient_sum(step.node.id, step.terms)
        head.append(f"{who}.grad = {symbols} = {numbers}")
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
            return self.stage in ("local", "backward")
        if action == "reveal":
            return self.stage in ("local", "backward")
        if action == "carry":
            return self.stage == "assemble"
        return True

    @on(Input.Submitted, "#breakdown-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        session = self.session
        if session is None:
            return
        answer = event.value.strip()
        if session.stage == "local":
            if not answer:
                self._say("Type the local derivative, or F3 to see it.", "italic")
                return
            index = session.begin_check()
            if index is not None:
                self._say("⋯ checking", "italic")
                self.check_edge(index, answer)
        elif session.stage == "backward":
            moved, sentence = session.grad_answer(answer)
            if not moved:
                self._say(sentence, "red")
                if not self.sum_shown:  # a wrong answer earns the written-out sum
                    self.sum_shown = True
                    self._show_task()
                return
            self._said_grad(sentence)

    def action_carry(self) -> None:
        """Back to the exercise with the assembled derivative in its answer field."""
        if self.stage == "assemble":
            self.dismiss(self.result)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def check_edge(self, index: int, answer: str) -> None:
        """Check a local derivative in the core, off the UI thread (reads only)."""
        assert self.session is not None
        self.post_message(EdgeChecked(index, answer, self.session.judge(index, answer)))

    @on(EdgeChecked)
    def edge_checked(self, event: EdgeChecked) -> None:
        session = self.session
        assert session is not None
        verdict = event.verdict
        if session.checked(event.index, verdict):
            self._say(f"✓ {verdict.message}", "green")
            self._moved_on()
        elif not verdict.correct:
            style = "red" if verdict.verdict == "incorrect" else "yellow"
            self._say(session.wrong_edge_message(verdict), style)

    def _moved_on(self) -> None:
        self.query_one("#breakdown-input", Input).value = ""
        if self.stage == "backward" and self.position == 0 and not self.session.shown_grads:  # type: ignore[union-attr]
            self._say(
                "Every local derivative is in. Now the gradients, from the output down.", "green"
            )
        self._refresh_all()

    def _said_grad(self, sentence: str) -> None:
        """A gradient was shown (typed right, or Enter on empty): say its value."""
        from ..core.compgraph import fmt, name

        session = self.session
        assert session is not None
        shown = Text(sentence + ("  " if sentence else ""), style="green")
        if session.stage == "assemble":
            b = session.breakdown
            value = b.evaluation.grads[b.wrt]
            shown.append(
                f"{name(b.wrt)}.grad = {fmt(float(value))}: the derivative's value at the point.",
                style="magenta",
            )
            self.set_focus(None)
        else:
            from ..core.compgraph import gradient_sum

            last = session.steps[session.position - 1]
            if last.terms:  # once answered, the sum it came from
                symbols, numbers = gradient_sum(last.node.id, last.terms)
                shown.append(
                    f"{name(last.node.id)}.grad = {symbols} = {numbers} = ", style="magenta"
                )
            else:
                shown.append(f"{name(last.node.id)}.grad = ", style="magenta")
            shown.append(fmt(last.grad), style="bold magenta")
            if last.joins:
                shown.append("  (+= over the paths)", style="yellow")
        self.sum_shown = False
        self._say(shown)
        self.query_one("#breakdown-input", Input).value = ""
        self._refresh_all()

    def worker_failed(self, worker: object, why: str) -> None:
        """A worker of this screen failed (the app says so): never left on "⋯"."""
        if self.session is not None:
            self.session.checking = False
        elif not self.problem:
            self.problem = why
        self._say(f"That failed ({why}); try again.", "red")

    def action_hint(self) -> None:
        """Name the rule for the edge at hand, or write out the sum for the gradient."""
        session = self.session
        edge = session.current_edge() if session else None
        if edge is not None:
            self._say(f"Rule: {edge.rule}.", "cyan")
        elif session is not None and session.current_step() is not None:
            self.sum_shown = True
            self._show_task()
            self._say("Each consumer's gradient times its local derivative, added up.", "cyan")

    def action_scroll_graph(self, rows: int) -> None:
        """Scroll the graph by some rows; the answer field keeps the focus."""
        body = self.query_one("#breakdown-body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + rows, animate=False)

    def _scroll_to_current(self) -> None:
        """Keep the node at hand in view (the middle of the graph's window)."""
        b, current = self.breakdown, self._current_node()
        if b is None or current is None:
            return
        from ..core.compgraph import draw

        rows = [r.node for r in draw(b.graph)]
        if current not in rows:
            return
        body = self.query_one("#breakdown-body", VerticalScroll)
        title = self.query_one("#breakdown-title").outer_size.height
        extra = 1 if self.stage in ("backward", "assemble") else 0  # the "at x = …" line
        row = title + extra + rows.index(current)
        window = body.scrollable_content_region.height
        if not body.scroll_y <= row < body.scroll_y + window:
            body.scroll_to(y=max(0, row - window // 2), animate=False)

    def action_reveal(self) -> None:
        """Fill in the edge (or the gradient) at hand; refused while a check is pending."""
        session = self.session
        if session is None:
            return
        if session.checking:
            self._say("⋯ still checking your answer; it decides first.", "italic")
            return
        edge = session.current_edge()
        revealed = session.reveal()
        if revealed is None:
            return
        kind, local = revealed
        if kind == "edge" and edge is not None and local is not None:
            from ..core.mathlang import pretty_text

            self._say(f"{edge.symbol} = {pretty_text(local)} ({edge.rule})", "yellow")
            self._moved_on()
        else:
            self._said_grad("")

    def action_leave(self) -> None:
        """Back to the exercise, carrying nothing."""
        self.dismiss(None)
