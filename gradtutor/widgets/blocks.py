"""Stepper and training blocks, shown in a lesson as actions."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Static

from ..core.packs import AdalineBlock, StepperBlock, TrainingBlock


def describe_block(block: StepperBlock | TrainingBlock) -> str:
    """One line saying what the block opens."""
    if isinstance(block, StepperBlock):
        size = block.size
        return f"Network stepper · n = {size.n}, d_in = {size.d_in}, hidden = {size.hidden}, seed = {size.seed}"
    if isinstance(block, AdalineBlock):
        methods = ", ".join(block.methods)
        return f"Training run · ADALINE on {', '.join(block.classes)} · {block.epochs} epochs, lr {block.lr:g} · {methods}"
    extra = " · with a curve that never zeroes the gradients" if not block.zero_grad else ""
    return f"Training run · linear regression by SGD · {block.steps} steps, lr {block.lr:g}{extra}"


class ActionBlock(Vertical):
    """A block the learner opens with Enter or a click."""

    class Opened(Message):
        """The learner asked to open the block."""

        def __init__(self, block: StepperBlock | TrainingBlock) -> None:
            super().__init__()
            self.block = block

    def __init__(self, block: StepperBlock | TrainingBlock) -> None:
        super().__init__(classes="action-block")
        self.block = block

    def compose(self) -> ComposeResult:
        yield Static(Text(describe_block(self.block)), markup=False)
        label = (
            "Open the stepper" if isinstance(self.block, StepperBlock) else "Start the training run"
        )
        yield Button(label, variant="primary", compact=True, classes="open-block")

    @property
    def button(self) -> Button:
        """The button that opens the block (Tab reaches it; Enter presses it)."""
        return self.query_one(".open-block", Button)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Opened(self.block))
