"""The checks of `gradtutor validate` that need the answer checker.

Every expression parses in its language; every answer key agrees with autograd (the
point where it does not is reported); every `[[feedback]]` match parses and is itself
judged incorrect; tensor answers have the target's shape; `wrt` occurs in the function.
All reported at the line of the key concerned.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import mathlang, sizes, tensorlang
from .checking import (
    ReferenceError_,
    check_exercise,
    derivative_reference,
    parse_tensor_answer,
    parse_value_answer,
    reference_text,
    tensor_reference,
    value_reference,
)
from .mathlang import MathError
from .packs import (
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    Pack,
    PracticeExercise,
    TensorExercise,
    ValueExercise,
)
from .params import DrawError
from .problems import Problem, ProblemList
from .variants import variant_of


def check_pack_content(pack: Pack, symbolic: bool = True) -> ProblemList:
    """Problems with the expressions and answer keys of every exercise in a pack."""
    problems = ProblemList()
    for lesson in pack.lessons:
        for ex in lesson.exercises:
            for line, severity, message in _exercise_problems(ex, symbolic):
                problems.append(Problem(lesson.path, line, None, severity, message))  # type: ignore[arg-type]
    return problems


def _exercise_problems(ex: Exercise, symbolic: bool) -> Iterator[tuple[int, str, str]]:
    if ex.params or isinstance(ex, PracticeExercise):
        yield from _variant_problems(ex, symbolic)
    else:
        yield from _fixed_problems(ex, symbolic)


def _variant_problems(ex: Exercise, symbolic: bool) -> Iterator[tuple[int, str, str]]:
    """Every check of a fixed exercise, on VALIDATE_VARIANTS variants (sympy on the
    first only). The problems of the first variant that has any are reported, named by
    the variant and its values, with how many variants had problems."""
    failing: list[tuple[int, str, list[tuple[int, str, str]]]] = []
    for k in range(sizes.VALIDATE_VARIANTS):
        try:
            variant = variant_of(ex, k)
        except (DrawError, mathlang.LanguageError) as exc:
            yield ex.line_of("params"), "error", f"variant {k} cannot be made: {exc}"
            return
        found = list(_fixed_problems(variant.exercise, symbolic and k == 0, parameterized=True))
        if found:
            failing.append((k, variant.params_text(), found))
    if not failing:
        return
    k, values, found = failing[0]
    also = (
        f" ({len(failing)} of {sizes.VALIDATE_VARIANTS} variants have problems)"
        if len(failing) > 1
        else ""
    )
    for line, severity, message in found:
        yield line, severity, f"variant {k} ({values}): {message}{also}"


def _fixed_problems(
    ex: Exercise, symbolic: bool, parameterized: bool = False
) -> Iterator[tuple[int, str, str]]:
    if isinstance(ex, DerivativeExercise):
        yield from _derivative(ex, symbolic)
    elif isinstance(ex, ValueExercise):
        yield from _value(ex)
    elif isinstance(ex, TensorExercise):
        yield from _tensor(ex)
    yield from _reference_is_accepted(ex)
    yield from _feedback_is_wrong(ex, symbolic, parameterized)


def _reference_is_accepted(ex: Exercise) -> Iterator[tuple[int, str, str]]:
    """The pack-integrity rules: the reference answer is judged correct, an empty one invalid."""
    empty = check_exercise(ex, "")
    if empty.verdict != "invalid":
        yield ex.line, "error", f"an empty answer is judged {empty.verdict}, not invalid"
    references: list[str] = []
    if isinstance(ex, ChoiceExercise):
        references = [str(i) for i, o in enumerate(ex.options, 1) if o.correct]
    elif isinstance(ex, ValueExercise):
        try:
            references = [reference_text(ex) or ""]
        except tensorlang.TensorLangError:
            return  # reported by _value
    for answer in references:
        verdict = check_exercise(ex, answer)
        if not verdict.correct:
            yield (
                ex.line,
                "error",
                f"the reference answer {answer} is judged {verdict.verdict}: {verdict.message}",
            )


def _derivative(ex: DerivativeExercise, symbolic: bool) -> Iterator[tuple[int, str, str]]:
    try:
        function = mathlang.parse(ex.function, known=frozenset(p.name for p in ex.params))
    except MathError as exc:
        yield ex.line_of("function"), "error", f"`function` does not parse: {exc}"
        return
    names = mathlang.variables(function)
    if ex.wrt not in names:
        yield (
            ex.line_of("wrt"),
            "error",
            f'wrt = "{ex.wrt}" does not occur in the function {ex.function}',
        )
        return
    for var, _, _ in ex.domain:
        if var not in names:
            yield (
                ex.line_of("domain"),
                "warning",
                f"the domain names `{var}`, which is not a variable of the function",
            )
    try:
        derivative_reference(ex.function, ex.wrt, ex.domain)
    except ReferenceError_ as exc:
        yield ex.line_of("function"), "error", str(exc)
        return
    if ex.answer is not None:
        try:
            mathlang.parse(ex.answer, names)
        except MathError as exc:
            yield ex.line_of("answer"), "error", f"`answer` does not parse: {exc}"
            return
        verdict = check_exercise(ex, ex.answer, symbolic=symbolic)
        if verdict.verdict == "incorrect":
            where = _point(verdict.counterexample)
            yield ex.line_of("answer"), "error", f"`answer` disagrees with autograd{where}"
        elif verdict.verdict == "undecided":
            yield (
                ex.line_of("answer"),
                "warning",
                f"`answer` could not be confirmed: {verdict.message}",
            )


def _point(counterexample: dict[str, Any] | None) -> str:
    if not counterexample:
        return ""
    at = ", ".join(f"{k} = {v}" for k, v in counterexample["point"].items())
    return f" at {at}: autograd gives {counterexample['expected']}, the answer gives {counterexample['got']}"


def _value(ex: ValueExercise) -> Iterator[tuple[int, str, str]]:
    try:
        value_reference(ex)
    except tensorlang.TensorLangError as exc:
        yield ex.line_of("compute"), "error", f"`compute` cannot be computed: {exc}"


def _tensor(ex: TensorExercise) -> Iterator[tuple[int, str, str]]:
    if ex.answer is None:
        return
    try:
        parse_tensor_answer(ex, ex.answer)
    except tensorlang.TensorLangError as exc:
        yield ex.line_of("answer"), "error", f"`answer` does not parse: {exc}"
        return
    verdict = check_exercise(ex, ex.answer)
    if verdict.verdict != "correct":
        expected = tensorlang.describe_shape(tensor_reference(ex))
        yield (
            ex.line_of("answer"),
            "error",
            (
                f"`answer` disagrees with autograd for {ex.target} (shape {expected}): {verdict.message}"
            ),
        )


def _feedback_is_wrong(
    ex: Exercise, symbolic: bool, parameterized: bool = False
) -> Iterator[tuple[int, str, str]]:
    for fb in ex.feedback:
        if isinstance(ex, ValueExercise):
            try:
                parse_value_answer(fb.match)
            except MathError as exc:
                yield (
                    fb.line,
                    "error",
                    f"[[feedback]] match does not parse as a number or list: {exc}",
                )
                continue
        verdict = check_exercise(ex, fb.match, symbolic=symbolic)
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
        elif verdict.feedback != fb.message and not isinstance(ex, ChoiceExercise):
            yield (
                fb.line,
                "warning",
                (
                    f'[[feedback]] match "{fb.match}" is caught by an earlier [[feedback]]; its message is never shown'
                ),
            )
