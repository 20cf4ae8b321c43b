"""Reading a pack's files: bounded in size, inside the pack, UTF-8, every refusal located."""

from __future__ import annotations

from pathlib import Path

from .. import sizes
from ..problems import ProblemList
from ..tomlspec import TableReader


def read_text(
    path: Path, problems: ProblemList, limit: int, root: Path | None = None
) -> str | None:
    """Read a UTF-8 file of at most `limit` bytes that resolves inside `root` (if given).

    Every refusal is a located problem: a file outside the pack (a symbolic link out of
    it), one too large, one that is not UTF-8 (at the line and column of the bad byte).
    Windows line ends become newlines.
    """
    if root is not None and not path.resolve().is_relative_to(root.resolve()):
        problems.error(
            path, 1, "the file lies outside the pack (a symbolic link out of it?); not read"
        )
        return None
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)  # bounded: /proc files and FIFOs have no honest size
    except OSError as exc:
        problems.error(path, 1, f"cannot read the file: {exc.strerror or exc}")
        return None
    if len(raw) > limit:
        try:
            size = f"{path.stat().st_size:,} bytes"
        except OSError:
            size = "too many bytes"
        problems.error(path, 1, f"the file is too large to load ({size}; at most {limit:,} bytes)")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        problems.error(
            path,
            line,
            f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
            col,
        )
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def lesson_files(
    directory: Path, listed: tuple[str, ...] | None, reader: TableReader
) -> list[Path]:
    """The lesson files of a pack: those `lessons` lists, or every top-level `*.md`."""
    root = directory.resolve()
    if listed is None:
        files = []
        for path in sorted(directory.glob("*.md")):
            if not path.resolve().is_relative_to(root):
                reader.problems.error(
                    path, 1, "the lesson file is a link to outside the pack; not read"
                )
            elif path.is_file():
                files.append(path)
        return _at_most(files, reader)
    files, seen = [], set()
    for name in listed:
        path = directory / name
        if Path(name).is_absolute() or not path.resolve().is_relative_to(root):
            reader.error("lessons", f'lesson file "{name}" must be inside the pack directory')
        elif name in seen:
            reader.error("lessons", f'lesson file "{name}" is listed twice')
        elif not path.is_file():
            reader.error("lessons", f'lesson file "{name}" does not exist in {directory}')
        else:
            files.append(path)
        seen.add(name)
    return _at_most(files, reader)


def _at_most(files: list[Path], reader: TableReader) -> list[Path]:
    if len(files) > sizes.MAX_LESSONS:
        reader.problems.error(
            reader.path,
            1,
            f"the pack has {len(files):,} lesson files; at most {sizes.MAX_LESSONS:,} are read",
        )
        return files[: sizes.MAX_LESSONS]
    return files
