"""AnswerInput: an Input that never holds a control character.

A paste can carry ESC sequences or other control characters; shown in the field they
would drive the learner's terminal. Every insertion (typing, paste, code) goes through
`replace`, which drops them first.
"""

from __future__ import annotations

from textual.widgets import Input

from ..core.text import one_line


class AnswerInput(Input):
    """A one-line answer field; control characters are dropped as text arrives."""

    def replace(self, text: str, start: int, end: int) -> None:
        """Replace text between two indices, without control characters."""
        super().replace(one_line(text), start, end)
