"""An exercise in place: prompt, answer field with live preview, verdict, hints, solution.

Checking runs in a thread worker that calls the headless core and posts `AnswerChecked`
back; the widget never blocks the screen. Learner and pack text is shown as
`rich.text.Text`, never as markup. After every check the verdict, its feedback and the
answer field are scrolled into view together; once the answer changes, the verdict on
screen is dimmed and marked as the previous answer's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from ..core.mathtext import markdown_math, plain_math
from ..core.packs import (
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    Lesson,
    Pack,
    TensorExercise,
    ValueExercise,
)
from ..core.progress import REVEAL_AFTER, ExerciseProgress, Progress
from ..core.sizes import ANSWER_CHARS
from ..core.text import visible
from .inputs import AnswerInput

if TYPE_CHECKING:
    from ..app import GradTutorApp
    from ..core.checking import Verdict
    from ..core.variants import Variant
    from ..screens.breakdown import Carried

PLACEHOLDERS = {
    "derivative": "An expression, as on paper: 3u² cos(u), e^(−u)/u, σ(u)…",
    "value": "A number or a list: 0.25, [1.5, −2], [[1, 0], [0, 1]]",
    "tensor": "A tensor expression: x.T @ x, l1.g.sum(1), (out − y).mean()…",
}
"""The example text of empty answer fields: the syntax, with names and numbers that
answer no exercise of the built-in pack (a test checks it)."""


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
    """A preview of the answer being typed (posted from the preview worker)."""

    def __init__(self, answer: str, preview: Text) -> None:
        super().__init__()
        self.answer = answer
        self.preview = preview


_CODE = re.compile(r"`([^`]+)`")


def rich_text(text: str, style: str = "") -> Text:
    """Feedback and option text: math as Unicode, `code` as code (never markup)."""
    out = Text(style=style)
    plain = visible(plain_math(text))
    last = 0
    for match in _CODE.finditer(plain):
        out.append(plain[last : match.start()])
        out.append(match.group(1), style="bold reverse")
        last = match.end()
    out.append(plain[last:])
    return out


def error_preview(answer: str, message: str, column: int | None) -> Text:
    """The answer with a caret under the column where it went wrong."""
    text = Text()
    if column is not None and answer and len(answer) < 120:
        text.append(answer + "\n", style="dim")
        text.append(" " * max(0, column - 1) + "^ ", style="bold red")
    else:
        text.append("⚠ ", style="bold red")
    text.append(message, style="red")
    return text


def preview_answer(ex: Exercise, answer: str) -> Text:
    """What the answer field shows under the text: the answer as read, or the error.

    Derivatives are shown in the learner's own form (`2(3x + 1)` stays so), values as
    the numbers read, tensor answers by their shape before they are submitted.
    """
    if not answer.strip():
        return Text("")
    if isinstance(ex, DerivativeExercise):
        from ..core import mathlang

        try:
            names = mathlang.variables(mathlang.parse(ex.function))
            node = mathlang.parse(answer, names, equation=True)
        except mathlang.MathError as exc:
            return error_preview(answer, exc.message, exc.column)
        shown = Text(mathlang.pretty_text(node), style="bold")
        if mathlang.is_equation(answer):
            shown.append("   (the right-hand side of your equation)", style="dim")
        return shown
    if isinstance(ex, ValueExercise):
        from ..core.mathlang import MathError
        from ..core.valuelang import format_value, parse_value

        try:
            value = parse_value(answer)
        except MathError as exc:
            return error_preview(answer, exc.message, exc.column)
        return Text(format_value(value), style="bold")
    if isinstance(ex, TensorExercise):
        from ..core import tensorlang
        from ..core.checking import evaluate_tensor_answer

        try:
            result = evaluate_tensor_answer(ex, answer)
        except tensorlang.TensorLangError as exc:
            return error_preview(answer, exc.message, exc.column)
        kind = "a boolean mask of shape" if str(result.dtype) == "torch.bool" else "shape"
        return Text(f"{kind} {tensorlang.describe_shape(result)}", style="bold")
    return Text("")


def _pretty(function: str) -> str:
    """A function as a preview shows it (as written, if it cannot be read)."""
    from ..core.mathlang import MathError, parse, pretty_text

    try:
        return pretty_text(parse(function))
    except MathError:
        return function


def _shown_variant(exercise: Exercise, k: int) -> tuple[Variant, str | None]:
    """The variant to show, and what went wrong when it cannot be made (the authored
    exercise is shown then, with the problem above it)."""
    from ..core.mathlang import LanguageError
    from ..core.params import DrawError
    from ..core.variants import Variant, variant_of

    try:
        return variant_of(exercise, k), None
    except (DrawError, LanguageError) as exc:
        return Variant(k, {}, exercise), f"This exercise's numbers could not be drawn: {exc}"


def region_in(widget: Widget, ancestor: Widget) -> Region:
    """A widget's region in the virtual (scrollable) space of one of its ancestors."""
    region = widget.virtual_region_with_margin
    node = widget
    while node.parent is not None and node.parent is not ancestor:
        container = node.parent
        assert isinstance(container, Widget)
        region = (
            region.translate(container.styles.margin.top_left)
            .translate(container.styles.border.spacing.top_left)
            .translate(container.virtual_region_with_margin.offset)
        )
        node = container
    return region


_STYLES = {
    "correct": ("✓ ", "bold green"),
    "incorrect": ("✗ ", "bold red"),
    "invalid": ("? ", "bold yellow"),
    "undecided": ("~ ", "bold magenta"),
}


class ExerciseView(Vertical):
    """One exercise of a lesson, in the variant the learner sees."""

    BINDINGS = [
        Binding("f2", "hint", "Hint"),
        Binding("f3", "solution", "Solution"),
        Binding("f5", "breakdown", "Break it down"),
    ]
    """F2 shows the next hint; F3 the solution (recorded as revealed); F5, on derivative
    exercises, opens the breakdown (BreakdownScreen). F4, fresh numbers
    once an exercise is solved or revealed, is the lesson screen's: it also reaches the
    exercise just answered after focus has moved on (LessonScreen.fresh_target)."""

    _following = False  # keep the verdict in view as the exercise resizes (follow_verdict)

    status: reactive[str] = reactive("unsolved")
    """"unsolved", "solved" or "revealed" (shown the solution, not yet solved)."""
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
        from ..core.variants import learner_k

        self.pack = pack
        self.lesson = lesson
        self.exercise = exercise
        """The exercise as authored (its ids, and what is checked)."""
        self.number = number
        self.record = record
        self.learner = learner
        self.variant = learner_k(exercise, learner, record.round, record.depth)
        """The variant shown: the learner's own numbers and order of options."""
        self.shown, self.problem = _shown_variant(exercise, self.variant)
        self.hints_shown = min(record.current.hints, len(self.shown.exercise.hints))
        self.checked_answer: str | None = None
        """The answer the verdict on screen belongs to."""
        self.verdict_text = Text()
        now = record.current
        self.set_reactive(
            ExerciseView.status,
            "solved" if now.solved else "revealed" if now.revealed else "unsolved",
        )

    @property
    def fixed(self) -> Exercise:
        """The exercise as the learner sees it: the drawn numbers in place."""
        return self.shown.exercise

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.header_text(), classes="exercise-head", markup=False)
        if self.problem:
            yield Static(Text(self.problem, style="red"), classes="exercise-problem", markup=False)
        yield Markdown(
            markdown_math(self.fixed.prompt), classes="exercise-prompt", open_links=False
        )
        fixed = self.fixed
        if isinstance(fixed, ChoiceExercise):
            options = [
                Option(
                    Text.assemble((f"{i}. ", "bold"), rich_text(fixed.options[k].text)),
                    id=str(i),
                )
                for i, k in enumerate(self.shown.order, 1)
            ]
            yield OptionList(*options, classes="choice-options")
        else:
            yield AnswerInput(
                placeholder=PLACEHOLDERS[fixed.kind],
                max_length=ANSWER_CHARS[fixed.kind],
                classes="answer-input",
                select_on_focus=False,
            )
            yield Static("", classes="answer-preview", markup=False)
        yield Static("", classes="verdict", markup=False)
        with Vertical(classes="hints"):
            for i in range(self.hints_shown):
                yield self.hint_widget(i)
        yield Markdown("", classes="solution", open_links=False)

    def on_mount(self) -> None:
        self.watch_status(self.status)
        self.query_one(".solution", Markdown).display = False
        for selector in (".verdict", ".answer-preview"):
            for widget in self.query(selector):
                widget.display = False
        if self.status != "unsolved":
            self.show_solution()

    @property
    def app(self) -> GradTutorApp:  # type: ignore[override]
        """The tutor, typed (posting's pattern)."""
        return cast("GradTutorApp", super().app)

    @property
    def answer_field(self) -> Widget:
        """Where the learner answers: the input, or the list of options."""
        return self.query(".answer-input, .choice-options").first()

    def header_text(self) -> Text:
        """`Exercise 2 · derivative` with the state of the exercise."""
        head = Text(f"Exercise {self.number}", style="bold")
        head.append(f" · {self.exercise.kind}", style="dim")
        mark = {
            "solved": (" · ✓ solved", "green"),
            "revealed": (" · solution shown", "yellow"),
        }.get(self.status)
        if mark:
            head.append(*mark)
        attempts = self.record.current.attempts
        if attempts and self.status != "solved":
            head.append(f" · {attempts} attempt{'s' if attempts != 1 else ''}", style="dim")
        if self.record.round:
            solved = self.record.variants_solved
            head.append(f" · new numbers, {solved} solved", style="dim")
        hints = self.fixed.hints
        if hints:
            head.append(f" · F2 hint ({self.hints_shown}/{len(hints)})", style="dim")
        return head

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

    def bring_verdict_into_view(self) -> None:
        """Scroll the lesson so the answer field, the verdict and its feedback show together
        (the answer field first, when they are taller than the screen)."""
        body = next((a for a in self.ancestors if getattr(a, "id", None) == "lesson-body"), None)
        if not isinstance(body, Widget):
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

    # -- answering ---------------------------------------------------------------------

    @on(Input.Changed, ".answer-input")
    def preview_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._following = False
        self._mark_stale(event.value.strip() != self.checked_answer)
        if not event.value.strip():
            self._show(".answer-preview", "")
            return
        self.compute_preview(event.value)

    def _mark_stale(self, stale: bool) -> None:
        """Dim the verdict once the answer it judged has been changed."""
        verdict = self.query_one(".verdict", Static)
        if self.checking or not self.verdict_text.plain or verdict.has_class("-stale") == stale:
            return
        verdict.set_class(stale, "-stale")
        if stale:
            text = Text("For your previous answer:\n", style="italic")
            text.append_text(self.verdict_text)
            verdict.update(text)
        else:
            verdict.update(self.verdict_text)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def compute_preview(self, answer: str) -> None:
        """Parse (and for tensors, shape-check) the answer off the UI thread."""
        try:
            preview = preview_answer(self.fixed, answer)
        except Exception:  # the preview must never take the tutor down
            preview = Text("(no preview for this answer; Enter still checks it)", style="dim")
        self.post_message(PreviewReady(answer, preview))

    @on(PreviewReady)
    def show_preview(self, event: PreviewReady) -> None:
        event.stop()
        answer_input = self.query(".answer-input").first(Input)
        if answer_input.value == event.answer:  # ignore previews of older text
            self._show(".answer-preview", event.preview)

    @on(Input.Submitted, ".answer-input")
    def answer_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    @on(OptionList.OptionSelected, ".choice-options")
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.submit(str(event.option_index + 1))

    def on_key(self, event) -> None:
        """Digits pick a choice option directly."""
        if isinstance(self.fixed, ChoiceExercise) and event.character and event.character.isdigit():
            index = int(event.character)
            if 1 <= index <= len(self.fixed.options):
                event.stop()
                options = self.query_one(".choice-options", OptionList)
                options.highlighted = index - 1
                self.submit(str(index))

    def submit(self, answer: str) -> None:
        """Check an answer in the worker: once per decision (the answer just judged, again,
        is not checked again), never while a check is running."""
        if self.checking:
            return
        if not answer.strip() and not isinstance(self.exercise, ChoiceExercise):
            self._show(".verdict", Text("Type an answer first.", style="italic"))
            return
        if answer.strip() == self.checked_answer:
            self.bring_verdict_into_view()
            if not isinstance(self.exercise, ChoiceExercise):
                self.notify("That answer was just checked; change it to try again.", markup=False)
            return
        self.checking = True
        self.check_answer(answer)

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def check_answer(self, answer: str) -> None:
        """Run the core checker off the UI thread; posts AnswerChecked."""
        try:
            from ..core.checking import check_exercise

            verdict = check_exercise(self.exercise, answer, variant=self.variant)
        except Exception:  # a bug in checking must not close the tutor
            from ..core.checking import Verdict

            verdict = Verdict(
                "undecided", "The check could not be completed; your answer was not judged."
            )
        self.post_message(AnswerChecked(self, answer, verdict))

    @on(AnswerChecked)
    def answer_checked(self, event: AnswerChecked) -> None:
        """A check finished: `show_verdict` (which practice blocks replace)."""
        self.show_verdict(event)

    def show_verdict(self, event: AnswerChecked) -> None:
        """Show the verdict at once; the attempt is recorded through the app's one writer,
        and what it changes (attempts left, a revealed solution) follows when it is saved."""
        self.checking = False
        verdict = event.verdict
        self.checked_answer = event.answer.strip() if verdict.verdict != "undecided" else None
        self._render_verdict(verdict)
        if verdict.correct:
            self.status = "solved"
            self.show_solution()
        if verdict.spends_attempt and verdict.verdict != "undecided":
            ids = (self.pack.id, self.lesson.id, self.exercise.id)
            lesson_ids = tuple(e.id for e in self.lesson.exercises)
            self.app.save_progress(
                lambda store: store.record_answer(
                    *ids, verdict.correct, lesson_ids, mistake=self._mistake(verdict)
                ),
                then=lambda progress, revealed: self._attempt_recorded(verdict, progress, revealed),
            )
        self.follow_verdict()

    def _mistake(self, verdict: Verdict) -> tuple[str, str | None, str | None] | None:
        """What the report should know of a wrong answer (None for a right one)."""
        if verdict.correct:
            return None
        option = verdict.details.get("option")
        text = None
        if isinstance(self.exercise, ChoiceExercise) and isinstance(option, int):
            text = plain_math(self.exercise.options[option].text)  # as authored, unfilled
        return verdict.mistake(text)

    def _render_verdict(self, verdict: Verdict, attempts_known: bool = False) -> None:
        icon, style = _STYLES[verdict.verdict]
        text = Text()
        text.append_text(rich_text(icon + verdict.message, style))
        if verdict.verdict == "invalid":
            text.append("\nThis cost no attempt.", style="dim")
        if verdict.feedback:
            text.append("\n")
            text.append_text(rich_text(verdict.feedback))
        if verdict.counterexample:
            text.append("\n" + verdict.counterexample_sentence(), style="dim")
        if verdict.details.get("breakdown"):
            text.append(
                "\nF5 breaks the function down node by node, to find the missing piece.",
                style="cyan",
            )
        if attempts_known and verdict.verdict == "incorrect" and self.status == "unsolved":
            now = self.record.current
            left = REVEAL_AFTER - (now.attempts - (1 if now.solved else 0))
            if left > 0:
                text.append(
                    f"\n{left} more wrong attempt{'s' if left != 1 else ''} before the solution is shown (F3 shows it now).",
                    style="dim",
                )
        self.verdict_text = text
        self.query_one(".verdict", Static).remove_class("-stale")
        self._show(".verdict", text)

    def _attempt_recorded(self, verdict: Verdict, progress: Progress, revealed: bool) -> None:
        self.record = progress.exercise(self.pack.id, self.lesson.id, self.exercise.id)
        if revealed:
            self.status = "revealed"
            self.show_solution()
        if self.checked_answer is not None and verdict.verdict == "incorrect":
            self._render_verdict(verdict, attempts_known=True)
            self.follow_verdict()
        self.query_one(".exercise-head", Static).update(self.header_text())

    # -- a fresh variant -----------------------------------------------------------------

    def action_fresh(self) -> None:
        """A new round with fresh numbers (or a fresh order of options)."""
        ids = (self.pack.id, self.lesson.id, self.exercise.id)
        self.app.save_progress(lambda store: store.fresh_variant(*ids), then=self._fresh_ready)

    def _fresh_ready(self, progress: Progress, began: bool) -> None:
        if not began:
            return
        record = progress.exercise(self.pack.id, self.lesson.id, self.exercise.id)
        self.replace_with(record, progress.learner)

    def replace_with(self, record: ExerciseProgress, learner: str) -> None:
        """Put a new view of this exercise in this one's place (a new round), answer focused."""
        view = type(self)(self.pack, self.lesson, self.exercise, self.number, record, learner)
        # on the app's loop: this view cannot await its own removal
        self.app.call_later(self._swap, view)

    async def _swap(self, view: ExerciseView) -> None:
        parent = self.parent
        if parent is None:
            return
        await parent.mount(view, after=self)
        # focus moves before this view goes: removing a focused widget would send focus
        # (and the scroll) to the first exercise of the lesson
        self.screen.set_focus(view.answer_field, scroll_visible=False)  # now, not later
        await self.remove()
        view.call_after_refresh(view.scroll_visible, animate=False)

    # -- the breakdown -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F5 is for derivative exercises (their functions have a graph)."""
        if action == "breakdown":
            return isinstance(self.fixed, DerivativeExercise) and not self.problem
        return True

    def action_breakdown(self) -> None:
        """Open the breakdown of this exercise's function; what it assembles comes back
        into the answer field, to be checked as any answer."""
        from ..screens.breakdown import BreakdownScreen

        fixed = self.fixed
        if not isinstance(fixed, DerivativeExercise):
            return
        ids = (self.pack.id, self.lesson.id, self.exercise.id)
        self.app.save_progress(lambda store: store.record_breakdown(*ids))
        title = f"Break it down · Exercise {self.number}: the derivative of {_pretty(fixed.function)} with respect to {fixed.wrt}"
        self.app.push_screen(BreakdownScreen(fixed.function, fixed.wrt, title), self._carried)

    def _carried(self, result: Carried | None) -> None:
        field = self.query(".answer-input").first(Input)
        if result is not None:
            if result.shown and self.status == "unsolved":
                self.action_solution()  # shown local derivatives: the answer was given
            field.value = result.answer
            field.cursor_position = len(result.answer)
        self.screen.set_focus(field, scroll_visible=False)
        self.call_after_refresh(self.scroll_visible, animate=False)

    # -- hints and the solution ---------------------------------------------------------

    def action_hint(self) -> None:
        """Reveal the next hint."""
        hints = self.fixed.hints
        if not hints:
            self.notify("This exercise has no hints.", markup=False)
            return
        if self.hints_shown >= len(hints):
            self.notify("That was the last hint. F3 shows the solution.", markup=False)
            return
        hint = self.hint_widget(self.hints_shown)
        self.query_one(".hints", Vertical).mount(hint)
        self.hints_shown += 1
        self.query_one(".exercise-head", Static).update(self.header_text())
        self.call_after_refresh(hint.scroll_visible, animate=False)
        shown = self.hints_shown
        self.app.save_progress(
            lambda store: store.record_hint(self.pack.id, self.lesson.id, self.exercise.id, shown)
        )

    def action_solution(self) -> None:
        """Give up and show the solution (recorded as revealed, not solved)."""
        if self.status == "unsolved":
            self.status = "revealed"
            self.app.save_progress(
                lambda store: store.record_reveal(self.pack.id, self.lesson.id, self.exercise.id)
            )
        self.show_solution(scroll=True)

    def show_solution(self, scroll: bool = False) -> None:
        """Show the solution text, or the reference answer when the author wrote none."""
        solution = self.query_one(".solution", Markdown)
        solution.display = True
        self.load_solution(scroll)

    @work(thread=True, group="solution", exit_on_error=False)
    def load_solution(self, scroll: bool = False) -> None:
        """Build the solution Markdown (may need torch or sympy) off the UI thread."""
        ex = self.fixed
        parts = []
        if ex.solution:
            parts.append(ex.solution)
        try:
            from ..core.checking import reference_text

            reference = reference_text(self.exercise, self.variant)
            if isinstance(ex, DerivativeExercise) and reference is None:
                from ..core.sandbox import shared_sandbox

                reply = shared_sandbox().request(
                    {"op": "derivative", "function": ex.function, "wrt": ex.wrt}
                )
                if reply.get("status") == "ok":
                    parts.append("One answer:\n\n```\n" + reply["pretty"] + "\n```")
            elif reference and not ex.solution:
                label = "The right option" if isinstance(ex, ChoiceExercise) else "One answer"
                parts.append(f"{label}: `{reference}`")
        except Exception:  # the solution text is a nicety; never fail on it
            pass
        text = markdown_math("**Solution.** " + "\n\n".join(parts)) if parts else ""
        self.app.call_from_thread(self._set_solution, text, scroll)

    def _set_solution(self, text: str, scroll: bool = False) -> None:
        solution = self.query_one(".solution", Markdown)
        solution.update(text)
        solution.display = bool(text)
        if scroll and text:
            self.call_after_refresh(solution.scroll_visible, animate=False)
