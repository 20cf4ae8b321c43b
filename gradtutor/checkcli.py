"""`gradtutor check`: grade answers from the command line or from a script.

Batch grading reads JSON Lines as bytes and answers every non-blank line with exactly
one line, in order, flushed as it goes: a line that cannot be decoded, parsed or checked
gets its own verdict (`invalid` for what the line holds, `undecided` for a failure of
ours) and the batch goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .cliutil import EXIT_FAIL, EXIT_OK, EXIT_USAGE, packs_of, usage_error

if TYPE_CHECKING:
    from .core.checking import Verdict

MAX_LINE_BYTES = 1_000_000
"""A batch line longer than this is answered `invalid` without being parsed."""


def _usage(message: str) -> int:
    return usage_error("check", message)


def _load_exercises(pack_dir: Path) -> dict[str, Any] | None:
    """The pack's exercises by "lesson/exercise", or None after printing its problems."""
    from .core.packs import load_pack

    result = load_pack(pack_dir)
    if not result.ok or result.pack is None:
        for problem in result.problems.errors:
            print(problem.format(), file=sys.stderr)
        return None
    return {f"{le.id}/{ex.id}": ex for le in result.pack.lessons for ex in le.exercises}


class Grader:
    """Checks one answer given as loose values (from a batch line or the command line)."""

    def __init__(self, exercises: dict[str, Any] | None) -> None:
        self.exercises = exercises

    def grade(
        self, answer: Any, of: Any = None, wrt: Any = None, exercise: Any = None, variant: Any = 0
    ) -> Verdict:
        """A verdict for any input: never raises."""
        from .cliutil import variant_problem
        from .core.checking import Verdict, check_derivative, check_exercise

        if not isinstance(answer, str):
            return Verdict("invalid", 'The answer must be a string ("answer": "...").')
        problem = variant_problem(variant)
        if problem:
            return Verdict("invalid", f"The variant is not usable: {problem}.")
        if self.exercises is not None:
            ex = self.exercises.get(exercise) if isinstance(exercise, str) else None
            if ex is None:
                known = ", ".join(sorted(self.exercises)[:8])
                return Verdict(
                    "invalid",
                    f"No exercise {json.dumps(exercise)} in the pack (known: {known}...).",
                )
            return check_exercise(ex, answer, variant=variant)
        if not isinstance(of, str) or not isinstance(wrt, str):
            return Verdict("invalid", 'Give the function and the variable ("of" and "wrt").')
        return check_derivative(of, wrt, answer)

    def grade_line(self, raw: bytes, lineno: int, defaults: argparse.Namespace) -> Verdict:
        """The verdict for one batch line (decoded and parsed here; never raises)."""
        from .core.checking import Verdict

        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Verdict(
                "invalid",
                f"Line {lineno} is not UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}).",
            )
        try:
            item = json.loads(text)
        except RecursionError:
            return Verdict("invalid", f"Line {lineno} is nested too deeply to read.")
        except ValueError as exc:
            return Verdict("invalid", f"Line {lineno} is not a JSON object ({exc.args[0]}).")
        if not isinstance(item, dict):
            return Verdict("invalid", f"Line {lineno} is not a JSON object.")
        try:
            return self.grade(
                item.get("answer"),
                of=item.get("of", defaults.of),
                wrt=item.get("wrt", defaults.wrt),
                exercise=item.get("exercise", defaults.exercise),
                variant=item.get("variant", defaults.variant),
            )
        except Exception:  # one line's failure must not lose the lines after it
            return Verdict(
                "undecided", f"Line {lineno} could not be checked: an internal error; not judged."
            )


def batch_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for every line; None for a line over MAX_LINE_BYTES.

    Lines end at b"\\n" only (never at other Unicode line breaks), and a UTF-8 byte-order
    mark before the first line is dropped.
    """
    lineno = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if lineno == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the long line
                raw = stream.readline(MAX_LINE_BYTES)
            yield lineno, None
            continue
        yield lineno, raw


def run_batch(args: argparse.Namespace, grader: Grader) -> int:
    """One JSON verdict per non-blank line of the batch file, in order, flushed."""
    from .core.checking import Verdict

    try:
        stream = sys.stdin.buffer if args.batch == "-" else open(args.batch, "rb")  # noqa: SIM115
    except OSError as exc:
        return _usage(f"cannot read {args.batch}: {exc.strerror}")
    with stream:
        for lineno, raw in batch_lines(stream):
            if raw is None:
                verdict = Verdict(
                    "invalid", f"Line {lineno} is too long (at most {MAX_LINE_BYTES:,} bytes)."
                )
            elif not raw.strip():
                continue
            else:
                verdict = grader.grade_line(raw, lineno, args)
            print(json.dumps(verdict.to_json()), flush=True)
    return EXIT_OK


def _function_problem(of: str, wrt: str) -> str | None:
    """Why `--of`/`--wrt` cannot be checked against (a usage error), or None."""
    from .core import mathlang

    try:
        names = mathlang.variables(mathlang.parse(of))
    except mathlang.MathError as exc:
        return f"the function could not be read: {exc}"
    if wrt.strip() not in names:
        return f"`{wrt}` does not occur in the function {of}"
    return None


def print_verdict(verdict: Any) -> None:
    """The human-readable verdict: message, reading, feedback, a counterexample."""
    from .core.mathtext import plain_math

    print(plain_math(verdict.message))
    if verdict.normalized:
        lines = str(verdict.normalized).splitlines() or [""]
        print(f"  read as: {lines[0]}")
        for line in lines[1:]:  # a program: its lines under the first
            print(f"           {line}")
    if verdict.feedback:
        print(f"  {plain_math(verdict.feedback)}")
    if verdict.counterexample:
        print(f"  {verdict.counterexample_sentence()}")


def _read_answer_file(name: str) -> str | None:
    """The answer in a file (`-`: standard input), as text; None after saying why not."""
    from .core.safefile import read_bounded
    from .core.sizes import MAX_PROGRAM_CHARS

    limit = MAX_PROGRAM_CHARS * 4  # bytes: UTF-8 takes up to four per character
    try:
        raw = sys.stdin.buffer.read(limit + 1) if name == "-" else read_bounded(Path(name), limit)
    except (OSError, ValueError) as exc:
        print(f"gradtutor check: {name}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return None
    if len(raw) > limit:
        print(f"gradtutor check: {name}: larger than {limit:,} bytes", file=sys.stderr)
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        print(f"gradtutor check: {name}: not UTF-8 (byte {exc.start + 1})", file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    """Check one answer (or a batch); exit 0 when correct, 1 otherwise, 2 on usage errors."""
    from .core.sandbox import shared_sandbox

    packs = packs_of(args)
    if len(packs) > 1:
        return _usage("check reads one pack: give --pack once")
    if packs and (args.of or args.wrt):
        return _usage("use either --of/--wrt or --pack/--exercise, not both")
    exercises = None
    if packs:
        exercises = _load_exercises(packs[0])
        if exercises is None:
            return EXIT_USAGE
    grader = Grader(exercises)
    if args.batch is not None:
        if args.answer is not None:
            return _usage("--batch reads answers from the file; give no ANSWER")
        shared_sandbox().start()  # sympy loads in the child while torch works here
        return run_batch(args, grader)
    if args.file is not None:
        if args.answer is not None:
            return _usage("--file holds the answer; give no ANSWER")
        args.answer = _read_answer_file(args.file)
        if args.answer is None:
            return EXIT_USAGE
    if args.answer is None:
        return _usage("give an ANSWER (or --file FILE, or --batch FILE)")
    if exercises is not None:
        if not args.exercise:
            return _usage("--pack needs --exercise LESSON/EXERCISE")
        if args.exercise not in exercises:
            return _usage(f"no exercise {args.exercise} in {packs[0]}")
    elif not args.of or not args.wrt:
        return _usage(
            "give --of FUNCTION and --wrt VAR, or --pack DIR and --exercise LESSON/EXERCISE"
        )
    else:
        problem = _function_problem(args.of, args.wrt)
        if problem:
            return _usage(problem)
    shared_sandbox().start()
    from .cliutil import variant_problem

    problem = variant_problem(args.variant)
    if problem:
        return _usage(problem)
    verdict = grader.grade(
        args.answer, of=args.of, wrt=args.wrt, exercise=args.exercise, variant=args.variant
    )
    if args.json:
        print(json.dumps(verdict.to_json()))
    else:
        print_verdict(verdict)
    return EXIT_OK if verdict.correct else EXIT_FAIL
