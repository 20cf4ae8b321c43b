"""Variants: one exercise, many versions, each a pure function of where it is and k.

Variant k of the exercise at PACK/LESSON/EXERCISE draws from `random.Random` seeded
with the first 8 bytes (big-endian) of the SHA-256 of `PACK/LESSON/EXERCISE/k`, so an
instructor reproduces exactly what a learner saw. The draws come in this order: the
parameters (in the order written), then the network seed of a parameterized tensor
exercise, then the order of choice options. Variant 0 keeps the authored order of
choice options; every other variant shuffles them. A learner sees variant
`learner_variant(...)`: the first 6 bytes of the SHA-256 of
`LEARNER/PACK/LESSON/EXERCISE/ROUND`, where LEARNER is the random id of their progress
and ROUND counts the fresh variants they asked for.

`variant_of(exercise, k)` gives the variant as a fixed exercise (parameters substituted,
texts rendered), so that checking, hints and solutions work on it as on any exercise.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from fractions import Fraction

from . import mathlang, paramlang, valuelang
from .draws import Variant, digest, variant_rng, variant_seed
from .packs import (
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    Feedback,
    Option,
    TensorExercise,
    ValueExercise,
)
from .paramlang import Value
from .params import draw

__all__ = ["Variant", "variant_rng", "variant_seed"]  # their home is draws.py


def learner_variant(learner: str, address: str, round_: int = 0) -> int:
    """The variant a learner sees of an exercise, in a given round."""
    return int.from_bytes(digest(f"{learner}/{address}/{round_}")[:6], "big")


def learner_k(exercise: Exercise, learner: str, round_: int, depth: int | None = None) -> int:
    """The variant a learner sees now: their variant of this round; for a practice block,
    the exercise of this round at their current depth (None: the lowest)."""
    from .packs import PracticeExercise

    base = learner_variant(learner, exercise.address, round_)
    if isinstance(exercise, PracticeExercise):
        return exercise.variant_at(depth if depth is not None else exercise.depth[0], base)
    return base


def has_variants(exercise: Exercise) -> bool:
    """Whether a fresh variant differs from the one shown: drawn numbers, or the order of
    choice options (practice blocks move on by themselves)."""
    return bool(exercise.params) or (
        isinstance(exercise, ChoiceExercise) and len(exercise.options) > 1
    )


@functools.lru_cache(maxsize=2048)
def variant_of(exercise: Exercise, k: int) -> Variant:
    """Variant k of an exercise. Raises `params.DrawError` or `TensorLangError` when a
    parameterized exercise cannot be drawn or rendered (validation reports both)."""
    from .packs import PracticeExercise
    from .practice import generate

    if isinstance(exercise, PracticeExercise):
        return generate(exercise, k)
    rng = variant_rng(exercise.address, k)
    values = draw(exercise.params, exercise.where, rng) if exercise.params else {}
    fixed = _fixed(exercise, values, rng) if exercise.params else exercise
    order: tuple[int, ...] = ()
    if isinstance(fixed, ChoiceExercise):
        shuffled = list(range(len(fixed.options)))
        if k != 0:
            rng.shuffle(shuffled)
        order = tuple(shuffled)
    return Variant(k, values, fixed, order)


def option_order(exercise: ChoiceExercise, k: int) -> tuple[int, ...]:
    """The authored index of each option shown, in the order variant k shows them."""
    return variant_of(exercise, k).order


def shown_options(exercise: Exercise, k: int) -> list[str]:
    """The option texts of a choice exercise in the order of variant k ([] for others)."""
    return variant_of(exercise, k).shown_options()


# ----------------------------------------------------------------------------- fixing


def _fixed(ex: Exercise, values: dict[str, Value], rng: random.Random) -> Exercise:
    """The exercise with drawn values in place of its parameters."""

    def text(t: str) -> str:
        return paramlang.render(t, values)

    messages = [text(fb.message) for fb in ex.feedback]
    matches = [fb.match for fb in ex.feedback]
    changes: dict[str, object] = dict(
        prompt=text(ex.prompt),
        hints=tuple(text(h) for h in ex.hints),
        solution=text(ex.solution) if ex.solution is not None else None,
        params=(),
        where=(),
    )
    if isinstance(ex, DerivativeExercise):
        changes["function"] = substitute(ex.function, values)
        if ex.answer is not None:
            changes["answer"] = substitute(ex.answer, values)
        matches = [_match_or_keep(m, values) for m in matches]
    elif isinstance(ex, ValueExercise):
        given = (*ex.given, *((k, _as_given(v)) for k, v in values.items()))
        env = {k: _as_value(v) for k, v in given}
        changes["given"] = given
        matches = [_value_match(m, env) for m in matches]
    elif isinstance(ex, TensorExercise):
        changes["seed"] = rng.randrange(2**31)
    elif isinstance(ex, ChoiceExercise):
        changes["options"] = tuple(
            Option(text(o.text), o.correct, text(o.why) if o.why is not None else None, o.line)
            for o in ex.options
        )
    changes["feedback"] = tuple(
        Feedback(m, message, fb.line)
        for fb, m, message in zip(ex.feedback, matches, messages, strict=True)
    )
    return dataclasses.replace(ex, **changes)  # type: ignore[arg-type]


def _number_node(value: int | float) -> mathlang.Node:
    exact = Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))
    text = str(value) if isinstance(value, int) else repr(float(value))
    if exact < 0:
        return mathlang.Neg(mathlang.Num(-exact, text.lstrip("-")))
    return mathlang.Num(exact, text)


def _replace(node: mathlang.Node, values: dict[str, Value]) -> mathlang.Node:
    match node:
        case mathlang.Var(name) if name in values:
            value = values[name]
            if isinstance(value, list):
                raise mathlang.MathError(f"`{name}` is a vector; a function takes numbers")
            return _number_node(value)
        case mathlang.BinOp(op, left, right):
            return mathlang.BinOp(op, _replace(left, values), _replace(right, values))
        case mathlang.Neg(operand):
            return mathlang.Neg(_replace(operand, values))
        case mathlang.Call(func, args):
            return mathlang.Call(func, tuple(_replace(a, values) for a in args))
    return node


def substitute(text: str, values: dict[str, Value]) -> str:
    """Math-language text with each parameter replaced by its drawn number, exactly
    (integers as integers, decimals as exact decimals)."""
    if not values:
        return text
    return mathlang.to_text(_replace(mathlang.parse(text, known=frozenset(values)), values))


def _match_or_keep(match: str, values: dict[str, Value]) -> str:
    try:
        return substitute(match, values)
    except mathlang.MathError:
        return match  # an unreadable match never matches; validate reports it


def _as_given(value: Value) -> object:
    if isinstance(value, list):
        return tuple(_as_given(v) for v in value)
    return float(value)


def _as_value(value: object) -> Value:
    if isinstance(value, tuple):
        return [_as_value(v) for v in value]
    return value  # type: ignore[return-value]


def _value_match(match: str, env: dict[str, Value]) -> str:
    """A value feedback `match`: a number as written, or an expression over the given
    names and the parameters, computed for this variant."""
    try:
        valuelang.parse_value(match)
        return match
    except mathlang.MathError:
        pass
    try:
        return paramlang.format_value(paramlang.evaluate(match, env))
    except mathlang.LanguageError:
        return match
