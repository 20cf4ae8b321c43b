"""A lesson: its Markdown, with exercises and action blocks where the learner meets them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

from ..core.packs import Exercise, Lesson, Pack, Prose, StepperBlock, TrainingBlock


class ExerciseView(Static):
    """An exercise in place (answering arrives with the checker)."""

    def __init__(self, exercise: Exercise) -> None:
        text = Text(f"Exercise · {exercise.kind}\n", style="bold")
        text.append(exercise.prompt)
        super().__init__(text, markup=False)
        self.exercise = exercise


class ActionBlockView(Static):
    """A stepper or training block, shown as an action."""

    def __init__(self, block: StepperBlock | TrainingBlock) -> None:
        if isinstance(block, StepperBlock):
            what = f"Network stepper: n={block.n}, d_in={block.d_in}, hidden={block.hidden}"
        else:
            what = f"Training run: {block.model}"
        super().__init__(Text(what), markup=False)
        self.block = block


class LessonScreen(Screen[None]):
    """Shows one lesson."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def __init__(self, pack: Pack, lesson: Lesson) -> None:
        super().__init__()
        self.pack = pack
        self.lesson = lesson

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="lesson-body"):
            yield Static(Text(self.lesson.title), classes="lesson-title", markup=False)
            for segment in self.lesson.segments:
                if isinstance(segment, Prose):
                    yield Markdown(segment.text, open_links=False)
                elif isinstance(segment, Exercise):
                    yield ExerciseView(segment)
                else:
                    yield ActionBlockView(segment)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lesson-body").focus()
        self.app.set_progress(self.app.store.set_last(self.pack.id, self.lesson.id))
