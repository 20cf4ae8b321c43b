"""Sign in to a class (`gradtutor serve`): a name, Tab, a PIN, Enter.

A new name is registered with its PIN; a known one must give its PIN. The check runs in
a worker (scrypt takes a moment, and the account file is locked while it is read and
written); the app then opens the learner's progress and the lesson browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from ..widgets.inputs import HEADER_ICON, AnswerInput

if TYPE_CHECKING:
    from ..app import GradTutorApp
    from ..core.classroom import SignIn


class SignedIn(Message):
    """A sign-in was decided."""

    def __init__(self, outcome: SignIn) -> None:
        super().__init__()
        self.outcome = outcome


class SignInScreen(Screen[None]):
    """The first screen of a served session."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", show=False)]
    """Tab moves from the name to the PIN, Enter signs in."""

    def __init__(self, class_dir: Path) -> None:
        super().__init__(id="sign-in")
        self.class_dir = class_dir
        self.busy = False

    @property
    def app(self) -> GradTutorApp:  # type: ignore[override]
        """The tutor, typed."""
        return cast("GradTutorApp", super().app)

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        with Vertical(id="sign-in-box"):
            yield Static(Text("Sign in to the class", style="bold"), markup=False)
            yield Static(
                "Your name, Tab, your PIN (at least 4 characters), Enter. The first time, "
                "this registers your name with that PIN: remember it.",
                markup=False,
                classes="sign-in-help",
            )
            yield AnswerInput(placeholder="your name", id="sign-in-name", select_on_focus=False)
            yield Input(
                placeholder="your PIN", password=True, id="sign-in-pin", select_on_focus=False
            )
            yield Static("", id="sign-in-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sign-in-name", Input).focus()
        self.call_after_refresh(self._opened)

    def _opened(self) -> None:
        from ..core.classroom import ClassRoom

        ClassRoom(self.class_dir).log("session-open")
        self.app.start_warm_up()

    def route_key(self, event: events.Key) -> bool:
        """Tab or Enter in the name field moves to the PIN at once, in the app's order of
        keys: as a binding or a message it would act only after the keys typed behind it
        had reached the name field (a browser sends a quick `Ada`, Tab, `2718` in one go)."""
        name = self.query_one("#sign-in-name", Input)
        if event.key in ("tab", "enter", "ctrl+j", "ctrl+i") and self.focused is name:
            self.set_focus(self.query_one("#sign-in-pin", Input))
            return True
        return False

    @on(Input.Submitted, "#sign-in-pin")
    def pin_given(self, event: Input.Submitted) -> None:
        event.stop()
        if self.busy:
            return
        name = self.query_one("#sign-in-name", Input).value
        pin = event.value
        if not name.strip():
            self._say("Type your name first.", "yellow")
            self.query_one("#sign-in-name", Input).focus()
            return
        self.busy = True
        self._say("⋯ signing in", "italic")
        self.sign_in(name, pin)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def sign_in(self, name: str, pin: str) -> None:
        """Check the PIN in the core, off the UI thread."""
        from ..core.classroom import ClassRoom, SignIn

        room = ClassRoom(self.class_dir)
        try:
            outcome = room.sign_in(name, pin)
        except OSError as exc:
            outcome = SignIn(False, f"The class directory cannot be used: {exc.strerror or exc}.")
        if outcome.ok:
            room.log("registered" if outcome.new else "signed-in", outcome.name)
        elif outcome.home is None and name.strip():
            room.log("refused", " ".join(name.split()))
        self.post_message(SignedIn(outcome))

    @on(SignedIn)
    def signed_in(self, event: SignedIn) -> None:
        self.busy = False
        outcome = event.outcome
        pin = self.query_one("#sign-in-pin", Input)
        pin.value = ""
        if not outcome.ok or outcome.home is None:
            self._say(outcome.message, "red")
            pin.focus()
            return
        self.app.enter_class(outcome.home, outcome.name, outcome.new)

    def _say(self, message: str, style: str) -> None:
        self.query_one("#sign-in-message", Static).update(Text(message, style=style))
