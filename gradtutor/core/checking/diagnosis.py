"""What a wrong derivative answer got wrong, and a point that shows it."""

from __future__ import annotations

import math
from typing import Any

import torch

from .. import mathlang
from ..mathlang import Node
from .reference import DTYPE, KINK_MARGIN, DerivativeReference, autograd_at
from .verdict import ATOL, RTOL


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = RTOL, atol: float = ATOL) -> torch.Tensor:
    """Where `a` is finite and agrees with `b` within the tolerances."""
    return torch.isclose(a, b, rtol=rtol, atol=atol) & torch.isfinite(a)


def diagnose(ref: DerivativeReference, got: torch.Tensor) -> str | None:
    """The mistake a wrong answer makes, when it is one of the telling ones: a flipped
    sign, a missing chain factor (which one), a constant factor or offset."""
    expected = ref.reference
    finite = torch.isfinite(got)
    if not bool(finite.any()):
        return "Your answer is undefined at the sample points."
    significant = expected.abs() > 1e-6
    if bool(close(got, -expected).all()) and bool(significant.any()):
        return "The sign is flipped: your answer is the negative of the derivative."
    for inner in mathlang.inner_functions(ref.function, ref.wrt):
        inner_grad = ref.gradient(inner)
        if bool((inner_grad.abs() > 1e-9).any()) and bool(
            close(got * inner_grad, expected, 1e-6, 1e-8).all()
        ):
            shown = mathlang.to_text(inner)
            inner_d = _inner_derivative_text(inner, ref)
            return (
                f"A chain factor is missing: multiply by the derivative of the inner function "
                f"{shown}{inner_d}."
            )
    for call in (
        n for n in mathlang.walk(ref.function) if isinstance(n, mathlang.Call) and len(n.args) == 1
    ):
        if ref.wrt not in mathlang.variables(call.args[0]):
            continue
        local = ref.local_derivative(call)
        if bool((local.abs() > 1e-9).any()) and bool(
            close(got * local, expected, 1e-6, 1e-8).all()
        ):
            return (
                f"A chain factor is missing: the derivative of {call.func} at its argument "
                f"{mathlang.to_text(call.args[0])}."
            )
    if bool(significant.any()) and bool(finite.all()):
        ratio = got[significant] / expected[significant]
        c = float(ratio.median())
        if abs(c) > 1e-9 and bool(close(got, c * expected, 1e-6, 1e-8).all()):
            nice = nice_number(c)
            if nice == "1/2":
                return "Your answer is half the derivative: a factor of 2 is missing."
            if nice == "2":
                return "Your answer is twice the derivative: a factor of 2 too many."
            return f"Your answer is off by a constant factor: it is {nice} times the derivative."
    diff = got - expected
    if bool(finite.all()):
        c = float(diff.median())
        if abs(c) > 1e-9 and bool(
            torch.isclose(diff, torch.full_like(diff, c), rtol=1e-6, atol=1e-8).all()
        ):
            return f"Your answer is off by a constant: it is the derivative {'+' if c > 0 else '-'} {nice_number(abs(c))}."
    return None


def _inner_derivative_text(inner: Node, ref: DerivativeReference) -> str:
    grad = ref.gradient(inner)
    if bool(torch.isclose(grad, grad[0].expand_as(grad), rtol=1e-9, atol=1e-12).all()):
        return f" (which is {nice_number(float(grad[0]))})"
    return ""


def nice_number(c: float) -> str:
    """A ratio as a person reads it: `2`, `1/2`, `-3`, or 4 significant digits."""
    for den in (1, 2, 3, 4):
        num = c * den
        if abs(num - round(num)) < 1e-6:
            num = int(round(num))
            return str(num) if den == 1 else f"{num}/{den}"
    return f"{c:.4g}"


def counterexample(
    ref: DerivativeReference, node: Node, got: torch.Tensor, agree: torch.Tensor
) -> dict[str, Any] | None:
    """A point where the answer (values `got` at the sample points) disagrees, with both values."""
    bad = (~agree).nonzero()
    if not len(bad):
        return None
    i = int(bad[0])
    point = {k: float(v[i]) for k, v in sorted(ref.points.items())}
    # Prefer a short, round point where the answer is still wrong.
    rounded = {k: round(v, 2) for k, v in point.items()}
    single = {k: torch.tensor([v], dtype=DTYPE) for k, v in rounded.items()}
    try:
        exp = autograd_at(ref.function, ref.wrt, single)
        with torch.no_grad():
            got_there = torch.broadcast_to(mathlang.to_torch(node, single), (1,))
            kinked = any(
                abs(float(torch.broadcast_to(mathlang.to_torch(k, single), (1,))[0])) <= KINK_MARGIN
                for k in ref.kinks
            )
        if not kinked and torch.isfinite(exp).all() and not bool(close(got_there, exp).all()):
            return {
                "point": rounded,
                "expected": _round(float(exp[0])),
                "got": _round(float(got_there[0])),
            }
    except (RuntimeError, ValueError):
        pass
    return {
        "point": {k: _round(v) for k, v in point.items()},
        "expected": _round(float(ref.reference[i])),
        "got": _round(float(got[i])),
    }


def _round(v: float) -> float | str:
    if not math.isfinite(v):
        return "undefined" if math.isnan(v) else str(v)
    return float(f"{v:.6g}")


# ----------------------------------------------------------------------------- values
