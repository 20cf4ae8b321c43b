"""Drawing an exercise's parameters (LESSON_FORMAT.md, "Parameters").

`draw` takes the random source of a variant and draws every parameter in the order the
author wrote them, element by element for a vector or matrix, again while a `not` value
comes up, and the whole set again while a `where` condition breaks. Everything is plain
Python: the numbers feed prompts rendered on the interface's thread.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import paramlang, sizes
from .paramlang import Value

if TYPE_CHECKING:  # the pack loader imports this module: no import of packs at run time
    from .packs.model import Param


class DrawError(ValueError):
    """The parameters could not be drawn (a `where` that never holds, a `not` that
    excludes every value)."""


def _one(p: Param, rng: random.Random) -> int | float:
    for _ in range(1000):
        value: int | float
        if p.form == "int":
            value = rng.randint(int(p.low), int(p.high))
        elif p.form == "real":
            value = round(rng.uniform(p.low, p.high), p.digits)
            if value == 0:
                value = 0.0  # never -0.0
        else:
            value = rng.choice(p.choices)
        if value not in p.exclude:
            return value
    raise DrawError(f"`{p.name}`: `not` excludes (nearly) every value it could take")


def _shaped(p: Param, rng: random.Random, shape: Sequence[int]) -> Value:
    if not shape:
        return _one(p, rng)
    return [_shaped(p, rng, shape[1:]) for _ in range(shape[0])]


def draw_once(params: Sequence[Param], rng: random.Random) -> dict[str, Value]:
    """One draw of every parameter, `where` not considered."""
    return {p.name: _shaped(p, rng, p.shape) for p in params}


def holds(where: Sequence[str], values: dict[str, Value]) -> bool:
    """Whether every `where` condition holds for these values."""
    return all(paramlang.truth(condition, values) for condition in where)


def draw(params: Sequence[Param], where: Sequence[str], rng: random.Random) -> dict[str, Value]:
    """The parameters of one variant: drawn until every `where` condition holds."""
    for _ in range(sizes.MAX_DRAW_TRIES):
        values = draw_once(params, rng)
        if holds(where, values):
            return values
    raise DrawError(f"no draw in {sizes.MAX_DRAW_TRIES:,} satisfied `where` ({'; '.join(where)})")


def acceptance(
    params: Sequence[Param], where: Sequence[str], rng: random.Random, tries: int = 400
) -> float:
    """The share of draws that `where` accepts (for validation)."""
    if not where:
        return 1.0
    return sum(holds(where, draw_once(params, rng)) for _ in range(tries)) / tries
