"""The packs a class server serves: a validated copy, changed only on reload.

`serve` copies the packs into the class directory (`served/gen-N/`) once they load
without errors, and points `served/current` at that copy; every session opens the packs
`current` points to. An instructor's saved edit reaches no session until a reload
(`gradtutor serve --reload`, or SIGHUP to the server) validates the packs again and
publishes a new copy; a reload that does not validate is refused, the errors said, and
the old copy still served. Sessions already open keep the packs they loaded; a few old
copies are kept so that their data files (training blocks) stay readable.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

SERVED = "served"
KEEP = 5
"""Copies kept (the current one and older ones sessions may still read data from)."""
PID_FILE = "serve.pid"
COPY_FAILED = "the packs could not be copied for serving"
"""How `publish` begins the one problem it returns when the copy failed."""


def served_dir(class_dir: Path) -> Path:
    """Where the copies live."""
    return class_dir / SERVED


def current_pack_dirs(class_dir: Path) -> list[Path]:
    """The pack directories being served now (empty before the first publish)."""
    current = served_dir(class_dir) / "current"
    try:
        target = current.resolve(strict=True)
    except OSError:
        return []
    return sorted(p for p in target.iterdir() if (p / "pack.toml").is_file())


def publish(class_dir: Path, pack_dirs: list[Path]) -> tuple[Path | None, list[str]]:
    """Validate `pack_dirs` and, when every one loads without errors, copy them and
    make the copy current. Returns (the copy, []) or (None, the problems)."""
    from .packs import load_pack

    problems: list[str] = []
    for directory in pack_dirs:
        result = load_pack(directory)
        problems += [p.format() for p in result.problems.blocking]
        if result.pack is None and not result.problems.blocking:
            problems.append(f"{directory}: not a pack")
    if problems:
        return None, problems
    root = served_dir(class_dir)
    generation = root / f"gen-{time.time_ns()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        for i, directory in enumerate(pack_dirs):
            target = generation / f"{i:02d}-{Path(directory).name}"
            shutil.copytree(directory, target, symlinks=False, copy_function=_copy_file)
        link = root / f"current.tmp{os.getpid()}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(generation.name)
        os.replace(link, root / "current")  # atomic: a session sees the old copy or the new
    except (OSError, shutil.Error) as exc:
        shutil.rmtree(generation, ignore_errors=True)  # no half copy is left behind
        return None, [f"{COPY_FAILED}: {_why(exc)}"]
    _prune(root, generation)
    return generation, []


def _copy_file(source: str, target: str) -> object:
    """Copy a regular file; anything else (a named pipe, a device) is refused at once:
    opening one could wait for ever."""
    if not Path(source).is_file():
        raise OSError(f"{source} is not a regular file")
    return shutil.copy2(source, target)


def _why(exc: BaseException) -> str:
    """A copy failure in one line (shutil.Error lists every file that failed)."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        failures = exc.args[0]
        first = failures[0] if failures else ("", "", str(exc))
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"{first[-1]}{more}"
    return str(exc)


def _prune(root: Path, keep_current: Path) -> None:
    generations = sorted(p for p in root.iterdir() if p.name.startswith("gen-") and p.is_dir())
    for old in generations[:-KEEP]:
        if old != keep_current:
            shutil.rmtree(old, ignore_errors=True)


def write_pid(class_dir: Path) -> None:
    """Say which process serves this class (for `serve --reload`)."""
    (class_dir / PID_FILE).write_text(str(os.getpid()), encoding="ascii")


def server_pid(class_dir: Path) -> int | None:
    """The serving process of this class, if one is running."""
    try:
        pid = int((class_dir / PID_FILE).read_text(encoding="ascii").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid
