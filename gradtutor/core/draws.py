"""The random source of each variant, and what a variant is.

A module below both `variants` (which makes fixed exercises from draws) and `practice`
(which generates chain-rule exercises from the same seeds), so that neither imports the
other in a circle. See `variants` for how seeds are derived.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from . import paramlang
from .packs.model import Exercise
from .paramlang import Value


def digest(text: str) -> bytes:
    """SHA-256 of a text: the source of every seed."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def variant_seed(address: str, k: int) -> int:
    """The seed of variant k of the exercise at `PACK/LESSON/EXERCISE`."""
    return int.from_bytes(digest(f"{address}/{k}")[:8], "big")


def variant_rng(address: str, k: int) -> random.Random:
    """The random source of variant k: every draw of the variant comes from it, in order."""
    return random.Random(variant_seed(address, k))


@dataclass(frozen=True)
class Variant:
    """Variant k of an exercise: what was drawn, and the exercise as the learner sees it."""

    k: int
    params: dict[str, Value]
    exercise: Exercise
    """The exercise with the parameters in place (the authored one when it has none)."""
    order: tuple[int, ...] = ()
    """For a choice exercise: the authored index of each option, in the order shown."""

    def shown_options(self) -> list[str]:
        """The option texts in the order shown ([] for other kinds)."""
        options = getattr(self.exercise, "options", ())
        return [options[i].text for i in self.order]

    def params_text(self) -> str:
        """`a = 3, b = -2`: the drawn numbers, for instructors' listings and messages."""
        return ", ".join(f"{k} = {paramlang.format_value(v)}" for k, v in self.params.items())
