"""One entry point for every exercise kind: `check_exercise`, and the reference answer
shown after solving."""

from __future__ import annotations

from .. import tensorlang
from ..mathlang import MathError
from ..packs import ChoiceExercise, DerivativeExercise, Exercise, TensorExercise, ValueExercise
from ..sandbox import SymbolicSandbox
from .derivative import check_derivative
from .tensor import check_tensor
from .value import cached_value_reference, check_value, tensor_text
from .verdict import Verdict, invalid


def check_choice(ex: ChoiceExercise, answer: str, variant: int = 0) -> Verdict:
    """An option number from 1, as variant `variant` shows the options."""
    from ..variants import option_order

    text = str(answer).strip()
    count = len(ex.options)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= count:
        return invalid(f"Pick an option by its number, from 1 to {count}.")
    option = ex.options[option_order(ex, variant)[int(text) - 1]]
    if option.correct:
        return Verdict("correct", "Correct.", text, feedback=option.why)
    return Verdict("incorrect", "Not this one.", text, feedback=option.why)


# ----------------------------------------------------------------------------- dispatch


def check_exercise(
    ex: Exercise,
    answer: object,
    *,
    variant: int = 0,
    symbolic: bool = True,
    sandbox: SymbolicSandbox | None = None,
) -> Verdict:
    """Check an answer to variant `variant` of any exercise kind; never raises on a
    learner's input."""
    if not isinstance(answer, str):  # callers such as batch grading pass anything
        return invalid("The answer must be text.")
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
            return check_choice(ex, answer, variant)
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
    """The answer an author gave, or the option numbers as variant `variant` shows them."""
    if isinstance(ex, DerivativeExercise | TensorExercise):
        return ex.answer
    if isinstance(ex, ChoiceExercise):
        from ..variants import option_order

        order = option_order(ex, variant)
        return ", ".join(str(i) for i, k in enumerate(order, 1) if ex.options[k].correct)
    if isinstance(ex, ValueExercise):
        return tensor_text(cached_value_reference(ex))
    return None
