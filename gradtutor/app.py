"""The Textual application. It renders what `gradtutor.core` returns.

On the start path: no torch, no sympy. Packs and progress load synchronously (they are
cheap); heavy modules are warmed in a worker after the first paint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from .core.packs import Pack, load_pack
from .core.paths import default_pack_dirs, home_dir
from .core.problems import ProblemList
from .core.progress import Progress, ProgressStore


class GradTutorApp(App[None]):
    """The tutor: a lesson browser, lessons, and (later) the network stepper."""

    CSS_PATH = "app.tcss"
    TITLE = "gradtutor"
    SUB_TITLE = "backpropagation, one step at a time"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self, pack_dirs: list[Path], home: Path, stepper: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.pack_dirs = pack_dirs
        self.initial_stepper = stepper
        """Network sizes to open the stepper on at start (`gradtutor stepper`)."""
        self.store = ProgressStore(home)
        self.packs: list[Pack] = []
        self.load_problems = ProblemList()
        self.progress: Progress = Progress({"version": 1, "packs": {}, "last": None})

    def load(self) -> None:
        """Load the packs and the progress (also used by tests to reload)."""
        self.packs, self.load_problems = [], ProblemList()
        seen: set[str] = set()
        for directory in self.pack_dirs:
            result = load_pack(directory)
            self.load_problems.extend(result.problems.errors)
            if result.pack is None or result.problems.errors:
                continue
            if result.pack.id in seen:
                continue
            seen.add(result.pack.id)
            self.packs.append(result.pack)
        self.progress = self.store.load()

    def on_mount(self) -> None:
        self.load()
        from .screens.browser import BrowserScreen

        self.push_screen(BrowserScreen())
        for notice in self.store.take_notices():
            self.notify(notice, title="Progress", severity="warning", timeout=15, markup=False)
        broken = {p.path for p in self.load_problems}
        for path in sorted(broken):
            self.notify(
                f"{path} has errors and was not loaded; run `gradtutor validate` on its pack.",
                title="Pack not loaded",
                severity="error",
                timeout=15,
                markup=False,
            )

    def set_progress(self, progress: Progress) -> None:
        """Adopt a progress snapshot returned by the store and refresh the browser."""
        self.progress = progress
        from .screens.browser import BrowserScreen

        for screen in self.screen_stack:
            if isinstance(screen, BrowserScreen):
                screen.refresh_tree()


def create_app(
    pack_dirs: list[Path] | None = None,
    home: Path | None = None,
    stepper: dict[str, Any] | None = None,
) -> GradTutorApp:
    """The one app factory, shared by the command line and the tests."""
    return GradTutorApp(
        pack_dirs=list(pack_dirs) if pack_dirs is not None else default_pack_dirs(),
        home=home if home is not None else home_dir(),
        stepper=stepper,
    )
