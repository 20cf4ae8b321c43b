"""The `value` kind: a number or a small list, computed by the learner from given values."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .. import mathlang, paramlang, valuelang
from ..packs.model import Exercise, ValueExercise
from ..sizes import MAX_VALUE_CHARS
from .base import CheckContext, Fixing, Found, Kind, Preview

if TYPE_CHECKING:
    from ..checking.verdict import Verdict
    from ..draws import Variant
    from ..paramlang import Value


def _preview(ex: Exercise, answer: str) -> Preview:
    try:
        value = valuelang.parse_value(answer)
    except mathlang.MathError as exc:
        return Preview(exc.message, True, exc.column, answer)
    return Preview(valuelang.format_value(value))


def _check(variant: Variant, answer: str, context: CheckContext) -> Verdict:
    from ..checking.value import check_value

    assert isinstance(variant.exercise, ValueExercise)
    return check_value(variant.exercise, answer)


def _reference(variant: Variant) -> str | None:
    from ..checking.value import cached_value_reference, tensor_text

    assert isinstance(variant.exercise, ValueExercise)
    return tensor_text(cached_value_reference(variant.exercise))


def _problems(ex: Exercise, symbolic: bool) -> Found:
    from .. import tensorlang
    from ..checking.value import value_reference

    assert isinstance(ex, ValueExercise)
    try:
        reference = value_reference(ex)
    except tensorlang.TensorLangError as exc:
        yield ex.line_of("compute"), "error", f"`compute` cannot be computed: {exc}"
        return
    drawn = "params" in ex.key_lines  # a variant: its [params] were put in
    if not bool(reference.isfinite().all()):
        yield (
            ex.line_of("params") if drawn else ex.line_of("compute"),
            "error",
            f"`compute` gives {reference.tolist()} here, not a finite number: "
            + (
                "exclude these numbers with `not = [...]` in [params], or a `where` condition"
                if drawn
                else "no learner could answer it"
            ),
        )


def _reference_answers(ex: Exercise) -> list[str]:
    from .. import tensorlang
    from ..checking.value import cached_value_reference
    from ..draws import Variant

    assert isinstance(ex, ValueExercise)
    try:
        if not bool(cached_value_reference(ex).isfinite().all()):
            return []  # reported by _problems, in words for an author
        return [_reference(Variant(0, {}, ex)) or ""]
    except tensorlang.TensorLangError:
        return []  # reported by _problems


def _answer_numbers(ex: Exercise) -> list[float]:
    from ..checking.value import value_reference

    assert isinstance(ex, ValueExercise)
    if ex.params:
        return []  # drawn per learner: no number to hide
    return [float(v) for v in value_reference(ex).flatten().tolist()]


def _match_problem(match: str) -> str | None:
    try:
        valuelang.parse_value(match)
    except mathlang.MathError as exc:
        return f"[[feedback]] match does not parse as a number or list: {exc}"
    return None


def _as_given(value: Value) -> object:
    if isinstance(value, list):
        return tuple(_as_given(v) for v in value)
    return float(value)


def _as_value(value: object) -> Value:
    if isinstance(value, tuple):
        return [_as_value(v) for v in value]
    return value  # type: ignore[return-value]


def _fix(ex: Exercise, values: dict[str, Value], rng: random.Random) -> Fixing:
    assert isinstance(ex, ValueExercise)
    given = (*ex.given, *((k, _as_given(v)) for k, v in values.items()))
    env = {k: _as_value(v) for k, v in given}

    def match(text: str) -> str:
        """A number as written, or an expression over the given names and the
        parameters, computed for this variant."""
        try:
            valuelang.parse_value(text)
            return text
        except mathlang.MathError:
            pass
        try:
            return paramlang.format_value(paramlang.evaluate(text, env))
        except mathlang.LanguageError:
            return text

    return Fixing({"given": given}, match)


def _reserved(ex: Exercise) -> dict[str, str]:
    assert isinstance(ex, ValueExercise)
    return {name: "a name in `given`" for name, _ in ex.given}


KIND = Kind(
    "value",
    ValueExercise,
    MAX_VALUE_CHARS,
    check=_check,
    preview_answer=_preview,
    reference=_reference,
    problems=_problems,
    reference_answers=_reference_answers,
    match_problem=_match_problem,
    answer_numbers=_answer_numbers,
    fix=_fix,
    reserved=_reserved,
)
