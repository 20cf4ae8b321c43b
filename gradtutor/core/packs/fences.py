"""Where the meaningful fenced blocks of a lesson body are, found by markdown-it and
remembered: a start-up whose lessons have not changed does not even import markdown-it.
The same cache remembers which parameterized exercises passed their trial draws
(`parameters.check_parameterized`), so that an unchanged pack is not drawn 400 times
per exercise at every start.

The cache is an object with a lock: the tutor fills it while loading (on the UI thread)
and saves it from the warm-up worker.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from ..safefile import read_json, save_cache

BLOCK_KINDS = ("exercise", "stepper", "training", "practice")
Fence = tuple[str, int, int, str]
"""A meaningful fenced block: kind, first and past-the-end body line, TOML content."""


class FenceCache:
    """Fences by the SHA-1 of the lesson body, persisted as JSON (best effort)."""

    def __init__(self) -> None:
        self._fences: dict[str, list[Fence]] = {}
        self._passed: set[str] = set()
        self._dirty = False
        self._lock = threading.Lock()
        self._parser: Any = None

    def find(self, body: str) -> list[Fence]:
        """The exercise, stepper and training blocks of a lesson body."""
        # The kinds are part of the key: a kind added later must not hide behind a cache
        # entry made when its fences were plain code.
        key = hashlib.sha1(f"{' '.join(BLOCK_KINDS)}\0{body}".encode()).hexdigest()
        with self._lock:
            cached = self._fences.get(key)
        if cached is not None:
            return cached
        fences = self._parse(body)
        with self._lock:
            self._fences[key] = fences
            self._dirty = True
        return fences

    def passed(self, key: str) -> bool:
        """Whether the check named by `key` (a digest of what it checked) passed before."""
        with self._lock:
            return key in self._passed

    def remember_passed(self, key: str) -> None:
        """Remember that the check named by `key` passed."""
        with self._lock:
            if key not in self._passed:
                self._passed.add(key)
                self._dirty = True

    def _parse(self, body: str) -> list[Fence]:
        if self._parser is None:
            from markdown_it import MarkdownIt

            # Only where fences are matters: inline parsing and the block rules that cannot
            # hide or reveal a fence (tables, headings, rules, link references) are skipped.
            self._parser = MarkdownIt("commonmark").disable(
                ["inline", "text_join", "table", "reference", "heading", "lheading", "hr"]
            )
        fences: list[Fence] = []
        for token in self._parser.parse(body):
            if token.type != "fence" or token.map is None:
                continue
            info = token.info.strip().split(maxsplit=1)
            if info and info[0] in BLOCK_KINDS:
                fences.append((info[0], token.map[0], token.map[1], token.content))
        return fences

    def load(self, path: Path) -> None:
        """Adopt a cache written by `save` (ignored when unreadable or malformed)."""
        try:
            data = read_json(path)
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        passed = data.pop(_PASSED, None)
        adopted = {
            key: [(f[0], f[1], f[2], f[3]) for f in fences]
            for key, fences in data.items()
            if isinstance(fences, list) and all(_is_fence(f) for f in fences)
        }
        with self._lock:
            for key, fences in adopted.items():
                self._fences.setdefault(key, fences)
            if isinstance(passed, list):
                self._passed.update(k for k in passed if isinstance(k, str) and len(k) == 40)

    def save(self, path: Path, keep: int = 2000) -> None:
        """Write the cache atomically, when it changed (a cache is never worth an error)."""
        with self._lock:
            if not self._dirty:
                return
            document: dict[str, object] = dict(list(self._fences.items())[-keep:])
            document[_PASSED] = sorted(self._passed)[-keep:]
            self._dirty = False
        if not save_cache(path, document):
            with self._lock:
                self._dirty = True


_PASSED = "passed"
"""The key of the passed checks in the saved cache (fence keys are 40 hex digits)."""


def _is_fence(f: Any) -> bool:
    return (
        isinstance(f, list)
        and len(f) == 4
        and f[0] in BLOCK_KINDS
        and isinstance(f[1], int)
        and isinstance(f[2], int)
        and isinstance(f[3], str)
    )


FENCES = FenceCache()
"""The process's cache, used by the loader unless it is given another."""


def load_fence_cache(path: Path) -> None:
    """Adopt a saved cache into the process's cache."""
    FENCES.load(path)


def save_fence_cache(path: Path, keep: int = 2000) -> None:
    """Save the process's cache."""
    FENCES.save(path, keep)
