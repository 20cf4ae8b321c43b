"""Variants: one exercise, many versions, each a pure function of where it is and k.

Variant k of the exercise at PACK/LESSON/EXERCISE draws from `random.Random` seeded
with the first 8 bytes (big-endian) of the SHA-256 of `PACK/LESSON/EXERCISE/k`, so an
instructor reproduces exactly what a learner saw. Variant 0 keeps the authored order of
choice options; every other variant shuffles them with its own draws. A learner sees
variant `learner_variant(...)`: the first 6 bytes of the SHA-256 of
`LEARNER/PACK/LESSON/EXERCISE/ROUND`, where LEARNER is the random id of their progress
and ROUND counts the fresh variants they asked for.
"""

from __future__ import annotations

import hashlib
import random

from .packs import ChoiceExercise, Exercise


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def variant_seed(address: str, k: int) -> int:
    """The seed of variant k of the exercise at `PACK/LESSON/EXERCISE`."""
    return int.from_bytes(_digest(f"{address}/{k}")[:8], "big")


def variant_rng(address: str, k: int) -> random.Random:
    """The random source of variant k: every draw of the variant comes from it, in order."""
    return random.Random(variant_seed(address, k))


def learner_variant(learner: str, address: str, round_: int = 0) -> int:
    """The variant a learner sees of an exercise, in a given round."""
    return int.from_bytes(_digest(f"{learner}/{address}/{round_}")[:6], "big")


def option_order(exercise: ChoiceExercise, k: int) -> tuple[int, ...]:
    """The authored index of each option shown, in the order variant k shows them."""
    order = list(range(len(exercise.options)))
    if k != 0:
        variant_rng(exercise.address, k).shuffle(order)
    return tuple(order)


def shown_options(exercise: Exercise, k: int) -> list[str]:
    """The option texts of a choice exercise in the order of variant k ([] for others)."""
    if not isinstance(exercise, ChoiceExercise):
        return []
    return [exercise.options[i].text for i in option_order(exercise, k)]
