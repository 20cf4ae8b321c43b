"""The loader: a pack directory to a `Pack`, every problem collected with its place.

The loader never raises at the user: every problem in a pack, not only the first, is
collected with its file, line and (where known) column. The format is described in
docs/authoring.md; this package is its reference implementation.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from .. import sizes
from ..problems import ProblemList
from ..text import describe_control, has_controls, is_control, one_line, strip_controls_in_prose
from ..tomlspec import KeyLocator, TableReader, parse_toml
from .blocks import parse_block
from .fences import FENCES, FenceCache
from .files import lesson_files, read_text
from .graph import check_lesson_graph
from .model import (
    FORMAT_PARAMS,
    FORMAT_PROGRAMS,
    FORMAT_VERSION,
    LATEST_FORMAT,
    Exercise,
    FrontMatter,
    Lesson,
    LibraryFunction,
    LoadResult,
    Manifest,
    Pack,
    ProgramExercise,
    Prose,
    Segment,
    StepperBlock,
    keys_of,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_pack(directory: Path | str, fences: FenceCache | None = None) -> LoadResult:
    """Load a pack directory, collecting every problem instead of stopping at the first."""
    directory = Path(directory)
    problems = ProblemList()
    manifest = directory / "pack.toml"
    if not directory.is_dir():
        problems.error(directory, None, "not a directory; a pack is a directory with pack.toml")
        return LoadResult(None, problems)
    if not manifest.is_file():
        problems.error(
            manifest, None, "missing pack.toml; every pack needs one (see gradtutor new)"
        )
        return LoadResult(None, problems)
    text = read_text(manifest, problems, sizes.MAX_MANIFEST_BYTES, directory)
    if text is None:
        return LoadResult(None, problems)
    data = parse_toml(text, manifest, 1, problems, "pack.toml")
    if data is None:
        return LoadResult(None, problems)
    reader = TableReader(manifest, KeyLocator(text, 1), problems, "pack.toml")
    meta = reader.read(data, keys_of(Manifest))

    fmt = meta.get("format", FORMAT_VERSION)
    if fmt > LATEST_FORMAT:
        reader.error(
            "format",
            f"this pack is written for format {fmt}, but this gradtutor reads formats 1 to "
            f"{LATEST_FORMAT}; upgrade gradtutor to use it",
        )
        return LoadResult(None, problems)
    if fmt < 1:
        reader.error("format", f"`format` must be 1 or more, not {fmt}")
    pack_id = meta.get("id", "")
    if "id" in meta and not SLUG.match(pack_id):
        reader.error("id", f'pack id "{pack_id}" must be a slug: lowercase letters, digits, -')

    listed = tuple(meta["lessons"]) if "lessons" in meta else None
    files = lesson_files(directory, listed, reader)
    lessons = []
    for file in files:
        lesson = load_lesson(file, directory, problems, pack_id, fences)
        if lesson is not None:
            lessons.append(lesson)
    check_lesson_graph(lessons, problems)
    if fmt < FORMAT_PARAMS:
        _needs_format_2(lessons, problems, fmt)
    lessons = _resolve_uses(lessons, problems, pack_id, fmt)
    if not files and "lessons" not in meta:
        problems.warning(manifest, 1, "the pack has no lesson files (*.md)")

    if not {"id", "title", "version"} <= meta.keys():
        return LoadResult(None, problems)
    pack = Pack(
        id=pack_id,
        title=one_line(meta["title"]),
        version=one_line(meta["version"]),
        path=directory.resolve(),
        lessons=tuple(lessons),
        description=meta.get("description", ""),
        authors=tuple(one_line(a) for a in meta.get("authors", ())),
        format=fmt,
    )
    return LoadResult(pack, problems)


def _resolve_uses(
    lessons: list[Lesson], problems: ProblemList, pack_id: str, fmt: int
) -> list[Lesson]:
    """Program exercises: `format = 3`, and each name in `uses` an earlier program
    exercise of the pack, whose function the exercise may then call."""
    earlier: dict[str, ProgramExercise] = {}
    resolved = []
    for lesson in lessons:
        segments = []
        for segment in lesson.segments:
            if isinstance(segment, StepperBlock) and segment.uses:
                functions = _library_of(
                    segment.uses, earlier, lesson, segment.line, problems, pack_id
                )
                segment = dataclasses.replace(segment, library=functions)
            if isinstance(segment, ProgramExercise):
                if fmt < FORMAT_PROGRAMS:
                    problems.error(
                        lesson.path,
                        segment.line,
                        f"program exercises need `format = {FORMAT_PROGRAMS}` in pack.toml "
                        f"(this pack says format {fmt})",
                    )
                library = _library_of(
                    segment.uses, earlier, lesson, segment.line_of("uses"), problems, pack_id
                )
                segment = dataclasses.replace(segment, library=library)
                earlier.setdefault(segment.id, segment)
            segments.append(segment)
        resolved.append(dataclasses.replace(lesson, segments=tuple(segments)))
    return resolved


def _library_of(
    uses: tuple[str, ...],
    earlier: dict[str, ProgramExercise],
    lesson: Lesson,
    line: int,
    problems: ProblemList,
    pack_id: str,
) -> tuple[LibraryFunction, ...]:
    library = []
    for used in uses:
        found = earlier.get(used)
        if found is None:
            problems.error(
                lesson.path, line, f'uses: "{used}" is not a program exercise earlier in this pack'
            )
            continue
        address = f"{pack_id}/{found.lesson_id}/{found.id}"
        library.append(LibraryFunction(address, found.header, found.solution_code))
    return tuple(library)


def _needs_format_2(lessons: list[Lesson], problems: ProblemList, fmt: int) -> None:
    """Parameters and practice blocks need `format = 2`: an older gradtutor would misread
    them, so a pack that uses them says so."""
    for lesson in lessons:
        for ex in lesson.exercises:
            uses = "practice blocks" if ex.kind == "practice" else "[params]" if ex.params else ""
            if uses:
                problems.error(
                    lesson.path,
                    ex.line_of("params") if ex.params else ex.line,
                    f"{uses} need `format = {FORMAT_PARAMS}` in pack.toml (this pack says "
                    f"format {fmt}), so that an older gradtutor refuses the pack instead of "
                    "misreading it",
                )


def load_lesson(
    path: Path,
    pack_dir: Path,
    problems: ProblemList,
    pack_id: str = "",
    fences: FenceCache | None = None,
) -> Lesson | None:
    """Load one lesson file; None when its front matter is unusable."""
    text = read_text(path, problems, sizes.MAX_LESSON_BYTES, pack_dir)
    if text is None:
        return None
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    if not lines or lines[0].strip() != "+++":
        problems.error(
            path, 1, "a lesson file must start with TOML front matter between two +++ lines"
        )
        return None
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), None)
    if closing is None:
        problems.error(path, 1, "the front matter opened with +++ is never closed with +++")
        return None
    front_text = "".join(lines[1:closing])
    front = parse_toml(front_text, path, 2, problems, "the front matter")
    if front is None:
        return None
    locator = KeyLocator(front_text, 2)
    reader = TableReader(path, locator, problems, "the front matter")
    meta = reader.read(front, keys_of(FrontMatter))
    lesson_id = meta.get("id")
    if lesson_id is not None and not SLUG.match(lesson_id):
        reader.error("id", f'lesson id "{lesson_id}" must be a slug: lowercase letters, digits, -')
    body_start = closing + 1  # 0-based index of the first body line
    segments = _segments(lines, body_start, path, pack_dir, problems, fences or FENCES)
    seen: dict[str, int] = {}
    for ex in (s for s in segments if isinstance(s, Exercise)):
        if ex.id in seen:
            problems.error(
                path,
                ex.line_of("id"),
                f'exercise id "{ex.id}" is already used at line {seen[ex.id]}',
            )
        seen.setdefault(ex.id, ex.line)
    if lesson_id is None or "title" not in meta:
        return None
    segments = [
        dataclasses.replace(s, pack_id=pack_id, lesson_id=lesson_id)
        if isinstance(s, Exercise)
        else s
        for s in segments
    ]
    return Lesson(
        id=lesson_id,
        title=one_line(meta["title"]),
        path=path,
        requires=tuple(meta["requires"]) if "requires" in meta else None,
        summary=one_line(meta.get("summary", "")),
        segments=tuple(segments),
        requires_line=reader.at("requires")[0],
    )


def _segments(
    lines: list[str],
    body_start: int,
    path: Path,
    pack_dir: Path,
    problems: ProblemList,
    fences: FenceCache,
) -> list[Segment]:
    body = "".join(lines[body_start:])
    segments: list[Segment] = []
    cursor = 0  # body line index up to which prose has been emitted
    for kind, start, end, content in fences.find(body):
        _add_prose(segments, lines, body_start, cursor, start, path, problems)
        cursor = end
        fence_line = body_start + start + 1  # 1-based line of the opening fence
        block = parse_block(kind, content, fence_line, path, pack_dir, problems, fences)
        if block is not None:
            segments.append(block)
    _add_prose(segments, lines, body_start, cursor, len(lines) - body_start, path, problems)
    return segments


def _add_prose(
    segments: list[Segment],
    lines: list[str],
    base: int,
    lo: int,
    hi: int,
    path: Path,
    problems: ProblemList,
) -> None:
    text = "".join(lines[base + lo : base + hi])
    if has_controls(text, keep="\n\t"):
        for offset, line in enumerate(lines[base + lo : base + hi]):
            for col, ch in enumerate(line.rstrip("\n"), 1):
                if is_control(ch) and ch != "\t":
                    problems.error(
                        path,
                        base + lo + offset + 1,
                        f"{describe_control(ch)} in the text: a control character that would "
                        "drive the learner's terminal; remove it",
                        col,
                    )
        text = strip_controls_in_prose(text)
    if text.strip():
        segments.append(Prose(text=text.strip("\n"), line=base + lo + 1))
