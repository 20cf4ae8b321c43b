"""The Textual application. It renders what `gradtutor.core` returns.

On the start path: no torch, no sympy, and no pack model. The lesson browser paints from
the outline of the packs saved by the last session (`core/outline.py`) when nothing in
them changed; the packs load right after that first paint, in the warm-up thread (a key
that needs them before then waits for that load), and the browser is rebuilt only if
they differ from the outline. Without an outline the packs load before the first paint.
Then the warm-up imports torch and the checker and starts the sympy sandbox, so the
first check is quick.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker

from . import __version__
from .commands import LessonCommands
from .core.outline import BrokenPack
from .core.paths import default_pack_dirs, home_dir
from .core.problems import Problem, ProblemList
from .core.progress import (
    HomeUnusable,
    LessonState,
    Progress,
    ProgressStore,
    completions_to_record,
    empty,
    lesson_states,
)
from .core.progress.states import PackLike
from .core.shelf import FENCE_FILE, PackShelf
from .core.sizes import NetworkSize
from .messages import ProgressSaved, ProgressSaveFailed
from .widgets.failures import report_worker_failure

if TYPE_CHECKING:  # the pack model loads after the first paint
    from .core.packs import Lesson, LibraryFunction, Pack, StepperBlock, TrainingBlock
    from .core.progress.commands import ProgressCommand

LearnerFunctions = tuple[tuple["LibraryFunction", ...], dict[str, str]]
"""A stepper block's library and the learner's accepted code by exercise address."""


class GradTutorApp(App[None]):
    """The tutor: a lesson browser, lessons with live-checked exercises, the stepper."""

    CSS_PATH = "app.tcss"
    TITLE = "gradtutor"
    SUB_TITLE = "backpropagation, one step at a time"
    COMMANDS = App.COMMANDS | {LessonCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
    ]

    heavy_ready: reactive[bool] = reactive(False)
    """True once torch, sympy and the checker are imported (after the first paint)."""

    def __init__(
        self,
        pack_dirs: list[Path],
        home: Path,
        stepper: NetworkSize | None = None,
        unlock_all: bool = False,
        class_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.class_dir = class_dir
        """A served session's class: it opens on the sign-in screen (None: a terminal)."""
        self.learner_name = ""
        """Who signed in (a served session)."""
        self.unlock_all = unlock_all
        """An instructor's preview: every lesson open, nothing written to progress."""
        self.initial_stepper = stepper
        """The network to open the stepper on at start (`gradtutor stepper`)."""
        self.store = ProgressStore(home)
        self.shelf = PackShelf(pack_dirs, self.store.home / "cache", __version__)
        """The packs (at start, maybe only their outlines: see `ensure_loaded`)."""
        self.progress: Progress = Progress(empty())
        self.progress_problem: str | None = None
        """Why progress cannot be saved (None when it can)."""
        self._writes: deque[ProgressCommand] = deque()
        self._write_lock = threading.Lock()
        self._writing = False

    @property
    def signing_in(self) -> bool:
        """A served session nobody has signed in to yet: it offers signing in, quitting
        and help, nothing else (no lesson, no stepper, not even from the palette)."""
        return self.class_dir is not None and not self.learner_name

    @property
    def packs(self) -> list[Pack]:
        """The loaded packs. While their outlines stand in (at start, until the first
        paint), reading this loads them: no caller ever sees a pack missing."""
        self.ensure_loaded()
        return self.shelf.packs

    @property
    def broken_packs(self) -> list[BrokenPack]:
        """Packs that could not be loaded, with their problems (listed in the browser)."""
        return self.shelf.broken_packs

    @property
    def pack_problems(self) -> dict[str, list[Problem]]:
        """Errors that let a pack open (unknown keys), by pack id: listed beside it."""
        return self.shelf.pack_problems

    @property
    def load_problems(self) -> ProblemList:
        """Every error found loading the packs."""
        return self.shelf.load_problems

    def load(self) -> None:
        """Load the packs and the progress (also used by tests to reload)."""
        self.shelf.load()
        self.progress = self._load_progress()

    def ensure_loaded(self) -> None:
        """Have the packs loaded: while their outlines stand in (at start, until the
        warm-up has loaded them after the first paint), load them now, or wait for the
        warm-up's load under way."""
        changed = self.shelf.load_outlined()
        if changed is not None:
            self._packs_loaded(changed)

    def _packs_loaded(self, changed: bool) -> None:
        """The packs have replaced their outlines (once, on the app's thread): record the
        completions they reveal, rebuild the browser if it showed something else."""
        self._record_completions()
        from .screens.browser import BrowserScreen

        for screen in self.screen_stack:
            if isinstance(screen, BrowserScreen):
                screen.packs_loaded(changed)
        if changed:
            self._announce_broken_packs()

    def find_pack(self, pack_id: str | None) -> Pack | None:
        """A loaded pack by id (the packs are loaded first if need be)."""
        self.ensure_loaded()
        return self.shelf.pack(pack_id)

    def find_lesson(self, pack_id: str, lesson_id: str) -> tuple[Pack, Lesson] | None:
        """A pack's lesson by ids (the packs are loaded first if need be)."""
        self.ensure_loaded()
        return self.shelf.lesson(pack_id, lesson_id)

    def states(self, pack: PackLike) -> dict[str, LessonState]:
        """Every lesson's state in this session (nothing locked in a preview)."""
        return lesson_states(pack, self.progress, self.unlock_all)

    def _load_progress(self) -> Progress:
        """The progress on disk; in memory only (and said so) when the home is unusable,
        or in a preview. Completions not yet recorded are recorded now."""
        if self.class_dir is not None and not self.learner_name:
            self.store.use_memory()  # nobody signed in yet: nothing to read or write
            return self.store.load()
        if self.unlock_all:
            self.progress_problem = (
                "Preview: every lesson is open, and nothing is written to your progress."
            )
            self.store.use_memory()
            return self.store.load()
        try:
            self.store.check_home()
            self.store.start()
            progress = self.store.load()
            for pack in self.shelf.packs:  # none yet while outlines stand in
                if completions_to_record(pack, progress):
                    progress = self.store.record_completions(pack)
            return progress
        except OSError as exc:
            why = exc.sentence() if isinstance(exc, HomeUnusable) else str(exc)
            self.progress_problem = (
                f"Progress cannot be saved ({why}). This session's progress is kept in "
                "memory only and is lost when gradtutor closes."
            )
            self.store.use_memory()
            return self.store.load()

    def _record_completions(self) -> None:
        """Record completions not yet recorded, once the packs are loaded after the
        first paint (as `_load_progress` does when they load before it)."""
        if self.store.in_memory:
            return
        for pack in self.shelf.packs:
            if completions_to_record(pack, self.progress):
                try:
                    self.set_progress(self.store.record_completions(pack))
                except OSError as exc:
                    why = exc.sentence() if isinstance(exc, HomeUnusable) else str(exc)
                    self.notify(
                        f"Progress could not be saved: {why}",
                        title="Not saved",
                        severity="error",
                        timeout=15,
                        markup=False,
                    )
                    return

    def on_load(self) -> None:
        # A terminal session (the tutor, or `gradtutor stepper` over its browser) paints
        # from the outlines when it can; a served one (sign-in first) loads the packs at once.
        if self.class_dir is None and self.shelf.adopt_outlines():
            self.progress = self._load_progress()
        else:
            self.load()

    # -- keys typed ahead --------------------------------------------------------------

    _typeahead: list[tuple[str, str | None]] | None = None
    MAX_TYPEAHEAD = 1_000
    """Keys held while a lesson opens, at most."""

    async def on_event(self, event: events.Event) -> None:
        """Hold the keys typed after Enter in the browser until the lesson they belong to
        is ready (`take_typeahead`), however long it takes to open: the lesson screen
        replays them once its answer field has focus. Keys held when another screen
        takes over (or the opening fails) are dropped, with a notice."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            route = getattr(self.screen, "route_key", None)
            if route is not None and route(event):
                return
            if self._typeahead is not None:
                if not self._typeahead_target_lost():
                    if len(self._typeahead) < self.MAX_TYPEAHEAD:
                        self._typeahead.append((event.key, event.character))
                    return
                self.drop_typeahead()
            elif event.key in ("enter", "ctrl+j") and self.screen.id == "browser":
                self._typeahead = []
        await super().on_event(event)

    def _typeahead_target_lost(self) -> bool:
        """Neither the browser (still opening the lesson) nor a lesson is in front."""
        from .screens.lesson import LessonScreen

        return self.screen.id != "browser" and not isinstance(self.screen, LessonScreen)

    def take_typeahead(self) -> list[tuple[str, str | None]]:
        """The held keys, in the order typed; from now on keys go where focus is."""
        keys, self._typeahead = self._typeahead or [], None
        return keys

    def release_typeahead(self) -> None:
        """Give the held keys back to the screen that has focus now."""
        for key, character in self.take_typeahead():
            self.post_message(events.Key(key, character))

    def drop_typeahead(self) -> None:
        """Forget the held keys (the lesson they were for did not open), and say so."""
        keys = self.take_typeahead()
        if keys:
            self.notify(
                f"{len(keys)} key{'s' if len(keys) != 1 else ''} typed while the lesson "
                "opened could not be used; type them again.",
                severity="warning",
                markup=False,
            )

    def get_default_screen(self) -> Screen[Any]:
        """The lesson browser is the first screen (no empty default screen to paint first);
        in a served session, the sign-in screen."""
        if self.class_dir is not None:
            from .screens.signin import SignInScreen

            return SignInScreen(self.class_dir)
        from .screens.browser import BrowserScreen

        return BrowserScreen(id="browser")

    def enter_class(self, home: Path, name: str, new: bool) -> None:
        """A learner signed in: their progress, then the lesson browser."""
        from .screens.browser import BrowserScreen

        self.learner_name = name
        self.store = ProgressStore(home)
        self.progress = self._load_progress()
        if not self.store.in_memory and self.progress.data.get("name") != name:
            self.progress = self.store.update(lambda data: data.__setitem__("name", name))
        self.sub_title = f"{name} · backpropagation, one step at a time"
        self.push_screen(BrowserScreen(id="browser"))  # the browser has no way back to the sign-in
        greeting = f"Welcome, {name}." if new else f"Welcome back, {name}."
        self.notify(greeting, title="Signed in", timeout=5, markup=False)

    def on_mount(self) -> None:
        for notice in self.store.take_notices():
            self.notify(notice, title="Progress", severity="warning", timeout=15, markup=False)
        # The browser says both at its top and in its list; a toast only points there.
        if self.progress_problem and self.initial_stepper is not None:
            self.notify(
                self.progress_problem, title="Not saved", severity="error", timeout=20, markup=False
            )
        self._announce_broken_packs()
        if self.initial_stepper is not None:
            self.open_stepper(self.initial_stepper)

    def _announce_broken_packs(self) -> None:
        if self.broken_packs:
            count = len(self.broken_packs)
            which = f"{count} packs" if count > 1 else "A pack"
            self.notify(
                f"{which} could not be loaded; the lesson browser lists the problems.",
                title="Pack not loaded",
                severity="error",
                timeout=10,
                markup=False,
            )

    # -- heavy modules ---------------------------------------------------------------

    def start_warm_up(self) -> None:
        """Called by the first screen after it has painted."""
        if not self.heavy_ready:
            self.warm_up()

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def warm_up(self) -> None:
        """Off the UI thread: load the packs if their outlines stand in (and keep the
        outlines for the next start), then import torch and the checker and start the
        sandbox, where sympy runs (the tutor's own process never needs sympy: 40 MB less
        per served session)."""
        changed = self.shelf.load_outlined()
        if changed is not None:
            self.call_from_thread(self._packs_loaded, changed)
        if self.class_dir is None:
            self.shelf.save_outlines()
        from .core.packs import save_fence_cache

        save_fence_cache(self.shelf.cache_dir / FENCE_FILE)
        # What opening a lesson needs, ready before the learner presses Enter: the lesson
        # screen's modules, and the math renderer (its expressions compile once). No
        # widget is made here: widgets belong to the app's thread.
        import gradtutor.screens.lesson  # noqa: F401
        from gradtutor.core.mathtext import markdown_math

        markdown_math("A $x^2$ warm-up, with `code` and **bold**.")
        from gradtutor.core.checking import freeze_imports  # imports torch
        from gradtutor.core.sandbox import shared_sandbox

        freeze_imports()
        shared_sandbox().warm()
        self.call_from_thread(setattr, self, "heavy_ready", True)

    # -- progress ----------------------------------------------------------------------

    def save_progress(self, command: ProgressCommand) -> None:
        """The one path for progress writes: commands are applied in order, off the UI
        thread, by a single writer; each result comes back as a ProgressSaved message
        (a failure as ProgressSaveFailed), and the next command is applied regardless."""
        with self._write_lock:
            self._writes.append(command)
            start, self._writing = not self._writing, True
        if start:
            self._write_progress()

    @work(thread=True, group="progress", exit_on_error=False)
    def _write_progress(self) -> None:
        """The writer: drains the queue of commands, one at a time, then stops. No failure
        of one command stops it (today's saves must never silently end)."""
        try:
            while True:
                with self._write_lock:
                    if not self._writes:
                        self._writing = False
                        return
                    command = self._writes.popleft()
                try:
                    from .core.progress.commands import apply as apply_command

                    saved = apply_command(self.store, command)
                except Exception as exc:  # reported on screen; the loop goes on
                    why = (
                        exc.sentence()
                        if isinstance(exc, HomeUnusable)
                        else str(exc) or type(exc).__name__
                    )
                    self.post_message(ProgressSaveFailed(command, why))
                    continue
                self.post_message(ProgressSaved(saved))
        finally:  # whatever ended this thread, the next save starts a writer again
            with self._write_lock:
                self._writing = False

    @on(ProgressSaved)
    def progress_saved(self, event: ProgressSaved) -> None:
        """Adopt the snapshot, then tell every screen (the lesson finds its exercise)."""
        self.set_progress(event.saved.progress)
        for screen in self.screen_stack:
            screen.post_message(ProgressSaved(event.saved))

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (the warm-up, the progress writer): see failures.py."""
        report_worker_failure(self, event)

    @on(ProgressSaveFailed)
    def progress_save_failed(self, event: ProgressSaveFailed) -> None:
        """A save failed: said on screen, never silently."""
        self.notify(
            f"Progress could not be saved: {event.why}",
            title="Not saved",
            severity="error",
            timeout=15,
            markup=False,
        )

    def set_progress(self, progress: Progress) -> None:
        """Adopt a progress snapshot, unless a newer one is already in use; announce unlocked
        lessons, refresh the browser."""
        if progress.revision < self.progress.revision:
            return
        before = {pack.id: self.states(pack) for pack in self.packs}
        self.progress = progress
        for pack in self.packs:
            after = lesson_states(pack, progress, self.unlock_all)
            old = before[pack.id]
            for lesson in pack.lessons:
                was, now = old[lesson.id].status, after[lesson.id].status
                if was == "locked" and now != "locked":
                    self.notify(f"Unlocked: {lesson.title}", title=pack.title, markup=False)
                if was != "done" and now == "done":
                    self.notify(f"Lesson complete: {lesson.title}", title="✓", markup=False)
            if all(s.status == "done" for s in after.values()) and not all(
                s.status == "done" for s in old.values()
            ):
                self.notify(
                    f"You have completed every lesson of {pack.title}. Well done.",
                    title="Pack complete 🎉",
                    timeout=10,
                    markup=False,
                )
        from .screens.browser import BrowserScreen

        for screen in self.screen_stack:
            if isinstance(screen, BrowserScreen):
                screen.refresh_tree()

    # -- navigation ------------------------------------------------------------------

    def open_lesson(self, pack: Pack, lesson: Lesson, replace: bool = False) -> None:
        """Open a lesson unless it is locked (then say what it waits for)."""
        if self.signing_in:
            return
        state = self.states(pack)[lesson.id]
        if state.status == "locked":
            self.notify(
                f"Complete {pack.titles(state.waits_for)} first.",
                title=f"{lesson.title} is locked",
                markup=False,
            )
            return
        from .screens.lesson import LessonScreen

        if replace:
            self.switch_screen(LessonScreen(pack, lesson))
        else:
            self.push_screen(LessonScreen(pack, lesson))

    def open_block(self, block: StepperBlock | TrainingBlock) -> None:
        """Open the view a stepper or training block stands for."""
        from .core.packs import StepperBlock

        if isinstance(block, StepperBlock):
            self.open_stepper(block.size, self.learner_functions(block))
        else:
            self.open_training(block)

    def learner_functions(self, block: StepperBlock) -> LearnerFunctions | None:
        """For a stepper block with `manual = "learner"`: the functions it calls, and the
        learner's accepted code for each (the reference stands in for the others)."""
        if block.manual != "learner":
            return None
        from .core.session import accepted_programs

        return block.library, accepted_programs(self.progress, block.library)

    def open_stepper(
        self, size: NetworkSize | None = None, learner: LearnerFunctions | None = None
    ) -> None:
        """Open the network stepper (on the default network unless told otherwise), with
        the learner's own backward functions where a stepper block asks for them."""
        if self.signing_in:
            return
        from .screens.stepper import StepperScreen

        standalone = size is not None and size is self.initial_stepper
        self.push_screen(
            StepperScreen(size or NetworkSize(), standalone=standalone, learner=learner)
        )

    def open_breakdown(
        self,
        function: str,
        wrt: str,
        title: str,
        carried: Callable[[Any], None],
        ahead: list[Any] | None = None,
        exercise_id: str = "",
    ) -> None:
        """Open the breakdown of a derivative exercise's function; `carried` receives
        what the learner assembled there (a `Carried`, or None). `ahead`: the lesson's
        exercises, whose later answers the breakdown's numbers avoid."""
        from .screens.breakdown import BreakdownScreen

        screen = BreakdownScreen(function, wrt, title, ahead or [], exercise_id)
        self.push_screen(screen, carried)

    def open_training(self, block: TrainingBlock) -> None:
        """Open a training view."""
        if self.signing_in:
            return
        from .screens.training import TrainingScreen

        self.push_screen(TrainingScreen(block))

    def action_open_stepper(self) -> None:
        """Open the stepper on the default network."""
        self.open_stepper()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: Textual's own commands, and every key of the screen in use (so the
        keys the footer has no room for are one search away). Before a served session's
        sign-in: quitting and help only."""
        if self.signing_in:
            yield SystemCommand("Help", "How the tutor works (F1)", self.action_help)
            yield SystemCommand("Quit", "Leave gradtutor (ctrl+q)", self.exit)
            return
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            if binding.action in ("quit", "help", "app.quit", "command_palette"):
                continue
            seen.add(binding.action)
            shown = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                f"{binding.description} ({shown})",
                f"the {shown} key here",
                partial(self.call_later, self.run_action, binding.action, active.node),
            )

    def action_help(self) -> None:
        """Show the help screen."""
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def create_app(
    pack_dirs: list[Path] | None = None,
    home: Path | None = None,
    stepper: NetworkSize | None = None,
    unlock_all: bool = False,
    class_dir: Path | None = None,
) -> GradTutorApp:
    """The one app factory, shared by the command line, `serve` and the tests."""
    return GradTutorApp(
        pack_dirs=list(pack_dirs) if pack_dirs is not None else default_pack_dirs(),
        home=home if home is not None else (class_dir if class_dir else home_dir()),
        stepper=stepper,
        unlock_all=unlock_all,
        class_dir=class_dir,
    )
