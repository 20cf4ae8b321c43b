"""The exercise kinds, one entry each: the core half of "one place per kind".

Each `Kind` names the model class, the longest answer its language reads, and how an
answer is previewed while it is typed. The interface's half (the input widget and its
placeholder) is `gradtutor/widgets/kinds.py`. Adding a kind: a model class in
`packs/model.py`, its checker in `checking/dispatch.py`, an entry here and one there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .packs import (
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    PracticeExercise,
    TensorExercise,
    ValueExercise,
)
from .sizes import MAX_MATH_CHARS, MAX_TENSOR_CHARS, MAX_VALUE_CHARS


@dataclass(frozen=True)
class Preview:
    """How an answer reads, for the line under the answer field."""

    text: str
    """The answer as read (pretty), or what went wrong."""
    error: bool = False
    column: int | None = None
    """Where an answer that could not be read went wrong (1-based)."""
    answer: str = ""
    """The answer typed (shown above the caret of an error)."""
    note: str = ""
    """A dim remark after the reading."""


def _derivative_preview(ex: Exercise, answer: str) -> Preview:
    from . import mathlang

    assert isinstance(ex, DerivativeExercise)
    try:
        names = mathlang.variables(mathlang.parse(ex.function))
        node = mathlang.parse(answer, names, equation=True)
    except mathlang.MathError as exc:
        return Preview(exc.message, True, exc.column, answer)
    notes = []
    if mathlang.is_equation(answer):
        notes.append("the right-hand side of your equation")
    if "σ" in answer:
        notes.append("σ is the sigmoid")
    if "π" in answer:
        notes.append("π is the constant 3.14159…")
    if _INVERSE_POWER.search(answer):
        notes.append("f^-1 read as the inverse function")
    if _RIGHT_POWERS.search(answer):
        notes.append("a^b^c is read as a^(b^c)")
    return Preview(mathlang.pretty_text(node), note=f"({'; '.join(notes)})" if notes else "")


_INVERSE_POWER = re.compile(r"(sin|cos|tan|sec|csc|cot|sinh|cosh|tanh)\s*\^\s*\(?\s*[-−]\s*1")
_RIGHT_POWERS = re.compile(r"\^[^+\-*/()]*\^")


def _value_preview(ex: Exercise, answer: str) -> Preview:
    from .mathlang import MathError
    from .valuelang import format_value, parse_value

    try:
        value = parse_value(answer)
    except MathError as exc:
        return Preview(exc.message, True, exc.column, answer)
    return Preview(format_value(value))


def _tensor_preview(ex: Exercise, answer: str) -> Preview:
    from . import tensorlang
    from .checking import evaluate_tensor_answer

    assert isinstance(ex, TensorExercise)
    try:
        result = evaluate_tensor_answer(ex, answer)
    except tensorlang.TensorLangError as exc:
        return Preview(exc.message, True, exc.column, answer)
    what = "a boolean mask of shape" if str(result.dtype) == "torch.bool" else "shape"
    return Preview(f"{what} {tensorlang.describe_shape(result)}")


def _no_preview(ex: Exercise, answer: str) -> Preview:
    return Preview("")


@dataclass(frozen=True)
class Kind:
    """One exercise kind (see the module's docstring)."""

    name: str
    model: type[Exercise]
    answer_chars: int | None
    """The answer field's length (None: no field, the options are chosen)."""
    preview_answer: Callable[[Exercise, str], Preview]
    judged_once: bool = False
    """Each exercise shown is judged once (a practice block), not until solved."""

    def preview(self, ex: Exercise, answer: str) -> Preview:
        """The preview of an answer; never raises (a preview must not take the tutor down)."""
        if not answer.strip():
            return Preview("")
        try:
            return self.preview_answer(ex, answer)
        except Exception:
            return Preview("", note="(no preview for this answer; Enter still checks it)")


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("derivative", DerivativeExercise, MAX_MATH_CHARS, _derivative_preview),
        Kind("value", ValueExercise, MAX_VALUE_CHARS, _value_preview),
        Kind("tensor", TensorExercise, MAX_TENSOR_CHARS, _tensor_preview),
        Kind("choice", ChoiceExercise, None, _no_preview),
        Kind("practice", PracticeExercise, MAX_MATH_CHARS, _no_preview, judged_once=True),
    )
}
"""Every kind, by the name lesson files use."""


def kind_of(exercise: Exercise) -> Kind:
    """The kind entry of an exercise."""
    return KINDS[exercise.kind]
