"""The `tensor` kind: an expression over the lesson network's tensors, for a gradient."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..packs.model import NETWORK_NAMES, Exercise, TensorExercise
from ..sizes import MAX_TENSOR_CHARS
from .base import CheckContext, Fixing, Found, Kind, Preview

if TYPE_CHECKING:
    from ..checking.verdict import Verdict
    from ..draws import Variant
    from ..paramlang import Value


def _preview(ex: Exercise, answer: str) -> Preview:
    from .. import tensorlang
    from ..checking import evaluate_tensor_answer

    assert isinstance(ex, TensorExercise)
    try:
        result = evaluate_tensor_answer(ex, answer)
    except tensorlang.TensorLangError as exc:
        return Preview(exc.message, True, exc.column, answer)
    what = "a boolean mask of shape" if str(result.dtype) == "torch.bool" else "shape"
    return Preview(f"{what} {tensorlang.describe_shape(result)}")


def _check(variant: Variant, answer: str, context: CheckContext) -> Verdict:
    from ..checking.tensor import check_tensor

    assert isinstance(variant.exercise, TensorExercise)
    return check_tensor(variant.exercise, answer)


def _reference(variant: Variant) -> str | None:
    assert isinstance(variant.exercise, TensorExercise)
    return variant.exercise.answer


def _problems(ex: Exercise, symbolic: bool) -> Found:
    from .. import tensorlang
    from ..checking import check_exercise, parse_tensor_answer, tensor_reference

    assert isinstance(ex, TensorExercise)
    if ex.answer is None:
        return
    try:
        parse_tensor_answer(ex, ex.answer)
    except tensorlang.TensorLangError as exc:
        yield ex.line_of("answer"), "error", f"`answer` does not parse: {exc}"
        return
    verdict = check_exercise(ex, ex.answer)
    if verdict.verdict != "correct":
        expected = tensorlang.describe_shape(tensor_reference(ex))
        yield (
            ex.line_of("answer"),
            "error",
            f"`answer` disagrees with autograd for {ex.target} (shape {expected}): {verdict.message}",
        )


def _fix(ex: Exercise, values: dict[str, Value], rng: random.Random) -> Fixing:
    # a parameterized tensor exercise draws its own network (after the parameters)
    return Fixing({"seed": rng.randrange(2**31)})


def _reserved(ex: Exercise) -> dict[str, str]:
    return {name: "a tensor of the lesson network" for name in NETWORK_NAMES}


KIND = Kind(
    "tensor",
    TensorExercise,
    MAX_TENSOR_CHARS,
    check=_check,
    preview_answer=_preview,
    reference=_reference,
    problems=_problems,
    fix=_fix,
    reserved=_reserved,
)
