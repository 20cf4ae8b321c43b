"""The learner's progress: a versioned JSON document, written atomically, shared safely.

Layout (version 4)::

    {"version": 4,
     "learner": ID,                       # random, made with the progress: variants
     "packs": {PACK: {"opened_from": PATH, # where the pack was last opened from
                      "lessons": {LESSON: {
         "completed": bool,               # recorded once every exercise is solved;
                                          # once set, it stays set
         "exercises": {EXERCISE: {
             "solved": bool, "attempts": int,       # totals over every round: solved
             "hints": int, "revealed": bool,        # once any variant was solved
             "round": int,                # fresh variants asked for (0: the first)
             "variants_solved": int,      # rounds solved
             "current": {"solved": bool, "attempts": int,   # this round only
                         "hints": int, "revealed": bool},
             "breakdowns": int,           # times F5 opened its breakdown (may be absent)
             "program": str,              # a program exercise's accepted code (may be absent)
             "mistakes": [{"answer": str,          # the last 5 wrong answers, as read
                           "feedback": str | null, # the authored feedback they got
                           "diagnosis": str | null}],  # what the checker said
             "depth": int, "streak": int, "run": int}}}}}},  # practice blocks only
     "last": {"pack": PACK, "lesson": LESSON} | null,
     "revision": int}                     # raised by every write

Each change of layout raises the version by one and adds a migration from the version
before (`MIGRATIONS`), run when an older file is read; the older file is kept beside it
once, as `progress.vN.json`. Keys this program does not know are kept.

    document.py   the layout, migrations, repair of wrongly typed entries
    view.py       Progress: a read-only view of one document
    store.py      ProgressStore: the file, its lock, atomic writes, the tutor's changes
    states.py     lesson states (done, in progress, open, locked) and the report
"""

from .document import (
    FIRST_EDITION,
    MIGRATIONS,
    RAISE_AFTER,
    REVEAL_AFTER,
    SCHEMA_VERSION,
    empty,
    exercise_records,
    migrate,
    new_learner_id,
    practice_step,
    repair,
    upgraded,
)
from .states import (
    LessonState,
    LessonStatus,
    completions_to_record,
    first_unfinished,
    lesson_done,
    lesson_states,
    progress_report,
)
from .store import FILE_NAME, HomeUnusable, ProgressStore
from .view import ExerciseProgress, Progress, RoundProgress

__all__ = [
    "FILE_NAME",
    "FIRST_EDITION",
    "MIGRATIONS",
    "RAISE_AFTER",
    "REVEAL_AFTER",
    "SCHEMA_VERSION",
    "exercise_records",
    "repair",
    "upgraded",
    "ExerciseProgress",
    "HomeUnusable",
    "LessonState",
    "LessonStatus",
    "Progress",
    "ProgressStore",
    "RoundProgress",
    "completions_to_record",
    "empty",
    "first_unfinished",
    "lesson_done",
    "lesson_states",
    "migrate",
    "new_learner_id",
    "practice_step",
    "progress_report",
]
