"""The program editor: where a learner writes a function's body (program exercises)."""

from __future__ import annotations

from rich.syntax import Syntax
from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from ..core.sizes import MAX_PROGRAM_CHARS


def _python_available() -> bool:
    try:
        import tree_sitter_python  # noqa: F401
    except ImportError:
        return False
    return True


class ProgramEditor(TextArea):
    """A multi-line editor for one function body: Enter makes a new line, Tab indents,
    ctrl+s checks, Esc leaves the editor (Tab and PageDown then move on in the lesson)."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Check"),
        Binding("escape", "leave", "Leave editor"),
    ]
    """ctrl+s checks the program; Esc gives the keys back to the lesson."""

    class Submitted(Message):
        """ctrl+s: the program is to be checked."""

        def __init__(self, editor: ProgramEditor, text: str) -> None:
            super().__init__()
            self.editor = editor
            self.text = text

        @property
        def control(self) -> ProgramEditor:
            """The editor it came from."""
            return self.editor

    def __init__(self, text: str = "") -> None:
        super().__init__(
            text,
            language="python" if _python_available() else None,
            soft_wrap=True,
            tab_behavior="indent",
            show_line_numbers=True,
            classes="answer-input program-editor",
            placeholder="The body of the function: one statement per line; ctrl+s checks it",
        )

    def action_submit(self) -> None:
        """Send the program to be checked."""
        self.post_message(self.Submitted(self, self.text[:MAX_PROGRAM_CHARS]))

    def action_leave(self) -> None:
        """Give the keys back to the lesson (its body takes the focus, in place)."""
        body = getattr(self.screen, "body", None)
        if body is not None:
            body.focus(scroll_visible=False)
        else:
            self.screen.set_focus(None)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":  # TextArea would move to the next widget instead
            event.stop()
            event.prevent_default()
            self.action_leave()
            return
        await super()._on_key(event)


class ProgramField(Vertical):
    """The function's header, read-only and highlighted, above the editor of its body."""

    def __init__(self, header: str, text: str = "") -> None:
        super().__init__(classes="program-field")
        self.header = header
        self.initial = text

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(
            Syntax(self.header, "python", theme="ansi_dark", background_color="default"),
            classes="program-header",
        )
        yield ProgramEditor(self.initial)
