"""The network stepper: forward and backward through linear → ReLU → linear → MSE.

Every key press does one node's work in a thread worker (the core `Stepper`) and posts
`StepComputed`; the screen renders the frozen snapshot it carries.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Sparkline, Static, Tree

from ..core.sizes import MAX_SEED, NetworkSize
from ..widgets.tensor_view import TensorView, render_tensor

LEAVES = ("w1", "b1", "w2", "b2")
CHAIN = ("x", "lin1", "relu", "lin2", "mse", "loss")


class StepComputed(Message):
    """A stepper action finished (posted from the worker, with its tensors already rendered)."""

    def __init__(
        self,
        snapshot: Any,
        losses: list[float],
        panels: list[tuple[str, Any, Text]] | None = None,
        grads: dict[str, tuple[Any, bool, Text]] | None = None,
        verdict: Any = None,
        error: str | None = None,
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.losses = losses
        self.panels = panels or []
        """(label, tensor, rendered Text) for the upstream gradient and the step's results."""
        self.grads = grads or {}
        """leaf -> (.grad, changed since the previous snapshot, rendered Text)."""
        self.verdict = verdict
        self.error = error


def render_snapshot(
    snap: Any, prev: Any
) -> tuple[list[tuple[str, Any, Text]], dict[str, tuple[Any, bool, Text]]]:
    """Render every tensor of a snapshot (in the worker: statistics of large tensors take time)."""
    panels = []
    if snap.upstream is not None:
        panels.append(
            ("upstream gradient", snap.upstream, render_tensor("upstream gradient", snap.upstream))
        )
    for name, value in snap.result.items():
        label = name.replace("_g", ".g") if name.endswith("_g") else name
        panels.append((label, value, render_tensor(label, value)))
    grads = {}
    for name in LEAVES:
        before = prev.grads.get(name) if prev is not None else None
        now = snap.grads.get(name)
        changed = (before is None) != (now is None) or (
            now is not None and before is not None and not bool((now == before).all())
        )
        grads[name] = (now, changed, render_tensor(f"{name}.grad", now, changed))
    return panels, grads


def chain_text(snapshot: Any) -> Text:
    """x ─ lin1 ─ relu ─ lin2 ─ mse ─ loss, with the current node highlighted."""
    text = Text()
    phase = snapshot.phase
    node = snapshot.node if phase in ("forward", "backward") else None
    for i, name in enumerate(CHAIN):
        if i:
            text.append(" ─→ " if phase != "backward" else " ←─ ", style="dim")
        style = (
            "bold reverse " + ("green" if phase == "forward" else "magenta") if name == node else ""
        )
        text.append(f" {name} ", style=style)
    label = {
        "forward": "forward pass",
        "backward": "backward pass",
        "zero_grad": "gradients zeroed",
        "update": "SGD update",
        "reset": "new network",
    }
    text.append(f"    {label.get(phase, phase)}", style="italic")
    return text


def graph_lines(node: tuple, tree_node: Any) -> None:
    """Fill a Tree with torch's autograd graph (names are torch's own)."""
    name, children = node
    child = tree_node.add(Text(name), expand=True) if children else tree_node.add_leaf(Text(name))
    for sub in children:
        graph_lines(sub, child)


class StepperScreen(Screen[None]):
    """Walk the lesson network node by node and watch every .grad fill in."""

    BINDINGS = [
        Binding("right,n", "step", "Step"),
        Binding("left,b", "back", "Back a step"),
        Binding("p", "predict", "Predict"),
        Binding("z", "zero_grad", "zero_grad"),
        Binding("a", "accumulate", "Accumulate"),
        Binding("u", "update", "Update"),
        Binding("t", "train", "Train 10"),
        Binding("r", "reset", "Reset (new seed)"),
        Binding("escape", "leave", "Back"),
    ]

    busy: reactive[bool] = reactive(False)
    """True while the worker computes a step."""

    def __init__(self, size: NetworkSize | None = None) -> None:
        super().__init__()
        self.network = size or NetworkSize()
        self.stepper: Any = None
        self.sub_title = self._title()

    def _title(self) -> str:
        s = self.network
        return f"network stepper · n = {s.n}, d_in = {s.d_in}, hidden = {s.hidden}, seed = {s.seed}"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading torch…", style="italic"), id="chain", markup=False)
        with Horizontal(id="stepper-body"):
            with VerticalScroll(id="step-left"):
                yield Static("", id="formula", markup=False)
                yield Vertical(id="results")
                yield Static("", id="notes", markup=False)
                yield Input(
                    placeholder="Predict the next gradient: a number, a list or a formula (p)",
                    id="predict",
                )
                yield Static("", id="prediction", markup=False)
            with VerticalScroll(id="step-right"):
                yield Static(Text(".grad of the leaves", style="bold"), markup=False)
                for name in LEAVES:
                    yield TensorView(f"{name}.grad", id=f"grad-{name}", classes="grad")
                yield Sparkline([], id="loss-curve")
                yield Static(
                    Text("loss: updates (u, t) draw its curve here", style="dim"),
                    id="loss-text",
                    markup=False,
                )
                yield Tree(Text("autograd graph (after the forward pass)"), id="graph")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#predict", Input).display = False
        self.query_one("#loss-curve", Sparkline).display = False
        self.run_action(lambda s: s.current, start=True)

    # -- the worker ------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def run_action(self, action: Any, start: bool = False) -> None:
        """Run one stepper action off the UI thread and post the snapshot."""
        try:
            if start or self.stepper is None:
                from ..core.stepper import Stepper

                s = self.network
                self.stepper = Stepper(s.n, s.d_in, s.hidden, s.seed, s.lr)
            previous = self.stepper.current
            result = action(self.stepper)
            verdict = None
            if isinstance(result, tuple):
                verdict, result = result
            if result is None:  # nothing to do (a prediction when no backward step is next)
                result = self.stepper.current
            panels, grads = render_snapshot(result, previous)
            self.post_message(
                StepComputed(result, list(self.stepper.losses), panels, grads, verdict)
            )
        except MemoryError:
            self.post_message(
                StepComputed(None, [], error="there is not enough memory for this network")
            )
        except Exception as exc:  # shown, never raised: the screen must survive any step
            reason = (str(exc).splitlines() or ["an internal error"])[0][:300]
            self.post_message(StepComputed(None, [], error=reason))

    def _do(self, action: Any) -> None:
        if self.busy:
            return
        self.busy = True
        self.run_action(action)

    # -- rendering ---------------------------------------------------------------------

    @on(StepComputed)
    def render_step(self, event: StepComputed) -> None:
        self.busy = False
        if event.error:
            # On screen where the learner looks, not only in a passing notification.
            message = Text(f"The step failed: {event.error}", style="bold red")
            if self.stepper is None:
                message = Text(f"The stepper could not start: {event.error}", style="bold red")
            self.query_one("#chain", Static).update(message)
            self.notify(event.error, title="The step failed", severity="error", markup=False)
            return
        snap = event.snapshot
        self.query_one("#chain", Static).update(chain_text(snap))
        formula = Text(snap.formula, style="bold")
        if snap.local:
            formula.append(f"\nlocal derivative: {snap.local}", style="dim")
        if snap.max_diff is not None:
            formula.append(
                f"\nmanual formula vs autograd: largest difference {snap.max_diff:.2e}",
                style="green" if snap.max_diff < 1e-6 else "yellow",
            )
        if snap.loss is not None:
            formula.append(f"\nloss = {snap.loss:.6g}")
        self.query_one("#formula", Static).update(formula)
        results = self.query_one("#results", Vertical)
        results.remove_children()
        results.mount_all(
            [TensorView(label, value, rendered) for label, value, rendered in event.panels]
        )
        self.query_one("#notes", Static).update(Text("\n".join(snap.notes), style="italic"))
        for name, (tensor, changed, rendered) in event.grads.items():
            self.query_one(f"#grad-{name}", TensorView).show(tensor, changed, rendered)
        curve = self.query_one("#loss-curve", Sparkline)
        curve.display = bool(event.losses)
        if event.losses:
            curve.data = event.losses
            self.query_one("#loss-text", Static).update(
                Text(
                    f"loss over {len(event.losses)} values: {event.losses[0]:.4g} → {event.losses[-1]:.4g}",
                    style="dim",
                )
            )
        if snap.graph is not None:
            tree = self.query_one("#graph", Tree)
            tree.clear()
            graph_lines(snap.graph, tree.root)
            tree.root.expand_all()
        target = self._prediction_target()
        predict = self.query_one("#predict", Input)
        predict.display = target is not None
        if target is not None:
            predict.placeholder = (
                f"Predict {target} before it is revealed: a number, a list or a formula (Enter)"
            )
        if event.verdict is not None:
            self._show_verdict(event.verdict)
        elif self.query_one("#prediction", Static).display:
            self.query_one("#prediction", Static).update("")

    def _prediction_target(self) -> str | None:
        from ..core.stepper import prediction_target

        return prediction_target(self.stepper) if self.stepper is not None else None

    def _show_verdict(self, verdict: Any) -> None:
        style = {"correct": "bold green", "incorrect": "bold red", "invalid": "bold yellow"}.get(
            verdict.verdict, "bold"
        )
        self.query_one("#prediction", Static).update(Text(verdict.message, style=style))

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
        """Another forward and backward pass without zeroing: .grad grows."""
        self._do(lambda s: s.accumulate())

    def action_update(self) -> None:
        """One SGD step under no_grad."""
        self._do(lambda s: s.update())

    def action_train(self) -> None:
        """Ten iterations of zero_grad, forward, backward, update."""
        self._do(lambda s: s.train(10))

    def action_reset(self) -> None:
        """A new network from the next seed."""
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
        """Leave the prediction field, or the stepper."""
        if self.focused is self.query_one("#predict", Input):
            self.set_focus(None)
        else:
            self.app.pop_screen()

    @on(Input.Submitted, "#predict")
    def prediction_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        answer = event.value
        if not answer.strip():
            return
        from ..core.stepper import predict

        event.input.value = ""
        self.set_focus(None)
        self._do(lambda s: predict(s, answer))
