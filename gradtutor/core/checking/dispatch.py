"""One entry point for every exercise kind: `check_exercise`, and the reference answer
shown after solving."""

from __future__ import annotations

from .. import tensorlang
from ..mathlang import LanguageError, MathError
from ..packs import ChoiceExercise, DerivativeExercise, Exercise, TensorExercise, ValueExercise
from ..params import DrawError
from ..sandbox import SymbolicSandbox
from ..variants import variant_of
from .derivative import check_derivative
from .tensor import check_tensor
from .value import cached_value_reference, check_value, tensor_text
from .verdict import Verdict, invalid


def check_choice(ex: ChoiceExercise, answer: str, order: tuple[int, ...]) -> Verdict:
    """An option number from 1, in the order shown (`order`: the authored index of each
    option shown)."""
    text = str(answer).strip()
    count = len(ex.options)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= count:
        return invalid(f"Pick an option by its number, from 1 to {count}.")
    chosen = order[int(text) - 1]
    option = ex.options[chosen]
    details = {"option": chosen}  # the authored index: the same option in every variant
    if option.correct:
        return Verdict("correct", "Correct.", text, feedback=option.why, details=details)
    return Verdict("incorrect", "Not this one.", text, feedback=option.why, details=details)


# ----------------------------------------------------------------------------- dispatch


def check_exercise(
    ex: Exercise,
    answer: object,
    *,
    variant: int = 0,
    symbolic: bool = True,
    sandbox: SymbolicSandbox | None = None,
) -> Verdict:
    """Check an answer to variant `variant` of any exercise kind (the exercise as
    authored; the variant's numbers are put in here); never raises on a learner's input."""
    if not isinstance(answer, str):  # callers such as batch grading pass anything
        return invalid("The answer must be text.")
    try:
        fixed = variant_of(ex, variant)
    except (DrawError, LanguageError) as exc:
        return Verdict("undecided", f"Variant {variant} of this exercise could not be made: {exc}")
    ex = fixed.exercise
    try:
        if isinstance(ex, DerivativeExercise):
            return check_derivative(
                ex.function,
                ex.wrt,
                answer,
                domain=ex.domain,
                feedback=ex.feedback,
                symbolic=symbolic,
                sandbox=sandbox,
            )
        if isinstance(ex, ValueExercise):
            return check_value(ex, answer)
        if isinstance(ex, TensorExercise):
            return check_tensor(ex, answer)
        if isinstance(ex, ChoiceExercise):
            return check_choice(ex, answer, fixed.order)
    except (MathError, tensorlang.TensorLangError) as exc:
        return Verdict("undecided", f"This exercise could not be checked: {exc}")
    except MemoryError:
        return Verdict("undecided", "The check ran out of memory; your answer was not judged.")
    except RecursionError:
        return Verdict("undecided", "The answer is nested too deeply to check; it was not judged.")
    except (RuntimeError, ValueError, TypeError, OverflowError, ArithmeticError):
        return Verdict("undecided", "The check could not be completed; your answer was not judged.")
    return invalid(f"Unknown exercise kind {type(ex).__name__}.")


def reference_text(ex: Exercise, variant: int = 0) -> str | None:
    """The answer an author gave (with variant `variant`'s numbers), or the option numbers
    as that variant shows them."""
    fixed = variant_of(ex, variant)
    ex = fixed.exercise
    if isinstance(ex, DerivativeExercise | TensorExercise):
        return ex.answer
    if isinstance(ex, ChoiceExercise):
        order = fixed.order
        return ", ".join(str(i) for i, k in enumerate(order, 1) if ex.options[k].correct)
    if isinstance(ex, ValueExercise):
        return tensor_text(cached_value_reference(ex))
    return None
