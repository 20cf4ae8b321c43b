"""The learner's progress: a versioned JSON file, written atomically, shared safely.

Every change is a read-modify-write done under an exclusive lock on a side file, applied
to the freshest copy on disk, so two running copies of gradtutor never erase each
other's updates. The write goes to a temporary file that is fsynced and renamed over
the old one, so a crash at any moment leaves either the old or the new file. A file
that cannot be read is moved aside with a timestamp and reported once, never
overwritten.

Layout (version 1)::

    {"version": 1,
     "packs": {PACK: {"lessons": {LESSON: {
         "completed": bool,
         "exercises": {EXERCISE: {"solved": bool, "attempts": int,
                                  "hints": int, "revealed": bool}}}}}},
     "last": {"pack": PACK, "lesson": LESSON} | null}
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .packs import Lesson, Pack

SCHEMA_VERSION = 1
FILE_NAME = "progress.json"

try:  # POSIX advisory locks; on Windows fall back to an exclusive lock file.
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ExerciseProgress:
    """One exercise's record."""

    solved: bool = False
    attempts: int = 0
    hints: int = 0
    revealed: bool = False


def empty() -> dict[str, Any]:
    """A fresh progress document."""
    return {"version": SCHEMA_VERSION, "packs": {}, "last": None}


class Progress:
    """A read-only view of one progress document."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _lesson(self, pack: str, lesson: str) -> dict[str, Any]:
        return self.data["packs"].get(pack, {}).get("lessons", {}).get(lesson, {})

    def exercise(self, pack: str, lesson: str, exercise: str) -> ExerciseProgress:
        """The record of one exercise (all zero when never touched)."""
        raw = self._lesson(pack, lesson).get("exercises", {}).get(exercise, {})
        return ExerciseProgress(
            solved=bool(raw.get("solved", False)),
            attempts=int(raw.get("attempts", 0)),
            hints=int(raw.get("hints", 0)),
            revealed=bool(raw.get("revealed", False)),
        )

    def lesson_completed(self, pack: str, lesson: str) -> bool:
        """Whether the lesson was recorded as completed."""
        return bool(self._lesson(pack, lesson).get("completed", False))

    def lesson_started(self, pack: str, lesson: str) -> bool:
        """Whether any exercise of the lesson was touched."""
        return bool(self._lesson(pack, lesson).get("exercises"))

    @property
    def last(self) -> tuple[str, str] | None:
        """The pack and lesson visited last, if recorded."""
        last = self.data.get("last")
        if isinstance(last, dict) and "pack" in last and "lesson" in last:
            return str(last["pack"]), str(last["lesson"])
        return None

    def pack_ids(self) -> list[str]:
        """Every pack with a record."""
        return list(self.data["packs"])


def _valid(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("version") != SCHEMA_VERSION:
        return False
    packs = data.get("packs")
    if not isinstance(packs, dict):
        return False
    for pack in packs.values():
        if not isinstance(pack, dict) or not isinstance(pack.get("lessons", {}), dict):
            return False
        for lesson in pack.get("lessons", {}).values():
            if not isinstance(lesson, dict) or not isinstance(lesson.get("exercises", {}), dict):
                return False
            if not all(isinstance(e, dict) for e in lesson.get("exercises", {}).values()):
                return False
    return True


class ProgressStore:
    """The progress file under a home directory, with locked, atomic updates."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / FILE_NAME
        self.lock_path = self.home / (FILE_NAME + ".lock")
        self.notices: list[str] = []
        """Messages for the learner (a corrupt file moved aside); each reported once."""

    # -- reading -------------------------------------------------------------------

    def load(self) -> Progress:
        """The current progress. A corrupt file is moved aside (under the lock)."""
        data = self._read_quietly()
        if data is None:
            with self._locked():
                data = self._read()
        return Progress(data)

    def _read_quietly(self) -> dict[str, Any] | None:
        """Read without the lock; None when the file needs the locked repair path."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return empty()
        except (OSError, ValueError):
            return None
        return data if _valid(data) else None

    def _read(self) -> dict[str, Any]:
        """Read under the lock; move a corrupt file aside and start afresh."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return empty()
        except OSError as exc:
            return self._set_aside(f"could not be read ({exc.strerror})")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._set_aside("was not valid JSON")
        if isinstance(data, dict) and isinstance(data.get("version"), int):
            if data["version"] > SCHEMA_VERSION:
                return self._set_aside(
                    f"was written by a newer gradtutor (version {data['version']})"
                )
        if not _valid(data):
            return self._set_aside("did not have the expected layout")
        return data

    def _set_aside(self, why: str) -> dict[str, Any]:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"progress.corrupt-{stamp}.json")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"progress.corrupt-{stamp}-{n}.json")
        try:
            os.replace(self.path, target)
            self.notices.append(
                f"Your progress file {why}; it was kept as {target} and a fresh one started."
            )
        except OSError as exc:
            self.notices.append(f"Your progress file {why} and could not be moved aside: {exc}")
        return empty()

    def take_notices(self) -> list[str]:
        """The pending notices, cleared so that each is reported once."""
        notices, self.notices = self.notices, []
        return notices

    # -- writing -------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+b") as lock:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def update(self, change: Callable[[dict[str, Any]], None]) -> Progress:
        """Apply `change` to the freshest document on disk and write it atomically."""
        with self._locked():
            data = self._read()
            change(data)
            self._write(data)
        return Progress(data)  # read afresh under the lock: nothing else holds it

    def _write(self, data: dict[str, Any]) -> None:
        import tempfile  # not on the start path: only writes need it

        payload = json.dumps(data, indent=1, sort_keys=True).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.home)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.home, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # -- the operations the tutor performs ------------------------------------------

    @staticmethod
    def _lesson(data: dict[str, Any], pack: str, lesson: str) -> dict[str, Any]:
        lessons = data["packs"].setdefault(pack, {}).setdefault("lessons", {})
        return lessons.setdefault(lesson, {"completed": False, "exercises": {}})

    @classmethod
    def _exercise(cls, data: dict[str, Any], pack: str, lesson: str, ex: str) -> dict[str, Any]:
        exercises = cls._lesson(data, pack, lesson).setdefault("exercises", {})
        record = exercises.setdefault(ex, {})
        for key, default in (("solved", False), ("attempts", 0), ("hints", 0), ("revealed", False)):
            record.setdefault(key, default)
        return record

    def record_attempt(self, pack: str, lesson: str, exercise: str, correct: bool) -> Progress:
        """Count one attempt; a correct one marks the exercise solved (for good)."""

        def change(data: dict[str, Any]) -> None:
            record = self._exercise(data, pack, lesson, exercise)
            record["attempts"] += 1
            record["solved"] = record["solved"] or correct

        return self.update(change)

    def record_hint(self, pack: str, lesson: str, exercise: str, shown: int) -> Progress:
        """Remember that `shown` hints are revealed (never fewer than before)."""

        def change(data: dict[str, Any]) -> None:
            record = self._exercise(data, pack, lesson, exercise)
            record["hints"] = max(record["hints"], shown)

        return self.update(change)

    def record_reveal(self, pack: str, lesson: str, exercise: str) -> Progress:
        """The solution was shown: recorded as revealed, not solved."""

        def change(data: dict[str, Any]) -> None:
            self._exercise(data, pack, lesson, exercise)["revealed"] = True

        return self.update(change)

    def mark_completed(self, pack: str, lesson: str) -> Progress:
        """Record a lesson as completed."""

        def change(data: dict[str, Any]) -> None:
            self._lesson(data, pack, lesson)["completed"] = True

        return self.update(change)

    def set_last(self, pack: str, lesson: str) -> Progress:
        """Remember the lesson visited last."""

        def change(data: dict[str, Any]) -> None:
            data["last"] = {"pack": pack, "lesson": lesson}

        return self.update(change)

    def reset(self, pack: str | None = None) -> Progress:
        """Forget one pack's progress, or everything."""

        def change(data: dict[str, Any]) -> None:
            if pack is None:
                data.clear()
                data.update(empty())
            else:
                data["packs"].pop(pack, None)
                last = data.get("last")
                if isinstance(last, dict) and last.get("pack") == pack:
                    data["last"] = None

        return self.update(change)


# ----------------------------------------------------------------------------- unlocking

LessonStatus = Literal["done", "in progress", "open", "locked"]


@dataclass(frozen=True)
class LessonState:
    """What the browser shows for a lesson."""

    status: LessonStatus
    waits_for: tuple[str, ...] = ()
    """The required lessons not yet completed (when locked)."""
    solved: int = 0
    total: int = 0


def lesson_done(pack: Pack, lesson: Lesson, progress: Progress) -> bool:
    """Completed: recorded so, or every exercise solved (lessons with none need the flag)."""
    if progress.lesson_completed(pack.id, lesson.id):
        return True
    exercises = lesson.exercises
    return bool(exercises) and all(
        progress.exercise(pack.id, lesson.id, e.id).solved for e in exercises
    )


def lesson_states(pack: Pack, progress: Progress) -> dict[str, LessonState]:
    """Every lesson's state: a pure function of the pack and the progress."""
    done = {le.id: lesson_done(pack, le, progress) for le in pack.lessons}
    states = {}
    for lesson in pack.lessons:
        exercises = lesson.exercises
        solved = sum(progress.exercise(pack.id, lesson.id, e.id).solved for e in exercises)
        waits = tuple(r for r in pack.requirements(lesson) if not done.get(r, False))
        if done[lesson.id]:
            status: LessonStatus = "done"
        elif waits:
            status = "locked"
        elif progress.lesson_started(pack.id, lesson.id):
            status = "in progress"
        else:
            status = "open"
        states[lesson.id] = LessonState(status, waits, solved, len(exercises))
    return states


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
