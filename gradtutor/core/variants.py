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

from . import paramlang
from .draws import Variant, digest, variant_rng, variant_seed
from .kinds import kind_of
from .kinds.derivative import substitute
from .packs import Exercise
from .paramlang import Value
from .params import draw, fits, holds

# their homes are draws.py and kinds/derivative.py
__all__ = ["Variant", "substitute", "variant_rng", "variant_seed"]


def learner_variant(learner: str, address: str, round_: int = 0) -> int:
    """The variant a learner sees of an exercise, in a given round."""
    return int.from_bytes(digest(f"{learner}/{address}/{round_}")[:6], "big")


def learner_k(exercise: Exercise, learner: str, round_: int, depth: int | None = None) -> int:
    """The variant a learner sees now: their variant of this round; for a practice block,
    the exercise of this round at their current depth (None: the lowest)."""
    base = learner_variant(learner, exercise.address, round_)
    index = kind_of(exercise).variant_index
    return index(exercise, base, depth) if index is not None else base


def has_variants(exercise: Exercise) -> bool:
    """Whether a fresh variant differs from the one shown: drawn numbers, or the order of
    choice options (practice blocks move on by themselves)."""
    return bool(exercise.params) or len(variant_of(exercise, 0).order) > 1


@functools.lru_cache(maxsize=2048)
def variant_of(exercise: Exercise, k: int) -> Variant:
    """Variant k of an exercise. Raises `params.DrawError` or `TensorLangError` when a
    parameterized exercise cannot be drawn or rendered (validation reports both)."""
    kind = kind_of(exercise)
    if kind.make_variant is not None:
        return kind.make_variant(exercise, k)
    rng = variant_rng(exercise.address, k)
    values = draw(exercise.params, exercise.where, rng) if exercise.params else {}
    fixed = _fixed(exercise, values, rng) if exercise.params else exercise
    return Variant(k, values, fixed, kind.shuffle(fixed, k, rng))


def variant_with(exercise: Exercise, k: int, stored: dict[str, Value]) -> Variant | None:
    """Variant k with the numbers a learner was given (`stored`, from their progress) in
    place of its draw, as long as they still fit the exercise as it is now (each in its
    `[params]` range, choices and `not`, and `where` holding). A parameter added since
    is drawn as variant k draws it; one removed is dropped. None when they no longer fit
    (the learner then gets a fresh round). The rest of the variant (a tensor network's
    seed, the order of options) comes from variant k's own random source, as always."""
    if not exercise.params:
        return variant_of(exercise, k)
    kind = kind_of(exercise)
    rng = variant_rng(exercise.address, k)
    drawn = draw(exercise.params, exercise.where, rng)
    values: dict[str, Value] = {}
    for p in exercise.params:
        if p.name in stored:
            if not fits(p, stored[p.name]):
                return None
            values[p.name] = stored[p.name]
        else:
            values[p.name] = drawn[p.name]
    if not holds(exercise.where, values):
        return None
    fixed = _fixed(exercise, values, rng)
    return Variant(k, values, fixed, kind.shuffle(fixed, k, rng))


def option_order(exercise: Exercise, k: int) -> tuple[int, ...]:
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

    fixing = kind_of(ex).fix(ex, values, rng)
    changes: dict[str, object] = dict(
        prompt=text(ex.prompt),
        hints=tuple(text(h) for h in ex.hints),
        solution=text(ex.solution) if ex.solution is not None else None,
        params=(),
        where=(),
        **fixing.changes,
    )
    changes["feedback"] = tuple(
        dataclasses.replace(fb, match=fixing.match(fb.match), message=text(fb.message))
        for fb in ex.feedback
    )
    return dataclasses.replace(ex, **changes)  # type: ignore[arg-type]
