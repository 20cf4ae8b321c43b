"""Value answers: a number or a small tensor, compared with what autograd computes."""

from __future__ import annotations

import functools
import re

import torch

from .. import tensorlang, valuelang
from ..mathlang import MathError
from ..packs import ValueExercise
from .verdict import Verdict, invalid

DTYPE = torch.float64


def parse_value_answer(text: str) -> torch.Tensor:
    """A value answer as a float64 tensor (grammar in `valuelang`); raises MathError."""
    return torch.tensor(valuelang.parse_value(text), dtype=DTYPE)


@functools.lru_cache(maxsize=256)
def _value_reference_cached(ex: ValueExercise) -> torch.Tensor:
    return value_reference(ex)


def cached_value_reference(ex: ValueExercise) -> torch.Tensor:
    """`value_reference`, computed once per exercise; a copy, so no caller can change it."""
    return _value_reference_cached(ex).clone()


def value_reference(ex: ValueExercise) -> torch.Tensor:
    """Compute the exercise's `compute` from `given` with autograd, and read what `ask` asks."""
    env = {
        name: torch.tensor(value, dtype=DTYPE, requires_grad=name in ex.requires_grad)
        for name, value in ex.given
    }
    expr = tensorlang.parse(ex.compute, frozenset(env))
    result = tensorlang.evaluate(expr, env)
    if result.numel() != 1:
        raise tensorlang.TensorLangError(
            f"`compute` must give one number (a scalar), but it gives shape {tensorlang.describe_shape(result)}"
        )
    if ex.ask == "value":
        value: torch.Tensor = result.detach().reshape(result.shape)
        return value
    leaf = env[ex.ask.removesuffix(".grad")]
    if not result.requires_grad:
        return torch.zeros_like(leaf)
    result.reshape(()).backward()
    return leaf.grad.detach() if leaf.grad is not None else torch.zeros_like(leaf)


_DECIMAL_COMMA = re.compile(r"^\s*([-+−]?)\s*(\d+),(\d+)\s*$")
"""`-0,3209`: one number written with a decimal comma."""


def check_value(ex: ValueExercise, answer: str) -> Verdict:
    """Check a number or list against autograd's value or `.grad`."""
    comma = _DECIMAL_COMMA.match(answer)
    if comma is not None and cached_value_reference(ex).numel() == 1:
        sign, whole, fraction = comma.groups()
        meant = f"{'−' if sign in ('-', '−') else ''}{whole}.{fraction}"
        return invalid(
            f"Did you mean {meant}? Use a point for decimals: a comma separates the "
            "numbers of a list, and one number is asked for here."
        )
    try:
        got = parse_value_answer(answer)
    except MathError as exc:
        return invalid(
            f"Not understood: {exc}. Answer with a number or a list such as [-32, -40].", exc.column
        )
    normalized = tensor_text(got)
    expected = cached_value_reference(ex)
    if got.numel() == expected.numel() and got.numel() > 0:
        got_r = got.reshape(expected.shape)
        if bool(torch.isclose(got_r, expected, rtol=ex.tolerance, atol=ex.tolerance).all()):
            return Verdict("correct", "Correct.", normalized)
    for fb in ex.feedback:
        try:
            match = parse_value_answer(fb.match)
        except MathError:
            continue
        if match.numel() == got.numel() and bool(
            torch.isclose(
                got.reshape(match.shape), match, rtol=ex.tolerance, atol=ex.tolerance
            ).all()
        ):
            return Verdict("incorrect", "Not quite.", normalized, feedback=fb.message)
    if got.numel() != expected.numel():
        want = (
            "one number"
            if expected.numel() == 1
            else f"{expected.numel()} numbers (shape {tensorlang.describe_shape(expected)})"
        )
        return Verdict(
            "incorrect",
            f"Not quite: the answer should be {want}; you gave {got.numel()}.",
            normalized,
        )
    got_r = got.reshape(expected.shape)
    if bool(torch.isclose(got_r, -expected, rtol=ex.tolerance, atol=ex.tolerance).all()) and bool(
        (expected != 0).any()
    ):
        return Verdict("incorrect", "Not quite: the sign is flipped.", normalized)
    nonzero = expected.abs() > 1e-12
    if bool(nonzero.all()):
        # Only the telling factors: any other ratio would give the answer away.
        for factor, words in (
            (2.0, "twice the right one: a factor of 2 too many"),
            (0.5, "half the right one: a factor of 2 is missing"),
        ):
            # within the exercise's tolerance, as a right answer is (a rounded 0.0636 is
            # twice 0.03183)
            if bool(
                torch.isclose(got_r, factor * expected, rtol=ex.tolerance, atol=ex.tolerance).all()
            ):
                return Verdict("incorrect", f"Not quite: your answer is {words}.", normalized)
    if expected.numel() > 1:
        wrong = int((~torch.isclose(got_r, expected, rtol=ex.tolerance, atol=ex.tolerance)).sum())
        return Verdict(
            "incorrect", f"Not quite: {wrong} of the {expected.numel()} entries differ.", normalized
        )
    return Verdict("incorrect", "Not quite.", normalized)


def tensor_text(t: torch.Tensor) -> str:
    """A tensor as a learner writes it: `[-32, -40]`, `10`."""
    return valuelang.format_value(t.tolist())
