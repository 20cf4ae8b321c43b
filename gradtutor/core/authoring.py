"""The checks of `gradtutor validate` that need the answer checker.

Every expression parses in its language; every answer key agrees with autograd (the
point where it does not is reported); every `[[feedback]]` match parses and is itself
judged incorrect; tensor answers have the target's shape; `wrt` occurs in the function.
All reported at the line of the key concerned.
"""

from __future__ import annotations

from typing import Any

from . import mathlang, sizes
from .checking import check_exercise
from .kinds import Found, kind_of
from .packs import Exercise, Pack
from .params import DrawError
from .problems import Problem, ProblemList
from .text import mask_numbers
from .variants import variant_of


def check_pack_content(pack: Pack, symbolic: bool = True) -> ProblemList:
    """Problems with the expressions and answer keys of every exercise in a pack."""
    problems = ProblemList()
    for lesson in pack.lessons:
        for ex in lesson.exercises:
            for line, severity, message in _exercise_problems(ex, symbolic):
                problems.append(Problem(lesson.path, line, None, severity, message))  # type: ignore[arg-type]
    return problems


def _exercise_problems(ex: Exercise, symbolic: bool) -> Found:
    if ex.params or kind_of(ex).make_variant is not None:
        yield from _variant_problems(ex, symbolic)
    else:
        yield from _fixed_problems(ex, symbolic)


def _variant_problems(ex: Exercise, symbolic: bool) -> Found:
    """Every check of a fixed exercise, on VALIDATE_VARIANTS variants (sympy on the
    first only). Every distinct problem is reported once (problems that differ only in
    their numbers are one), named by the first variant that has it and its values, with
    how many variants have it: one run of `validate` shows them all."""
    seen: dict[tuple[int, str, str], list[Any]] = {}
    for k in range(sizes.VALIDATE_VARIANTS):
        try:
            variant = variant_of(ex, k)
        except (DrawError, mathlang.LanguageError) as exc:
            yield ex.line_of("params"), "error", f"variant {k} cannot be made: {exc}"
            return
        for line, severity, message in _fixed_problems(
            variant.exercise, symbolic and k == 0, parameterized=True
        ):
            key = (line, severity, mask_numbers(message))
            if key in seen:
                seen[key][3] += 1
            else:
                seen[key] = [k, variant.params_text(), message, 1]
    for (line, severity, _), (k, values, message, count) in seen.items():
        also = f" ({count} of {sizes.VALIDATE_VARIANTS} variants)" if count > 1 else ""
        yield line, severity, f"variant {k} ({values}): {message}{also}"


def _fixed_problems(ex: Exercise, symbolic: bool, parameterized: bool = False) -> Found:
    yield from kind_of(ex).problems(ex, symbolic)
    yield from _reference_is_accepted(ex)
    yield from _feedback_is_wrong(ex, symbolic, parameterized)


def _reference_is_accepted(ex: Exercise) -> Found:
    """The pack-integrity rules: the reference answer is judged correct, an empty one invalid."""
    empty = check_exercise(ex, "")
    if empty.verdict == "undecided":
        return  # the exercise itself cannot be checked: its own check says why, above
    if empty.verdict != "invalid":
        yield ex.line, "error", f"an empty answer is judged {empty.verdict}, not invalid"
    references = kind_of(ex).reference_answers(ex)
    for answer in references:
        verdict = check_exercise(ex, answer)
        if not verdict.correct:
            yield (
                ex.line,
                "error",
                f"the reference answer {answer} is judged {verdict.verdict}: {verdict.message}",
            )


def _feedback_is_wrong(ex: Exercise, symbolic: bool, parameterized: bool = False) -> Found:
    kind = kind_of(ex)
    for index, fb in enumerate(ex.feedback):
        problem = kind.match_problem(fb.match)
        if problem is not None:
            yield fb.line, "error", problem
            continue
        verdict = check_exercise(ex, fb.match, symbolic=symbolic)
        if verdict.verdict == "undecided":
            continue  # the exercise itself cannot be checked here: reported once, above
        if verdict.verdict == "invalid":
            yield fb.line, "error", f"[[feedback]] match does not parse: {verdict.message}"
        elif verdict.verdict == "correct" and parameterized:
            yield (
                fb.line,
                "warning",
                f'[[feedback]] match "{fb.match}" is the right answer for these numbers: '
                "the learner is told Correct (the right verdict wins); make sure the "
                "parameters cannot make the mistake and the answer agree (`not`, `where`)",
            )
        elif verdict.verdict == "correct":
            yield (
                fb.line,
                "error",
                (
                    f'[[feedback]] match "{fb.match}" is a right answer, so its message would never be '
                    "shown (a wrong answer that is right is an authoring bug)"
                ),
            )
        # a chosen option answers with its own `why`, never with a [[feedback]] message
        elif verdict.feedback != fb.message and not kind.chooses:
            earlier = index > 0 and verdict.feedback in {f.message for f in ex.feedback[:index]}
            yield (
                fb.line,
                "warning",
                f'[[feedback]] match "{fb.match}" is caught by an earlier [[feedback]]; its message is never shown'
                if earlier
                else f'[[feedback]] match "{fb.match}" is judged incorrect, but its message is '
                f"not shown for these numbers: the checker says instead: {verdict.message}",
            )
