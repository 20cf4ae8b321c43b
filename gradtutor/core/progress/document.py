"""The progress document: its layout, migrations between versions, and repair of
entries of the wrong type. Plain data, no files: the store reads and writes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 4
REVEAL_AFTER = 3
"""Wrong attempts (in one round) after which the solution is shown, and recorded as revealed."""
RAISE_AFTER = 2
"""Right answers in a row after which a practice block's depth goes up."""
MAX_MISTAKES = 5
"""Wrong answers remembered per exercise (the most recent), for the instructor's report."""
MAX_MISTAKE_CHARS = 200
"""A remembered answer or message is cut to this many characters."""


def new_learner_id() -> str:
    """A random learner id: the seed of the learner's own variants."""
    import secrets

    return secrets.token_hex(8)


def empty() -> dict[str, Any]:
    """A fresh progress document."""
    return {"version": SCHEMA_VERSION, "learner": new_learner_id(), "packs": {}, "last": None}


FIRST_EDITION: dict[str, dict[str, tuple[str, ...]]] = {
    "backprop-from-scratch": {
        "derivatives": ("square", "grad-at-5", "finite-difference"),
        "chain-rule": ("square-of-line", "bell", "neuron", "log", "three-links", "order"),
        "autograd-linear": ("forward-z", "dl-dw1", "w-grad", "y-grad", "x-grad", "why-negative"),
        "accumulate-zero-update": (
            "accumulated",
            "backward-twice",
            "updated-w1",
            "spot-the-bug",
            "why-no-grad",
        ),
        "manual-backprop": (
            "loss-shape",
            "out-g",
            "broadcast",
            "w2-grad",
            "b2-grad",
            "l2-g",
            "l1-g",
            "w1-grad",
            "x-grad",
        ),
        "adaline": ("adaline-grad", "minibatch-grad", "retain-graph", "zero-grad"),
        "sgd": ("point-grad", "b-grad-start", "loop-order"),
    }
}
"""The exercises of the built-in pack's first edition, lesson by lesson. Version 1 files
recorded no completion for lessons with exercises (it was derived); the second edition
adds exercises, so a lesson completed then is recorded as completed on migration."""


def _v1_to_v2(data: dict[str, Any]) -> None:
    """Version 2 gives the learner an id (for their own variants), and records the
    completions that version 1 only derived (first-edition lessons of the built-in pack)."""
    data.setdefault("learner", new_learner_id())
    for pack_id, lessons in FIRST_EDITION.items():
        records = data["packs"].get(pack_id, {}).get("lessons", {})
        for lesson_id, exercises in lessons.items():
            record = records.get(lesson_id)
            if not isinstance(record, dict):
                continue
            solved = record.get("exercises", {})
            if all(solved.get(e, {}).get("solved") is True for e in exercises):
                record["completed"] = True


def _v2_to_v3(data: dict[str, Any]) -> None:
    """Version 3 counts rounds: each exercise record gains `round` (0: the learner's first
    variant), `variants_solved`, and `current`, this round's own record (so far the only
    round, a copy of the totals). Nothing is removed."""
    for *_, record in exercise_records(data):
        record.setdefault("round", 0)
        record.setdefault("variants_solved", 1 if record.get("solved") is True else 0)
        record.setdefault("current", {key: record[key] for key in ROUND_KEYS if key in record})


def _v3_to_v4(data: dict[str, Any]) -> None:
    """Version 4 remembers mistakes: each exercise record gains `mistakes`, the last few
    wrong answers with what they were told (none are known for older attempts). Nothing
    is removed."""
    for *_, record in exercise_records(data):
        record.setdefault("mistakes", [])


def exercise_records(data: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every exercise record of a document with its ids: (pack, lesson, exercise, record);
    entries of the wrong shape are passed over."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    for pack_id, pack in data.get("packs", {}).items():
        if not isinstance(pack, dict) or not isinstance(pack.get("lessons", {}), dict):
            continue
        for lesson_id, lesson in pack.get("lessons", {}).items():
            if not isinstance(lesson, dict) or not isinstance(lesson.get("exercises"), dict):
                continue
            for ex_id, record in lesson["exercises"].items():
                if isinstance(record, dict):
                    out.append((pack_id, lesson_id, ex_id, record))
    return out


Mistake = tuple[str, str | None, str | None] | tuple[str, str | None, str | None, str | None]
"""(answer, feedback, diagnosis[, key]): the key groups like mistakes in the report."""


def remember_mistake(
    record: dict[str, Any],
    answer: str,
    feedback: str | None,
    diagnosis: str | None,
    key: str | None = None,
) -> None:
    """Add a wrong answer (normalised) to an exercise record, keeping the last
    MAX_MISTAKES: `feedback` is the authored message it matched, `diagnosis` what the
    checker found, either None."""

    def cut(text: str | None) -> str | None:
        return None if text is None else text[:MAX_MISTAKE_CHARS]

    mistakes = record.get("mistakes")
    if not isinstance(mistakes, list):
        mistakes = []
    mistake = {"answer": cut(answer), "feedback": cut(feedback), "diagnosis": cut(diagnosis)}
    if key is not None:  # third edition: what fired, stable across learners' numbers
        mistake["key"] = cut(key)
    mistakes.append(mistake)
    record["mistakes"] = mistakes[-MAX_MISTAKES:]


ROUND_KEYS = ("solved", "attempts", "hints", "revealed")
"""What `current` holds: one round's record."""

MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
}
"""version -> the change that turns a document of that version into the next."""


def practice_step(
    record: dict[str, Any], correct: bool, depths: tuple[int, int], streak_goal: int
) -> None:
    """A practice block's answer, in place: two right in a row raise the depth, a wrong
    one lowers it; `streak` counts right answers in a row at the top depth, and reaching
    the goal solves the block."""
    low, high = depths
    depth = min(max(record.get("depth", low), low), high)
    if correct:
        at_top = depth == high
        record["run"] = record.get("run", 0) + 1
        record["streak"] = record.get("streak", 0) + 1 if at_top else 0
        if not at_top and record["run"] >= RAISE_AFTER:
            depth, record["run"] = depth + 1, 0
    else:
        depth, record["run"], record["streak"] = max(low, depth - 1), 0, 0
    record["depth"] = depth
    if record["streak"] >= streak_goal:
        record["solved"] = True


def migrate(data: dict[str, Any]) -> bool:
    """Bring a document up to SCHEMA_VERSION in place; True when anything changed."""
    changed = False
    while data["version"] < SCHEMA_VERSION:
        MIGRATIONS[data["version"]](data)
        data["version"] += 1
        changed = True
    return changed


NONFINITE = object()
"""What NaN and Infinity in the file become while reading: a value of no known type."""
MAX_COUNT = 10**9


def _count_ok(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT


_ROUND_KEYS: dict[str, Callable[[Any], bool]] = {
    "solved": lambda v: type(v) is bool,
    "revealed": lambda v: type(v) is bool,
    "attempts": _count_ok,
    "hints": _count_ok,
}
_EXERCISE_KEYS: dict[str, Callable[[Any], bool]] = {
    **_ROUND_KEYS,
    "round": _count_ok,
    "variants_solved": _count_ok,
    "current": lambda v: isinstance(v, dict),
    "depth": _count_ok,
    "streak": _count_ok,
    "run": _count_ok,
    "breakdowns": _count_ok,
    "program": lambda v: isinstance(v, str) and len(v) <= 4_000,
    "mistakes": lambda v: isinstance(v, list),
}


class _Repair:
    """Drops known keys of the wrong type (and NaN, Infinity) and says what went."""

    def __init__(self) -> None:
        self.dropped: list[str] = []

    def drop(self, where: str, why: str) -> None:
        self.dropped.append(f"{where} ({why})")

    def nonfinite(self, value: Any, where: str) -> Any:
        """Unknown keys are kept, except numbers JSON cannot hold (NaN, Infinity), which
        are removed in place. A walk with its own stack: no nesting exhausts Python's."""
        if value is NONFINITE:
            return None
        stack: list[tuple[Any, str]] = [(value, where)]
        while stack:
            node, at = stack.pop()
            if isinstance(node, dict):
                for k in list(node):
                    v = node[k]
                    if v is NONFINITE:
                        self.drop(f"{at}{k}", "not a finite number")
                        del node[k]
                    elif isinstance(v, dict | list):
                        stack.append((v, f"{at}{k}."))
            elif isinstance(node, list):
                node[:] = [v for v in node if v is not NONFINITE]
                stack.extend((v, at) for v in reversed(node) if isinstance(v, dict | list))
        return value

    def table(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key, {})
        if isinstance(value, dict):
            return value
        self.drop(where, "not a table")
        table: dict[str, Any] = {}
        parent[key] = table
        return table

    def document(self, data: dict[str, Any]) -> None:
        for pack_id, pack in list(self.table(data, "packs", "packs").items()):
            if not isinstance(pack, dict):
                self.drop(f"packs.{pack_id}", "not a table")
                del data["packs"][pack_id]
                continue
            if "opened_from" in pack and not isinstance(pack["opened_from"], str):
                self.drop(f"{pack_id} opened_from", "not a string")
                del pack["opened_from"]
            lessons = self.table(pack, "lessons", f"{pack_id}.lessons")
            for lesson_id, lesson in list(lessons.items()):
                where = f"{pack_id}/{lesson_id}"
                if not isinstance(lesson, dict):
                    self.drop(where, "not a table")
                    del lessons[lesson_id]
                    continue
                if "completed" in lesson and type(lesson["completed"]) is not bool:
                    self.drop(f"{where} completed", "not true or false")
                    del lesson["completed"]
                exercises = self.table(lesson, "exercises", f"{where} exercises")
                for ex_id, record in list(exercises.items()):
                    self.exercise(exercises, ex_id, record, f"{where}/{ex_id}")
        if "learner" in data and not isinstance(data["learner"], str):
            self.drop("learner", "not a string")
            del data["learner"]
        last = data.get("last")
        if last is not None and not (
            isinstance(last, dict)
            and isinstance(last.get("pack"), str)
            and isinstance(last.get("lesson"), str)
        ):
            self.drop("last", "not a pack and a lesson")
            data["last"] = None

    def exercise(self, exercises: dict[str, Any], ex_id: str, record: Any, where: str) -> None:
        if not isinstance(record, dict):
            self.drop(where, "not a table")
            del exercises[ex_id]
            return
        for key, ok in _EXERCISE_KEYS.items():
            if key in record and not ok(record[key]):
                self.drop(f"{where} {key}", "the wrong type")
                del record[key]
        current = record.get("current", {})
        for key, ok in _ROUND_KEYS.items():
            if key in current and not ok(current[key]):
                self.drop(f"{where} current.{key}", "the wrong type")
                del current[key]


def repair(data: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The document with wrongly typed known entries dropped, and what was dropped.

    None when the document is not a progress file at all (kept aside, like a corrupt one).
    """
    if (
        not isinstance(data, dict)
        or type(data.get("version")) is not int
        or not isinstance(data.get("packs", {}), dict)
    ):
        return None, []
    repair = _Repair()
    data = repair.nonfinite(data, "")
    repair.document(data)
    return data, repair.dropped


def upgraded(data: Any) -> dict[str, Any] | None:
    """A progress document read from elsewhere (an export, a class directory), repaired
    and migrated to SCHEMA_VERSION; None when it is not one this version reads."""
    document, _ = repair(data)
    if document is None or not 1 <= document["version"] <= SCHEMA_VERSION:
        return None
    migrate(document)
    return document
