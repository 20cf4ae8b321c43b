"""A lesson: its Markdown, with exercises and action blocks where the learner meets them."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Footer, Header, Markdown, Static

from ..core.kinds import kind_of
from ..core.mathtext import markdown_math
from ..core.packs import Exercise, Lesson, Pack, Prose
from ..core.progress.commands import MarkCompleted, SetLast
from ..messages import ProgressSaved
from ..widgets.blocks import ActionBlock
from ..widgets.exercise import AnswerChecked, ExerciseView, region_in
from ..widgets.inputs import HEADER_ICON, AnswerInput
from ..widgets.practice import PracticeView
from ..widgets.program import ProgramEditor
from .base import TutorScreen


def _open(view: ExerciseView) -> bool:
    """Still to be answered: unsolved, or a practice block (Enter brings its next one)."""
    return view.status != "solved" or view.session.practice


class LessonScreen(TutorScreen):
    """Shows one lesson; completes it when every exercise is solved (or, with none, at its end).

    Focus follows what is on screen: an answer field has focus only while it is fully in
    view, so no key answers an exercise the learner cannot see. Scrolling hands focus to
    the first unsolved exercise in view, or to the lesson itself (arrow keys then scroll).
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+n", "next_lesson", "Next"),
        # priority: a focused choice list would otherwise take the keys to page its options
        Binding("pagedown", "page_down", "More", priority=True),
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
        Binding("f4", "fresh", "New numbers"),
        # F1 stays (help), off the footer: at 80 columns every exercise key must fit
        Binding("f1", "app.help", "Help", show=False),
        # Tab goes from answer to answer (and to the blocks), each scrolled into view
        # before the next key: Textual's own focus chain reached fields off screen
        Binding("tab", "next_answer", "Next answer", show=False, priority=True),
        Binding("shift+tab", "previous_answer", "Previous answer", show=False, priority=True),
    ]

    AUTO_FOCUS = None
    """Focus is placed once, by `sync_focus`, on what is in view: each focus change
    restyles the whole lesson (focusing the body, then a field, cost two)."""

    def __init__(self, pack: Pack, lesson: Lesson) -> None:
        super().__init__()
        self.pack = pack
        self.lesson = lesson
        self.sub_title = f"{pack.title} · {lesson.title}"

    FIRST_SEGMENTS = 1
    """Segments composed with the screen (a lesson's opening text, usually): the top of
    the lesson shows at once."""
    NEXT_SEGMENTS = 1
    """Segments mounted right after the first paint (the first exercise, in a lesson
    that opens with prose); the rest follow after the next paint. Each paint in between
    costs a layout of the screen, so there are two, not one per segment. Keys typed
    meanwhile wait: the lesson is ready once every segment is in."""

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        with VerticalScroll(id="lesson-body"):
            yield Static(Text(self.lesson.title), classes="lesson-title", markup=False)
            yield from self._segment_widgets(0, self.FIRST_SEGMENTS)
            yield Static(Text("— end of the lesson —"), classes="lesson-end", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def _segment_widgets(self, start: int, stop: int | None) -> list[Widget]:
        """The widgets of segments [start, stop) of the lesson."""
        progress = self.app.progress
        widgets: list[Widget] = []
        number = sum(isinstance(s, Exercise) for s in self.lesson.segments[:start])
        for segment in self.lesson.segments[start:stop]:
            if isinstance(segment, Prose):
                widgets.append(
                    Markdown(markdown_math(segment.text), open_links=False, classes="prose")
                )
            elif isinstance(segment, Exercise):
                number += 1
                record = progress.exercise(self.pack.id, self.lesson.id, segment.id)
                view = PracticeView if kind_of(segment).judged_once else ExerciseView
                widgets.append(
                    view(self.pack, self.lesson, segment, number, record, progress.learner)
                )
            else:
                widgets.append(ActionBlock(segment))
        return widgets

    async def _mount_segments(self, start: int, stop: int | None) -> None:
        """Mount segments [start, stop) before the end line."""
        widgets = self._segment_widgets(start, stop)
        if widgets:
            await self.body.mount_all(widgets, before=self.query_one(".lesson-end"))

    async def _mount_the_next(self) -> None:
        """The segments after the opening ones, painted before the rest is mounted."""
        stop = self.FIRST_SEGMENTS + self.NEXT_SEGMENTS
        await self._mount_segments(self.FIRST_SEGMENTS, stop)
        if stop < len(self.lesson.segments):
            self.call_after_refresh(self._mount_the_rest)
        else:
            self.call_after_refresh(self._open_where_the_learner_left)

    async def _mount_the_rest(self) -> None:
        """Every later segment; then the lesson opens where the learner left it."""
        await self._mount_segments(self.FIRST_SEGMENTS + self.NEXT_SEGMENTS, None)
        self.call_after_refresh(self._open_where_the_learner_left)

    @property
    def body(self) -> VerticalScroll:
        """The scrolling lesson."""
        return self.query_one("#lesson-body", VerticalScroll)

    def on_mount(self) -> None:
        body = self.body
        self.app.save_progress(SetLast(self.pack.id, self.lesson.id, self.pack.path))
        self.call_after_refresh(self._mount_the_next)
        self.watch(body, "scroll_y", self._scrolled, init=False)

    def _open_where_the_learner_left(self) -> None:
        """A lesson opens at its top; a lesson already started, at its first unsolved
        exercise. Then focus goes to what is in view, and typed-ahead keys follow."""
        views = list(self.query(ExerciseView))
        started = any(v.record.attempts or v.status != "unsolved" for v in views)
        first = next((v for v in views if v.status != "solved"), None)
        if started and first is not None:
            self.body.scroll_to_widget(first, animate=False, top=True, immediate=True)
        self.call_after_refresh(self._after_opening)

    def _after_opening(self) -> None:
        self._scrolled()  # focus to what is in view: it lands after this refresh
        self.call_after_refresh(self._replay_typeahead)

    def in_view(self, widget: Widget) -> bool:
        """Whether a widget of the lesson is entirely on screen."""
        body = self.body
        window = body.scrollable_content_region.at_offset(body.scroll_offset)
        region = region_in(widget, body)
        return bool(region.size) and window.contains_region(region)

    def _exercise_of(self, widget: Widget | None) -> ExerciseView | None:
        if widget is None:
            return None
        if isinstance(widget, ExerciseView):
            return widget
        return next((a for a in widget.ancestors if isinstance(a, ExerciseView)), None)

    def sync_focus(self) -> None:
        """Keep focus on something in view: the focused field while it is fully on screen
        and still to be answered (a solved exercise keeps it only while no unsolved one is
        in view: typing there would go nowhere useful), else the first unsolved exercise
        in view, else the lesson itself."""
        focused = self.focused
        unsolved = [
            v for v in self.query(ExerciseView) if _open(v) and self.in_view(v.answer_field)
        ]
        if focused is not None and focused is not self.body and self.in_view(focused):
            mine = self._exercise_of(focused)
            if mine is None or _open(mine) or not unsolved:
                return
        if unsolved:
            unsolved[0].focus_answer(scroll=False)
            return
        if focused is not None and focused is not self.body:
            self.body.focus(scroll_visible=False)

    # -- Tab: from answer to answer ---------------------------------------------------------

    def _targets(self) -> list[Widget]:
        """What Tab visits, in the lesson's order: every answer field and block button."""
        out: list[Widget] = []
        for child in self.body.children:
            if isinstance(child, ExerciseView):
                out.append(child.answer_field)
            elif isinstance(child, ActionBlock):
                out.append(child.button)
        return out

    def _step_focus(self, step: int) -> None:
        targets = self._targets()
        if not targets:
            return
        focused = self.focused
        current = self._exercise_of(focused)
        anchor = current.answer_field if current is not None else focused
        if anchor in targets:
            index = targets.index(anchor) + step
        else:  # from the lesson itself: the first target from the top of the view on
            body = self.body
            top = body.scroll_offset.y
            after = [i for i, t in enumerate(targets) if region_in(t, body).bottom > top]
            index = (
                (after[0] if after else len(targets))
                if step > 0
                else ((after[0] - 1) if after else len(targets) - 1)
            )
        if not 0 <= index < len(targets):
            return
        target = targets[index]
        self.set_focus(target, scroll_visible=False)
        self._show_whole(target)

    def _show_whole(self, target: Widget) -> None:
        """Scroll now (before the next key) so that the target and its exercise's heading
        are on screen."""
        body = self.body
        view = self._exercise_of(target)
        region = region_in(target, body)
        if view is not None:
            head = region_in(view.query_one(".exercise-head"), body)
            whole = region.union(head)
            if whole.height <= body.scrollable_content_region.height:
                region = whole
        body.scroll_to_region(region, animate=False, immediate=True)

    def action_next_answer(self) -> None:
        """Tab: the next answer field (or block) of the lesson, brought into view."""
        self._step_focus(1)

    def action_previous_answer(self) -> None:
        """Shift+Tab: the previous one."""
        self._step_focus(-1)

    async def _replay_typeahead(self) -> None:
        """Keys typed while the lesson opened, given to the answer field in order."""
        keys = self.app.take_typeahead()
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
        """Focus follows the view; a lesson without exercises is completed at its end."""
        self.sync_focus()
        if self.lesson.exercises:
            return
        body = self.query_one("#lesson-body", VerticalScroll)
        if body.scroll_y >= body.max_scroll_y - 1 and not self.app.progress.lesson_completed(
            self.pack.id, self.lesson.id
        ):
            self.app.save_progress(MarkCompleted(self.pack.id, self.lesson.id))

    # -- fresh numbers ------------------------------------------------------------------

    last_judged: ExerciseView | None = None
    """The exercise answered last: F4 gives it fresh numbers while it is in view, even
    once focus has moved on to the next exercise."""

    def fresh_target(self) -> ExerciseView | None:
        """The exercise F4 would give fresh numbers: the focused one, else the one answered
        last, when it is solved or revealed, has variants and is on screen."""
        from ..core.variants import has_variants

        focused = self.focused
        mine = (
            next((a for a in focused.ancestors if isinstance(a, ExerciseView)), None)
            if focused
            else None
        )
        for view in (mine, self.last_judged):
            if view is None or not view.is_mounted or isinstance(view, PracticeView):
                continue
            head = view.query(".exercise-head")  # empty while a replaced view is removed
            if (
                head
                and view.status != "unsolved"
                and has_variants(view.exercise)
                and self.in_view(head.first())
            ):
                return view
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F4 shows while an exercise in view can have fresh numbers. In the program
        editor, Tab indents and the page keys move its cursor: the lesson's keys wait
        until Esc leaves it (an empty editor lets them through)."""
        if action == "fresh":
            return self.fresh_target() is not None
        if action in ("next_answer", "previous_answer", "page_down", "page_up"):
            # an empty editor has nothing to indent or page through: the keys move on
            focused = self.focused
            return not isinstance(focused, ProgramEditor) or not focused.text.strip()
        return True

    def action_fresh(self) -> None:
        """Fresh numbers for the exercise just solved or revealed."""
        target = self.fresh_target()
        if target is not None:
            target.action_fresh()

    @on(AnswerChecked)
    def answer_checked(self, event: AnswerChecked) -> None:
        self.last_judged = event.view
        self.refresh_bindings()
        if event.verdict.correct and not isinstance(event.view, PracticeView):
            # the verdict stays in view; focus moves on only to an exercise also in view
            # (a practice block keeps it: Enter brings its next exercise)
            self.call_after_refresh(self._focus_next_unsolved, event.view)

    def _focus_next_unsolved(self, after: ExerciseView) -> None:
        views = list(self.query(ExerciseView))
        later = views[views.index(after) + 1 :]
        nxt = next((v for v in later if v.status != "solved"), None)
        if nxt is not None and self.in_view(nxt.answer_field):
            nxt.focus_answer(scroll=False)
        elif self.focused is not None and not self.in_view(self.focused):
            self.body.focus(scroll_visible=False)

    @on(ProgressSaved)
    def progress_saved(self, event: ProgressSaved) -> None:
        """A save of one of this lesson's exercises: its view takes it in (a view that has
        gone, replaced or closed, is simply not found)."""
        address = event.saved.address
        if address is None or address.lesson != self.lesson.id or address.pack != self.pack.id:
            return
        for view in self.query(ExerciseView):
            if view.session.address == address:
                view.progress_saved(event.saved)
        self.refresh_bindings()

    @on(ActionBlock.Opened)
    def open_block(self, event: ActionBlock.Opened) -> None:
        self.app.open_block(event.block)

    def action_next_lesson(self) -> None:
        """Open the next lesson in pack order, if it is open."""
        index = self.pack.lessons.index(self.lesson)
        if index + 1 >= len(self.pack.lessons):
            self.notify("This is the last lesson of the pack.", markup=False)
            return
        self.app.open_lesson(self.pack, self.pack.lessons[index + 1], replace=True)

    def action_page_down(self) -> None:
        """Read on: a page down, stopping at an unsolved exercise the page would cut."""
        body = self.body
        window = body.scrollable_content_region.at_offset(body.scroll_offset)
        for view in self.query(ExerciseView):
            if view.status == "solved":
                continue
            field = region_in(view.answer_field, body)
            whole = region_in(view, body)
            if field.bottom > window.bottom and whole.y < window.bottom + window.height:
                if whole.y >= window.y:  # it begins on this page or the next: show it whole
                    # with the line under the field, where its preview appears
                    bottom = min(field.bottom + 1, whole.bottom)
                    height = bottom - whole.y
                    if height > window.height:
                        height = field.bottom - whole.y
                    body.scroll_to_region(
                        Region(whole.x, whole.y, whole.width, height),
                        animate=False,
                        immediate=True,
                    )
                    view.focus_answer(scroll=False)  # the exercise it stopped at
                    self.call_after_refresh(self.sync_focus)
                    return
        body.scroll_page_down(animate=False)
        self.call_after_refresh(self.sync_focus)

    def action_page_up(self) -> None:
        """Back a page."""
        self.body.scroll_page_up(animate=False)
