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


def fits(p: Param, value: object) -> bool:
    """Whether a stored value is one that `p` could draw (its shape, range or choices,
    digits, and `not`)."""

    def one(v: object) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float) or v in p.exclude:
            return False
        if p.form == "int":
            return isinstance(v, int) and p.low <= v <= p.high
        if p.form == "real":
            return p.low <= v <= p.high and round(float(v), p.digits) == v
        return v in p.choices

    def shaped(v: object, shape: Sequence[int]) -> bool:
        if not shape:
            return one(v)
        return (
            isinstance(v, list)
            and len(v) == shape[0]
            and all(shaped(item, shape[1:]) for item in v)
        )

    return shaped(value, p.shape)


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


COUNT_LIMIT = 100_000
"""Parameter spaces larger than this are not enumerated: `count_variants` says "more"."""


def _support(p: Param) -> list[int | float] | None:
    """Every value one entry of `p` can take (None: too many to list)."""
    if p.form == "int":
        if p.high - p.low + 1 > COUNT_LIMIT:
            return None
        values: list[int | float] = list(range(int(p.low), int(p.high) + 1))
    elif p.form == "real":
        step = 10.0**-p.digits
        n = int(round((p.high - p.low) / step)) + 1
        if n > COUNT_LIMIT:
            return None
        values = sorted({round(p.low + i * step, p.digits) + 0.0 for i in range(n)})
    else:
        values = list(dict.fromkeys(p.choices))
    return [v for v in values if v not in p.exclude]


def count_variants(params: Sequence[Param], where: Sequence[str]) -> int | None:
    """How many distinct sets of numbers an exercise can draw (`where` applied), or None
    when there are more than COUNT_LIMIT to look at."""
    import itertools
    import math

    supports = []
    for p in params:
        one = _support(p)
        if one is None:
            return None
        entries = math.prod(p.shape) if p.shape else 1
        supports.append((p, one, entries))
    total: int = math.prod(len(one) ** entries for _, one, entries in supports)
    if total > COUNT_LIMIT:
        return None
    if not where:
        return total

    def shaped(values: tuple[int | float, ...], shape: Sequence[int]) -> Value:
        if not shape:
            return values[0]
        size = len(values) // shape[0]
        return [shaped(values[i * size : (i + 1) * size], shape[1:]) for i in range(shape[0])]

    count = 0
    axes = [itertools.product(one, repeat=entries) for _, one, entries in supports]
    for combination in itertools.product(*[list(a) for a in axes]):
        values = {
            p.name: shaped(c, p.shape) for (p, _, _), c in zip(supports, combination, strict=True)
        }
        count += holds(where, values)
    return count
