"""One entry point for every exercise kind: `check_exercise`, and the reference answer
shown after solving."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import tensorlang
from ..kinds import CheckContext, kind_of
from ..kinds.choice import check_choice
from ..mathlang import LanguageError, MathError
from ..packs import Exercise
from ..params import DrawError
from ..sandbox import SymbolicSandbox
from ..variants import variant_of, variant_with
from .verdict import Verdict, invalid

__all__ = ["check_choice", "check_exercise", "reference_text"]  # check_choice: kinds/choice.py


# ----------------------------------------------------------------------------- dispatch


def check_exercise(
    ex: Exercise,
    answer: object,
    *,
    variant: int = 0,
    symbolic: bool = True,
    sandbox: SymbolicSandbox | None = None,
    accepted: Mapping[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Verdict:
    """Check an answer to variant `variant` of any exercise kind (the exercise as
    authored; the variant's numbers are put in here); never raises on a learner's input."""
    if not isinstance(answer, str):  # callers such as batch grading pass anything
        return invalid("The answer must be text.")
    try:
        fixed = variant_of(ex, variant)
        if values and ex.params:  # the learner's own numbers, kept in their progress
            fixed = variant_with(ex, variant, values) or fixed
    except (DrawError, LanguageError) as exc:
        return Verdict("undecided", f"Variant {variant} of this exercise could not be made: {exc}")
    try:
        context = CheckContext(symbolic, sandbox, dict(accepted or {}))
        return kind_of(fixed.exercise).check(fixed, answer, context)
    except (MathError, tensorlang.TensorLangError) as exc:
        return Verdict("undecided", f"This exercise could not be checked: {exc}")
    except MemoryError:
        return Verdict("undecided", "The check ran out of memory; your answer was not judged.")
    except RecursionError:
        return Verdict("undecided", "The answer is nested too deeply to check; it was not judged.")
    except (RuntimeError, ValueError, TypeError, OverflowError, ArithmeticError):
        return Verdict("undecided", "The check could not be completed; your answer was not judged.")


def reference_text(ex: Exercise, variant: int = 0) -> str | None:
    """The answer an author gave (with variant `variant`'s numbers), or the option numbers
    as that variant shows them."""
    fixed = variant_of(ex, variant)
    return kind_of(fixed.exercise).reference(fixed)
