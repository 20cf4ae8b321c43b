"""Messages the app itself posts (past tense, as harlequin names them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the commands load after the first paint
    from .core.progress.commands import ProgressCommand, Saved


class ProgressSaved(Message, bubble=False):
    """The progress writer applied a command; the app adopts the snapshot and passes
    the message on to every screen (a lesson finds the exercise it belongs to)."""

    # bubble=False: the app posts it to each screen, and it must not come back up

    def __init__(self, saved: Saved) -> None:
        super().__init__()
        self.saved = saved


class ProgressSaveFailed(Message):
    """A command could not be saved; `why` says so in a sentence."""

    def __init__(self, command: ProgressCommand, why: str) -> None:
        super().__init__()
        self.command = command
        self.why = why
