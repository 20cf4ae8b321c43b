"""The `program` kind: the learner writes the body of a function that sets (or returns)
gradients; it is walked, never run as Python, on shapes of our choosing and compared
with autograd (LESSON_FORMAT.md "Program exercises", `checking/program.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..packs.model import Exercise, ProgramExercise
from ..sizes import MAX_PROGRAM_CHARS
from .base import CheckContext, Found, Kind, Preview

if TYPE_CHECKING:
    from ..checking.verdict import Verdict
    from ..draws import Variant


def _preview(ex: Exercise, answer: str) -> Preview:
    from ..proglang import ProgramError, headers_of, parse_header, parse_program

    assert isinstance(ex, ProgramExercise)
    header = parse_header(ex.header)
    library = headers_of(f.header for f in ex.library)
    try:
        program = parse_program(header, answer, library)
    except ProgramError as exc:
        return Preview(str(exc), True, exc.column, "")
    calls = f"; calls {', '.join(sorted(program.calls))}" if program.calls else ""
    count = program.statements
    return Preview(f"{count} statement{'s' if count != 1 else ''}{calls}: ctrl+s checks it")


def _check(variant: Variant, answer: str, context: CheckContext) -> Verdict:
    from ..checking.program import check_program

    assert isinstance(variant.exercise, ProgramExercise)
    return check_program(variant.exercise, answer, context.accepted)


def _reference(variant: Variant) -> str | None:
    assert isinstance(variant.exercise, ProgramExercise)
    return variant.exercise.solution_code.strip("\n")


def _solution_extra(variant: Variant, reference: str | None) -> str | None:
    """The reference body, under its header, as code (beside the author's solution)."""
    ex = variant.exercise
    assert isinstance(ex, ProgramExercise)
    body = "\n".join("    " + line for line in ex.solution_code.strip("\n").splitlines())
    return f"One answer:\n\n```python\n{ex.header}\n{body}\n```"


def _problems(ex: Exercise, symbolic: bool) -> Found:
    from ..checking.program import check_program
    from ..proglang import ProgramError, parse_header, parse_program

    assert isinstance(ex, ProgramExercise)
    try:
        parse_program(parse_header(ex.header), ex.forward)
    except ProgramError as exc:
        yield ex.line_of("forward"), "error", f"`forward` does not parse: {exc}"
        return
    try:
        verdict = check_program(ex, ex.solution_code)
    except ProgramError as exc:
        yield ex.line_of("forward"), "error", f"the exercise cannot be checked: {exc}"
        return
    if not verdict.correct:
        yield (
            ex.line_of("solution_code"),
            "error",
            f"`solution_code` is judged {verdict.verdict}: {verdict.message}",
        )


KIND = Kind(
    "program",
    ProgramExercise,
    MAX_PROGRAM_CHARS,
    check=_check,
    preview_answer=_preview,
    reference=_reference,
    solution_extra=_solution_extra,
    problems=_problems,
    shown_fields=lambda ex: {"header": ex.header},  # type: ignore[attr-defined]
)
