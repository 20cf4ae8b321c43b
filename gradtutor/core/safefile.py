"""Reading files that may not be what they claim: a FIFO, /dev/zero, a huge or deeply
nested JSON document.

Every file gradtutor reads that someone else could have placed (progress, the fence
cache, class accounts, hand-ins) goes through `read_bounded`: it opens without blocking
(opening a FIFO for reading otherwise waits for a writer for ever), refuses what is not
a regular file, and reads at most the limit plus one byte. A symbolic link is followed,
as documented for `progress.json`. JSON goes through `load_json`, which refuses a
document nested deeper than MAX_JSON_DEPTH before decoding it, so no decoder or walk
over it can run out of stack.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_JSON_DEPTH = 64
"""Arrays and objects inside each other in any JSON file gradtutor reads (progress
files nest about 8 deep)."""
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}]')
"""A string (skipped whole) or a bracket."""
MAX_STATE_BYTES = 20_000_000
"""A progress file, an account, the fence cache or a hand-in."""


class UnsafeFile(OSError):
    """A file that is not a regular file, or is larger than it may be; `why` says so."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.strerror = why
        self.why = why


def read_bounded(path: Path | str, limit: int = MAX_STATE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises FileNotFoundError when there is none, and UnsafeFile (an OSError) for a
    FIFO, a device, a directory or a file over the limit: never blocks, never reads
    more than `limit + 1` bytes.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(path, "not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(path, f"larger than {limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise UnsafeFile(path, f"larger than {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def json_depth(text: str | bytes, stop_at: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), counting no
    further than one past `stop_at`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    for match in _JSON_NESTING.finditer(text):
        ch = match.group()
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def load_json(
    text: str | bytes,
    max_depth: int = MAX_JSON_DEPTH,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """json.loads, after refusing (ValueError) a document nested deeper than `max_depth`."""
    if json_depth(text, max_depth) > max_depth:
        raise ValueError(f"nested more than {max_depth} deep")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if parse_constant is None:
        return json.loads(text)
    return json.loads(text, parse_constant=parse_constant)


def read_json(path: Path | str, limit: int = MAX_STATE_BYTES) -> Any:
    """A JSON file read with `read_bounded` and `load_json` (OSError or ValueError)."""
    return load_json(read_bounded(path, limit))


def save_cache(path: Path, document: Any) -> bool:
    """Write a cache file (JSON) atomically, best effort: a cache is never worth an
    error. False when it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(document), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return False
    return True
