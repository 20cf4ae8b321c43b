"""The `choice` kind: options, one or more of them right, picked by their number."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import paramlang
from ..packs.model import ChoiceExercise, Exercise, Option
from .base import CheckContext, Fixing, Kind

if TYPE_CHECKING:
    from ..checking.verdict import Verdict
    from ..draws import Variant
    from ..paramlang import Value


def check_choice(ex: ChoiceExercise, answer: str, order: tuple[int, ...]) -> Verdict:
    """An option number from 1, in the order shown (`order`: the authored index of each
    option shown)."""
    from ..checking.verdict import Verdict, invalid

    text = str(answer).strip()
    count = len(ex.options)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= count:
        return invalid(f"Pick an option by its number, from 1 to {count}.")
    chosen = order[int(text) - 1]
    option = ex.options[chosen]
    details = {"option": chosen}  # the authored index: the same option in every variant
    if option.correct:
        return Verdict("correct", "Correct.", text, feedback=option.why, details=details)
    return Verdict("incorrect", "Not this one.", text, feedback=option.why, details=details)


def _check(variant: Variant, answer: str, context: CheckContext) -> Verdict:
    assert isinstance(variant.exercise, ChoiceExercise)
    return check_choice(variant.exercise, answer, variant.order)


def _reference(variant: Variant) -> str | None:
    ex = variant.exercise
    assert isinstance(ex, ChoiceExercise)
    return ", ".join(str(i) for i, k in enumerate(variant.order, 1) if ex.options[k].correct)


def _solution_extra(variant: Variant, reference: str | None) -> str | None:
    return (
        None if variant.exercise.solution or not reference else f"The right option: `{reference}`"
    )


def _reference_answers(ex: Exercise) -> list[str]:
    assert isinstance(ex, ChoiceExercise)
    return [str(i) for i, o in enumerate(ex.options, 1) if o.correct]


def _fix(ex: Exercise, values: dict[str, Value], rng: random.Random) -> Fixing:
    assert isinstance(ex, ChoiceExercise)

    def text(t: str) -> str:
        return paramlang.render(t, values)

    options = tuple(
        Option(text(o.text), o.correct, text(o.why) if o.why is not None else None, o.line)
        for o in ex.options
    )
    return Fixing({"options": options})


def _texts(ex: Exercise) -> Iterator[tuple[str, str]]:
    assert isinstance(ex, ChoiceExercise)
    for opt in ex.options:
        yield "option", opt.text
        if opt.why is not None:
            yield "option", opt.why


def _shuffle(ex: Exercise, k: int, rng: random.Random) -> tuple[int, ...]:
    """Variant 0 keeps the authored order; every other variant shuffles it."""
    assert isinstance(ex, ChoiceExercise)
    order = list(range(len(ex.options)))
    if k != 0:
        rng.shuffle(order)
    return tuple(order)


def _mistake_text(ex: Exercise, verdict: Verdict) -> str | None:
    from ..mathtext import plain_math

    assert isinstance(ex, ChoiceExercise)
    option = verdict.details.get("option")
    # as authored, unfilled: the same option reads the same in every learner's variant
    return plain_math(ex.options[option].text) if isinstance(option, int) else None


KIND = Kind(
    "choice",
    ChoiceExercise,
    None,
    check=_check,
    reference=_reference,
    solution_extra=_solution_extra,
    reference_answers=_reference_answers,
    fix=_fix,
    texts=_texts,
    shuffle=_shuffle,
    mistake_text=_mistake_text,
)
