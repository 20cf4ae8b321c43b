"""The network stepper: forward and backward through linear → ReLU → linear → MSE.

Every key press does one node's work in a thread worker (the core `Stepper`) and posts
`StepComputed`; the screen renders the frozen snapshot it carries, its tensors already
summarised. While the prediction field has focus, letters are typed there: no
single-letter binding fires.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Header, Input, Sparkline, Static, Tree

from ..core.sizes import LEAVES, MAX_SEED, MAX_VALUE_CHARS, NetworkSize
from ..core.summary import TensorSummary, summarize
from ..widgets.failures import WorkerFailures
from ..widgets.inputs import HEADER_ICON, AnswerInput
from ..widgets.tensor_view import TensorView
from .base import TutorScreen

if TYPE_CHECKING:
    from ..app import LearnerFunctions

CHAIN = ("x", "lin1", "relu", "lin2", "mse", "loss")
LOSS_HINT = "loss: an update (u) or training (t) draws its curve here"
_LETTER_ACTIONS = {"predict", "zero_grad", "accumulate", "update", "train", "reset"}


class StepComputed(Message):
    """A stepper action finished (posted from the worker, its tensors summarised)."""

    def __init__(
        self,
        snapshot: Any,
        losses: list[float],
        panels: list[tuple[str, TensorSummary]] | None = None,
        grads: dict[str, tuple[TensorSummary | None, bool]] | None = None,
        verdict: Any = None,
        error: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.losses = losses
        self.panels = panels or []
        """(label, summary) for what the step read, its upstream gradient and its results."""
        self.grads = grads or {}
        """leaf -> (.grad summary or None, changed since the previous snapshot)."""
        self.verdict = verdict
        self.error = error
        self.target = target
        """The gradient to predict before the next step (None: no prediction asked)."""


def summarize_snapshot(
    snap: Any, prev: Any
) -> tuple[list[tuple[str, TensorSummary]], dict[str, tuple[TensorSummary | None, bool]]]:
    """Summaries of every tensor of a snapshot (in the worker: large tensors take time)."""
    panels = [(name, summarize(value)) for name, value in snap.inputs.items()]
    if snap.upstream is not None:
        panels.append(("upstream gradient", summarize(snap.upstream)))
    for name, value in snap.result.items():
        label = name.replace("_g", ".g") if name.endswith("_g") else name
        panels.append((label, summarize(value)))
    grads = {}
    for name in LEAVES:
        before = prev.grads.get(name) if prev is not None else None
        now = snap.grads.get(name)
        changed = (before is None) != (now is None) or (
            now is not None and before is not None and not bool((now == before).all())
        )
        grads[name] = (None if now is None else summarize(now), changed)
    return panels, grads


def chain_text(snapshot: Any) -> Text:
    """x ─ lin1 ─ relu ─ lin2 ─ mse ─ loss, with the current node highlighted."""
    text = Text()
    phase = snapshot.phase
    node = snapshot.node if phase in ("forward", "backward") else None
    for i, name in enumerate(CHAIN):
        if i:
            text.append(" → " if phase != "backward" else " ← ", style="dim")
        style = (
            "bold reverse " + ("green" if phase == "forward" else "magenta") if name == node else ""
        )
        text.append(f"{name}", style=style)
    label = {
        "forward": "forward pass",
        "backward": "backward pass",
        "zero_grad": "gradients zeroed",
        "update": "SGD update",
        "reset": "new network",
    }
    text.append(f"   {label.get(phase, phase)}", style="italic")
    return text


def graph_lines(node: tuple[str, list[Any]], tree_node: Any) -> None:
    """Fill a Tree with torch's autograd graph (names are torch's own)."""
    name, children = node
    child = tree_node.add(Text(name), expand=True) if children else tree_node.add_leaf(Text(name))
    for sub in children:
        graph_lines(sub, child)


class StepperScreen(WorkerFailures, TutorScreen):
    """Walk the lesson network node by node and watch every .grad fill in."""

    BINDINGS = [
        Binding("right,n", "step", "Step", key_display="→"),
        Binding("left,b", "back", "Back", key_display="←"),
        Binding("p", "predict", "Predict"),
        Binding("a", "accumulate", "Again"),
        Binding("u", "update", "Update"),
        # beyond 80 columns of footer: in F1 and the command palette
        Binding("z", "zero_grad", "Zero the gradients", show=False),
        Binding("t", "train", "Train ten steps", show=False),
        Binding("r", "reset", "Reset with the next seed", show=False),
        Binding("escape", "leave", "Leave"),
    ]

    busy: reactive[bool] = reactive(False)
    """True while the worker computes a step."""

    def __init__(
        self,
        size: NetworkSize | None = None,
        standalone: bool = False,
        learner: LearnerFunctions | None = None,
    ) -> None:
        super().__init__()
        self.standalone = standalone
        self.learner = learner
        """A stepper block's library and the learner's accepted code: the manual backward
        runs those functions instead of the reference (a stepper block's `manual`)."""
        self.programs: dict[str, Any] = {}
        """The learner's own accepted functions, parsed (made on mount, used by the
        worker); the built-in manual backward runs for the others."""
        """Opened by `gradtutor stepper`: Esc quits rather than showing the browser."""
        self._waiting: deque[Any] = deque()
        """Actions asked for while another ran: run in order, each after the last."""
        self.network = size or NetworkSize()
        self.stepper: Any = None
        """The core Stepper: made and used in the worker only (never on the UI thread)."""
        self.target: str | None = None
        """The gradient to predict next (from the last snapshot), or None."""
        self.started = False
        """True once a first snapshot was shown."""
        self.sub_title = self._title()

    def _title(self) -> str:
        s = self.network
        return f"stepper · {s.n}×{s.d_in}×{s.hidden} · seed {s.seed}"

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(Text("Loading torch…", style="italic"), id="chain", markup=False)
        with Horizontal(id="stepper-body"):
            with VerticalScroll(id="step-left"):
                yield Static("", id="formula", markup=False)
                yield Vertical(id="results")
                yield Static("", id="notes", markup=False)
                yield AnswerInput(
                    placeholder="Predict the next gradient",
                    id="predict",
                    max_length=MAX_VALUE_CHARS,
                )
                yield Static("", id="prediction", markup=False)
            with VerticalScroll(id="step-right"):
                yield Static(Text(".grad of the leaves", style="bold"), markup=False)
                for name in LEAVES:
                    yield TensorView(f"{name}.grad", id=f"grad-{name}", classes="grad")
                yield Sparkline([], id="loss-curve")
                yield Static(Text(LOSS_HINT, style="dim"), id="loss-text", markup=False)
                yield Tree(Text("autograd graph (after the forward pass)"), id="graph")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#predict", Input).display = False
        self.query_one("#loss-curve", Sparkline).display = False
        self.query_one("#graph", Tree).guide_depth = 2
        self.busy = True  # keys pressed while the network is built wait for it
        if self.learner:
            from ..core.proglang import ProgramError, library_programs
            from ..core.text import listed

            try:
                programs, other = library_programs(*self.learner)
            except ProgramError:  # a reference that does not parse: the built-in runs
                programs, other = {}, []
            # only the learner's own replace the built-in manual backward (the reference
            # solutions compute the same, and are not labelled "your")
            self.programs = {k: v for k, v in programs.items() if k not in other}
            own = list(self.programs)
            said = f"The manual backward runs your own {listed(own)}" if own else ""
            if other:
                said += ("; " if said else "The manual backward runs ") + (
                    f"the reference {listed(other)} until you solve {'it' if len(other) == 1 else 'them'}"
                )
            self.sub_title = "your backward pass" if own else self.sub_title
            self.notify(said + ".", markup=False, timeout=8)
        self.run_step(lambda s: s.current, start=True)  # with the learner's functions parsed

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Letter keys act only while no text field has focus."""
        if action in _LETTER_ACTIONS and isinstance(self.focused, Input):
            return False
        return True

    # -- the worker ------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def run_step(self, action: Any, start: bool = False) -> None:
        """Run one stepper action off the UI thread and post the snapshot."""
        try:
            if start or self.stepper is None:
                from ..core.stepper import Stepper

                s = self.network
                self.stepper = Stepper(s.n, s.d_in, s.hidden, s.seed, s.lr, self.programs)
            from ..core.stepper import prediction_target

            previous = self.stepper.current
            result = action(self.stepper)
            verdict = None
            if isinstance(result, tuple):
                verdict, result = result
            if result is None:  # nothing to do (a prediction when no backward step is next)
                result = self.stepper.current
            panels, grads = summarize_snapshot(result, previous)
            target = prediction_target(self.stepper)
            losses = list(self.stepper.losses)
            self.post_message(StepComputed(result, losses, panels, grads, verdict, target=target))
        except MemoryError:
            self.post_message(
                StepComputed(None, [], error="there is not enough memory for this network")
            )
        except Exception as exc:  # shown, never raised: the screen must survive any step
            reason = (str(exc).splitlines() or ["an internal error"])[0][:300]
            self.post_message(StepComputed(None, [], error=reason))

    def _do(self, action: Any) -> None:
        """Run an action; one asked for while another runs (or while the stepper opens)
        waits its turn, in order: a quick → → → is three steps."""
        if self.busy:
            if len(self._waiting) < 64:
                self._waiting.append(action)
            return
        self.busy = True
        self.run_step(action)

    def _next_waiting(self) -> None:
        if self._waiting and not self.busy:
            self._do(self._waiting.popleft())

    # -- rendering ---------------------------------------------------------------------

    @on(StepComputed)
    def render_step(self, event: StepComputed) -> None:
        self.busy = False
        self.call_after_refresh(self._next_waiting)
        if event.error:
            self._waiting.clear()
            # On screen where the learner looks, not only in a passing notification.
            what = "step failed" if self.started else "stepper could not start"
            message = Text(f"The {what}: {event.error}", style="bold red")
            self.query_one("#chain", Static).update(message)
            self.notify(event.error, title="The step failed", severity="error", markup=False)
            return
        snap = event.snapshot
        self.started = True
        self.query_one("#chain", Static).update(chain_text(snap))
        self.query_one("#formula", Static).update(self._formula(snap))
        results = self.query_one("#results", Vertical)
        results.remove_children()
        results.mount_all([TensorView(label, summary) for label, summary in event.panels])
        self.query_one("#notes", Static).update(Text("\n".join(snap.notes), style="italic"))
        for name, (summary, changed) in event.grads.items():
            self.query_one(f"#grad-{name}", TensorView).show(summary, changed)
        self._show_losses(event.losses)
        if snap.graph is not None:
            tree = self.query_one("#graph", Tree)
            tree.clear()
            graph_lines(snap.graph, tree.root)
            tree.root.expand_all()
        self._show_prediction_field(event.target)
        prediction = self.query_one("#prediction", Static)
        if event.verdict is not None:
            self._show_verdict(event.verdict)
        else:
            prediction.update("")

    @staticmethod
    def _formula(snap: Any) -> Text:
        formula = Text(snap.formula, style="bold")
        if snap.local:
            formula.append(f"\nlocal derivative: {snap.local}", style="dim")
        if snap.max_diff is not None:
            yours = [n.removeprefix("manual: ") for n in snap.notes if n.startswith("manual: ")]
            who = yours[0] if yours else "manual formula"  # "your lin_grad"
            formula.append(
                f"\n{who} vs autograd: largest difference {snap.max_diff:.2e}",
                style="green" if snap.max_diff < 1e-6 else "yellow",
            )
        if snap.loss is not None:
            formula.append(f"\nloss = {snap.loss:.6g}")
        return formula

    def _show_losses(self, losses: list[float]) -> None:
        curve = self.query_one("#loss-curve", Sparkline)
        curve.display = bool(losses)
        curve.data = losses
        text = (
            Text(f"loss over {len(losses)} values: {losses[0]:.4g} → {losses[-1]:.4g}", style="dim")
            if losses
            else Text(LOSS_HINT, style="dim")  # a reset starts the curve afresh
        )
        self.query_one("#loss-text", Static).update(text)

    def _show_prediction_field(self, target: str | None) -> None:
        """The prediction field before each backward step; it keeps focus from one to the
        next, so a prediction typed after another never lands on a key binding."""
        self.target = target
        predict = self.query_one("#predict", Input)
        had_focus = self.focused is predict
        predict.display = target is not None
        if target is None:
            if had_focus:
                self.set_focus(None)
            return
        predict.placeholder = f"Predict {target} (a number, list or formula; Enter alone: skip)"
        if had_focus:
            predict.focus(scroll_visible=False)

    def _show_verdict(self, verdict: Any) -> None:
        style = {"correct": "bold green", "incorrect": "bold red", "invalid": "bold yellow"}.get(
            verdict.verdict, "bold"
        )
        prediction = self.query_one("#prediction", Static)
        prediction.update(Text(verdict.message, style=style))
        # the verdict (a shape, the entries that differ) in view, with the field under it
        left = self.query_one("#step-left", VerticalScroll)
        self.call_after_refresh(left.scroll_to_widget, prediction, animate=False)

    # -- actions -----------------------------------------------------------------------

    def action_step(self) -> None:
        """Compute the next node (forward, then backward)."""
        self._do(lambda s: s.forward())

    def action_back(self) -> None:
        """Step back through what was computed."""
        self._do(lambda s: s.back())

    def action_zero_grad(self) -> None:
        """Set every leaf's .grad to None."""
        self._do(lambda s: s.zero_grad())

    def action_accumulate(self) -> None:
        """Exactly one more backward pass, without zeroing: .grad grows."""
        self._do(lambda s: s.accumulate())

    def action_update(self) -> None:
        """One SGD step under no_grad (or a sentence saying there is nothing to step with)."""
        self._do(lambda s: s.update())

    def action_train(self) -> None:
        """Ten iterations of zero_grad, forward, backward, update."""
        self._do(lambda s: s.train(10))

    def action_reset(self) -> None:
        """A new network from the next seed; the loss curve starts afresh."""
        seed = self.network.seed + 1 if self.network.seed < MAX_SEED else 0
        self.network = dataclasses.replace(self.network, seed=seed)
        self.sub_title = self._title()
        self._do(lambda s: s.reset(seed))

    def action_predict(self) -> None:
        """Focus the prediction field (before a backward step)."""
        predict = self.query_one("#predict", Input)
        if predict.display:
            predict.focus()
        else:
            self.notify("Predictions are asked for before each backward step.", markup=False)

    def action_leave(self) -> None:
        """Leave the prediction field, or the stepper (`gradtutor stepper`: quit)."""
        if self.focused is self.query_one("#predict", Input):
            self.set_focus(None)
        elif self.standalone:
            self.app.exit()
        else:
            self.app.pop_screen()

    @on(Input.Submitted, "#predict")
    def prediction_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        answer = event.value
        event.input.value = ""
        if not answer.strip():  # Enter alone: take the step without a prediction
            self.action_step()
            return
        from ..core.stepper import predict

        self._do(lambda s: predict(s, answer))
