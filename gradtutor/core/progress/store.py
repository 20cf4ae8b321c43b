"""The progress file under a home directory: locked, atomic, shared safely.

Every change is a read-modify-write done under an exclusive lock on a side file, applied
to the freshest copy on disk, so two running copies of gradtutor never erase each
other's updates. The write goes to a temporary file that is fsynced and renamed over
the old one, so a crash at any moment leaves either the old or the new file. A file
that cannot be read is moved aside with a timestamp and reported once, never
overwritten. Every write raises the document's `revision`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..safefile import UnsafeFile, load_json, read_bounded
from .document import (
    NONFINITE,
    REVEAL_AFTER,
    SCHEMA_VERSION,
    Mistake,
    empty,
    migrate,
    practice_step,
    remember_mistake,
    repair,
)
from .view import Progress

if TYPE_CHECKING:
    from ..packs import Pack, PracticeExercise

FILE_NAME = "progress.json"

try:  # POSIX advisory locks; on Windows fall back to an exclusive lock file.
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]


class HomeUnusable(OSError):
    """The directory progress is written to cannot be used."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why

    def sentence(self) -> str:
        """`cannot save progress in PATH: WHY`."""
        return f"cannot save progress in {self.path}: {self.why}"


def _keep_params(round_record: dict[str, Any], params: dict[str, Any] | None) -> None:
    """The round's drawn numbers, kept the first time they matter (never replaced: the
    learner keeps them through any later edit of the pack that they still fit)."""
    if params and "params" not in round_record:
        round_record["params"] = params


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
        return load_json(raw, parse_constant=lambda _: NONFINITE)

    def _read_quietly(self) -> dict[str, Any] | None:
        """Read without the lock; None when the file needs the locked repair path."""
        try:
            raw = read_bounded(self.path)
        except FileNotFoundError:
            return self._fresh()
        except OSError:
            return None
        try:
            data, dropped = repair(self._decode(raw))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if data is None or data["version"] != SCHEMA_VERSION or dropped:
            return None
        return data

    def _read(self) -> dict[str, Any]:
        """Read under the lock; move a corrupt file aside and start afresh."""
        try:
            raw = read_bounded(self.path)
        except FileNotFoundError:
            return self._fresh()
        except UnsafeFile as exc:
            return self._set_aside(f"is {exc.why}")
        except OSError as exc:
            return self._set_aside(f"could not be read ({exc.strerror})")
        try:
            decoded = self._decode(raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return self._set_aside("was not valid JSON")
        data, dropped = repair(decoded)
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
        with locked(self.lock_path):
            if not self._cleaned:
                self._remove_stale_temp_files()
            yield

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
                raw = read_bounded(self.path)
                version = load_json(raw).get("version")
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
            _next_revision(self._memory)
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
        _next_revision(data)
        payload = json.dumps(data, indent=1, sort_keys=True, allow_nan=False).encode("utf-8")
        write_atomically(self._target(), payload, ".progress-")

    # -- the operations the tutor performs ------------------------------------------

    @staticmethod
    def _lesson(data: dict[str, Any], pack: str, lesson: str) -> dict[str, Any]:
        lessons = data["packs"].setdefault(pack, {}).setdefault("lessons", {})
        record: dict[str, Any] = lessons.setdefault(lesson, {"completed": False, "exercises": {}})
        return record

    @classmethod
    def _exercise(cls, data: dict[str, Any], pack: str, lesson: str, ex: str) -> dict[str, Any]:
        exercises = cls._lesson(data, pack, lesson).setdefault("exercises", {})
        record: dict[str, Any] = exercises.setdefault(ex, {})
        for key, default in _NEW_ROUND.items():
            record.setdefault(key, default)
        record.setdefault("round", 0)
        record.setdefault("variants_solved", 0)
        current = record.setdefault("current", {})
        for key, default in _NEW_ROUND.items():
            current.setdefault(key, default)
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
        mistake: Mistake | None = None,
        program: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[Progress, bool]:
        """An attempt, with the tutor's policy applied in the same write: after
        REVEAL_AFTER wrong attempts the solution counts as revealed. A wrong one may
        bring `mistake`, (normalised answer, feedback, diagnosis), remembered for the
        report. Returns the progress and whether this attempt revealed the solution."""
        revealed = False

        def change(data: dict[str, Any]) -> None:
            nonlocal revealed
            record = self._exercise(data, pack, lesson, exercise)
            now = record["current"]
            _keep_params(now, params)
            record["attempts"] += 1
            now["attempts"] += 1
            if correct and not now["solved"]:
                record["variants_solved"] += 1
            now["solved"] = now["solved"] or correct
            record["solved"] = record["solved"] or correct
            if not correct and mistake is not None:
                remember_mistake(record, *mistake)
            if correct and program is not None:
                record["program"] = program  # the learner's own, called by later exercises
            wrong = now["attempts"] - (1 if now["solved"] else 0)
            if not now["solved"] and not now["revealed"] and wrong >= REVEAL_AFTER:
                now["revealed"] = record["revealed"] = revealed = True
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

    def record_hint(
        self,
        pack: str,
        lesson: str,
        exercise: str,
        shown: int,
        params: dict[str, Any] | None = None,
    ) -> Progress:
        """Remember that `shown` hints are revealed (never fewer than before)."""

        def change(data: dict[str, Any]) -> None:
            record = self._exercise(data, pack, lesson, exercise)
            _keep_params(record["current"], params)
            record["hints"] = max(record["hints"], shown)
            record["current"]["hints"] = max(record["current"]["hints"], shown)

        return self.update(change)

    def record_breakdown(self, pack: str, lesson: str, exercise: str) -> Progress:
        """The learner opened the breakdown of this exercise (counted, once per opening)."""

        def change(data: dict[str, Any]) -> None:
            record = self._exercise(data, pack, lesson, exercise)
            record["breakdowns"] = record.get("breakdowns", 0) + 1

        return self.update(change)

    def record_reveal(
        self, pack: str, lesson: str, exercise: str, params: dict[str, Any] | None = None
    ) -> Progress:
        """The solution was shown: recorded as revealed, not solved."""

        def change(data: dict[str, Any]) -> None:
            record = self._exercise(data, pack, lesson, exercise)
            _keep_params(record["current"], params)
            record["revealed"] = record["current"]["revealed"] = True

        return self.update(change)

    def fresh_variant(
        self, pack: str, lesson: str, exercise: str, force: bool = False
    ) -> tuple[Progress, bool]:
        """Start a new round with a fresh variant, once the current one is solved or
        revealed (before that a fresh variant would be a way around the exercise).
        Returns the progress and whether a new round began."""
        began = False

        def change(data: dict[str, Any]) -> None:
            nonlocal began
            record = self._exercise(data, pack, lesson, exercise)
            if force or record["current"]["solved"] or record["current"]["revealed"]:
                record["round"] += 1
                record["current"] = dict(_NEW_ROUND)
                began = True

        return self.update(change), began

    def record_practice(
        self,
        pack: str,
        lesson: str,
        block: PracticeExercise,
        correct: bool,
        lesson_exercises: tuple[str, ...] = (),
    ) -> Progress:
        """A judged answer to a practice block's current exercise: the depth and streak
        follow it (`practice_step`), and the next generated exercise comes up."""

        def change(data: dict[str, Any]) -> None:
            record = self._exercise(data, pack, lesson, block.id)
            record["attempts"] += 1
            record["variants_solved"] += 1 if correct else 0
            practice_step(record, correct, block.depth, block.streak)
            record["round"] += 1
            record["current"] = dict(_NEW_ROUND)
            self._complete_if_solved(data, pack, lesson, lesson_exercises)

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


_NEW_ROUND: dict[str, Any] = {"solved": False, "attempts": 0, "hints": 0, "revealed": False}


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a lock file (flock; every process that writes beside
    it takes the same lock first)."""
    with open(lock_path, "a+b") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def write_atomically(target: Path, payload: bytes, prefix: str) -> None:
    """Write a file so that a crash leaves the old one or the new one, never half: a
    temporary file beside it (named `PREFIX*.tmp`), fsynced, renamed over it, and the
    rename made durable."""
    import tempfile  # not on the start path: only writes need it

    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
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


def _next_revision(data: dict[str, Any]) -> None:
    """Every write makes a newer document: a snapshot never replaces a later one."""
    revision = data.get("revision", 0)
    data["revision"] = (revision if type(revision) is int and revision >= 0 else 0) + 1
