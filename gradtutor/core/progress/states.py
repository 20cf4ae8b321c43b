"""What the browser shows: every lesson's state, a pure function of pack and progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .view import Progress

if TYPE_CHECKING:
    from ..packs import Lesson, Pack


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


class LessonLike(Protocol):
    """A lesson as its state needs it: a `Lesson`, or its outline (`core/outline.py`)."""

    @property
    def id(self) -> str: ...
    @property
    def exercises(self) -> Sequence[_Identified]: ...


class PackLike(Protocol):
    """A pack as its lessons' states need it: a `Pack`, or its outline."""

    @property
    def id(self) -> str: ...
    @property
    def lessons(self) -> Sequence[LessonLike]: ...
    def requirements(self, lesson: Any) -> tuple[str, ...]: ...


LessonStatus = Literal["done", "in progress", "open", "locked"]


@dataclass(frozen=True)
class LessonState:
    """What the browser shows for a lesson."""

    status: LessonStatus
    waits_for: tuple[str, ...] = ()
    """The required lessons not yet completed (when locked)."""
    solved: int = 0
    total: int = 0


def lesson_done(pack: PackLike, lesson: LessonLike, progress: Progress) -> bool:
    """Completed: recorded so, or every exercise solved (lessons with none need the flag)."""
    if progress.lesson_completed(pack.id, lesson.id):
        return True
    exercises = lesson.exercises
    return bool(exercises) and all(
        progress.exercise(pack.id, lesson.id, e.id).solved for e in exercises
    )


def lesson_states(
    pack: PackLike, progress: Progress, unlock_all: bool = False
) -> dict[str, LessonState]:
    """Every lesson's state: a pure function of the pack and the progress (`unlock_all`:
    an instructor's preview, where nothing is locked; `waits_for` still says what the
    lesson would wait for)."""
    done = {le.id: lesson_done(pack, le, progress) for le in pack.lessons}
    states = {}
    for lesson in pack.lessons:
        exercises = lesson.exercises
        solved = sum(progress.exercise(pack.id, lesson.id, e.id).solved for e in exercises)
        waits = tuple(r for r in pack.requirements(lesson) if not done.get(r, False))
        if done[lesson.id]:
            status: LessonStatus = "done"
        elif waits and not unlock_all:
            status = "locked"
        elif progress.lesson_started(pack.id, lesson.id):
            status = "in progress"
        else:
            status = "open"
        states[lesson.id] = LessonState(status, waits, solved, len(exercises))
    return states


def completions_to_record(pack: PackLike, progress: Progress) -> bool:
    """Whether a lesson has every exercise solved but no completion recorded yet."""
    return any(
        lesson.exercises
        and not progress.lesson_completed(pack.id, lesson.id)
        and lesson_done(pack, lesson, progress)
        for lesson in pack.lessons
    )


def first_unfinished(pack: Pack, progress: Progress) -> Lesson | None:
    """The first lesson that is open or in progress, in pack order."""
    states = lesson_states(pack, progress)
    for lesson in pack.lessons:
        if states[lesson.id].status in ("open", "in progress"):
            return lesson
    return None


def progress_report(packs: list[Pack], progress: Progress) -> dict[str, Any]:
    """The `gradtutor progress --json` document: known packs' lessons plus any record."""
    out: dict[str, Any] = {"packs": {}}
    for pack in packs:
        lessons = {}
        for lesson in pack.lessons:
            exercises = {}
            for ex in lesson.exercises:
                rec = progress.exercise(pack.id, lesson.id, ex.id)
                exercises[ex.id] = {
                    "solved": rec.solved,
                    "attempts": rec.attempts,
                    "hints": rec.hints,
                    "revealed": rec.revealed,
                }
            lessons[lesson.id] = {
                "completed": lesson_done(pack, lesson, progress),
                "exercises": exercises,
            }
        out["packs"][pack.id] = {"lessons": lessons}
    known = {p.id for p in packs}
    for pack_id, record in progress.data["packs"].items():
        if pack_id in known:
            continue
        lessons = {}
        for lesson_id, lesson in record.get("lessons", {}).items():
            exercises = {
                ex_id: {
                    k: rec.get(k, d)
                    for k, d in (
                        ("solved", False),
                        ("attempts", 0),
                        ("hints", 0),
                        ("revealed", False),
                    )
                }
                for ex_id, rec in lesson.get("exercises", {}).items()
            }
            lessons[lesson_id] = {
                "completed": bool(lesson.get("completed")),
                "exercises": exercises,
            }
        out["packs"][pack_id] = {"lessons": lessons}
    return out
