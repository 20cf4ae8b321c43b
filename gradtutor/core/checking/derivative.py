"""Derivative answers: compared with torch autograd at sampled points, confirmed by sympy.

A derivative answer is compared with torch autograd on the exercise's `function` at
random points of its domain (float64), redrawn where the reference is undefined or
sits near a kink of relu/abs/step/sign/max/min. Agreement is then confirmed
symbolically by sympy in the sandbox process; where the two engines disagree the verdict
is `undecided`. Wrong answers get the most specific feedback available: an authored
`[[feedback]]` match, a diagnosed mistake (`diagnosis`), an answer of the wrong kind,
then a counterexample point.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .. import mathlang
from ..mathlang import MathError, Node
from ..packs import Feedback
from ..sandbox import SymbolicSandbox, shared_sandbox
from .diagnosis import CHAIN_MISTAKE, _round, close, counterexample, diagnose
from .reference import (
    KINK_MARGIN,
    DerivativeReference,
    ReferenceError_,
    autograd_at,
    derivative_reference,
)
from .verdict import Verdict, invalid


def check_derivative(
    function: str,
    wrt: str,
    answer: str,
    *,
    domain: tuple[tuple[str, float, float], ...] = (),
    feedback: tuple[Feedback, ...] = (),
    symbolic: bool = True,
    sandbox: SymbolicSandbox | None = None,
) -> Verdict:
    """Check a derivative answer against torch autograd (and sympy, when agreeing)."""
    try:
        ref = derivative_reference(function, wrt.strip(), domain)
    except MathError as exc:
        return invalid(f"The function could not be read: {exc}")
    except ReferenceError_ as exc:
        return Verdict("undecided", f"Cannot check this exercise: {exc}")
    try:
        node = mathlang.parse(answer, ref.variables, equation=True)
    except MathError as exc:
        return invalid(f"Not understood: {exc}.", exc.column)
    note = (
        " (Read as the right-hand side of your equation.)" if mathlang.is_equation(answer) else ""
    )
    normalized = mathlang.to_text(node)
    got = ref.evaluate(node)
    for kink in mathlang.kink_arguments(node):  # a step in the answer: judge away from it
        with torch.no_grad():
            arg = torch.broadcast_to(mathlang.to_torch(kink, ref.points), got.shape)
        got = torch.where(arg.abs() > KINK_MARGIN, got, ref.reference)
    agree = close(got, ref.reference)
    if bool(agree.all()):
        return _agreeing(ref, node, normalized, note, symbolic, sandbox, domain)
    n, wrong = ref.count, int((~agree).sum())
    if symbolic and wrong <= max(1, n // 10):  # wrong at a few points only: ask sympy first
        sym = _symbolic(sandbox, function, wrt, normalized, ref.variables)
        if sym.get("status") == "equal":
            return Verdict(
                "undecided",
                f"sympy finds your answer equal to the derivative, but it differs from autograd at "
                f"{wrong} of {n} points (rounding, or a point where it is undefined).",
                normalized,
            )
    point = counterexample(ref, node, got, agree)
    for fb in feedback:
        try:
            match = mathlang.parse(fb.match, ref.variables)
        except MathError:
            continue
        if bool(close(got, ref.evaluate(match), 1e-6, 1e-9).all()):
            return Verdict("incorrect", "Not quite." + note, normalized, fb.message, point)
    diagnosis = diagnose(ref, got)  # exp(-x^2) for exp(-x^2) is a missing factor first
    if diagnosis:
        return Verdict(
            "incorrect",
            f"Not quite. {diagnosis}{note}",
            normalized,
            counterexample=point,
            details={"breakdown": diagnosis.startswith(CHAIN_MISTAKE)},
        )
    kind = _wrong_kind(ref, node, got)
    if kind:
        return Verdict("invalid", kind, normalized)
    return Verdict("incorrect", "Not quite." + note, normalized, counterexample=point)


def _agreeing(
    ref: DerivativeReference,
    node: Node,
    normalized: str,
    note: str,
    symbolic: bool,
    sandbox: SymbolicSandbox | None,
    domain: tuple[tuple[str, float, float], ...] = (),
) -> Verdict:
    """The verdict on an answer that agrees with autograd at every point.

    sympy confirms it, or (where it finds a constant difference) makes it undecided. A
    decimal answer is judged by the numbers: agreeing within the tolerance is correct,
    with the exact value beside it (`0.333333333333333` for 1/3, alone or as a factor).
    """
    n = ref.count
    if not symbolic:
        return Verdict("correct", "Correct." + note, normalized, details={"points": n})
    function, wrt = mathlang.to_text(ref.function), ref.wrt
    sym = _symbolic(sandbox, function, wrt, normalized, ref.variables)
    status = sym.get("status")
    details = {"points": n, "symbolic": sym}
    if status != "equal" and not (status == "different" and mathlang.has_decimal(node)):
        # agreeing at the samples only, and sympy proved nothing: look over the domain
        # (`|x + 11|` for `|x + 10|` differ only for -11 < x < -10; `2x + 1e9` hid its x)
        found = difference_point(ref, node, domain)
        if found is not None:
            return Verdict(
                "incorrect",
                "Not quite: your answer agrees with the derivative near the points sampled, "
                "but not everywhere." + note,
                normalized,
                counterexample=found,
                details=details,
            )
    if mathlang.has_decimal(node) and status != "equal":
        exact = _exact_derivative(sandbox, function, wrt, ref.variables)
        shown = f" the exact answer is {exact}" if exact else " the exact answer has no decimals"
        return Verdict(
            "correct",
            f"Correct, to within the tolerance of the check:{shown}.{note}",
            normalized,
            details=details,
        )
    if status == "different":
        return Verdict(
            "undecided",
            f"Your answer agrees with autograd at {n} sampled points, but sympy finds a "
            f"difference ({sym.get('detail')}). It may be right only on part of the domain.",
            normalized,
            details=details,
        )
    how = "confirmed symbolically" if status == "equal" else f"checked at {n} points"
    return Verdict("correct", f"Correct ({how}).{note}", normalized, details=details)


SEARCH_GRID = [-1e6, -1e3, 1e3, 1e6] + [x / 4 + 0.125 for x in range(-400, 400)]
"""Where a difference sympy could not settle is looked for: the middles of a grid of step
1/4 over [-100, 100] (a kink sits on the grid, not between) and four far points."""


def difference_point(
    ref: DerivativeReference, node: Node, domain: tuple[tuple[str, float, float], ...] = ()
) -> dict[str, Any] | None:
    """A point of the domain (the exercise's, or every real where the function is
    defined) where the answer and autograd's derivative differ, there and just beside
    it, beyond rounding: a counterexample, or None. Deterministic: one torch pass over
    a fixed grid for `wrt`, the other variables at their first sampled values."""
    bounds = {name: (lo, hi) for name, lo, hi in domain}
    grid = torch.tensor(SEARCH_GRID, dtype=torch.float64)
    low, high = bounds.get(ref.wrt, (-math.inf, math.inf))
    grid = grid[(grid >= low) & (grid <= high)]
    if not len(grid):
        return None
    points = {
        name: grid if name == ref.wrt else torch.full_like(grid, float(values[0]))
        for name, values in ref.points.items()
    }

    def gaps(at: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            defined = torch.broadcast_to(mathlang.to_torch(ref.function, at), grid.shape)
            got = torch.broadcast_to(mathlang.to_torch(node, at), grid.shape)
        want = autograd_at(ref.function, ref.wrt, at)
        size = torch.maximum(torch.ones_like(want), torch.maximum(want.abs(), got.abs()))
        ok = torch.isfinite(defined) & torch.isfinite(want) & torch.isfinite(got)
        return ok & ((got - want).abs() > 1e-9 * size), want, got

    here, want, got = gaps(points)
    for side in (1e-4, -1e-4):  # not a single point where two right forms disagree
        moved = {k: (v + side if k == ref.wrt else v) for k, v in points.items()}
        here = here & gaps(moved)[0]
    index = here.nonzero()
    if not len(index):
        return None
    i = int(index[0])
    return {
        "point": {k: _round(float(v[i])) for k, v in sorted(points.items())},
        "expected": _round(float(want[i])),
        "got": _round(float(got[i])),
    }


def _exact_derivative(
    sandbox: SymbolicSandbox | None, function: str, wrt: str, variables: frozenset[str]
) -> str | None:
    """sympy's derivative of the function, in the language's Unicode (None if unknown)."""
    reply = (sandbox or shared_sandbox()).request(
        {"op": "derivative", "function": function, "wrt": wrt, "vars": sorted(variables)}
    )
    text = reply.get("text") if reply.get("status") == "ok" else None
    if not text:
        return None
    try:
        return mathlang.pretty_text(mathlang.parse(text, variables))
    except MathError:
        return None


def _wrong_kind(ref: DerivativeReference, node: Node, got: torch.Tensor) -> str | None:
    """An answer of the wrong kind: the function itself (as written), or an antiderivative."""
    function_values = ref.evaluate(ref.function)
    if node == ref.function:  # x·x^(x−1) for x^x is a mistake of the power rule, not this
        return "That is the function itself; the exercise asks for its derivative."
    if mathlang.variables(node) and ref.wrt in mathlang.variables(node):
        slope = ref.gradient(node)
        if bool(close(slope, function_values).all()) and bool((function_values.abs() > 1e-9).any()):
            return (
                "You integrated: the derivative of your answer is the function itself. "
                "The exercise asks for the derivative."
            )
    return None


def _symbolic(
    sandbox: SymbolicSandbox | None, function: str, wrt: str, answer: str, variables: frozenset[str]
) -> dict[str, Any]:
    """Ask the sandbox whether the answer equals sympy's derivative of the function."""
    return (sandbox or shared_sandbox()).request(
        {
            "op": "equivalent",
            "function": function,
            "wrt": wrt,
            "answer": answer,
            "vars": sorted(variables),
        }
    )
