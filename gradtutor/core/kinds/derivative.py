"""The `derivative` kind: a function, a variable, an expression typed for the derivative."""

from __future__ import annotations

import random
import re
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .. import mathlang
from ..packs.model import DerivativeExercise, Exercise
from ..sizes import MAX_MATH_CHARS
from .base import CheckContext, Fixing, Found, Kind, Preview

if TYPE_CHECKING:
    from ..checking.verdict import Verdict
    from ..draws import Variant
    from ..paramlang import Value

_INVERSE_POWER = re.compile(r"(sin|cos|tan|sec|csc|cot|sinh|cosh|tanh)\s*\^\s*\(?\s*[-−]\s*1")
_RIGHT_POWERS = re.compile(r"\^[^+\-*/()]*\^")


def _preview(ex: Exercise, answer: str) -> Preview:
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


def _check(variant: Variant, answer: str, context: CheckContext) -> Verdict:
    from ..checking.derivative import check_derivative

    ex = variant.exercise
    assert isinstance(ex, DerivativeExercise)
    return check_derivative(
        ex.function,
        ex.wrt,
        answer,
        domain=ex.domain,
        feedback=ex.feedback,
        symbolic=context.symbolic,
        sandbox=context.sandbox,
    )


def _reference(variant: Variant) -> str | None:
    ex = variant.exercise
    assert isinstance(ex, DerivativeExercise)
    return ex.answer


def _solution_extra(variant: Variant, reference: str | None) -> str | None:
    """Without an authored answer, sympy's derivative is shown (even beside a solution)."""
    if reference is not None:
        return None
    from ..sandbox import shared_sandbox

    ex = variant.exercise
    assert isinstance(ex, DerivativeExercise)
    reply = shared_sandbox().request({"op": "derivative", "function": ex.function, "wrt": ex.wrt})
    if reply.get("status") == "ok":
        return "One answer:\n\n```\n" + str(reply["pretty"]) + "\n```"
    return None


def _problems(ex: Exercise, symbolic: bool) -> Found:
    from ..checking import ReferenceError_, check_exercise, derivative_reference

    assert isinstance(ex, DerivativeExercise)
    try:
        function = mathlang.parse(ex.function, known=frozenset(p.name for p in ex.params))
    except mathlang.MathError as exc:
        yield ex.line_of("function"), "error", f"`function` does not parse: {exc}"
        return
    names = mathlang.variables(function)
    if ex.wrt not in names:
        yield (
            ex.line_of("wrt"),
            "error",
            f'wrt = "{ex.wrt}" does not occur in the function {ex.function}',
        )
        return
    for var, _, _ in ex.domain:
        if var not in names:
            yield (
                ex.line_of("domain"),
                "warning",
                f"the domain names `{var}`, which is not a variable of the function",
            )
    try:
        derivative_reference(ex.function, ex.wrt, ex.domain)
    except ReferenceError_ as exc:
        if "params" in ex.key_lines:  # drawn numbers: these may be the ones to exclude
            yield (
                ex.line_of("params"),
                "error",
                f"{exc} For drawn numbers, exclude these with `not = [...]` in [params] "
                "or a `where` condition.",
            )
        else:
            yield ex.line_of("function"), "error", str(exc)
        return
    if ex.answer is not None:
        try:
            mathlang.parse(ex.answer, names)
        except mathlang.MathError as exc:
            yield ex.line_of("answer"), "error", f"`answer` does not parse: {exc}"
            return
        verdict = check_exercise(ex, ex.answer, symbolic=symbolic)
        if verdict.verdict == "incorrect":
            where = _point(verdict.counterexample)
            yield ex.line_of("answer"), "error", f"`answer` disagrees with autograd{where}"
        elif verdict.verdict == "undecided":
            yield (
                ex.line_of("answer"),
                "warning",
                f"`answer` could not be confirmed: {verdict.message}",
            )


def _point(counterexample: dict[str, Any] | None) -> str:
    if not counterexample:
        return ""
    at = ", ".join(f"{k} = {v}" for k, v in counterexample["point"].items())
    return f" at {at}: autograd gives {counterexample['expected']}, the answer gives {counterexample['got']}"


# ----------------------------------------------------------------------------- drawn values


def _number_node(value: int | float) -> mathlang.Node:
    exact = Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))
    text = str(value) if isinstance(value, int) else repr(float(value))
    if exact < 0:
        return mathlang.Neg(mathlang.Num(-exact, text.lstrip("-")))
    return mathlang.Num(exact, text)


def _replace(node: mathlang.Node, values: dict[str, Value]) -> mathlang.Node:
    match node:
        case mathlang.Var(name) if name in values:
            value = values[name]
            if isinstance(value, list):
                raise mathlang.MathError(f"`{name}` is a vector; a function takes numbers")
            return _number_node(value)
        case mathlang.BinOp(op, left, right):
            return mathlang.BinOp(op, _replace(left, values), _replace(right, values))
        case mathlang.Neg(operand):
            return mathlang.Neg(_replace(operand, values))
        case mathlang.Call(func, args):
            return mathlang.Call(func, tuple(_replace(a, values) for a in args))
    return node


def substitute(text: str, values: dict[str, Value]) -> str:
    """Math-language text with each parameter replaced by its drawn number, exactly
    (integers as integers, decimals as exact decimals)."""
    if not values:
        return text
    return mathlang.to_text(_replace(mathlang.parse(text, known=frozenset(values)), values))


def _fix(ex: Exercise, values: dict[str, Value], rng: random.Random) -> Fixing:
    assert isinstance(ex, DerivativeExercise)
    changes: dict[str, object] = {"function": substitute(ex.function, values)}
    if ex.answer is not None:
        changes["answer"] = substitute(ex.answer, values)

    def match(text: str) -> str:
        try:
            return substitute(text, values)
        except mathlang.MathError:
            return text  # an unreadable match never matches; validate reports it

    return Fixing(changes, match)


def _reserved(ex: Exercise) -> dict[str, str]:
    assert isinstance(ex, DerivativeExercise)
    return {ex.wrt: f"`{ex.wrt}`, the variable the exercise differentiates by"}


KIND = Kind(
    "derivative",
    DerivativeExercise,
    MAX_MATH_CHARS,
    check=_check,
    preview_answer=_preview,
    reference=_reference,
    solution_extra=_solution_extra,
    problems=_problems,
    fix=_fix,
    reserved=_reserved,
    shown_fields=lambda ex: {"function": ex.function, "wrt": ex.wrt},  # type: ignore[attr-defined]
    breaks_down=True,
)
