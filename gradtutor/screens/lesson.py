"""A lesson: its Markdown, with exercises and action blocks where the learner meets them."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

from ..core.mathtext import markdown_math
from ..core.packs import Exercise, Lesson, Pack, Prose
from ..widgets.blocks import ActionBlock
from ..widgets.exercise import AnswerChecked, ExerciseView, ProgressSaved
from ..widgets.inputs import AnswerInput


class LessonScreen(Screen[None]):
    """Shows one lesson; completes it when every exercise is solved (or, with none, at its end)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+n", "next_lesson", "Next lesson"),
        # priority: a focused choice list would otherwise take the keys to page its options
        Binding("pagedown", "page_down", "Page down", show=False, priority=True),
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
    ]

    def __init__(self, pack: Pack, lesson: Lesson) -> None:
        super().__init__()
        self.pack = pack
        self.lesson = lesson
        self.sub_title = f"{pack.title} · {lesson.title}"

    def compose(self) -> ComposeResult:
        yield Header()
        progress = self.app.progress  # type: ignore[attr-defined]
        with VerticalScroll(id="lesson-body"):
            yield Static(Text(self.lesson.title), classes="lesson-title", markup=False)
            number = 0
            for segment in self.lesson.segments:
                if isinstance(segment, Prose):
                    yield Markdown(markdown_math(segment.text), open_links=False, classes="prose")
                elif isinstance(segment, Exercise):
                    number += 1
                    record = progress.exercise(self.pack.id, self.lesson.id, segment.id)
                    yield ExerciseView(self.pack, self.lesson, segment, number, record)
                else:
                    yield ActionBlock(segment)
            yield Static(Text("— end of the lesson —"), classes="lesson-end", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        views = list(self.query(ExerciseView))
        first = next((v for v in views if v.status != "solved"), None)
        if first is not None:
            first.focus_answer(scroll=False)  # the lesson opens at its top
        else:
            self.query_one("#lesson-body").focus()
        self.app.save_progress(lambda store: store.set_last(self.pack.id, self.lesson.id))  # type: ignore[attr-defined]
        self.call_after_refresh(self._replay_typeahead)
        body = self.query_one("#lesson-body", VerticalScroll)
        self.watch(body, "scroll_y", self._scrolled, init=False)
        self.call_after_refresh(self._scrolled)

    async def _replay_typeahead(self) -> None:
        """Keys typed while the lesson opened, given to the answer field in order."""
        keys = self.app.take_typeahead()  # type: ignore[attr-defined]
        for key, character in keys:
            focused = self.focused
            if isinstance(focused, AnswerInput) and character and character.isprintable():
                focused.insert_text_at_cursor(character)
            elif isinstance(focused, AnswerInput) and key in ("enter", "ctrl+j"):
                await focused.action_submit()
            elif isinstance(focused, AnswerInput) and key == "backspace":
                focused.action_delete_left()
            else:
                self.app.post_message(events.Key(key, character))

    def _scrolled(self, _: float | None = None) -> None:
        """A lesson without exercises is completed when its end is reached."""
        if self.lesson.exercises:
            return
        body = self.query_one("#lesson-body", VerticalScroll)
        if body.scroll_y >= body.max_scroll_y - 1 and not self.app.progress.lesson_completed(
            self.pack.id, self.lesson.id
        ):  # type: ignore[attr-defined]
            self.app.save_progress(lambda store: store.mark_completed(self.pack.id, self.lesson.id))  # type: ignore[attr-defined]

    @on(AnswerChecked)
    def answer_checked(self, event: AnswerChecked) -> None:
        if event.progress is not None:
            self.app.set_progress(event.progress)  # type: ignore[attr-defined]
        if event.verdict.correct:
            self._focus_next_unsolved(event.view)

    @on(ProgressSaved)
    def progress_saved(self, event: ProgressSaved) -> None:
        self.app.set_progress(event.progress)  # type: ignore[attr-defined]

    def _focus_next_unsolved(self, after: ExerciseView) -> None:
        views = list(self.query(ExerciseView))
        later = views[views.index(after) + 1 :]
        nxt = next((v for v in later if v.status != "solved"), None)
        if nxt is not None:
            nxt.focus_answer()

    @on(ActionBlock.Opened)
    def open_block(self, event: ActionBlock.Opened) -> None:
        self.app.open_block(event.block)  # type: ignore[attr-defined]

    def action_next_lesson(self) -> None:
        """Open the next lesson in pack order, if it is open."""
        index = self.pack.lessons.index(self.lesson)
        if index + 1 >= len(self.pack.lessons):
            self.notify("This is the last lesson of the pack.", markup=False)
            return
        self.app.open_lesson(self.pack, self.pack.lessons[index + 1], replace=True)  # type: ignore[attr-defined]

    def action_page_down(self) -> None:
        self.query_one("#lesson-body", VerticalScroll).scroll_page_down()

    def action_page_up(self) -> None:
        self.query_one("#lesson-body", VerticalScroll).scroll_page_up()
