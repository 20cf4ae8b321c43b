"""An exercise in place: prompt, answer field with live preview, verdict, hints, solution.

The widget renders an `ExerciseSession` (core/session.py), which owns the exercise's
state and turns what the learner does into progress commands; the widget queues those
with the app's one writer and hears back through `ProgressSaved` (via the lesson
screen). Checking and previews run in thread workers that read the session and post a
message back; the session is changed on the UI thread only. After every check the
verdict, its feedback and the answer field are scrolled into view together; once the
answer changes, the verdict on screen is dimmed and marked as the previous answer's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Markdown, OptionList, Static, TextArea

from ..core.kinds import Preview
from ..core.mathtext import markdown_math
from ..core.packs import DerivativeExercise, Exercise, Lesson, Pack
from ..core.progress import ExerciseProgress
from ..core.progress.commands import FreshVariant, NextPractice, RecordPractice, Saved
from ..core.session import ExerciseSession, Status, accepted_programs
from .failures import WorkerFailures
from .kinds import PLACEHOLDERS, answer_widget
from .program import ProgramEditor
from .rendering import preview_text, region_in, verdict_text

if TYPE_CHECKING:
    from ..app import GradTutorApp
    from ..core.checking import Verdict
    from ..core.variants import Variant
    from ..screens.breakdown import Carried

__all__ = ["PLACEHOLDERS", "AnswerChecked", "ExerciseView", "PreviewReady", "region_in"]


class AnswerChecked(Message):
    """A check finished (posted from the checking worker)."""

    def __init__(self, view: ExerciseView, answer: str, verdict: Verdict) -> None:
        super().__init__()
        self.view = view
        self.answer = answer
        self.verdict = verdict

    @property
    def control(self) -> ExerciseView:
        """The exercise that was checked."""
        return self.view


class PreviewReady(Message):
    """The live preview of an answer was computed."""

    def __init__(self, answer: str, preview: Preview) -> None:
        super().__init__()
        self.answer = answer
        self.preview = preview


class SolutionReady(Message):
    """The solution's Markdown was built (it may need torch or sympy)."""

    def __init__(self, text: str, scroll: bool) -> None:
        super().__init__()
        self.text = text
        self.scroll = scroll


class ExerciseView(WorkerFailures, Vertical):
    """One exercise of a lesson, in the variant the learner sees."""

    BINDINGS = [
        Binding("f2", "hint", "Hint"),
        Binding("f3", "solution", "Solution"),
        Binding("f5", "breakdown", "Break down"),
    ]
    """F2 shows the next hint; F3 the solution (recorded as revealed); F5, on derivative
    exercises, opens the breakdown (BreakdownScreen). F4, fresh numbers once an exercise
    is solved or revealed, is the lesson screen's: it also reaches the exercise just
    answered after focus has moved on (LessonScreen.fresh_target)."""

    _following = False  # keep the verdict in view as the exercise resizes (follow_verdict)

    status: reactive[Status] = reactive[Status]("unsolved")
    """The session's status, mirrored so that styles and bindings follow it."""
    checking: reactive[bool] = reactive(False)
    """True while a check runs in the worker."""

    def __init__(
        self,
        pack: Pack,
        lesson: Lesson,
        exercise: Exercise,
        number: int,
        record: ExerciseProgress,
        learner: str = "",
    ) -> None:
        super().__init__(classes=f"exercise kind-{exercise.kind}")
        self.pack = pack
        self.lesson = lesson
        self.number = number
        self.session = ExerciseSession.open(
            pack.id, lesson.id, exercise, record, learner, tuple(e.id for e in lesson.exercises)
        )
        self.set_reactive(ExerciseView.status, self.session.status)

    # -- what the session holds, for the screen and the tests -------------------------------

    @property
    def exercise(self) -> Exercise:
        """The exercise as authored (its ids, and what is checked)."""
        return self.session.exercise

    @property
    def record(self) -> ExerciseProgress:
        """This exercise's progress, as last saved."""
        return self.session.record

    @property
    def variant(self) -> int:
        """The variant shown: the learner's own numbers and order of options."""
        return self.session.variant

    @property
    def shown(self) -> Variant:
        """The variant shown."""
        assert self.session.shown is not None
        return self.session.shown

    @property
    def fixed(self) -> Exercise:
        """The exercise as the learner sees it: the drawn numbers in place."""
        return self.session.fixed

    @property
    def app(self) -> GradTutorApp:  # type: ignore[override]
        """The tutor, typed (posting's pattern)."""
        return cast("GradTutorApp", super().app)

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.header_text(), classes="exercise-head", markup=False)
        if self.session.problem:
            yield Static(
                Text(self.session.problem, style="red"), classes="exercise-problem", markup=False
            )
        yield Markdown(
            markdown_math(self.fixed.prompt), classes="exercise-prompt", open_links=False
        )
        yield answer_widget(self.session)
        if not self.session.chooses:
            yield Static("", classes="answer-preview", markup=False)
        yield Static("", classes="verdict", markup=False)
        with Vertical(classes="hints"):
            for i in range(self.session.hints_shown):
                yield self.hint_widget(i)
        yield Markdown("", classes="solution", open_links=False)

    def on_mount(self) -> None:
        if self.session.pending is not None:  # a pack edit moved this round: a fresh one
            self.app.save_progress(self.session.pending)
            self.session.pending = None
        self.watch_status(self.status)
        self.query_one(".solution", Markdown).display = False
        for selector in (".verdict", ".answer-preview"):
            for widget in self.query(selector):
                widget.display = False
        if self.status != "unsolved":
            self.show_solution()

    @property
    def answer_field(self) -> Widget:
        """Where the learner answers: the input, or the list of options."""
        return self.query(".answer-input, .choice-options").first()

    def header_text(self) -> Text:
        """`Exercise 2 · derivative` with the state of the exercise."""
        session = self.session
        head = Text(f"Exercise {self.number}", style="bold")
        head.append(f" · {self.exercise.kind}", style="dim")
        mark = {
            "solved": (" · ✓ solved", "green"),
            "revealed": (" · solution shown", "yellow"),
        }.get(session.status)
        if mark:
            head.append(*mark)
        attempts = self.record.current.attempts
        if attempts and session.status != "solved":
            head.append(f" · {attempts} attempt{'s' if attempts != 1 else ''}", style="dim")
        if self.record.round:
            head.append(f" · new numbers, {self.record.variants_solved} solved", style="dim")
        hints = self.fixed.hints
        if hints:
            head.append(f" · F2 hint ({session.hints_shown}/{len(hints)})", style="dim")
        return head

    def _sync(self) -> None:
        """The session changed: status, heading, verdict and bindings follow."""
        self.status = self.session.status
        self.checking = self.session.checking
        if self.is_mounted:
            self.query_one(".exercise-head", Static).update(self.header_text())
            self._render_verdict()
            self.screen.refresh_bindings()

    def watch_status(self, status: str) -> None:
        self.refresh_bindings()
        self.set_class(status == "solved", "-solved")
        self.set_class(status == "revealed", "-revealed")
        if self.is_mounted:
            self.query_one(".exercise-head", Static).update(self.header_text())

    def watch_checking(self, checking: bool) -> None:
        self.set_class(checking, "-checking")
        if checking:
            self._show(".verdict", Text("⋯ checking", style="italic"))

    def hint_widget(self, index: int) -> Markdown:
        """The Markdown of one hint."""
        return Markdown(
            markdown_math(f"**Hint {index + 1}.** {self.fixed.hints[index]}"),
            classes="hint",
            open_links=False,
        )

    def focus_answer(self, scroll: bool = True) -> None:
        """Put the cursor where the learner answers (scrolling to it, unless told not to)."""
        self.answer_field.focus(scroll_visible=False)
        if scroll:
            self.call_after_refresh(self.scroll_visible, animate=False)

    def _show(self, selector: str, content: Text | str) -> None:
        """Update a Static, hiding it while it is empty."""
        widget = self.query_one(selector, Static)
        widget.update(content)
        widget.display = bool(str(content))

    def follow_verdict(self) -> None:
        """Keep the verdict in view: now, and whenever the exercise grows or shrinks until
        the answer is edited (the attempts left arrive after the save, a line later)."""
        self._following = True
        self.call_after_refresh(self.bring_verdict_into_view)

    def on_resize(self, event: events.Resize) -> None:
        if self._following:
            self.call_after_refresh(self.bring_verdict_into_view)

    def _lesson_body(self) -> Widget | None:
        body = next((a for a in self.ancestors if getattr(a, "id", None) == "lesson-body"), None)
        return body if isinstance(body, Widget) else None

    def bring_verdict_into_view(self) -> None:
        """Scroll the lesson so the answer field, the verdict and its feedback show together
        (the answer field first, when they are taller than the screen)."""
        body = self._lesson_body()
        if body is None:
            return
        verdict = self.query_one(".verdict", Static)
        region = region_in(self.answer_field, body)
        if verdict.display:
            region = region.union(region_in(verdict, body))
        # the exercise's own heading too, when all of it fits on the screen
        whole = region.union(region_in(self.query_one(".exercise-head"), body))
        if whole.height <= body.scrollable_content_region.height:
            region = whole
        body.scroll_to_region(region, animate=False, immediate=True)

    def bring_preview_into_view(self) -> None:
        """Keep the answer field and the line under it (the preview) on screen."""
        body = self._lesson_body()
        previews = self.query(".answer-preview")
        if body is None or not previews or not previews.first().display:
            return
        region = region_in(self.answer_field, body).union(region_in(previews.first(), body))
        if region.height <= body.scrollable_content_region.height:
            body.scroll_to_region(region, animate=False, immediate=True)

    # -- answering ---------------------------------------------------------------------

    @on(Input.Changed, ".answer-input")
    def preview_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._following = False
        self._mark_stale(event.value.strip() != self.session.checked_answer)
        if not event.value.strip():
            self._show(".answer-preview", "")
            return
        self.compute_preview(event.value)

    def _mark_stale(self, stale: bool) -> None:
        """Dim the verdict once the answer it judged has been changed."""
        verdict = self.query_one(".verdict", Static)
        if self.checking or self.session.verdict is None or verdict.has_class("-stale") == stale:
            return
        verdict.set_class(stale, "-stale")
        self._render_verdict()

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def compute_preview(self, answer: str) -> None:
        """Parse (and for tensors, shape-check) the answer off the UI thread."""
        self.post_message(PreviewReady(answer, self.session.preview(answer)))

    @on(TextArea.Changed, ".program-editor")
    def program_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        self._mark_stale(text.strip() != self.session.checked_answer)
        if not text.strip():
            self._show(".answer-preview", "")
            return
        self.compute_preview(text)

    @on(ProgramEditor.Submitted)
    def program_submitted(self, event: ProgramEditor.Submitted) -> None:
        event.stop()
        self.submit(event.text)

    def answer_text(self) -> str:
        """What the answer field holds now."""
        field = self.query(".answer-input").first()
        return field.text if isinstance(field, TextArea) else getattr(field, "value", "")

    @on(PreviewReady)
    def show_preview(self, event: PreviewReady) -> None:
        event.stop()
        answer_input = self.query(".answer-input").first()
        if self.answer_text() == event.answer:  # ignore previews of older text
            self._show(".answer-preview", preview_text(event.preview))
            if answer_input.has_focus:
                self.call_after_refresh(self.bring_preview_into_view)

    @on(Input.Submitted, ".answer-input")
    def answer_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    @on(OptionList.OptionSelected, ".choice-options")
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit(str(event.option_index + 1))

    def on_key(self, event: events.Key) -> None:
        """A digit highlights that option of a choice list; Enter then submits it (a digit
        alone never answers: it may be the first key of something typed elsewhere)."""
        if self.session.chooses and event.character and event.character.isdigit():
            index = int(event.character)
            if 1 <= index <= len(self.session.options):
                event.stop()
                self.query_one(".choice-options", OptionList).highlighted = index - 1

    def submit(self, answer: str) -> None:
        """Check an answer in the worker: once per decision (the answer just judged, again,
        is not checked again), never while a check is running. In a practice block, Enter
        on an exercise already judged brings the next one."""
        session = self.session
        in_view = getattr(self.screen, "in_view", None)
        if in_view is not None and not in_view(self.answer_field):
            # never answer a question that is not on screen: show it, judge nothing
            self.bring_verdict_into_view()
            return
        if session.practice and session.status != "unsolved" and not session.checking:
            self.action_fresh()
            return
        refused = session.refusal(answer)
        if refused is not None:
            if refused.already_checked:
                self.bring_verdict_into_view()
                if not self.session.chooses:
                    self.notify(refused.message, markup=False)
            elif not session.checking:
                self._show(".verdict", Text(refused.message, style="italic"))
            return
        session.accepted = accepted_programs(self.app.progress, session.library)
        session.checking = True
        self.checking = True
        self.check_answer(answer)

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def check_answer(self, answer: str) -> None:
        """Run the core checker off the UI thread; posts AnswerChecked."""
        self.post_message(AnswerChecked(self, answer, self.session.check(answer)))

    def worker_failed(self, worker: object, why: str) -> None:
        """A worker of this exercise failed (the app says so): never left on "⋯"."""
        if self.session.checking:
            self.session.checking = False
            self.checking = False
            self._show(".verdict", Text(f"~ The check failed ({why}); try again.", style="magenta"))

    @on(AnswerChecked)
    def answer_checked(self, event: AnswerChecked) -> None:
        """A check finished: the session judges it, the command is queued for saving."""
        judged = self.session.judge(event.answer, event.verdict)
        self.query_one(".verdict", Static).remove_class("-stale")
        if judged.command is not None:
            self.app.save_progress(judged.command)
        self._sync()
        if self.status != "unsolved":
            self.show_solution()
        self.follow_verdict()

    def _render_verdict(self) -> None:
        """The verdict as the session has it: attempts left once saved, the practice
        block's next step once judged."""
        session = self.session
        if session.checking or session.verdict is None:
            return
        text = verdict_text(session.verdict, session.attempts_left)
        if session.practice and session.status != "unsolved" and session.attempts_known:
            done = session.record.solved
            text.append(
                "\nThe block is done; F4 or Enter keeps practising."
                if done
                else "\nF4 or Enter: the next exercise",
                style="dim",
            )
        widget = self.query_one(".verdict", Static)
        if widget.has_class("-stale"):
            stale = Text("For your previous answer:\n", style="italic")
            stale.append_text(text)
            text = stale
        self._show(".verdict", text)

    def progress_saved(self, saved: Saved) -> None:
        """A command of this exercise was saved (the lesson screen finds this view)."""
        revealed_before = self.session.status == "revealed"
        self.session.saved(saved)
        command = saved.command
        if isinstance(command, FreshVariant):
            if saved.began:
                self.replace_with(self.session.record, saved.progress.learner)
            return
        if isinstance(command, NextPractice):
            self.replace_with(self.session.record, saved.progress.learner)
            return
        self._sync()
        if self.session.status == "revealed" and not revealed_before:
            self.show_solution()
        if isinstance(command, RecordPractice) or self.session.attempts_left is not None:
            self.follow_verdict()

    # -- fresh numbers -------------------------------------------------------------------

    def action_fresh(self) -> None:
        """A new round with fresh numbers (or, in a practice block, the next exercise)."""
        command = self.session.fresh()
        if command is not None:
            self.app.save_progress(command)

    def replace_with(self, record: ExerciseProgress, learner: str) -> None:
        """Put a new view of this exercise in this one's place (a new round), answer focused."""
        view = type(self)(self.pack, self.lesson, self.exercise, self.number, record, learner)
        # on the app's loop: this view cannot await its own removal
        self.app.call_later(self._swap, view)

    async def _swap(self, view: ExerciseView) -> None:
        parent = self.parent
        if not isinstance(parent, Widget):
            return
        await parent.mount(view, after=self)
        # focus moves before this view goes: removing a focused widget would send focus
        # (and the scroll) to the first exercise of the lesson
        self.screen.set_focus(view.answer_field, scroll_visible=False)  # now, not later
        await self.remove()
        view.call_after_refresh(view.scroll_visible, animate=False)

    # -- the breakdown -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F5 is for derivative exercises (their functions have a graph); F3 waits for a
        pending check."""
        if action == "breakdown":
            return self.session.can_break_down
        if action == "solution":
            return not self.session.checking
        return True

    def action_breakdown(self) -> None:
        """Open the breakdown of this exercise's function; what it assembles comes back
        into the answer field, to be checked as any answer."""
        fixed = self.fixed
        command = self.session.breakdown()
        if command is None:
            return
        assert isinstance(fixed, DerivativeExercise)  # the kind that breaks down
        self.app.save_progress(command)
        title = (
            f"Break it down · Exercise {self.number}: the derivative of "
            f"{_pretty(fixed.function)} with respect to {_pretty(fixed.wrt)}"
        )
        self.app.open_breakdown(
            fixed.function, fixed.wrt, title, self._carried, list(self.lesson.exercises), fixed.id
        )

    def _carried(self, result: Carried | None) -> None:
        field = self.query(".answer-input").first(Input)
        if result is not None:
            command = self.session.carried(bool(result.shown), result.answer)
            if command is not None:  # shown local derivatives: the answer was given
                self.app.save_progress(command)
                self._sync()
                self.show_solution()
            field.value = result.answer
            field.cursor_position = len(result.answer)
        self.screen.set_focus(field, scroll_visible=False)
        self.call_after_refresh(self.scroll_visible, animate=False)

    # -- hints and the solution ---------------------------------------------------------

    def action_hint(self) -> None:
        """Reveal the next hint."""
        index, message, command = self.session.hint()
        if index is None:
            self.notify(message or "", markup=False)
            return
        hint = self.hint_widget(index)
        self.query_one(".hints", Vertical).mount(hint)
        self.query_one(".exercise-head", Static).update(self.header_text())
        self.call_after_refresh(hint.scroll_visible, animate=False)
        if command is not None:
            self.app.save_progress(command)

    def action_solution(self) -> None:
        """Give up and show the solution (recorded as revealed, not solved)."""
        if self.session.checking:
            self.notify("Wait for the verdict on your answer first.", markup=False)
            return
        command = self.session.reveal()
        if command is not None:
            self.app.save_progress(command)
            self._sync()
        self.show_solution(scroll=True)

    def show_solution(self, scroll: bool = False) -> None:
        """Show the solution text, or the reference answer when the author wrote none."""
        solution = self.query_one(".solution", Markdown)
        solution.display = True
        self.load_solution(scroll)

    @work(thread=True, group="solution", exit_on_error=False)
    def load_solution(self, scroll: bool = False) -> None:
        """Build the solution Markdown (may need torch or sympy) off the UI thread."""
        text = self.session.solution_markdown()
        self.post_message(SolutionReady(markdown_math(text) if text else "", scroll))

    @on(SolutionReady)
    def _set_solution(self, event: SolutionReady) -> None:
        event.stop()
        solution = self.query_one(".solution", Markdown)
        solution.update(event.text)
        solution.display = bool(event.text)
        if event.scroll and event.text:
            self.call_after_refresh(solution.scroll_visible, animate=False)


def _pretty(function: str) -> str:
    """A function as a title shows it (as written, if it cannot be read)."""
    from ..core.mathlang import MathError, parse, pretty_text

    try:
        return pretty_text(parse(function))
    except MathError:
        return function
