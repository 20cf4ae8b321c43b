"""The packs a session uses: loaded in full, or at start their outlines first.

`PackShelf` is what the app holds: the packs that loaded, the ones that could not (with
their problems), and the problems that let a pack open. At start it can stand in with
the outlines the last session saved (`core/outline.py`), so that the lesson browser
paints before any pack is read; `load_outlined` then loads the packs in full (in the
app's warm-up thread, or at once when a key needs them first: one load, under a lock)
and says whether they differ from what was shown. This module imports the pack model only when
it loads packs: it is on the start path.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .outline import (
    BrokenPack,
    PackOutline,
    load_outlines,
    outline_of,
    packs_key,
    same_outlines,
    save_outlines,
    shipped_outline,
)
from .paths import builtin_pack_dir
from .problems import Problem, ProblemList

if TYPE_CHECKING:
    from .packs import Lesson, Pack

OUTLINE_FILE = "outline.json"
FENCE_FILE = "fences.json"


class PackShelf:
    """The packs of a session, from `pack_dirs`, with caches kept in `cache_dir`."""

    def __init__(self, pack_dirs: Sequence[Path], cache_dir: Path, version: str) -> None:
        self.pack_dirs = list(pack_dirs)
        self.cache_dir = cache_dir
        self.version = version
        """gradtutor's version: outlines saved by another one are not used."""
        self.outlines: list[PackOutline] | None = None
        """What stands in for the packs until they are loaded (None once they are)."""
        self.packs: list[Pack] = []
        self.broken_packs: list[BrokenPack] = []
        """Packs that could not be loaded, with their problems (listed in the browser)."""
        self.load_problems = ProblemList()
        self.pack_problems: dict[str, list[Problem]] = {}
        """Errors that let a pack open (unknown keys), by pack id: listed beside it."""
        self._lock = threading.Lock()
        """One load at a time: the warm-up's, or one a key needs first."""

    def load(self) -> None:
        """Load every pack in full (the outlines, if any, are dropped)."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        from .packs import load_fence_cache, load_pack

        load_fence_cache(self.cache_dir / FENCE_FILE)
        packs: list[Pack] = []
        broken: list[BrokenPack] = []
        load_problems = ProblemList()
        pack_problems: dict[str, list[Problem]] = {}
        seen: set[str] = set()
        for directory in self.pack_dirs:
            result = load_pack(directory)
            errors = result.problems.errors
            load_problems.extend(errors)
            if result.pack is not None and result.pack.id in seen:
                continue
            if result.pack is None or result.problems.blocking:
                broken.append(BrokenPack(Path(directory), tuple(errors)))
                continue
            seen.add(result.pack.id)
            packs.append(result.pack)
            if errors:
                pack_problems[result.pack.id] = list(errors)
        # whole lists, the outlines last: a reader on another thread sees the outlines or
        # the loaded packs, never a pack list half filled
        self.packs, self.broken_packs = packs, broken
        self.load_problems, self.pack_problems = load_problems, pack_problems
        self.outlines = None

    def adopt_outlines(self) -> bool:
        """Stand in with the saved outlines, when the pack directories hold exactly what
        they held when those were saved (or, at a first start on the built-in pack alone,
        with the outline gradtutor ships for it); False (nothing adopted) otherwise."""
        key = packs_key(self.pack_dirs)
        outlines = (
            None if key is None else load_outlines(self.cache_dir / OUTLINE_FILE, key, self.version)
        )
        if outlines is None and len(self.pack_dirs) == 1 and _is_builtin(self.pack_dirs[0]):
            shipped = shipped_outline(self.pack_dirs[0])
            outlines = None if shipped is None else [shipped]
        self.outlines = outlines
        return outlines is not None

    def load_outlined(self) -> bool | None:
        """Load the packs in full if outlines stand in for them (another thread's load
        under way is waited for): True when what the browser showed differs from what
        loaded (a problem, another title, ...), False when not, None when there was
        nothing to load."""
        with self._lock:
            if self.outlines is None:
                return None
            shown = self.outlines
            self._load()
        loaded = [outline_of(pack) for pack in self.packs]
        return bool(self.broken_packs or self.pack_problems) or not same_outlines(shown, loaded)

    def save_outlines(self) -> None:
        """Keep the loaded packs' outlines for the next start, when every pack loaded
        without a problem (a pack with one is listed with it, which needs the load)."""
        if self.outlines is not None:
            return
        key = packs_key(self.pack_dirs)
        if key is None:
            return
        path = self.cache_dir / OUTLINE_FILE
        if self.broken_packs or self.pack_problems:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return
        outlines = [outline_of(pack) for pack in self.packs]
        saved = load_outlines(path, key, self.version)
        if saved is None or not same_outlines(saved, outlines):
            save_outlines(path, key, self.version, outlines)

    @property
    def shown(self) -> list[Pack | PackOutline]:
        """What the browser lists: the outlines until the packs are loaded, then the packs."""
        return list(self.outlines) if self.outlines is not None else list(self.packs)

    def pack(self, pack_id: str | None) -> Pack | None:
        """A loaded pack, by id (None while outlines stand in, or if unknown)."""
        return next((pack for pack in self.packs if pack.id == pack_id), None)

    def lesson(self, pack_id: str, lesson_id: str) -> tuple[Pack, Lesson] | None:
        """A loaded pack's lesson, by ids (None while outlines stand in, or if unknown)."""
        pack = self.pack(pack_id)
        lesson = pack.lesson(lesson_id) if pack is not None else None
        return (pack, lesson) if pack is not None and lesson is not None else None


def _is_builtin(directory: Path) -> bool:
    try:
        return Path(directory).resolve() == builtin_pack_dir().resolve()
    except OSError:
        return False
