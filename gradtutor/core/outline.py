"""What the lesson browser lists, kept between sessions so that it paints before any pack loads.

Loading the packs (reading every lesson, its TOML blocks, the pack model's many classes)
is the largest part of the tutor's start beyond Textual's own. The browser needs little
of it: packs and lessons by id and title, each lesson's exercise ids and requirements
(for its state). After a full load the app saves that *outline* in
`cache/outline.json`, keyed by what the pack directories hold (every file's path, size
and modification time); at the next start, when nothing changed, the browser paints from
the outline and the full load follows right after the first paint. The outline is only
ever a stand-in for those few milliseconds: once the packs are loaded the browser is
rebuilt from them if they differ in anything it shows.

This module imports nothing heavy: it is on the start path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .problems import Problem
from .safefile import read_json, save_cache
from .text import listed

if TYPE_CHECKING:
    from .packs import Pack

OUTLINE_VERSION = 1
"""The cache file's format; another version is ignored (and rewritten)."""
SHIPPED = Path(__file__).resolve().parent.parent / "builtin_outline.json"
"""The built-in pack's outline, shipped with gradtutor (a learner's very first start
has no cache yet); keyed by the pack's content, so that it is used only for the pack it
was made from. `python -m gradtutor.core.outline` writes it; a test keeps it current."""
MAX_DIGEST_BYTES = 5_000_000
"""Bytes of a pack read for its content digest, at most."""
MAX_FILES = 2_000
"""Entries looked at per pack directory for the key; a larger pack is loaded before
the first paint, as without an outline."""


@dataclass(frozen=True)
class BrokenPack:
    """A pack directory that could not be loaded, and why (the tutor lists it)."""

    path: Path
    problems: tuple[Problem, ...]


def lesson_titles(lessons: Sequence[Any], lesson_ids: Iterable[str]) -> str:
    """Lessons named as people read them: `Derivatives as slopes and The chain rule`
    (an id no lesson has stays as it is)."""
    titles: dict[str, str] = {}
    for lesson in lessons:
        titles.setdefault(lesson.id, lesson.title)  # the first, as `Pack.lesson` finds
    return listed([titles.get(i, i) for i in lesson_ids])


class ExerciseOutline:
    """An exercise, by id (what a lesson's state counts)."""

    __slots__ = ("id",)

    def __init__(self, exercise_id: str) -> None:
        self.id = exercise_id


class LessonOutline:
    """A lesson as the browser shows it."""

    __slots__ = ("exercises", "id", "requires", "summary", "title")

    def __init__(
        self,
        lesson_id: str,
        title: str,
        summary: str,
        exercises: Sequence[str],
        requires: Sequence[str],
    ) -> None:
        self.id = lesson_id
        self.title = title
        self.summary = summary
        self.exercises = tuple(ExerciseOutline(e) for e in exercises)
        self.requires = tuple(requires)
        """The lessons to complete first, resolved (never None, unlike `Lesson.requires`)."""


class PackOutline:
    """A pack as the browser shows it: the same names as `Pack` where they overlap."""

    __slots__ = ("authors", "description", "id", "lessons", "path", "title", "version")

    def __init__(
        self,
        pack_id: str,
        title: str,
        version: str,
        path: Path,
        lessons: Sequence[LessonOutline],
        description: str = "",
        authors: Sequence[str] = (),
    ) -> None:
        self.id = pack_id
        self.title = title
        self.version = version
        self.path = path
        self.lessons = tuple(lessons)
        self.description = description
        self.authors = tuple(authors)

    def lesson(self, lesson_id: str) -> LessonOutline | None:
        """The lesson with this id, if any."""
        return next((le for le in self.lessons if le.id == lesson_id), None)

    def titles(self, lesson_ids: Iterable[str]) -> str:
        """Lessons named as people read them (as `Pack.titles`)."""
        return lesson_titles(self.lessons, lesson_ids)

    def requirements(self, lesson: Any) -> tuple[str, ...]:
        """The lessons that must be completed before `lesson` opens."""
        return tuple(lesson.requires)

    def as_json(self) -> dict[str, Any]:
        """The outline as the cache file keeps it."""
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "path": str(self.path),
            "description": self.description,
            "authors": list(self.authors),
            "lessons": [
                {
                    "id": le.id,
                    "title": le.title,
                    "summary": le.summary,
                    "exercises": [e.id for e in le.exercises],
                    "requires": list(le.requires),
                }
                for le in self.lessons
            ],
        }


def outline_of(pack: Pack) -> PackOutline:
    """The outline of a loaded pack."""
    return PackOutline(
        pack.id,
        pack.title,
        pack.version,
        pack.path,
        [
            LessonOutline(
                lesson.id,
                lesson.title,
                lesson.summary,
                [e.id for e in lesson.exercises],
                pack.requirements(lesson),
            )
            for lesson in pack.lessons
        ],
        pack.description,
        pack.authors,
    )


def packs_key(pack_dirs: Sequence[Path]) -> list[Any] | None:
    """What the pack directories hold, as the outline's key: every file's path, size and
    modification time, in order. None when a directory cannot be read or holds too many
    entries (the packs are then loaded before the first paint). Links to directories are
    not followed (a link cycle ends nothing); a link to a file is keyed by its target."""
    key: list[Any] = []
    for directory in pack_dirs:
        files: list[list[Any]] = []
        pending = [str(directory)]
        seen = 0
        try:
            while pending:
                with os.scandir(pending.pop()) as entries:
                    for entry in entries:
                        seen += 1
                        if seen > MAX_FILES:
                            return None
                        if entry.name == "__pycache__":
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                            continue
                        try:
                            info = entry.stat()
                        except OSError:  # a broken link: keyed as one
                            files.append([entry.path, -1, -1])
                            continue
                        files.append([entry.path, info.st_size, info.st_mtime_ns])
        except OSError:
            return None
        files.sort()
        key.append([str(directory), files])
    return key


def load_outlines(path: Path, key: list[Any], version: str) -> list[PackOutline] | None:
    """The saved outlines, when they were saved for this key by this gradtutor version;
    None otherwise (or when the file is unreadable or malformed)."""
    try:
        data = read_json(path)
        if (
            data.get("format") != OUTLINE_VERSION
            or data.get("gradtutor") != version
            or data.get("key") != key
        ):
            return None
        return [_pack_from_json(p) for p in data["packs"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def save_outlines(path: Path, key: list[Any], version: str, packs: Sequence[PackOutline]) -> None:
    """Write the outlines atomically (best effort: a cache is never worth an error)."""
    document = {
        "format": OUTLINE_VERSION,
        "gradtutor": version,
        "key": key,
        "packs": [p.as_json() for p in packs],
    }
    save_cache(path, document)


def same_outlines(a: Sequence[PackOutline], b: Sequence[PackOutline]) -> bool:
    """Whether two lists of outlines show the same (what decides a rebuild)."""
    return [p.as_json() for p in a] == [p.as_json() for p in b]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return [_text(v) for v in value]


def _pack_from_json(data: Any) -> PackOutline:
    """An outline from the cache file; TypeError/KeyError when anything is off."""
    lessons = [
        LessonOutline(
            _text(le["id"]),
            _text(le["title"]),
            _text(le["summary"]),
            _texts(le["exercises"]),
            _texts(le["requires"]),
        )
        for le in data["lessons"]
    ]
    return PackOutline(
        _text(data["id"]),
        _text(data["title"]),
        _text(data["version"]),
        Path(_text(data["path"])),
        lessons,
        _text(data["description"]),
        _texts(data["authors"]),
    )


def pack_digest(directory: Path) -> str | None:
    """A digest of everything a pack directory holds (paths and contents), or None when
    it cannot be read or is larger than a first start should read."""
    import hashlib

    digest = hashlib.sha256()
    total = 0
    root = Path(directory)
    try:
        files = sorted(
            p for p in root.rglob("*") if "__pycache__" not in p.parts and not p.is_dir()
        )
        if len(files) > MAX_FILES:
            return None
        for path in files:
            data = path.read_bytes() if path.is_file() else b""
            total += len(data)
            if total > MAX_DIGEST_BYTES:
                return None
            name = path.relative_to(root).as_posix().encode()
            digest.update(len(name).to_bytes(4, "big") + name)
            digest.update(len(data).to_bytes(8, "big") + data)
    except OSError:
        return None
    return digest.hexdigest()


def shipped_outline(directory: Path) -> PackOutline | None:
    """The shipped outline of the built-in pack, when `directory` holds exactly the
    pack it was made from (None otherwise, or when it cannot be read)."""
    try:
        data = read_json(SHIPPED)
        if data.get("format") != OUTLINE_VERSION or data.get("digest") != pack_digest(directory):
            return None
        outline = _pack_from_json(data["pack"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    outline.path = Path(directory)
    return outline


def write_shipped_outline(directory: Path) -> Path:
    """Write the built-in pack's shipped outline (a release step; a test checks it)."""
    from .packs import load_pack

    pack = load_pack(directory).pack
    if pack is None:
        raise SystemExit(f"{directory} does not load; fix it first (gradtutor validate)")
    document = {
        "format": OUTLINE_VERSION,
        "digest": pack_digest(directory),
        "pack": outline_of(pack).as_json() | {"path": ""},
    }
    SHIPPED.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return SHIPPED


if __name__ == "__main__":  # python -m gradtutor.core.outline
    from .paths import builtin_pack_dir

    print(f"wrote {write_shipped_outline(builtin_pack_dir())}")
