"""Progress changes as typed commands, and what applying one returned.

The interface never hands the progress writer a closure: it queues one of these, the
writer applies it with `apply` (off the UI thread, in order), and the app is told with
the `Saved` result, which names the exercise it belongs to. A view that has gone by then
is simply not found; nothing holds on to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .document import Mistake as Mistake  # re-exported: commands carry it
from .store import ProgressStore
from .view import Progress

if TYPE_CHECKING:
    from ..packs import PracticeExercise


@dataclass(frozen=True)
class ExerciseAddress:
    """Which exercise a command is about."""

    pack: str
    lesson: str
    exercise: str


@dataclass(frozen=True)
class RecordAnswer:
    """A judged answer (the reveal policy is applied in the same write)."""

    at: ExerciseAddress
    correct: bool
    lesson_exercises: tuple[str, ...] = ()
    mistake: Mistake | None = None
    program: str | None = None
    """A program exercise's accepted code (kept so that later exercises call it)."""
    params: dict[str, Any] | None = None
    """The numbers drawn for this round, kept the first time they matter."""


@dataclass(frozen=True)
class RecordPractice:
    """A judged answer to a practice block's current exercise."""

    at: ExerciseAddress
    block: PracticeExercise
    correct: bool
    lesson_exercises: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordHint:
    """`shown` hints are revealed."""

    at: ExerciseAddress
    shown: int
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecordReveal:
    """The solution was shown (revealed, not solved)."""

    at: ExerciseAddress
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecordBreakdown:
    """The breakdown of this exercise was opened."""

    at: ExerciseAddress


@dataclass(frozen=True)
class FreshVariant:
    """A new round with fresh numbers, once the current one is solved or revealed (or at
    once, `force`, when the pack changed so that the round's numbers no longer fit)."""

    at: ExerciseAddress
    force: bool = False


@dataclass(frozen=True)
class NextPractice:
    """The next generated exercise of a practice block (a read, queued behind its answer)."""

    at: ExerciseAddress


@dataclass(frozen=True)
class SetLast:
    """The lesson visited last, and where its pack was opened from."""

    pack: str
    lesson: str
    opened_from: Path | None = None


@dataclass(frozen=True)
class MarkCompleted:
    """A lesson (without exercises) was read to its end."""

    pack: str
    lesson: str


ProgressCommand = (
    RecordAnswer
    | RecordPractice
    | RecordHint
    | RecordReveal
    | RecordBreakdown
    | FreshVariant
    | NextPractice
    | SetLast
    | MarkCompleted
)


@dataclass(frozen=True)
class Saved:
    """A command applied: the progress after it, and what it decided."""

    command: ProgressCommand
    progress: Progress
    revealed: bool = False
    """A RecordAnswer whose wrong attempts reached the reveal policy's limit."""
    began: bool = False
    """A FreshVariant that started a new round."""

    @property
    def address(self) -> ExerciseAddress | None:
        """The exercise the command was about (None for lesson-wide commands)."""
        return getattr(self.command, "at", None)


def apply(store: ProgressStore, command: ProgressCommand) -> Saved:
    """Apply one command to the store (locked, atomic), and say what it did."""
    match command:
        case RecordAnswer(at, correct, lesson_exercises, mistake, program, params):
            progress, revealed = store.record_answer(
                at.pack,
                at.lesson,
                at.exercise,
                correct,
                lesson_exercises,
                mistake=mistake,
                program=program,
                params=params,
            )
            return Saved(command, progress, revealed=revealed)
        case RecordPractice(at, block, correct, lesson_exercises):
            return Saved(
                command, store.record_practice(at.pack, at.lesson, block, correct, lesson_exercises)
            )
        case RecordHint(at, shown, params):
            return Saved(command, store.record_hint(at.pack, at.lesson, at.exercise, shown, params))
        case RecordReveal(at, params):
            return Saved(command, store.record_reveal(at.pack, at.lesson, at.exercise, params))
        case RecordBreakdown(at):
            return Saved(command, store.record_breakdown(at.pack, at.lesson, at.exercise))
        case FreshVariant(at, force):
            progress, began = store.fresh_variant(at.pack, at.lesson, at.exercise, force)
            return Saved(command, progress, began=began)
        case NextPractice():
            return Saved(command, store.load())
        case SetLast(pack, lesson, opened_from):
            return Saved(command, store.set_last(pack, lesson, opened_from))
        case MarkCompleted(pack, lesson):
            return Saved(command, store.mark_completed(pack, lesson))
    raise TypeError(f"not a progress command: {command!r}")  # pragma: no cover
