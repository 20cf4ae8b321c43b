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
    """`gradtutor show --pack DIR --exercise LESSON/EXERCISE [--variant K] [--json]`."""
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
    try:
        variant = variant_of(exercise, args.variant)
    except (DrawError, LanguageError) as exc:
        print(f"gradtutor show: variant {args.variant} cannot be made: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = variant.shown_options()
    doc = {
        "variant": args.variant,
        "params": variant.params,
        "prompt": variant.exercise.prompt,
        "options": options if kind_of(variant.exercise).chooses else None,
    }
    # beyond the contract's four keys: what graders need of this kind (a function, wrt)
    doc.update(kind_of(variant.exercise).shown_fields(variant.exercise))
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return EXIT_OK
    print(f"{args.exercise} · {exercise.kind} · variant {args.variant}")
    if variant.params:
        print(variant.params_text())
    print()
    print(plain_math(variant.exercise.prompt))
    for i, text in enumerate(options, 1):
        print(f"  {i}. {plain_math(text)}")
    return EXIT_OK


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
