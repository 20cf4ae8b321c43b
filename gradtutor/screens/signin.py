"""Sign in to a class (`gradtutor serve`): a name, Tab, a PIN, Enter.

A new name is registered with its PIN; a known one must give its PIN. The check runs in
a worker (scrypt takes a moment, and the account file is locked while it is read and
written); the app then opens the learner's progress and the lesson browser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static

from ..core.classroom import FREE_FAILURES
from ..core.sizes import MAX_NAME_CHARS, MAX_PIN_CHARS, SIGN_IN_IDLE_SECONDS
from ..widgets.failures import WorkerFailures
from ..widgets.inputs import HEADER_ICON, AnswerInput

if TYPE_CHECKING:
    from ..app import GradTutorApp
    from ..core.classroom import SignIn


class SignedIn(Message):
    """A sign-in (or the choice of a new PIN) was decided."""

    def __init__(self, outcome: SignIn, one_time: str | None = None) -> None:
        super().__init__()
        self.outcome = outcome
        self.one_time = one_time
        """The one-time PIN that was accepted (when the learner must choose their own)."""


class SignInScreen(WorkerFailures, Screen[None]):
    """The first screen of a served session.

    Nothing but signing in, quitting (ctrl+q) and help (F1) is offered here; a session
    left on this screen for SIGN_IN_IDLE_SECONDS ends (every session is a process).
    After a one-time PIN the same PIN field asks for the learner's own PIN.
    """

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", show=False)]
    """Tab moves from the name to the PIN, Enter signs in."""

    idle_limit: float = SIGN_IN_IDLE_SECONDS
    """Seconds before a session that has not signed in is ended."""

    def __init__(self, class_dir: Path) -> None:
        super().__init__(id="sign-in")
        self.class_dir = class_dir
        self.busy = False
        self.one_time: str | None = None
        """The one-time PIN just accepted, while the learner chooses their own."""
        self.address = os.environ.get("GRADTUTOR_PEER", "")
        """The browser's address, as the server saw it (for the log and the slow-down)."""
        self._idle: Timer | None = None

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
                id="sign-in-help",
            )
            yield AnswerInput(
                placeholder="your name",
                id="sign-in-name",
                select_on_focus=False,
                max_length=MAX_NAME_CHARS,
            )
            yield Input(
                placeholder="your PIN",
                password=True,
                id="sign-in-pin",
                select_on_focus=False,
                max_length=MAX_PIN_CHARS,
            )
            yield Static("", id="sign-in-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sign-in-name", Input).focus()
        self._idle = self.set_timer(self.idle_limit, self._idle_too_long)
        self.call_after_refresh(self._opened)

    def _idle_too_long(self) -> None:
        if not self.app.learner_name:
            self.app.exit(message="Nobody signed in for 10 minutes: the session ended.")

    def _opened(self) -> None:
        from ..core.classroom import ClassRoom

        ClassRoom(self.class_dir).log("session-open", address=self.address, signed_in=False)
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
        if self.one_time is not None:
            self.choose_pin(name, self.one_time, pin)
        else:
            self.sign_in(name, pin)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def sign_in(self, name: str, pin: str) -> None:
        """Check the PIN in the core, off the UI thread; whatever happens, a sentence."""
        from ..core.classroom import ClassRoom, SignIn, tell_instructor

        room = ClassRoom(self.class_dir)
        try:
            outcome = room.sign_in(name, pin, address=self.address)
        except OSError as exc:
            outcome = SignIn(False, f"The class directory cannot be used: {exc.strerror or exc}.")
        except Exception:  # never a screen left on "signing in"
            outcome = SignIn(False, "The sign-in failed; try again, or ask your instructor.")
        try:
            if outcome.ok and not outcome.choose_pin:
                room.log("registered" if outcome.new else "signed-in", outcome.name)
            elif outcome.name and not outcome.unreadable:
                room.log("wrong-pin", outcome.name, self.address, signed_in=False)
            else:
                room.log_refused(name, self.address)
            if outcome.unreadable:
                tell_instructor(
                    f"the account of {room.home_of(name).name} cannot be read; it was "
                    "refused and kept as it is (gradtutor serve --reset-pin NAME repairs it)"
                )
            if outcome.locked_out:
                room.log("locked-out", outcome.name)
                tell_instructor(
                    f"{outcome.name}: {FREE_FAILURES} wrong PINs in a row, from "
                    f"{', '.join(outcome.locked_out)}; sign-ins now wait. "
                    "gradtutor serve --reset-pin NAME gives the learner a one-time PIN."
                )
        except Exception:  # the log is best effort; the verdict still reaches the screen
            pass
        self.post_message(SignedIn(outcome, pin if outcome.choose_pin else None))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def choose_pin(self, name: str, one_time: str, pin: str) -> None:
        """Make the learner's own PIN replace the one-time PIN, off the UI thread."""
        from ..core.classroom import ClassRoom, SignIn

        room = ClassRoom(self.class_dir)
        try:
            outcome = room.choose_pin(name, one_time, pin)
        except Exception:
            outcome = SignIn(False, "The new PIN could not be saved; try again.")
        if outcome.ok:
            room.log("pin-chosen", outcome.name)
        self.post_message(SignedIn(outcome))

    @on(SignedIn)
    def signed_in(self, event: SignedIn) -> None:
        self.busy = False
        outcome = event.outcome
        pin = self.query_one("#sign-in-pin", Input)
        pin.value = ""
        if outcome.choose_pin and outcome.home is not None:
            self.one_time = event.one_time
            self.query_one("#sign-in-name", Input).disabled = True
            pin.placeholder = "your own new PIN"
            self._say(
                "That one-time PIN is right. Now choose your own PIN (at least 4 "
                "characters) and press Enter: it replaces the one-time PIN.",
                "bold",
            )
            pin.focus()
            return
        if not outcome.ok or outcome.home is None:
            if self.one_time is not None and "no longer valid" in outcome.message:
                self._restart()
            self._say(outcome.message, "red")
            pin.focus()
            return
        if self._idle is not None:
            self._idle.stop()
        self.app.enter_class(outcome.home, outcome.name, outcome.new)

    def _restart(self) -> None:
        self.one_time = None
        self.query_one("#sign-in-name", Input).disabled = False
        self.query_one("#sign-in-pin", Input).placeholder = "your PIN"

    def _say(self, message: str, style: str) -> None:
        self.query_one("#sign-in-message", Static).update(Text(message, style=style))
