"""The instructor's report: class directories and progress exports, in any mix.

Sources are merged by the folded learner name (the same learner in two sources is merged
with a warning: an exercise solved in either is solved, counts take the larger, remembered
mistakes are pooled). Per learner: lessons completed, exercises solved, revealed,
attempts, hints, and solved per pack. Per exercise: how many tried it, solved it, solved
it at the first attempt, the median attempts of those who tried, hints, solutions
revealed, the most common wrong answers and the feedback that fired most.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .classroom import ClassError, ClassRoom, fold_name, safe_text
from .exports import read_export_file
from .progress import empty, exercise_records, upgraded
from .safefile import read_json
from .text import mask_numbers

TOP = 3
"""Wrong answers and feedback listed per exercise."""


@dataclass
class Learner:
    """One learner's progress, from one or more sources."""

    name: str
    sources: list[str]
    progress: dict[str, Any]
    learner_id: str = ""
    """The roster id (from the roster, or carried by an export)."""
    last_active: str = ""
    """When the learner's progress last changed (`YYYY-MM-DD HH:MM`, UTC), as far as the
    sources tell: a class directory's file time, an export's own time."""
    never_signed_in: bool = False
    """On a class's roster (or given an account by it) but no session opened yet."""

    @property
    def last_seen(self) -> str:
        """The last activity as the report writes it for people."""
        if self.last_active:
            return self.last_active
        return "never signed in" if self.never_signed_in else ""


@dataclass
class ExerciseStats:
    """What the class did with one exercise."""

    pack: str
    lesson: str
    exercise: str
    title: str = ""
    tried: int = 0
    solved: int = 0
    first_attempt: int = 0
    attempts: list[int] = field(default_factory=list)
    hints: int = 0
    revealed: int = 0
    wrong: Counter[str] = field(default_factory=Counter)
    said: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)
    """Wrong answers by what fired (a [[feedback]] entry or a kind of diagnosis)."""
    labels: dict[str, str] = field(default_factory=dict)
    """What each group said, as one learner read it."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """Up to two example answers per group."""

    @property
    def median_attempts(self) -> float | None:
        """The median attempts of those who tried it."""
        return statistics.median(self.attempts) if self.attempts else None


@dataclass
class Report:
    """Everything `gradtutor report` shows."""

    learners: list[Learner]
    exercises: list[ExerciseStats]
    packs: list[str]
    warnings: list[str]
    columns: list[ExerciseStats] = field(default_factory=list)
    """Every exercise of the packs the learners used, in the pack's order (the grid's
    columns), tried or not."""
    lessons: list[tuple[str, str, str]] = field(default_factory=list)
    """(pack, lesson id, title) of every lesson, in order."""

    @property
    def untried(self) -> list[ExerciseStats]:
        """Exercises nobody tried."""
        return [s for s in self.columns if s.tried == 0]


def gather(paths: list[Path]) -> tuple[list[Learner], list[str]]:
    """Learners from class directories and export files; warnings for what was skipped
    or merged."""
    found: dict[str, Learner] = {}
    warnings: list[str] = []
    ids: dict[str, str] = {}
    roster_ids: dict[str, str] = {}

    def add(name: str, progress: dict[str, Any], source: str) -> Learner:
        name = safe_text(name)  # from a file: no control or bidi character reaches a cell
        key = fold_name(name)
        if key in found:
            known = found[key]
            also = f" (as {name!r})" if name != known.name else ""
            warnings.append(
                f"{known.name}: found in {', '.join(known.sources)} and in {source}{also}; merged"
            )
            _merge(known.progress, progress)
            known.sources.append(source)
            return known
        found[key] = Learner(name, [source], progress)
        return found[key]

    for path in paths:
        if path.is_dir():
            room = ClassRoom(path)
            members = room.members()
            roster = room.roster()
            for folded, entry in (roster or {}).items():
                roster_ids[folded] = entry["id"]
            if not members and not room.learners.is_dir():
                warnings.append(f"{path}: not a class directory (no learners/ in it); skipped")
            for name, failures, addresses in room.locked_out():
                where = f" from {', '.join(addresses)}" if addresses else ""
                warnings.append(
                    f"{name}: {failures} wrong PINs in a row{where}; sign-ins wait. "
                    f"`gradtutor serve --reset-pin {name!r}` gives them a one-time PIN"
                )
            for account in room.unreadable_accounts():
                warnings.append(
                    f"{account}: cannot be read, so that learner cannot sign in; "
                    "`gradtutor serve --reset-pin NAME` repairs it, keeping the progress"
                )
            for name, home in members:
                if roster is not None and fold_name(name) not in roster:
                    warnings.append(
                        f"{safe_text(name)}: not on the class roster (an account from before "
                        "it); cannot sign in, listed with the progress made"
                    )
                if not (home / "progress.json").exists():  # no session opened yet
                    _never_signed_in(add(name, empty(), str(path)))
                    continue
                progress = _read_progress(home / "progress.json")
                if progress is None:
                    warnings.append(f"{home / 'progress.json'}: unreadable; {name} skipped")
                    continue
                add(name, progress, str(path))
                _seen(found[fold_name(safe_text(name))], _file_time(home / "progress.json"))
            registered = {fold_name(name) for name, _ in members}
            for folded, entry in (roster or {}).items():
                if folded not in registered:  # on the roster, no account yet
                    _never_signed_in(add(entry["name"], empty(), str(path)))
        else:
            try:
                export = read_export_file(path)
            except ClassError as exc:
                warnings.append(f"{exc}; skipped")
                continue
            if not export.checksum_ok:
                warnings.append(
                    f"{path}: the progress of {safe_text(export.name)} does not match the "
                    "export's checksum: the file was edited after it was exported"
                )
            elif export.checksum is None:
                warnings.append(
                    f"{path}: no checksum (exported by an older gradtutor); not verified"
                )
            add(export.name, export.progress, str(path))
            if export.learner_id:
                ids[fold_name(safe_text(export.name))] = export.learner_id
            if export.exported:
                _seen(
                    found[fold_name(safe_text(export.name))], export.exported.replace("T", " ")[:16]
                )
    for key, learner in found.items():
        on_roster = roster_ids.get(key)
        carried = ids.get(key)
        if on_roster and carried and carried != on_roster:
            warnings.append(
                f"{learner.name}: the export says id {carried!r}, the roster {on_roster!r}; "
                "the roster's is used"
            )
        learner.learner_id = on_roster or carried or ""
    learners = sorted(found.values(), key=lambda le: fold_name(le.name))
    return learners, warnings


def _never_signed_in(learner: Learner) -> None:
    """A class's learner with no session yet: said so, unless another source (an
    export) brought progress."""
    if len(learner.sources) == 1:
        learner.never_signed_in = True


def _seen(learner: Learner, when: str) -> None:
    if when > learner.last_active:
        learner.last_active = when


def _file_time(path: Path) -> str:
    import time

    try:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(path.stat().st_mtime))
    except OSError:
        return ""


def _read_progress(path: Path) -> dict[str, Any] | None:
    try:
        return upgraded(read_json(path))
    except (OSError, ValueError):
        return None


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for pack_id, pack in other.get("packs", {}).items():
        target = into.setdefault("packs", {}).setdefault(pack_id, {"lessons": {}})
        for lesson_id, lesson in pack.get("lessons", {}).items():
            mine = target.setdefault("lessons", {}).setdefault(lesson_id, {"exercises": {}})
            mine["completed"] = bool(mine.get("completed")) or bool(lesson.get("completed"))
            for ex_id, record in lesson.get("exercises", {}).items():
                have = mine.setdefault("exercises", {}).get(ex_id)
                if have is None:
                    mine["exercises"][ex_id] = record
                    continue
                for key in ("solved", "revealed"):
                    have[key] = bool(have.get(key)) or bool(record.get(key))
                for key in ("attempts", "hints"):
                    have[key] = max(int(have.get(key, 0)), int(record.get(key, 0)))
                have["mistakes"] = (have.get("mistakes", []) + record.get("mistakes", []))[-10:]


def build(paths: list[Path], pack_dirs: list[Path] | None = None) -> Report:
    """The report over `paths`; exercises in the order of the packs in `pack_dirs` (those
    the learners touched), then any others by id."""
    learners, warnings = gather(paths)
    stats: dict[tuple[str, str, str], ExerciseStats] = {}
    used = {p for le in learners for p in le.progress.get("packs", {})}
    loaded = _packs(list(pack_dirs or []) + _opened_from(learners), used)
    for pack in loaded:
        for lesson in pack.lessons:
            for ex in lesson.exercises:
                title = f"{lesson.title}: exercise {lesson.exercises.index(ex) + 1}"
                stats[pack.id, lesson.id, ex.id] = ExerciseStats(pack.id, lesson.id, ex.id, title)
    touched: set[tuple[str, str, str]] = set()
    for learner in learners:
        for pack_id, lesson_id, ex_id, record in exercise_records(learner.progress):
            key = (pack_id, lesson_id, ex_id)
            entry = stats.setdefault(key, ExerciseStats(*key))
            attempts = int(record.get("attempts", 0))
            if not (
                attempts or record.get("solved") or record.get("revealed") or record.get("hints")
            ):
                continue
            touched.add(key)
            entry.tried += 1
            entry.attempts.append(attempts)
            entry.solved += bool(record.get("solved"))
            entry.first_attempt += bool(record.get("solved")) and attempts == 1
            entry.hints += int(record.get("hints", 0))
            entry.revealed += bool(record.get("revealed"))
            for mistake in record.get("mistakes", []):
                if not isinstance(mistake, dict):
                    continue
                answer = mistake.get("answer")
                if isinstance(answer, str) and answer:
                    entry.wrong[safe_text(answer, 200)] += 1
                said = mistake.get("feedback") or mistake.get("diagnosis")
                if isinstance(said, str) and said:
                    entry.said[safe_text(said, 500)] += 1
                group = _group_of(mistake)
                if group is not None:
                    entry.groups[group] += 1
                    entry.labels.setdefault(group, safe_text(str(said or group), 300))
                    examples = entry.examples.setdefault(group, [])
                    if isinstance(answer, str) and answer and len(examples) < 2:
                        if safe_text(answer, 200) not in examples:
                            examples.append(safe_text(answer, 200))
    exercises = [s for k, s in stats.items() if k in touched]
    packs = sorted({k[0] for k in touched})
    known = {p.id for p in loaded}
    columns = [s for k, s in stats.items() if k[0] in known or k in touched]
    lessons = [(p.id, le.id, le.title) for p in loaded for le in p.lessons if p.id in packs]
    return Report(learners, exercises, packs, warnings, columns, lessons)


def _group_of(mistake: dict[str, Any]) -> str | None:
    """What a mistake is grouped by: its key (third edition), else, for mistakes recorded
    before, its feedback (or diagnosis) with the numbers masked."""
    key = mistake.get("key")
    if isinstance(key, str) and key:
        return safe_text(key, 300)
    said = mistake.get("feedback") or mistake.get("diagnosis")
    if not isinstance(said, str) or not said:
        return None
    return "text:" + mask_numbers(safe_text(said, 300))


def _opened_from(learners: list[Learner]) -> list[Path]:
    """Where the learners' tutors opened their packs from (existing pack directories)."""
    found: list[Path] = []
    for learner in learners:
        for pack in learner.progress.get("packs", {}).values():
            where = pack.get("opened_from") if isinstance(pack, dict) else None
            if isinstance(where, str) and len(where) < 4_096:
                path = Path(where)
                try:
                    if (path / "pack.toml").is_file() and path not in found:
                        found.append(path)
                except (OSError, ValueError):
                    continue
    return found


def _packs(pack_dirs: list[Path], used: set[str] | None = None) -> list[Any]:
    """The packs in `pack_dirs` (those the learners used, when `used` is given), each id
    once, in the order given."""
    from .packs import load_pack

    out: list[Any] = []
    for directory in pack_dirs:
        result = load_pack(directory)
        pack = result.pack
        if pack is None or any(p.id == pack.id for p in out):
            continue
        if used is None or pack.id in used:
            out.append(pack)
    return out


def learner_row(learner: Learner, packs: list[str]) -> dict[str, Any]:
    """One learner's totals: the CSV row."""
    records = exercise_records(learner.progress)
    completed = sum(
        bool(lesson.get("completed"))
        for pack in learner.progress.get("packs", {}).values()
        for lesson in pack.get("lessons", {}).values()
    )
    row: dict[str, Any] = {
        "learner": learner.name,
        "lessons_completed": completed,
        "solved": sum(bool(r.get("solved")) for *_, r in records),
        "revealed": sum(bool(r.get("revealed")) for *_, r in records),
        "attempts": sum(int(r.get("attempts", 0)) for *_, r in records),
        "hints": sum(int(r.get("hints", 0)) for *_, r in records),
    }
    for pack in packs:
        row[f"solved:{pack}"] = sum(bool(r.get("solved")) for p, _, _, r in records if p == pack)
    return row


def cell(learner: Learner, stats: ExerciseStats) -> tuple[str, int]:
    """One learner × exercise: (`solved`, `revealed`, `tried` or "", attempts); solved
    wins over revealed."""
    record = (
        learner.progress.get("packs", {})
        .get(stats.pack, {})
        .get("lessons", {})
        .get(stats.lesson, {})
        .get("exercises", {})
        .get(stats.exercise)
    )
    if not isinstance(record, dict):
        return "", 0
    attempts = int(record.get("attempts", 0) or 0)
    if record.get("solved"):
        return "solved", attempts
    if record.get("revealed"):
        return "revealed", attempts
    if attempts or record.get("hints"):
        return "tried", attempts
    return "", 0


def lesson_done(learner: Learner, pack: str, lesson: str) -> bool:
    """Whether the learner completed a lesson."""
    record = learner.progress.get("packs", {}).get(pack, {}).get("lessons", {}).get(lesson, {})
    return isinstance(record, dict) and bool(record.get("completed"))


def to_csv(report: Report) -> str:
    """One row per learner, for a spreadsheet or a gradebook: UTF-8 with a byte-order
    mark; `id, learner, last_active, lessons_completed, solved, revealed, attempts,
    hints`, then `done:PACK/LESSON` (0/1) per lesson, `PACK/LESSON/EXERCISE` (solved,
    revealed, tried or empty) per exercise, and `solved:PACK` per pack."""
    out = io.StringIO()
    head = ["id", "learner", "last_active", "lessons_completed", "solved", "revealed"]
    head += ["attempts", "hints"]
    lessons = [f"done:{p}/{le}" for p, le, _ in report.lessons]
    exercises = [f"{s.pack}/{s.lesson}/{s.exercise}" for s in report.columns]
    packs = [f"solved:{p}" for p in report.packs]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head + lessons + exercises + packs)
    for learner in report.learners:
        totals = learner_row(learner, report.packs)
        row: list[Any] = [learner.learner_id, learner.name, learner.last_active]
        row += [totals[k] for k in ("lessons_completed", "solved", "revealed", "attempts", "hints")]
        row += [int(lesson_done(learner, p, le)) for p, le, _ in report.lessons]
        row += [cell(learner, s)[0] for s in report.columns]
        row += [totals[f"solved:{p}"] for p in report.packs]
        writer.writerow([spreadsheet_safe(v) for v in row])
    return "\ufeff" + out.getvalue()


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text: control characters made visible, and a
    leading = + - @ (after any white space) quoted, so that it is never run as a
    formula."""
    if not isinstance(value, str):
        return value
    value = safe_text(value, 10_000)
    if value.lstrip().startswith(("=", "+", "-", "@")):
        return "'" + value
    return value


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    return counter.most_common(TOP)


_CELL_MARKS = {"solved": "✓", "revealed": "◐", "tried": "·", "": ""}


def to_text_tables(report: Report) -> Any:
    """The report as rich tables, for the terminal."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    people = Table(title="Learners", title_justify="left")
    for column in ("learner", "lessons done", "solved", "revealed", "attempts", "hints"):
        people.add_column(column, justify="left" if column == "learner" else "right")
    for learner in report.learners:
        row = learner_row(learner, report.packs)
        people.add_row(
            Text(row["learner"]),
            *(
                str(row[k])
                for k in ("lessons_completed", "solved", "revealed", "attempts", "hints")
            ),
        )
    work = Table(title="Exercises (1st: solved at the first attempt)", title_justify="left")
    work.add_column("exercise", overflow="fold", min_width=16)
    for column in ("tried", "solved", "1st", "median", "hints", "shown"):
        work.add_column(column, justify="right")
    work.add_column("wrong answers", overflow="fold")
    work.add_column("feedback", overflow="fold")
    for s in report.exercises:
        median = "" if s.median_attempts is None else f"{s.median_attempts:g}"
        work.add_row(
            Text(safe_text(f"{s.lesson}/{s.exercise}", 200)),
            str(s.tried),
            str(s.solved),
            str(s.first_attempt),
            median,
            str(s.hints),
            str(s.revealed),
            Text("\n".join(f"{safe_text(a, 200)} ×{n}" for a, n in _top(s.wrong))),
            Text("\n".join(f"{safe_text(m, 60)} ×{n}" for m, n in _top(s.said))),
        )
    notes = [Text(f"⚠ {safe_text(w, 2_000)}", style="yellow") for w in report.warnings]
    return Group(*notes, people, _text_grid(report), work, _text_groups(report))


def _text_grid(report: Report) -> Any:
    """Learners × exercises in the terminal: columns numbered, a key below."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    grid = Table(
        title="Who is where (✓ solved · ◐ shown · · tried; attempts beside)", title_justify="left"
    )
    grid.add_column("learner")
    grid.add_column("last active")
    for i, _ in enumerate(report.columns, 1):
        grid.add_column(str(i), justify="center")
    styles = {"solved": "green", "revealed": "yellow", "tried": "cyan", "": ""}
    for learner in report.learners:
        cells = []
        for s in report.columns:
            state, attempts = cell(learner, s)
            mark = _CELL_MARKS[state] + (str(attempts) if state and attempts else "")
            cells.append(Text(mark, style=styles[state]))
        grid.add_row(Text(learner.name), Text(learner.last_seen, style="dim"), *cells)
    key = Text(
        "  ".join(f"{i}={s.lesson}/{s.exercise}" for i, s in enumerate(report.columns, 1)),
        style="dim",
    )
    untried = Text(
        "Nobody tried yet: " + ", ".join(f"{s.lesson}/{s.exercise}" for s in report.untried)
        if report.untried
        else ""
    )
    return Group(grid, key, untried)


def _text_groups(report: Report) -> Any:
    """The mistakes of each exercise, grouped by what fired, with examples."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="What went wrong, by what fired", title_justify="left")
    table.add_column("exercise", overflow="fold")
    table.add_column("n", justify="right")
    table.add_column("said", overflow="fold")
    table.add_column("examples", overflow="fold")
    for s in report.exercises:
        for group, n in _top(s.groups):
            table.add_row(
                Text(safe_text(f"{s.lesson}/{s.exercise}", 200)),
                str(n),
                Text(safe_text(s.labels.get(group, group), 300)),
                Text(", ".join(s.examples.get(group, []))),
            )
    return table


__all__ = ["Report", "build", "cell", "lesson_done", "to_csv", "to_text_tables"]
