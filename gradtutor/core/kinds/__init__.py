"""The exercise kinds, one module each: the core half of "one place per kind".

Each kind's module fills in a `Kind` (`base.py`): its model class, how an answer is
checked and previewed, its reference answer, its authoring checks, what drawn values
change in it, and how a session treats it. The interface's half (the input widget and
its placeholder) is `gradtutor/widgets/kinds.py`. Adding a kind: its model class and
reader in `packs/` (`model.py`, `blocks.py`), a module here listed in `KINDS`, and a row
in the interface's map.
"""

from __future__ import annotations

from ..packs.model import Exercise
from . import choice, derivative, practice, program, tensor, value
from .base import CheckContext, Fixing, Found, Kind, Preview

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (derivative.KIND, value.KIND, tensor.KIND, choice.KIND, practice.KIND, program.KIND)
}
"""Every kind, by the name lesson files use."""


def kind_of(exercise: Exercise) -> Kind:
    """The kind entry of an exercise."""
    return KINDS[exercise.kind]


__all__ = ["KINDS", "CheckContext", "Fixing", "Found", "Kind", "Preview", "kind_of"]
