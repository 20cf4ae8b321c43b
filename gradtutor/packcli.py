"""`gradtutor show`: an exercise of a pack as a learner sees it, for a variant."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .cli import EXIT_OK, EXIT_USAGE, packs_of, usage_error

MAX_VARIANT = 2**63 - 1


def variant_problem(k: Any) -> str | None:
    """Why a variant number cannot be used, or None."""
    if type(k) is not int or not 0 <= k <= MAX_VARIANT:
        return f"a variant is a whole number from 0 to {MAX_VARIANT:,}, not {k}"
    return None


def load_one_pack(command: str, args: argparse.Namespace) -> Any:
    """The one pack a command reads, or an exit status after saying why."""
    from .core.packs import load_pack

    packs = packs_of(args)
    if len(packs) != 1:
        return usage_error(command, "give the pack with --pack DIR, once")
    result = load_pack(packs[0])
    if not result.ok or result.pack is None:
        for problem in result.problems.errors:
            print(problem.format(), file=sys.stderr)
        return EXIT_USAGE
    return result.pack


def cmd_show(args: argparse.Namespace) -> int:
    """`gradtutor show --pack DIR --exercise LESSON/EXERCISE [--variant K] [--json]`."""
    from .core.mathtext import plain_math
    from .core.variants import shown_options

    problem = variant_problem(args.variant)
    if problem:
        return usage_error("show", problem)
    pack = load_one_pack("show", args)
    if isinstance(pack, int):
        return pack
    lesson_id, _, exercise_id = args.exercise.partition("/")
    lesson = pack.lesson(lesson_id)
    exercise = lesson.exercise(exercise_id) if lesson is not None else None
    if exercise is None:
        return usage_error("show", f"no exercise {args.exercise} in {pack.path}")
    options = shown_options(exercise, args.variant)
    doc = {
        "variant": args.variant,
        "params": {},
        "prompt": exercise.prompt,
        "options": options if exercise.kind == "choice" else None,
    }
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return EXIT_OK
    print(f"{args.exercise} · {exercise.kind} · variant {args.variant}")
    print()
    print(plain_math(exercise.prompt))
    for i, text in enumerate(options, 1):
        print(f"  {i}. {plain_math(text)}")
    return EXIT_OK
