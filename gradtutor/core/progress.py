"""The learner's progress: a versioned JSON file, written atomically, shared safely.

Every change is a read-modify-write done under an exclusive lock on a side file, applied
to the freshest copy on disk, so two running copies of gradtutor never erase each
other's updates. The write goes to a temporary file that is fsynced and renamed over
the old one, so a crash at any moment leaves either the old or the new file. A file
that cannot be read is moved aside with a timestamp and reported once, never
overwritten.

Layout (version 2)::

    {"version": 2,
     "learner": ID,                       # random, made with the progress: variants
     "packs": {PACK: {"opened_from": PATH, # where the pack was last opened from
                      "lessons": {LESSON: {
         "completed": bool,               # recorded once every exercise is solved;
                                          # once set, it stays set
         "exercises": {EXERCISE: {"solved": bool, "attempts": int,
                                  "hints": int, "revealed": bool}}}}}},
     "last": {"pack": PACK, "lesson": LESSON} | null}

Each change of layout raises the version by one and adds a migration from the version
before (`MIGRATIONS`), run when an older file is read; the older file is kept beside it
once, as `progress.vN.json`. Keys this program does not know are kept.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .packs import Lesson, Pack

SCHEMA_VERSION = 2
FILE_NAME = "progress.json"
REVEAL_AFTER = 3
"""Wrong attempts after which the solution is shown (and recorded as revealed)."""

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


def new_learner_id() -> str:
    """A random learner id: the seed of the learner's own variants."""
    import secrets

    return secrets.token_hex(8)


def empty() -> dict[str, Any]:
    """A fresh progress document."""
    return {"version": SCHEMA_VERSION, "learner": new_learner_id(), "packs": {}, "last": None}


FIRST_EDITION: dict[str, dict[str, tuple[str, ...]]] = {
    "backprop-from-scratch": {
        "derivatives": ("square", "grad-at-5", "finite-difference"),
        "chain-rule": ("square-of-line", "bell", "neuron", "log", "three-links", "order"),
        "autograd-linear": ("forward-z", "dl-dw1", "w-grad", "y-grad", "x-grad", "why-negative"),
        "accumulate-zero-update": (
            "accumulated",
            "backward-twice",
            "updated-w1",
            "spot-the-bug",
            "why-no-grad",
        ),
        "manual-backprop": (
            "loss-shape",
            "out-g",
            "broadcast",
            "w2-grad",
            "b2-grad",
            "l2-g",
            "l1-g",
            "w1-grad",
            "x-grad",
        ),
        "adaline": ("adaline-grad", "minibatch-grad", "retain-graph", "zero-grad"),
        "sgd": ("point-grad", "b-grad-start", "loop-order"),
    }
}
"""The exercises of the built-in pack's first edition, lesson by lesson. Version 1 files
recorded no completion for lessons with exercises (it was derived); the second edition
adds exercises, so a lesson completed then is recorded as completed on migration."""


def _v1_to_v2(data: dict[str, Any]) -> None:
    """Version 2 gives the learner an id (for their own variants), and records the
    completions that version 1 only derived (first-edition lessons of the built-in pack)."""
    data.setdefault("learner", new_learner_id())
    for pack_id, lessons in FIRST_EDITION.items():
        records = data["packs"].get(pack_id, {}).get("lessons", {})
        for lesson_id, exercises in lessons.items():
            record = records.get(lesson_id)
            if not isinstance(record, dict):
                continue
            solved = record.get("exercises", {})
            if all(solved.get(e, {}).get("solved") is True for e in exercises):
                record["completed"] = True


MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {1: _v1_to_v2}
"""version -> the change that turns a document of that version into the next."""


def migrate(data: dict[str, Any]) -> bool:
    """Bring a document up to SCHEMA_VERSION in place; True when anything changed."""
    changed = False
    while data["version"] < SCHEMA_VERSION:
        MIGRATIONS[data["version"]](data)
        data["version"] += 1
        changed = True
    return changed


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

    def pack_ids(self) -> list[str]:
        """Every pack with a record."""
        return list(self.data["packs"])


_NONFINITE = object()
"""What NaN and Infinity in the file become while reading: a value of no known type."""
MAX_COUNT = 10**9


def _count_ok(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT


_EXERCISE_KEYS: dict[str, Callable[[Any], bool]] = {
    "solved": lambda v: type(v) is bool,
    "revealed": lambda v: type(v) is bool,
    "attempts": _count_ok,
    "hints": _count_ok,
}


class _Repair:
    """Drops known keys of the wrong type (and NaN, Infinity) and says what went."""

    def __init__(self) -> None:
        self.dropped: list[str] = []

    def drop(self, where: str, why: str) -> None:
        self.dropped.append(f"{where} ({why})")

    def nonfinite(self, value: Any, where: str) -> Any:
        """Unknown keys are kept, except numbers JSON cannot hold (NaN, Infinity)."""
        if value is _NONFINITE:
            return None
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if v is _NONFINITE:
                    self.drop(f"{where}{k}", "not a finite number")
                else:
                    out[k] = self.nonfinite(v, f"{where}{k}.")
            return out
        if isinstance(value, list):
            return [self.nonfinite(v, where) for v in value if v is not _NONFINITE]
        return value

    def table(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key, {})
        if isinstance(value, dict):
            return value
        self.drop(where, "not a table")
        parent[key] = {}
        return parent[key]

    def document(self, data: dict[str, Any]) -> None:
        for pack_id, pack in list(self.table(data, "packs", "packs").items()):
            if not isinstance(pack, dict):
                self.drop(f"packs.{pack_id}", "not a table")
                del data["packs"][pack_id]
                continue
            if "opened_from" in pack and not isinstance(pack["opened_from"], str):
                self.drop(f"{pack_id} opened_from", "not a string")
                del pack["opened_from"]
            lessons = self.table(pack, "lessons", f"{pack_id}.lessons")
            for lesson_id, lesson in list(lessons.items()):
                where = f"{pack_id}/{lesson_id}"
                if not isinstance(lesson, dict):
                    self.drop(where, "not a table")
                    del lessons[lesson_id]
                    continue
                if "completed" in lesson and type(lesson["completed"]) is not bool:
                    self.drop(f"{where} completed", "not true or false")
                    del lesson["completed"]
                exercises = self.table(lesson, "exercises", f"{where} exercises")
                for ex_id, record in list(exercises.items()):
                    self.exercise(exercises, ex_id, record, f"{where}/{ex_id}")
        if "learner" in data and not isinstance(data["learner"], str):
            self.drop("learner", "not a string")
            del data["learner"]
        last = data.get("last")
        if last is not None and not (
            isinstance(last, dict)
            and isinstance(last.get("pack"), str)
            and isinstance(last.get("lesson"), str)
        ):
            self.drop("last", "not a pack and a lesson")
            data["last"] = None

    def exercise(self, exercises: dict[str, Any], ex_id: str, record: Any, where: str) -> None:
        if not isinstance(record, dict):
            self.drop(where, "not a table")
            del exercises[ex_id]
            return
        for key, ok in _EXERCISE_KEYS.items():
            if key in record and not ok(record[key]):
                self.drop(f"{where} {key}", "the wrong type")
                del record[key]


def _repair(data: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The document with wrongly typed known entries dropped, and what was dropped.

    None when the document is not a progress file at all (kept aside, like a corrupt one).
    """
    if (
        not isinstance(data, dict)
        or type(data.get("version")) is not int
        or not isinstance(data.get("packs", {}), dict)
    ):
        return None, []
    repair = _Repair()
    data = repair.nonfinite(data, "")
    repair.document(data)
    return data, repair.dropped


class HomeUnusable(OSError):
    """The directory progress is written to cannot be used."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why

    def sentence(self) -> str:
        """`cannot save progress in PATH: WHY`."""
        return f"cannot save progress in {self.path}: {self.why}"


class ProgressStore:
    """The progress file under a home directory, with locked, atomic updates.

    When the home cannot be written (a file in its place, a read-only file system),
    `use_memory()` keeps the session's progress in memory: the tutor still works and
    says that nothing is saved.
    """

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / FILE_NAME
        self.lock_path = self.home / (FILE_NAME + ".lock")
        self.notices: list[str] = []
        """Messages for the learner (a corrupt file moved aside); each reported once."""
        self._reported: set[str] = set()
        self._memory: dict[str, Any] | None = None
        self._cleaned = False
        self._stuck = False
        self._new: dict[str, Any] | None = None

    # -- the home directory ----------------------------------------------------------

    def check_home(self) -> None:
        """Raise HomeUnusable when progress could not be written here (nothing is created
        but the home directory itself)."""
        home = self.home
        if home.exists() and not home.is_dir():
            raise HomeUnusable(home, "it is a file, not a directory")
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HomeUnusable(home, f"it cannot be created ({exc.strerror or exc})") from None
        if not os.access(home, os.W_OK | os.X_OK):
            raise HomeUnusable(home, "it is not writable (a read-only file system or permissions)")
        for path, what in ((self.lock_path, "lock file"), (self.path, "progress file")):
            if path.is_dir():
                raise HomeUnusable(path, f"a directory stands where the {what} should be")
        try:
            with open(self.lock_path, "a+b"):
                pass
        except OSError as exc:
            raise HomeUnusable(self.lock_path, exc.strerror or str(exc)) from None

    def use_memory(self) -> None:
        """Keep progress in memory from now on (what could be read is the start)."""
        if self._memory is None:
            try:
                data = self._read_quietly()
            except OSError:
                data = None
            self._memory = data if data is not None else empty()

    @property
    def in_memory(self) -> bool:
        """True when nothing is written to disk."""
        return self._memory is not None

    # -- reading -------------------------------------------------------------------

    def load(self) -> Progress:
        """The current progress. A corrupt file is moved aside (under the lock)."""
        if self._memory is not None:
            return Progress(copy.deepcopy(self._memory))
        data = self._read_quietly()
        if data is None:
            with self._locked():
                data = self._read()
        return Progress(data)

    def _notice(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            self.notices.append(message)

    def _decode(self, raw: bytes) -> Any:
        return json.loads(raw.decode("utf-8"), parse_constant=lambda _: _NONFINITE)

    def _read_quietly(self) -> dict[str, Any] | None:
        """Read without the lock; None when the file needs the locked repair path."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self._fresh()
        except OSError:
            return None
        try:
            data, dropped = _repair(self._decode(raw))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if data is None or data["version"] != SCHEMA_VERSION or dropped:
            return None
        return data

    def _read(self) -> dict[str, Any]:
        """Read under the lock; move a corrupt file aside and start afresh."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self._fresh()
        except OSError as exc:
            return self._set_aside(f"could not be read ({exc.strerror})")
        try:
            decoded = self._decode(raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return self._set_aside("was not valid JSON")
        data, dropped = _repair(decoded)
        if data is None:
            return self._set_aside("did not have the expected layout")
        if data["version"] > SCHEMA_VERSION:
            return self._set_aside(f"was written by a newer gradtutor (version {data['version']})")
        if data["version"] < 1:
            return self._set_aside(f"has an unknown version ({data['version']})")
        if data["version"] < SCHEMA_VERSION:
            self._keep_copy(raw, f"v{data['version']}", by_content=False)
            migrate(data)
        if dropped:
            kept = self._keep_copy(raw, "repaired")
            shown = "; ".join(dropped[:5]) + (
                f"; and {len(dropped) - 5} more" if len(dropped) > 5 else ""
            )
            self._notice(
                f"Some entries of your progress file had the wrong type and were left out: "
                f"{shown}. The file as it was is kept as {kept}."
            )
        return data

    def _keep_copy(self, raw: bytes, what: str, by_content: bool = True) -> Path:
        """A copy of the file as it was: once per distinct content, or once at all."""
        import hashlib

        name = f"{what}-{hashlib.sha1(raw).hexdigest()[:8]}" if by_content else what
        target = self.path.with_name(f"progress.{name}.json")
        if not target.exists():
            try:
                target.write_bytes(raw)
            except OSError:
                pass
        return target

    def _set_aside(self, why: str) -> dict[str, Any]:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"progress.corrupt-{stamp}.json")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"progress.corrupt-{stamp}-{n}.json")
        try:
            os.replace(self.path, target)
            self._notice(
                f"Your progress file {why}; it was kept as {target} and a fresh one started."
            )
        except OSError as exc:
            self._notice(f"Your progress file {why} and could not be moved aside: {exc}")
            self._stuck = True  # never write over a file that could not be kept
        return empty()

    def _fresh(self) -> dict[str, Any]:
        """A new document: the same learner id however often it is asked for, until written."""
        if self._new is None:
            self._new = empty()
        return copy.deepcopy(self._new)

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
                if not self._cleaned:
                    self._remove_stale_temp_files()
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _remove_stale_temp_files(self) -> None:
        """Temporary files left by a writer that was killed: every writer holds the lock
        while its temporary file exists, so under the lock any that remain are stale."""
        self._cleaned = True
        for directory in {self.home, self._target().parent}:
            for stale in directory.glob(".progress-*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def start(self) -> None:
        """At start-up: remove stale temporary files, and write a new or migrated document
        at once, so that the learner's id (and so their variants) is settled."""
        if self._memory is not None:
            return
        with self._locked():
            try:
                raw = self.path.read_bytes()
                version = json.loads(raw).get("version")
            except (OSError, ValueError, AttributeError):
                raw, version = b"", None
            if not raw or (type(version) is int and version < SCHEMA_VERSION):
                data = self._read()
                if not self._stuck:
                    self._write(data)

    def update(self, change: Callable[[dict[str, Any]], None]) -> Progress:
        """Apply `change` to the freshest document on disk and write it atomically."""
        if self._memory is not None:
            change(self._memory)
            return Progress(copy.deepcopy(self._memory))
        with self._locked():
            data = self._read()
            if self._stuck:
                self._stuck = False
                raise HomeUnusable(
                    self.path, "it cannot be read or moved aside, so nothing was written over it"
                )
            change(data)
            self._write(data)
        return Progress(data)  # read afresh under the lock: nothing else holds it

    def _target(self) -> Path:
        """The file written: progress.json, or what it links to (the link is kept)."""
        return self.path.resolve() if self.path.is_symlink() else self.path

    def _write(self, data: dict[str, Any]) -> None:
        import tempfile  # not on the start path: only writes need it

        payload = json.dumps(data, indent=1, sort_keys=True, allow_nan=False).encode("utf-8")
        target = self._target()
        fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(target.parent, os.O_RDONLY)
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

    def record_attempt(
        self,
        pack: str,
        lesson: str,
        exercise: str,
        correct: bool,
        lesson_exercises: tuple[str, ...] = (),
    ) -> Progress:
        """Count one attempt; a correct one marks the exercise solved (for good), and the
        lesson completed (for good) once every one of `lesson_exercises` is solved."""
        return self.record_answer(pack, lesson, exercise, correct, lesson_exercises)[0]

    def record_answer(
        self,
        pack: str,
        lesson: str,
        exercise: str,
        correct: bool,
        lesson_exercises: tuple[str, ...] = (),
    ) -> tuple[Progress, bool]:
        """An attempt, with the tutor's policy applied in the same write: after
        REVEAL_AFTER wrong attempts the solution counts as revealed. Returns the progress
        and whether this attempt revealed the solution."""
        revealed = False

        def change(data: dict[str, Any]) -> None:
            nonlocal revealed
            record = self._exercise(data, pack, lesson, exercise)
            record["attempts"] += 1
            record["solved"] = record["solved"] or correct
            wrong = record["attempts"] - (1 if record["solved"] else 0)
            if not record["solved"] and not record["revealed"] and wrong >= REVEAL_AFTER:
                record["revealed"] = revealed = True
            self._complete_if_solved(data, pack, lesson, lesson_exercises)

        return self.update(change), revealed

    @classmethod
    def _complete_if_solved(
        cls, data: dict[str, Any], pack: str, lesson: str, exercises: tuple[str, ...]
    ) -> None:
        if not exercises:
            return
        record = cls._lesson(data, pack, lesson)
        solved = record.setdefault("exercises", {})
        if all(solved.get(e, {}).get("solved") is True for e in exercises):
            record["completed"] = True

    def record_completions(self, pack: Pack) -> Progress:
        """Record as completed every lesson whose exercises are all solved (progress written
        before completions were recorded; lessons that gained exercises stay completed)."""

        def change(data: dict[str, Any]) -> None:
            for lesson in pack.lessons:
                ids = tuple(e.id for e in lesson.exercises)
                if ids and not Progress(data).lesson_completed(pack.id, lesson.id):
                    self._complete_if_solved(data, pack.id, lesson.id, ids)

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

    def set_last(self, pack: str, lesson: str, opened_from: Path | None = None) -> Progress:
        """Remember the lesson visited last (and where its pack was opened from)."""

        def change(data: dict[str, Any]) -> None:
            data["last"] = {"pack": pack, "lesson": lesson}
            if opened_from is not None:
                data["packs"].setdefault(pack, {})["opened_from"] = str(opened_from)

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


def lesson_states(
    pack: Pack, progress: Progress, unlock_all: bool = False
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


def completions_to_record(pack: Pack, progress: Progress) -> bool:
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
