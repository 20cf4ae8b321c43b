"""Lesson packs: the model (frozen dataclasses) and the loader.

The loader never raises at the user: every problem in a pack, not only the first, is
collected with its file, line and (where known) column. The format is described in
docs/authoring.md; this module is its reference implementation.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import sizes
from .problems import Problem, ProblemList
from .sizes import NetworkSize
from .text import describe_control, is_control, one_line, strip_controls_in_prose
from .tomlspec import Key, KeyLocator, TableReader, parse_toml

FORMAT_VERSION = 1
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TENSOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
EXERCISE_KINDS = ("derivative", "value", "tensor", "choice")
TENSOR_TARGETS = (
    "w1.grad",
    "b1.grad",
    "w2.grad",
    "b2.grad",
    "x.grad",
    "out.g",
    "l2.g",
    "l1.g",
)
TRAINING_METHODS = ("manual", "autograd.grad", "backward")
# Sizes beyond these would make a lesson's tensors too large to check interactively.
MAX_TENSOR_ELEMENTS = 5_000_000
MAX_GIVEN_ELEMENTS = 10_000


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Feedback:
    """An authored typical wrong answer and the message shown when a learner gives it."""

    match: str
    message: str
    line: int


@dataclass(frozen=True, kw_only=True)
class Exercise:
    """What every exercise kind has."""

    id: str
    kind: str
    prompt: str
    hints: tuple[str, ...] = ()
    solution: str | None = None
    feedback: tuple[Feedback, ...] = ()
    line: int = 0
    """The line of the opening fence."""
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    """Where each top-level key is set, for problems found after loading."""
    pack_id: str = field(default="", compare=False)
    lesson_id: str = field(default="", compare=False)

    @property
    def address(self) -> str:
        """`PACK/LESSON/EXERCISE`: what variants are drawn from."""
        return f"{self.pack_id}/{self.lesson_id}/{self.id}"

    def line_of(self, key: str) -> int:
        """The line of a key, or the fence when it is not set explicitly."""
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True, kw_only=True)
class DerivativeExercise(Exercise):
    """Differentiate `function` by `wrt`; the learner answers in the math language."""

    function: str
    wrt: str
    answer: str | None = None
    domain: tuple[tuple[str, float, float], ...] = ()

    def domain_of(self, var: str) -> tuple[float, float]:
        """The sampling range of a variable; [-2, 2] unless the author set one."""
        for name, lo, hi in self.domain:
            if name == var:
                return lo, hi
        return -2.0, 2.0


@dataclass(frozen=True, kw_only=True)
class ValueExercise(Exercise):
    """A number or small tensor that autograd computes from `given`."""

    given: tuple[tuple[str, Any], ...]
    """Pairs of name and value: a float or nested tuples of floats."""
    requires_grad: tuple[str, ...]
    compute: str
    ask: str
    tolerance: float = 1e-6


@dataclass(frozen=True)
class Shapes:
    """Sizes of the lesson network."""

    n: int = 8
    d_in: int = 4
    hidden: int = 5


@dataclass(frozen=True, kw_only=True)
class TensorExercise(Exercise):
    """A gradient formula over the lesson network's tensors."""

    target: str
    answer: str | None = None
    shapes: Shapes = Shapes()
    seed: int = 0


@dataclass(frozen=True)
class Option:
    """One option of a choice exercise."""

    text: str
    correct: bool
    why: str | None
    line: int


@dataclass(frozen=True, kw_only=True)
class ChoiceExercise(Exercise):
    """A conceptual question; the learner picks an option (numbered from 1)."""

    options: tuple[Option, ...]


@dataclass(frozen=True)
class StepperBlock:
    """A `stepper` block: opens the network stepper on this network."""

    line: int
    size: NetworkSize = NetworkSize()


@dataclass(frozen=True)
class TrainingBlock:
    """A `training` block: a run the learner starts and watches."""

    line: int
    model: str
    zero_grad: bool = True
    seed: int = 0
    lr: float = 0.01
    # adaline
    data: Path | None = None
    features: tuple[str, ...] = ()
    target: str = ""
    classes: tuple[str, ...] = ()
    epochs: int = 20
    batch: int = 10
    test_fraction: float = 0.3
    methods: tuple[str, ...] = TRAINING_METHODS
    # linear
    start: float = -5.0
    stop: float = 5.0
    step: float = 0.1
    slope: float = -5.0
    noise: float = 0.4
    w0: float = -10.0
    b0: float = -20.0
    steps: int = 20


@dataclass(frozen=True)
class Prose:
    """Markdown text between blocks."""

    text: str
    line: int


Segment = Prose | Exercise | StepperBlock | TrainingBlock


@dataclass(frozen=True)
class Lesson:
    """One lesson file."""

    id: str
    title: str
    path: Path
    requires: tuple[str, ...] | None
    """Lessons that must be completed first; None means "the previous lesson"."""
    summary: str = ""
    segments: tuple[Segment, ...] = ()
    requires_line: int = 1

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        """The exercises, in the order the learner meets them."""
        return tuple(s for s in self.segments if isinstance(s, Exercise))

    def exercise(self, exercise_id: str) -> Exercise | None:
        """The exercise with this id, if any."""
        return next((e for e in self.exercises if e.id == exercise_id), None)


@dataclass(frozen=True)
class Pack:
    """A loaded lesson pack."""

    id: str
    title: str
    version: str
    path: Path
    lessons: tuple[Lesson, ...]
    description: str = ""
    authors: tuple[str, ...] = ()
    format: int = FORMAT_VERSION

    def lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson with this id, if any."""
        return next((le for le in self.lessons if le.id == lesson_id), None)

    def titles(self, lesson_ids: Iterable[str]) -> str:
        """Lessons named as people read them: `Derivatives as slopes and The chain rule`."""
        names = [le.title if (le := self.lesson(i)) is not None else i for i in lesson_ids]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    def requirements(self, lesson: Lesson) -> tuple[str, ...]:
        """The lessons that must be completed before `lesson` opens."""
        if lesson.requires is not None:
            return lesson.requires
        index = self.lessons.index(lesson)
        return (self.lessons[index - 1].id,) if index > 0 else ()


@dataclass(frozen=True)
class LoadResult:
    """A pack (None when it could not be loaded at all) and every problem found."""

    pack: Pack | None
    problems: ProblemList

    @property
    def ok(self) -> bool:
        """Loaded without errors (warnings allowed)."""
        return self.pack is not None and not self.problems.errors


@dataclass(frozen=True)
class BrokenPack:
    """A pack directory that could not be loaded, and why (the tutor lists it)."""

    path: Path
    problems: tuple[Problem, ...]


# ----------------------------------------------------------------------------- loader

_PACK_KEYS = [
    Key("format", "int"),
    Key("id", "str", True),
    Key("title", "str", True),
    Key("version", "str", True),
    Key("description", "str"),
    Key("authors", "str_list"),
    Key("lessons", "str_list"),
]
_LESSON_KEYS = [
    Key("id", "str", True),
    Key("title", "str", True),
    Key("requires", "str_list"),
    Key("summary", "str"),
]
_COMMON_KEYS = [
    Key("id", "str", True),
    Key("kind", "str", True),
    Key("prompt", "str", True),
    Key("hints", "str_list"),
    Key("solution", "str"),
    Key("feedback", "table_list"),
]
_KIND_KEYS = {
    "derivative": [
        Key("function", "str", True),
        Key("wrt", "str", True),
        Key("answer", "str"),
        Key("domain", "table"),
    ],
    "value": [
        Key("given", "table", True),
        Key("requires_grad", "str_list"),
        Key("compute", "str", True),
        Key("ask", "str", True),
        Key("tolerance", "number"),
    ],
    "tensor": [
        Key("target", "str", True),
        Key("answer", "str"),
        Key("shapes", "table"),
        Key("seed", "int"),
    ],
    "choice": [Key("option", "table_list", True)],
}
_STEPPER_KEYS = [
    Key("n", "int"),
    Key("d_in", "int"),
    Key("hidden", "int"),
    Key("seed", "int"),
    Key("lr", "number"),
]
_TRAINING_COMMON = [
    Key("model", "str", True),
    Key("zero_grad", "bool"),
    Key("seed", "int"),
    Key("lr", "number"),
]
_TRAINING_KEYS = {
    "adaline": [
        Key("data", "str", True),
        Key("features", "str_list", True),
        Key("target", "str", True),
        Key("classes", "str_list", True),
        Key("epochs", "int"),
        Key("batch", "int"),
        Key("test_fraction", "number"),
        Key("methods", "str_list"),
    ],
    "linear": [
        Key("start", "number"),
        Key("stop", "number"),
        Key("step", "number"),
        Key("slope", "number"),
        Key("noise", "number"),
        Key("w0", "number"),
        Key("b0", "number"),
        Key("steps", "int"),
    ],
}


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


def load_pack(directory: Path | str) -> LoadResult:
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
    meta = reader.read(data, _PACK_KEYS)

    fmt = meta.get("format", FORMAT_VERSION)
    if fmt > FORMAT_VERSION:
        reader.error(
            "format",
            f"this pack is written for format {fmt}, but this gradtutor reads format "
            f"{FORMAT_VERSION}; upgrade gradtutor to use it",
        )
        return LoadResult(None, problems)
    if fmt < 1:
        reader.error("format", f"`format` must be 1 or more, not {fmt}")
    pack_id = meta.get("id", "")
    if "id" in meta and not SLUG.match(pack_id):
        reader.error("id", f'pack id "{pack_id}" must be a slug: lowercase letters, digits, -')

    files = _lesson_files(directory, meta, reader)
    lessons = []
    for file in files:
        lesson = load_lesson(file, directory, problems, pack_id)
        if lesson is not None:
            lessons.append(lesson)
    _check_lesson_graph(lessons, problems)
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


def _lesson_files(directory: Path, meta: dict[str, Any], reader: TableReader) -> list[Path]:
    root = directory.resolve()
    if "lessons" not in meta:
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
    for name in meta["lessons"]:
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


def load_lesson(
    path: Path, pack_dir: Path, problems: ProblemList, pack_id: str = ""
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
    meta = reader.read(front, _LESSON_KEYS)
    lesson_id = meta.get("id")
    if lesson_id is not None and not SLUG.match(lesson_id):
        reader.error("id", f'lesson id "{lesson_id}" must be a slug: lowercase letters, digits, -')
    body_start = closing + 1  # 0-based index of the first body line
    segments = _segments(lines, body_start, path, pack_dir, problems)
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


BLOCK_KINDS = ("exercise", "stepper", "training")
Fence = tuple[str, int, int, str]
"""A meaningful fenced block: kind, first and past-the-end body line, TOML content."""

_parser: Any = None
fence_cache: dict[str, list[Fence]] = {}
"""Fences by the SHA-1 of the lesson body. The tutor persists it (`load_fence_cache`), so
that a start-up whose lessons have not changed does not even import markdown-it."""
fence_cache_dirty = False


def find_fences(body: str) -> list[Fence]:
    """The exercise, stepper and training blocks of a lesson body, found by markdown-it."""
    global _parser, fence_cache_dirty
    key = hashlib.sha1(body.encode("utf-8")).hexdigest()
    cached = fence_cache.get(key)
    if cached is not None:
        return cached
    if _parser is None:
        from markdown_it import MarkdownIt

        # Only where fences are matters here: inline parsing and the block rules that cannot
        # hide or reveal a fence (tables, headings, rules, link references) are skipped.
        _parser = MarkdownIt("commonmark").disable(
            ["inline", "text_join", "table", "reference", "heading", "lheading", "hr"]
        )
    fences: list[Fence] = []
    for token in _parser.parse(body):
        if token.type != "fence" or token.map is None:
            continue
        info = token.info.strip().split(maxsplit=1)
        if info and info[0] in BLOCK_KINDS:
            fences.append((info[0], token.map[0], token.map[1], token.content))
    fence_cache[key] = fences
    fence_cache_dirty = True
    return fences


def load_fence_cache(path: Path) -> None:
    """Adopt a fence cache written by `save_fence_cache` (ignored when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict):
        for key, fences in data.items():
            if isinstance(fences, list) and all(
                isinstance(f, list)
                and len(f) == 4
                and f[0] in BLOCK_KINDS
                and isinstance(f[1], int)
                and isinstance(f[2], int)
                and isinstance(f[3], str)
                for f in fences
            ):
                fence_cache.setdefault(key, [tuple(f) for f in fences])  # type: ignore[misc]


def save_fence_cache(path: Path, keep: int = 2000) -> None:
    """Write the fence cache atomically (best effort: a cache is never worth an error)."""
    global fence_cache_dirty
    if not fence_cache_dirty:
        return
    items = list(fence_cache.items())[-keep:]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(dict(items)), encoding="utf-8")
        os.replace(tmp, path)
        fence_cache_dirty = False
    except OSError:
        pass


def _segments(
    lines: list[str], body_start: int, path: Path, pack_dir: Path, problems: ProblemList
) -> list[Segment]:
    body = "".join(lines[body_start:])
    segments: list[Segment] = []
    cursor = 0  # body line index up to which prose has been emitted
    for kind, start, end, content in find_fences(body):
        _add_prose(segments, lines, body_start, cursor, start, path, problems)
        cursor = end
        fence_line = body_start + start + 1  # 1-based line of the opening fence
        block = _parse_block(kind, content, fence_line, path, pack_dir, problems)
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
    if _has_control(text):
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


def _has_control(text: str) -> bool:
    return any(is_control(c) and c not in "\n\t" for c in text)


def _parse_block(
    kind: str, content: str, fence_line: int, path: Path, pack_dir: Path, problems: ProblemList
) -> Segment | None:
    first = fence_line + 1
    data = parse_toml(content, path, first, problems, f"the {kind} block")
    if data is None:
        return None
    locator = KeyLocator(content, first, fence_line)
    reader = TableReader(path, locator, problems, f"the {kind} block at line {fence_line}")
    errors_before = len(problems.errors)
    if kind == "exercise":
        block: Segment | None = _exercise(data, reader, fence_line)
    elif kind == "stepper":
        block = _stepper(data, reader, fence_line)
    else:
        block = _training(data, reader, fence_line, pack_dir)
    # A block with an error is left out: nothing later (a deep check, the tutor) sees it.
    return block if len(problems.errors) == errors_before else None


def _exercise(data: dict[str, Any], reader: TableReader, line: int) -> Exercise | None:
    kind = data.get("kind")
    if isinstance(kind, str) and kind not in EXERCISE_KINDS:
        reader.error(
            "kind", f'unknown exercise kind "{kind}"; use one of {", ".join(EXERCISE_KINDS)}'
        )
        return None
    keys = _COMMON_KEYS + _KIND_KEYS.get(kind if isinstance(kind, str) else "", [])
    values = reader.read(data, keys)
    if not {k.name for k in keys if k.required} <= values.keys():
        return None
    if not SLUG.match(values["id"]):
        reader.error(
            "id", f'exercise id "{values["id"]}" must be a slug: lowercase letters, digits, -'
        )
    common = dict(
        id=values["id"],
        kind=kind,
        prompt=values["prompt"],
        hints=tuple(values.get("hints", ())),
        solution=values.get("solution"),
        feedback=_feedback(values.get("feedback", []), reader),
        line=line,
        key_lines={name: reader.at(name)[0] for name in data},
    )
    if kind == "derivative":
        return _derivative(values, reader, common)
    if kind == "value":
        return _value(values, reader, common)
    if kind == "tensor":
        return _tensor(values, reader, common)
    return _choice(values, reader, common)


def _sub_reader(reader: TableReader, table: str, index: int, where: str) -> TableReader:
    return TableReader(reader.path, reader.locator, reader.problems, where, table, index)


def _feedback(entries: list[dict[str, Any]], reader: TableReader) -> tuple[Feedback, ...]:
    out = []
    for i, entry in enumerate(entries):
        sub = _sub_reader(reader, "feedback", i, f"[[feedback]] number {i + 1}")
        values = sub.read(entry, [Key("match", "str", True), Key("message", "str", True)])
        if {"match", "message"} <= values.keys():
            out.append(Feedback(values["match"], values["message"], sub.at("match")[0]))
    return tuple(out)


def _derivative(values: dict[str, Any], reader: TableReader, common: dict) -> Exercise:
    domain = []
    for var, rng in values.get("domain", {}).items():
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
        )
        line, col = reader.locator.key(var, "domain")
        if not ok:
            reader.problems.error(
                reader.path, line, f"domain of `{var}` must be a pair [lo, hi] of numbers", col
            )
        elif not rng[0] < rng[1]:
            reader.problems.error(
                reader.path,
                line,
                f"domain of `{var}` is empty: {rng[0]} is not below {rng[1]}",
                col,
            )
        else:
            domain.append((var, float(rng[0]), float(rng[1])))
    return DerivativeExercise(
        function=values["function"],
        wrt=values["wrt"].strip(),
        answer=values.get("answer"),
        domain=tuple(domain),
        **common,
    )


def _as_numbers(value: Any) -> tuple[Any, list[int]] | None:
    """A number or rectangular nested list of numbers as floats/tuples, with its shape."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), []
    if isinstance(value, list) and value:
        items = [_as_numbers(v) for v in value]
        if any(i is None for i in items):
            return None
        shapes = {tuple(i[1]) for i in items}  # type: ignore[index]
        if len(shapes) != 1:
            return None
        return tuple(i[0] for i in items), [len(items), *items[0][1]]  # type: ignore[index]
    return None


def _value(values: dict[str, Any], reader: TableReader, common: dict) -> Exercise | None:
    given = []
    for name, raw in values["given"].items():
        line, col = reader.locator.key(name, "given")
        if not TENSOR_NAME.match(name) or "__" in name:
            reader.problems.error(reader.path, line, f"`{name}` is not a usable tensor name", col)
            continue
        parsed = _as_numbers(raw)
        if parsed is None:
            reader.problems.error(
                reader.path,
                line,
                f"given `{name}` must be a number or a rectangular list of numbers",
                col,
            )
            continue
        size = 1
        for dim in parsed[1]:
            size *= dim
        if size > MAX_GIVEN_ELEMENTS:
            reader.problems.error(
                reader.path,
                line,
                f"given `{name}` has {size} numbers; at most {MAX_GIVEN_ELEMENTS}",
            )
            continue
        given.append((name, parsed[0]))
    names = [g[0] for g in given]
    requires = values.get("requires_grad", names)
    for name in requires:
        if name not in values["given"]:
            reader.error("requires_grad", f"requires_grad names `{name}`, which is not in `given`")
    ask = values["ask"].strip()
    if ask != "value":
        leaf = ask.removesuffix(".grad")
        if not ask.endswith(".grad") or leaf not in values["given"]:
            reader.error(
                "ask",
                f'ask = "{ask}" names nothing in `given`; use "value" or "NAME.grad" '
                f"with NAME one of: {', '.join(values['given']) or '(none)'}",
            )
        elif leaf not in requires:
            reader.error("ask", f'ask = "{ask}" but `{leaf}` is not in requires_grad')
    tolerance = float(values.get("tolerance", 1e-6))
    if tolerance <= 0:
        reader.error("tolerance", "tolerance must be positive")
    return ValueExercise(
        given=tuple(given),
        requires_grad=tuple(r for r in requires if r in names),
        compute=values["compute"],
        ask=ask,
        tolerance=tolerance,
        **common,
    )


def _tensor(values: dict[str, Any], reader: TableReader, common: dict) -> Exercise:
    target = values["target"].strip()
    if target not in TENSOR_TARGETS:
        reader.error("target", f'target "{target}" is not one of: {", ".join(TENSOR_TARGETS)}')
    sizes = {}
    shape_reader = _sub_reader(reader, "shapes", 0, "`shapes`")
    shape_values = shape_reader.read(
        values.get("shapes", {}), [Key("n", "int"), Key("d_in", "int"), Key("hidden", "int")]
    )
    for name, size in shape_values.items():
        if size < 1:
            shape_reader.error(name, f"shapes.{name} must be at least 1, not {size}")
        else:
            sizes[name] = size
    shapes = Shapes(**sizes)
    largest = max(shapes.n * shapes.d_in, shapes.d_in * shapes.hidden, shapes.n * shapes.hidden)
    if largest > MAX_TENSOR_ELEMENTS:
        reader.error(
            "shapes", f"shapes make a tensor of {largest} numbers; at most {MAX_TENSOR_ELEMENTS}"
        )
    return TensorExercise(
        target=target,
        answer=values.get("answer"),
        shapes=shapes,
        seed=values.get("seed", 0),
        **common,
    )


def _choice(values: dict[str, Any], reader: TableReader, common: dict) -> Exercise:
    options = []
    for i, entry in enumerate(values["option"]):
        sub = _sub_reader(reader, "option", i, f"[[option]] number {i + 1}")
        opt = sub.read(entry, [Key("text", "str", True), Key("correct", "bool"), Key("why", "str")])
        if "text" in opt:
            line = reader.locator.table("option", i)
            options.append(Option(opt["text"], opt.get("correct", False), opt.get("why"), line))
    if len(values["option"]) < 2:
        reader.error("option", "a choice exercise needs at least two [[option]] tables")
    elif not any(o.correct for o in options):
        reader.error("option", "no option is marked `correct = true`")
    return ChoiceExercise(options=tuple(options), **common)


def _stepper(data: dict[str, Any], reader: TableReader, line: int) -> StepperBlock | None:
    values = reader.read(data, _STEPPER_KEYS)
    size = NetworkSize(**values)
    problems = size.problems()
    for name, message in problems.items():
        reader.error(name if name in data else "n", message)
    return None if problems else StepperBlock(line=line, size=size)


def _training(
    data: dict[str, Any], reader: TableReader, line: int, pack_dir: Path
) -> TrainingBlock | None:
    model = data.get("model")
    if isinstance(model, str) and model not in _TRAINING_KEYS:
        reader.error("model", f'unknown model "{model}"; use "adaline" or "linear"')
        return None
    keys = _TRAINING_COMMON + _TRAINING_KEYS.get(model if isinstance(model, str) else "", [])
    errors_before = len(reader.problems.errors)
    values = reader.read(data, keys)
    if not {k.name for k in keys if k.required} <= values.keys():
        return None
    for key, ceiling in (
        ("epochs", sizes.MAX_EPOCHS),
        ("batch", 10**9),
        ("steps", sizes.MAX_STEPS),
    ):
        if key in values and not 1 <= values[key] <= ceiling:
            reader.error(key, f"`{key}` must be from 1 to {ceiling:,}, not {values[key]:,}")
    for key, check in (("lr", sizes.lr_problem), ("seed", sizes.seed_problem)):
        message = check(values[key]) if key in values else None
        if message:
            reader.error(key, message)
    for key in ("start", "stop", "step", "slope", "noise", "w0", "b0"):
        if key in values and abs(values[key]) > sizes.MAX_MAGNITUDE:
            reader.error(
                key, f"`{key}` must be within ±{sizes.MAX_MAGNITUDE:g}, not {values[key]:g}"
            )
    if len(reader.problems.errors) > errors_before:
        return None
    if model == "adaline":
        return _adaline(values, reader, line, pack_dir)
    return _linear(values, reader, line)


_FLOATS = {"lr", "start", "stop", "step", "slope", "noise", "w0", "b0", "test_fraction"}


def _block(line: int, values: dict[str, Any]) -> TrainingBlock:
    return TrainingBlock(
        line=line, **{k: float(v) if k in _FLOATS else v for k, v in values.items()}
    )


def _linear(values: dict[str, Any], reader: TableReader, line: int) -> TrainingBlock | None:
    block = _block(line, values)
    if block.step <= 0:
        reader.error("step", "`step` must be positive")
        return None
    if block.start >= block.stop:
        reader.error("start", "`start` must be below `stop`")
        return None
    points = math.ceil((block.stop - block.start) / block.step)
    if points > sizes.MAX_POINTS:
        reader.error(
            "step",
            f"from `start` to `stop` by `step` makes {points:,} points; at most {sizes.MAX_POINTS:,}",
        )
        return None
    if points * block.steps > sizes.MAX_POINT_STEPS:
        reader.error(
            "steps",
            f"{points:,} points × {block.steps:,} steps is too long a run for the tutor "
            f"(at most {sizes.MAX_POINT_STEPS:,})",
        )
        return None
    return block


def _adaline(
    values: dict[str, Any], reader: TableReader, line: int, pack_dir: Path
) -> TrainingBlock | None:
    data_path = pack_dir / values["data"]
    if not data_path.resolve().is_relative_to(pack_dir.resolve()):
        reader.error("data", "`data` must name a file inside the pack")
        return None
    if not data_path.is_file():
        reader.error("data", f'data file "{values["data"]}" does not exist in the pack')
        return None
    rows = _read_csv(data_path, pack_dir, reader.problems)
    if rows is None:
        return None
    if not rows:
        reader.error("data", f'data file "{values["data"]}" is not a readable CSV with a header')
        return None
    header = [h.strip() for h in rows[0][1]]
    missing = [c for c in (*values["features"], values["target"]) if c not in header]
    if missing:
        reader.error("features", f"columns not in {values['data']}: {', '.join(missing)}")
        return None
    classes = values["classes"]
    if len(classes) != 2:
        reader.error("classes", "ADALINE needs exactly two classes")
        return None
    target = header.index(values["target"])
    features = [header.index(f) for f in values["features"]]
    used = [(n, r) for n, r in rows[1:] if len(r) > target and r[target].strip() in classes]
    absent = [c for c in classes if not any(r[target].strip() == c for _, r in used)]
    if absent:
        reader.error("classes", f"no row of {values['data']} has {values['target']} = {absent[0]}")
        return None
    for lineno, row in used:
        for col in features:
            cell = row[col].strip() if len(row) > col else ""
            try:
                ok = math.isfinite(float(cell))
            except ValueError:
                ok = False
            if not ok:
                reader.problems.error(
                    data_path,
                    lineno,
                    f'the {header[col]} of this {row[target].strip()} row is "{cell}", not a number',
                )
                return None
    bad = [m for m in values.get("methods", ()) if m not in TRAINING_METHODS]
    if bad:
        reader.error("methods", f'unknown method "{bad[0]}"; use {", ".join(TRAINING_METHODS)}')
        return None
    fraction = float(values.get("test_fraction", 0.3))
    if not 0 <= fraction < 1:
        reader.error("test_fraction", "`test_fraction` must be at least 0 and below 1")
        return None
    train_rows = len(used) - int(round(fraction * len(used)))
    batch = values.get("batch", 10)
    updates = values.get("epochs", 20) * max(1, math.ceil(train_rows / batch))
    if updates > sizes.MAX_UPDATES:
        reader.error(
            "epochs",
            f"{updates:,} minibatch updates per method ({train_rows} rows in batches of {batch}); "
            f"at most {sizes.MAX_UPDATES:,}: fewer epochs or larger batches",
        )
        return None
    values = dict(values)
    values["data"] = data_path.resolve()
    for key in ("features", "classes", "methods"):
        if key in values:
            values[key] = tuple(values[key])
    return _block(line, values)


def _read_csv(
    path: Path, pack_dir: Path, problems: ProblemList
) -> list[tuple[int, list[str]]] | None:
    """The rows of a data file with their line numbers; None (reported) when unreadable."""
    text = read_text(path, problems, sizes.MAX_DATA_BYTES, pack_dir)
    if text is None:
        return None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        problems.error(path, 1, f"not a readable CSV file: {exc}")
        return None


def _check_lesson_graph(lessons: list[Lesson], problems: ProblemList) -> None:
    """Unique lesson ids, known `requires`, and no cycle through requirements."""
    by_id: dict[str, Lesson] = {}
    for lesson in lessons:
        if lesson.id in by_id:
            problems.error(
                lesson.path,
                2,
                f'lesson id "{lesson.id}" is already used by {by_id[lesson.id].path.name}',
            )
        else:
            by_id[lesson.id] = lesson
    graph: dict[str, tuple[str, ...]] = {}
    for i, lesson in enumerate(lessons):
        if by_id[lesson.id] is not lesson:
            continue  # a duplicate, reported above: it takes no part in the graph
        if lesson.requires is None:
            graph[lesson.id] = (lessons[i - 1].id,) if i > 0 else ()
            continue
        for req in lesson.requires:
            if req not in by_id:
                problems.error(
                    lesson.path, lesson.requires_line, f'requires names an unknown lesson "{req}"'
                )
        graph[lesson.id] = tuple(r for r in lesson.requires if r in by_id)
    for cycle in _cycles(graph):
        first = by_id[cycle[0]]
        problems.error(
            first.path,
            first.requires_line,
            "lessons require each other in a cycle, so none can open: "
            + " -> ".join((*cycle, cycle[0])),
        )


def _cycles(graph: dict[str, tuple[str, ...]]) -> Iterable[list[str]]:
    """Each cycle once (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}
    found = []
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            children = graph.get(node, ())
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if state.get(child) == 1:
                    found.append(path[path.index(child) :])
                elif not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return found
