"""The `practice` kind: a block that generates chain-rule exercises (derivatives) and
judges each once, moving deeper as the learner's streak grows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..packs.model import Exercise, PracticeExercise
from ..sizes import MAX_MATH_CHARS
from .base import Kind

if TYPE_CHECKING:
    from ..draws import Variant


def _make_variant(ex: Exercise, k: int) -> Variant:
    from ..practice import generate

    assert isinstance(ex, PracticeExercise)
    return generate(ex, k)  # a derivative exercise: checked, shown and solved as one


def _variant_index(ex: Exercise, draw: int, depth: int | None) -> int:
    assert isinstance(ex, PracticeExercise)
    return ex.variant_at(depth if depth is not None else ex.depth[0], draw)


KIND = Kind(
    "practice",
    PracticeExercise,
    MAX_MATH_CHARS,
    make_variant=_make_variant,
    variant_index=_variant_index,
    judged_once=True,
)
