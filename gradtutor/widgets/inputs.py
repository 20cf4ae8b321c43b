"""AnswerInput: an Input that never holds a control character.

A paste can carry ESC sequences or other control characters; shown in the field they
would drive the learner's terminal. Every insertion (typing, paste, code) goes through
`replace`, which drops them first.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from ..core.text import one_line


class AnswerInput(Input):
    """A one-line answer field; control characters are dropped as text arrives."""

    def replace(self, text: str, start: int, end: int) -> None:
        """Replace text between two indices, without control characters; a paste longer
        than the field's `max_length` allows is cut to fit rather than dropped whole."""
        text = one_line(text)
        if self.max_length:
            start, end = sorted((max(0, start), min(len(self.value), end)))
            room = self.max_length - (len(self.value) - (end - start))
            text = text[: max(0, room)]
            if not text and start == end:
                return
        super().replace(text, start, end)

    _EDITING_KEYS = {
        "backspace": "delete_left",
        "delete": "delete_right",
        "enter": "submit",
        "left": "cursor_left",
        "right": "cursor_right",
        "home": "home",
        "end": "end",
    }

    async def _on_key(self, event: events.Key) -> None:
        """Editing keys act at once, in the order typed. As bindings they would act only
        once the key had passed up to the app, after faster keys typed behind them (a
        quick `x`, Backspace, `2` would read `x2`)."""
        action = self._EDITING_KEYS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)


HEADER_ICON = "●"
"""The header's icon: Textual's ⭘ is missing from common monospace fonts (a served
session showed an empty box); ● is in all of them."""
