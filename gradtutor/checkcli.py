"""`gradtutor check`: grade answers from the command line or from a script."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _usage(message: str) -> int:
    print(f"gradtutor check: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load_exercises(pack_dir: Path):
    """The pack's exercises by "lesson/exercise", or None after printing its problems."""
    from .core.packs import load_pack

    result = load_pack(pack_dir)
    if not result.ok:
        for problem in result.problems.errors:
            print(problem.format(), file=sys.stderr)
        return None
    return {f"{le.id}/{ex.id}": ex for le in result.pack.lessons for ex in le.exercises}


def cmd_check(args: argparse.Namespace) -> int:
    """Check one answer (or a batch); exit 0 when correct, 1 otherwise, 2 on usage errors."""
    from .core.checking import Verdict, check_derivative, check_exercise
    from .core.sandbox import shared_sandbox

    exercises = None
    if args.pack is not None:
        if args.of or args.wrt:
            return _usage("use either --of/--wrt or --pack/--exercise, not both")
        exercises = _load_exercises(args.pack)
        if exercises is None:
            return EXIT_USAGE
    shared_sandbox().start()  # sympy loads in the child while torch works here

    def one(answer: Any, of: Any = None, wrt: Any = None, exercise: Any = None) -> Verdict:
        if not isinstance(answer, str):
            return Verdict("invalid", "The answer must be a string.")
        if exercises is not None:
            ex = exercises.get(exercise) if isinstance(exercise, str) else None
            if ex is None:
                known = ", ".join(sorted(exercises)[:8])
                return Verdict(
                    "invalid", f"No exercise {exercise!r} in the pack (known: {known}...)."
                )
            return check_exercise(ex, answer)
        if not isinstance(of, str) or not isinstance(wrt, str):
            return Verdict("invalid", 'Give the function and the variable ("of" and "wrt").')
        return check_derivative(of, wrt, answer)

    if args.batch is not None:
        if args.answer is not None:
            return _usage("--batch reads answers from the file; give no ANSWER")
        stream: TextIO
        try:
            stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            return _usage(f"cannot read {args.batch}: {exc.strerror}")
        with stream:
            for lineno, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    if not isinstance(item, dict):
                        raise ValueError
                except ValueError:
                    verdict = Verdict("invalid", f"Line {lineno} is not a JSON object.")
                else:
                    verdict = one(
                        item.get("answer"),
                        of=item.get("of", args.of),
                        wrt=item.get("wrt", args.wrt),
                        exercise=item.get("exercise", args.exercise),
                    )
                print(json.dumps(verdict.to_json()), flush=True)
        return EXIT_OK

    if args.answer is None:
        return _usage("give an ANSWER (or --batch FILE)")
    if exercises is not None:
        if not args.exercise:
            return _usage("--pack needs --exercise LESSON/EXERCISE")
        if args.exercise not in exercises:
            return _usage(f"no exercise {args.exercise} in {args.pack}")
        verdict = one(args.answer, exercise=args.exercise)
    else:
        if not args.of or not args.wrt:
            return _usage(
                "give --of FUNCTION and --wrt VAR, or --pack DIR and --exercise LESSON/EXERCISE"
            )
        verdict = check_derivative(args.of, args.wrt, args.answer)
        if verdict.verdict == "invalid" and verdict.message.startswith(
            "The function could not be read"
        ):
            return _usage(verdict.message)
    if args.json:
        print(json.dumps(verdict.to_json()))
    else:
        from .core.mathtext import plain_math

        print(plain_math(verdict.message))
        if verdict.normalized:
            print(f"  read as: {verdict.normalized}")
        if verdict.feedback:
            print(f"  {plain_math(verdict.feedback)}")
        if verdict.counterexample:
            ce = verdict.counterexample
            at = ", ".join(f"{k} = {v}" for k, v in ce["point"].items())
            print(f"  at {at}: expected {ce['expected']}, got {ce['got']}")
    return EXIT_OK if verdict.correct else EXIT_FAIL
