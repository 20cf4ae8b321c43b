"""`gradtutor show` (an exercise as a learner sees it, for a variant) and `gradtutor
train` (a lesson's training blocks, run headless)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .cliutil import EXIT_OK, EXIT_USAGE, packs_of, usage_error, variant_problem


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
    """`gradtutor show --pack DIR --exercise LESSON/EXERCISE [--variant K | --learner ID
    [--round R] | --name NAME --class DIR] [--full] [--count] [--json]`."""
    from .core.kinds import kind_of
    from .core.mathlang import LanguageError
    from .core.mathtext import plain_math
    from .core.params import DrawError
    from .core.variants import variant_of

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
    chosen = _learners_variant(args, pack.id, lesson_id, exercise)
    if isinstance(chosen, str):
        return usage_error("show", chosen)
    k, whose, stored = chosen if chosen is not None else (args.variant, None, None)
    try:
        variant = variant_of(exercise, k)
        if stored and exercise.params:  # the learner's own numbers, as their tutor shows
            from .core.variants import variant_with

            variant = variant_with(exercise, k, stored) or variant
    except (DrawError, LanguageError) as exc:
        print(f"gradtutor show: variant {k} cannot be made: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = variant.shown_options()
    doc: dict[str, Any] = {
        "variant": k,
        "params": variant.params,
        "prompt": variant.exercise.prompt,
        "options": options if kind_of(variant.exercise).chooses else None,
    }
    # beyond the contract's four keys: what graders need of this kind (a function, wrt)
    doc.update(kind_of(variant.exercise).shown_fields(variant.exercise))
    fixed = variant.exercise
    if args.full:
        doc["hints"] = list(fixed.hints)
        doc["solution"] = fixed.solution
        doc["feedback"] = [{"match": f.match, "message": f.message} for f in fixed.feedback]
    if args.count:
        doc["variants"] = _variant_count(exercise)
    if whose:
        doc["learner"] = whose
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return EXIT_OK
    print(f"{args.exercise} · {exercise.kind} · variant {k}" + (f" · {whose}" if whose else ""))
    if variant.params:
        print(variant.params_text())
    print()
    print(plain_math(variant.exercise.prompt))
    for i, text in enumerate(options, 1):
        print(f"  {i}. {plain_math(text)}")
    if args.full:
        for i, hint in enumerate(fixed.hints, 1):
            print(f"\nHint {i}: {plain_math(hint)}")
        if fixed.solution:
            print(f"\nSolution: {plain_math(fixed.solution)}")
        for fb in fixed.feedback:
            print(f"\nFeedback for {fb.match}: {plain_math(fb.message)}")
    if args.count:
        count = doc["variants"]
        print(f"\nDistinct variants: {count}")
    return EXIT_OK


def _variant_count(exercise: Any) -> int | str:
    """How many distinct variants an exercise has: its parameter combinations (`where`
    applied), the orders of a choice's options, or "unlimited" for a practice block."""
    import math

    from .core.kinds import kind_of
    from .core.params import COUNT_LIMIT, count_variants

    if kind_of(exercise).make_variant is not None:
        return "unlimited"
    orders = math.factorial(len(getattr(exercise, "options", ()))) or 1
    if not exercise.params:
        return orders
    count = count_variants(exercise.params, exercise.where)
    return f"more than {COUNT_LIMIT:,}" if count is None else count * orders


def _learners_variant(
    args: argparse.Namespace, pack_id: str, lesson_id: str, exercise: Any
) -> tuple[int, str, dict[str, Any] | None] | str | None:
    """The variant a given learner sees (their id and round, or their name in a class
    directory, whose progress gives both); None without either; a message on misuse."""
    from .core.variants import learner_k

    if args.learner is not None:
        if args.name is not None:
            return "give --learner ID or --name NAME --class DIR, not both"
        if args.round < 0:
            return "--round is a whole number from 0"
        whose = f"learner {args.learner}, round {args.round}"
        return learner_k(exercise, args.learner, args.round), whose, None
    if args.name is None:
        return None
    if args.class_dir is None:
        return "--name needs --class DIR (the class directory of `gradtutor serve`)"
    from .core.classroom import ClassError, ClassRoom, fold_name
    from .core.progress import Progress, upgraded
    from .core.safefile import read_json

    room = ClassRoom(args.class_dir)
    homes = {fold_name(name): (name, home) for name, home in room.members()}
    found = homes.get(fold_name(args.name))
    if found is None:
        return f"no learner named {args.name!r} in {args.class_dir}"
    name, home = found
    try:
        document = upgraded(read_json(home / "progress.json"))
    except (OSError, ValueError, ClassError):
        document = None
    if document is None:
        return f"{name} has no readable progress yet in {args.class_dir}"
    progress = Progress(document)
    record = progress.exercise(pack_id, lesson_id, exercise.id)
    k = learner_k(exercise, progress.learner, record.round, record.depth)
    return k, f"{name}, round {record.round}", record.current.params


def cmd_train(args: argparse.Namespace) -> int:
    """`gradtutor train --pack DIR --lesson LESSON [--json]`: every training block of a
    lesson, run as the tutor runs it, for instructors checking their demos."""
    from .core.packs import TrainingBlock
    from .core.training import run_training

    pack = load_one_pack("train", args)
    if isinstance(pack, int):
        return pack
    lesson = pack.lesson(args.lesson)
    if lesson is None:
        known = ", ".join(le.id for le in pack.lessons)
        return usage_error("train", f"no lesson {args.lesson} in {pack.path} (lessons: {known})")
    blocks = [s for s in lesson.segments if isinstance(s, TrainingBlock)]
    if not blocks:
        return usage_error("train", f"lesson {args.lesson} has no training block")
    results = [(block, run_training(block)) for block in blocks]
    if args.json:
        doc = {
            "blocks": [
                {
                    "model": block.model,
                    "line": block.line,
                    "curves": [c.to_json() for c in r.curves],
                }
                for block, r in results
            ]
        }
        print(json.dumps(doc, allow_nan=False))
        return EXIT_OK
    for block, result in results:
        print(f"{lesson.path.name}:{block.line}: {result.title}")
        for curve in result.curves:
            acc = ""
            if curve.test_accuracy is not None and curve.train_accuracy is not None:
                acc = f", train {curve.train_accuracy:.1%}, test {curve.test_accuracy:.1%}"
            print(
                f"  {curve.label}: loss {curve.losses[0]:.6g} → {curve.losses[-1]:.6g}"
                f" (lowest {min(curve.losses):.6g}, highest {max(curve.losses):.6g}){acc}"
            )
        for fact in result.facts:
            print(f"  {fact}")
        if result.max_difference is not None:
            print(f"  largest difference between the methods: {result.max_difference:.1e}")
    return EXIT_OK
