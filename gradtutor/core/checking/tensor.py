"""Tensor answers: a gradient formula over the lesson network, compared with what a real
`backward()` leaves, with torch.allclose.

A wrong answer is diagnosed by a table of rules, each a predicate over the answer and
the reference and the sentence it earns: one table for answers of the wrong shape, one
for answers of the right shape. Every comparison goes through `same`, with the one pair
of tolerances of `verdict.TENSOR_RTOL` and `TENSOR_ATOL`.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .. import tensorlang
from ..network import autograd_gradients, forward, make_params
from ..packs import NETWORK_NAMES, TensorExercise
from .diagnosis import nice_number
from .verdict import TENSOR_ATOL, TENSOR_RTOL, Verdict, invalid

DTYPE = torch.float64


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape and the same numbers, within the tensor tolerances."""
    return a.shape == b.shape and bool(
        torch.allclose(a.to(DTYPE), b.to(DTYPE), rtol=TENSOR_RTOL, atol=TENSOR_ATOL)
    )


@functools.lru_cache(maxsize=32)
def _network(
    n: int, d_in: int, hidden: int, seed: int
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    p = make_params(n, d_in, hidden, seed)
    acts = forward(p)
    grads = autograd_gradients(p)
    env = {
        "x": p.x,
        "w1": p.w1,
        "b1": p.b1,
        "w2": p.w2,
        "b2": p.b2,
        "y": p.y,
        "l1": acts["l1"],
        "l2": acts["l2"],
        "out": acts["out"],
        "out_g": grads["out"],
        "l2_g": grads["l2"],
        "l1_g": grads["l1"],
    }
    return {k: v.detach() for k, v in env.items()}, {k: v.detach() for k, v in grads.items()}


def network_environment(
    n: int, d_in: int, hidden: int, seed: int
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The lesson network's tensors (by name) and autograd's gradients of every one:
    computed once per network, handed out as copies so that no caller can change them."""
    env, grads = _network(n, d_in, hidden, seed)
    return {k: v.clone() for k, v in env.items()}, {k: v.clone() for k, v in grads.items()}


def tensor_reference(ex: TensorExercise) -> torch.Tensor:
    """Autograd's gradient for the exercise's target (a copy)."""
    _, grads = _network(ex.shapes.n, ex.shapes.d_in, ex.shapes.hidden, ex.seed)
    return grads[ex.target.split(".")[0]].clone()


def _fresh_env(ex: TensorExercise) -> dict[str, torch.Tensor]:
    return network_environment(ex.shapes.n, ex.shapes.d_in, ex.shapes.hidden, ex.seed)[0]


UPSTREAM: dict[str, tuple[str, ...]] = {
    "out.g": (),
    "l2.g": ("out_g",),
    "w2.grad": ("out_g",),
    "b2.grad": ("out_g",),
    "l1.g": ("out_g", "l2_g"),
    "w1.grad": ("out_g", "l2_g", "l1_g"),
    "b1.grad": ("out_g", "l2_g", "l1_g"),
    "x.grad": ("out_g", "l2_g", "l1_g"),
}
"""The upstream gradients a tensor answer may use for each target: those of the nodes
above it, never its own or one below it (`out_g` for `out.g` would name the answer)."""
_GRADS = ("out_g", "l2_g", "l1_g")


def allowed_names(target: str) -> frozenset[str]:
    """The names an answer for `target` may use."""
    return frozenset(n for n in NETWORK_NAMES if n not in _GRADS) | frozenset(UPSTREAM[target])


def parse_tensor_answer(ex: TensorExercise, answer: str) -> tensorlang.TensorExpr:
    """Parse an answer for this exercise: a gradient that is not upstream of its target
    (in either spelling, `l1_g` or `l1.g`) is refused at its column, with the names that
    are allowed. Raises TensorLangError."""
    expr = tensorlang.parse(answer, frozenset(NETWORK_NAMES))
    allowed = UPSTREAM.get(ex.target, _GRADS)
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Name) and node.id in _GRADS:
            name, spelled = node.id, node.id
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "g"
            and isinstance(node.value, ast.Name)
        ):
            name, spelled = f"{node.value.id}_g", f"{node.value.id}.g"
        else:
            continue
        if name in allowed:
            continue
        column = node.col_offset + 1
        names = ", ".join(n for n in NETWORK_NAMES if n in allowed_names(ex.target))
        upstream = (
            f"the upstream gradient{'s' if len(allowed) > 1 else ''} "
            + " and ".join(f"{a} ({a.replace('_g', '.g')})" for a in allowed)
            if allowed
            else "no gradient: it is the first one computed"
        )
        why = f"an answer for {ex.target} may use {upstream}; the names allowed are {names}"
        raise tensorlang.TensorLangError(
            f"`{spelled}` (column {column}) is not allowed here: {why}", column
        )
    return expr


def evaluate_tensor_answer(
    ex: TensorExercise, answer: str, env: dict[str, torch.Tensor] | None = None
) -> torch.Tensor:
    """Evaluate a tensor-language answer over the exercise's network; raises TensorLangError."""
    expr = parse_tensor_answer(ex, answer)
    result: torch.Tensor = tensorlang.evaluate(expr, env if env is not None else _fresh_env(ex))
    return result


@dataclass(frozen=True)
class Case:
    """What a diagnosis rule looks at."""

    ex: TensorExercise
    got: torch.Tensor
    expected: torch.Tensor
    env: dict[str, torch.Tensor]

    @property
    def ratio(self) -> float | None:
        """got / expected where expected is not 0 (the median), if it is one constant."""
        nonzero = self.expected.abs() > 1e-10
        if not bool(nonzero.any()):
            return None
        c = float((self.got[nonzero] / self.expected[nonzero]).median())
        return c if abs(c) > 1e-9 and same(self.got, c * self.expected) else None


@dataclass(frozen=True)
class Rule:
    """A telling mistake: when `applies`, the learner reads `says`."""

    applies: Callable[[Case], bool]
    says: Callable[[Case], str]


def transposed(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """The right numbers, transposed."""
    return got.dim() == 2 and expected.dim() == 2 and same(got.T, expected)


def unsummed(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """One row per example where the sum over the batch dimension was wanted."""
    return (
        got.dim() == expected.dim() + 1
        and got.shape[1:] == expected.shape
        and same(got.sum(0), expected)
    )


def reshaped(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """The right numbers in another shape of the same size."""
    return got.numel() == expected.numel() and same(got.reshape(expected.shape), expected)


def _transposed(c: Case) -> bool:
    return transposed(c.got, c.expected)


def _unsummed(c: Case) -> bool:
    return unsummed(c.got, c.expected)


def _broadcast_square(c: Case) -> bool:
    n = c.ex.shapes.n
    return c.got.dim() == 2 and c.got.shape[0] == c.got.shape[1] == n and c.expected.shape[0] == n


def _needs_reshape(c: Case) -> bool:
    return reshaped(c.got, c.expected)


SHAPE_RULES = (
    Rule(_transposed, lambda c: " It looks transposed."),
    Rule(_unsummed, lambda c: " Sum over the batch dimension?"),
    Rule(
        _broadcast_square,
        lambda c: (
            " A square n×n result usually means (n, 1) and (n,) broadcast against each "
            "other: squeeze or unsqueeze first."
        ),
    ),
    Rule(_needs_reshape, lambda c: " The numbers are right; reshape (unsqueeze) it."),
)
"""Answers of the wrong shape: what their numbers say."""


def _scaled(c: Case) -> str:
    ratio = c.ratio
    assert ratio is not None
    n = c.ex.shapes.n
    hint = ""
    if any(abs(ratio - k) < 1e-6 for k in (n / 2, n, 0.5)):
        hint = " Is the 2/n of the mean squared error missing or doubled?"
    return f"Not quite: right shape, but {nice_number(ratio)} times the gradient.{hint}"


def _missing_relu_mask(c: Case) -> bool:
    """The answer equals the target computed from l2.g instead of l1.g (mask forgotten)."""
    unmasked = c.env["l2_g"]
    candidate = {
        "l1.g": lambda: unmasked,
        "w1.grad": lambda: c.env["x"].T @ unmasked,
        "b1.grad": lambda: unmasked.sum(0),
        "x.grad": lambda: unmasked @ c.env["w1"].T,
    }.get(c.ex.target)
    return candidate is not None and same(c.got, candidate())


VALUE_RULES = (
    Rule(lambda c: same(c.got, -c.expected), lambda c: "Not quite: the sign is flipped."),
    Rule(lambda c: c.ratio is not None, _scaled),
    Rule(
        _missing_relu_mask,
        lambda c: "Not quite: right where the ReLU was active; the ReLU mask (l1 > 0) is missing.",
    ),
)
"""Answers of the right shape: the telling ways to be wrong."""


def check_tensor(ex: TensorExercise, answer: str) -> Verdict:
    """Check a gradient formula against autograd with torch.allclose; shapes named on mismatch."""
    env = _fresh_env(ex)  # one copy serves the answer and the feedback matches
    try:
        got = evaluate_tensor_answer(ex, answer, env)
    except tensorlang.TensorLangError as exc:
        return invalid(f"Not understood: {exc}.", exc.column)
    normalized = " ".join(answer.split())
    expected = tensor_reference(ex)
    if got.dtype == torch.bool:
        return Verdict(
            "incorrect",
            "Not quite: that is a boolean mask; convert it with .float() before using it as numbers.",
            normalized,
        )
    if same(got, expected):
        return Verdict("correct", "Correct: it matches autograd.", normalized)
    for fb in ex.feedback:
        try:
            match = tensorlang.evaluate(parse_tensor_answer(ex, fb.match), env)
        except tensorlang.TensorLangError:
            continue
        if same(got, match):
            return Verdict("incorrect", "Not quite.", normalized, feedback=fb.message)
    case = Case(ex, got, expected, env)
    if got.shape != expected.shape:
        shape = tensorlang.describe_shape
        base = (
            f"Not quite: your answer has shape {shape(got)}, but {ex.target} has shape "
            f"{shape(expected)}."
        )
        rule = next((r for r in SHAPE_RULES if r.applies(case)), None)
        return Verdict("incorrect", base + (rule.says(case) if rule else ""), normalized)
    rule = next((r for r in VALUE_RULES if r.applies(case)), None)
    if rule is not None:
        return Verdict("incorrect", rule.says(case), normalized)
    diff = float((got - expected).abs().max())
    return Verdict(
        "incorrect",
        f"Not quite: right shape, but the values differ by up to {diff:.3g}.",
        normalized,
    )
