"""A read-only view of one progress document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RoundProgress:
    """One round of an exercise: one variant, from its first attempt to a fresh one."""

    solved: bool = False
    attempts: int = 0
    hints: int = 0
    revealed: bool = False
    params: dict[str, Any] | None = None
    """The numbers drawn for this round (third edition): an edit of the pack does not
    move them while they still fit its `[params]` and `where`."""


@dataclass(frozen=True)
class ExerciseProgress:
    """One exercise's record: totals over every round, and the current round's own."""

    solved: bool = False
    """Any variant was solved (for good)."""
    attempts: int = 0
    hints: int = 0
    revealed: bool = False
    round: int = 0
    """Fresh variants asked for: the learner sees the variant of this round."""
    variants_solved: int = 0
    current: RoundProgress = RoundProgress()
    depth: int | None = None
    """A practice block's current depth (None before its first answer)."""
    streak: int = 0
    """A practice block's right answers in a row at its top depth."""
    run: int = 0
    """A practice block's right answers in a row at its current depth (two raise it)."""
    breakdowns: int = 0
    """How many times the learner opened the exercise's breakdown (F5)."""
    program: str | None = None
    """A program exercise's last accepted code (absent before one was accepted)."""


class Progress:
    """A read-only view of one progress document."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _lesson(self, pack: str, lesson: str) -> dict[str, Any]:
        record: dict[str, Any] = self.data["packs"].get(pack, {}).get("lessons", {}).get(lesson, {})
        return record

    def exercise(self, pack: str, lesson: str, exercise: str) -> ExerciseProgress:
        """The record of one exercise (all zero when never touched)."""
        raw = self._lesson(pack, lesson).get("exercises", {}).get(exercise, {})
        round_ = int(raw.get("round", 0))
        # Before any round was recorded, the totals are the first round's.
        now = raw.get("current", raw if round_ == 0 else {})
        return ExerciseProgress(
            solved=bool(raw.get("solved", False)),
            attempts=int(raw.get("attempts", 0)),
            hints=int(raw.get("hints", 0)),
            revealed=bool(raw.get("revealed", False)),
            round=round_,
            variants_solved=int(raw.get("variants_solved", 0)),
            current=RoundProgress(
                solved=bool(now.get("solved", False)),
                attempts=int(now.get("attempts", 0)),
                hints=int(now.get("hints", 0)),
                revealed=bool(now.get("revealed", False)),
                params=now["params"] if isinstance(now.get("params"), dict) else None,
            ),
            depth=int(raw["depth"]) if "depth" in raw else None,
            streak=int(raw.get("streak", 0)),
            run=int(raw.get("run", 0)),
            breakdowns=int(raw.get("breakdowns", 0)),
            program=raw["program"] if isinstance(raw.get("program"), str) else None,
        )

    def lesson_completed(self, pack: str, lesson: str) -> bool:
        """Whether the lesson was recorded as completed."""
        return bool(self._lesson(pack, lesson).get("completed", False))

    def lesson_started(self, pack: str, lesson: str) -> bool:
        """Whether any exercise of the lesson was touched."""
        return bool(self._lesson(pack, lesson).get("exercises"))

    @property
    def learner(self) -> str:
        """The learner's id (the seed of their variants)."""
        return str(self.data.get("learner") or "")

    def opened_from(self, pack: str) -> str | None:
        """Where a pack was last opened from, if recorded."""
        value = self.data["packs"].get(pack, {}).get("opened_from")
        return value if isinstance(value, str) else None

    @property
    def last(self) -> tuple[str, str] | None:
        """The pack and lesson visited last, if recorded."""
        last = self.data.get("last")
        if isinstance(last, dict) and "pack" in last and "lesson" in last:
            return str(last["pack"]), str(last["lesson"])
        return None

    @property
    def revision(self) -> int:
        """How many writes made this document: a newer snapshot has a larger revision."""
        value = self.data.get("revision", 0)
        return value if type(value) is int else 0

    def pack_ids(self) -> list[str]:
        """Every pack with a record."""
        return list(self.data["packs"])
