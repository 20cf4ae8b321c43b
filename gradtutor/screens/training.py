"""A training view: the learner starts a run and watches loss curves and final numbers."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Footer, Header, Sparkline, Static

from ..core.packs import TrainingBlock
from ..widgets.blocks import describe_block
from ..widgets.failures import WorkerFailures
from ..widgets.inputs import HEADER_ICON
from .base import TutorScreen


class TrainingFinished(Message):
    """The run finished (posted from the worker)."""

    def __init__(self, result: Any = None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def results_table(result: Any) -> Table:
    """Final loss, accuracies and parameters of every curve."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("run", "first loss", "final loss", "train acc.", "test acc.", "weights", "bias"):
        table.add_column(column)
    for curve in result.curves:
        table.add_row(
            Text(curve.label),
            f"{curve.losses[0]:.6g}",
            f"{curve.losses[-1]:.6g}",
            _percent(curve.train_accuracy),
            _percent(curve.test_accuracy),
            ", ".join(f"{w:.6g}" for w in curve.weights),
            f"{curve.bias:.6g}",
        )
    return table


class TrainingScreen(WorkerFailures, TutorScreen):
    """Runs a `training` block and shows what happened."""

    BINDINGS = [
        Binding("r", "run", "Run again"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, block: TrainingBlock) -> None:
        super().__init__()
        self.block = block
        self.sub_title = describe_block(block)

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        with VerticalScroll(id="training-body"):
            yield Static(Text(describe_block(self.block), style="bold"), markup=False)
            yield Static(
                Text("Training… (computed now, by torch)", style="italic"),
                id="training-status",
                markup=False,
            )
            yield VerticalScroll(id="curves")
            yield Static("", id="training-table", markup=False)
            yield Static("", id="training-facts", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        """Start (or restart) the run in a worker."""
        self.query_one("#training-status", Static).update(
            Text("Training… (computed now, by torch)", style="italic")
        )
        self.train()

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def train(self) -> None:
        """Run the block with the core's training code."""
        try:
            from ..core.training import run_training

            self.post_message(TrainingFinished(run_training(self.block)))
        except MemoryError:
            self.post_message(TrainingFinished(error="there is not enough memory for this run"))
        except Exception as exc:  # a failed run is reported, never raised
            reason = (str(exc).splitlines() or ["an internal error"])[0][:300]
            self.post_message(TrainingFinished(error=reason))

    @on(TrainingFinished)
    def show(self, event: TrainingFinished) -> None:
        status = self.query_one("#training-status", Static)
        if event.error:
            status.update(Text(f"The run failed: {event.error}", style="bold red"))
            return
        result = event.result
        summary = Text(result.title, style="bold")
        if result.max_difference is not None:
            summary.append(
                f"\nThe {len([c for c in result.curves if c.zero_grad])} methods agree: "
                f"largest difference in losses and parameters {result.max_difference:.1e}.",
                style="green" if result.max_difference < 1e-6 else "yellow",
            )
        status.update(summary)
        curves = self.query_one("#curves", VerticalScroll)
        curves.remove_children()
        widgets: list[Widget] = []
        for curve in result.curves:
            label = Text(f"{curve.label}: loss {curve.losses[0]:.4g} → {curve.losses[-1]:.4g}")
            if not curve.zero_grad:
                label.append("  (never zeroed: .grad is a running sum)", style="italic")
            widgets.append(Static(label, markup=False))
            widgets.append(Sparkline(list(curve.losses), classes="loss-curve"))
        curves.mount_all(widgets)
        self.query_one("#training-table", Static).update(results_table(result))
        self.query_one("#training-facts", Static).update(Text("\n".join(result.facts), style="dim"))
