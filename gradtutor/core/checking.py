"""Verdicts: is the learner right, and if not, why?

A derivative answer is compared with torch autograd on the exercise's `function` at
random points of its domain (float64), redrawn where the reference is undefined or
sits near a kink of relu/abs/Heaviside/max/min. Agreement is then confirmed
symbolically by sympy in the sandbox process; where the two engines disagree the verdict
is `undecided`. Wrong answers get the most specific feedback available: an authored
`[[feedback]]` match, a diagnosed mistake, then a counterexample point.

Value and tensor answers are compared with what a real `backward()` leaves.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from . import mathlang, tensorlang, valuelang
from .mathlang import MathError, Node
from .network import Params, autograd_gradients, forward, make_params
from .packs import (
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    Feedback,
    TensorExercise,
    ValueExercise,
)
from .sandbox import SymbolicSandbox, shared_sandbox

VerdictKind = Literal["correct", "incorrect", "invalid", "undecided"]
MIN_POINTS = 8
CANDIDATES = 64
ROUNDS = 6
RTOL = 1e-6
ATOL = 1e-8
KINK_MARGIN = 1e-3
DTYPE = torch.float64


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check, in the shape of `gradtutor check --json`."""

    verdict: VerdictKind
    message: str
    normalized: str | None = None
    feedback: str | None = None
    counterexample: dict[str, Any] | None = None
    column: int | None = None
    """Where an invalid answer went wrong (1-based), for the interface."""
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def correct(self) -> bool:
        """Whether the answer was judged correct."""
        return self.verdict == "correct"

    @property
    def spends_attempt(self) -> bool:
        """Invalid answers cost the learner nothing."""
        return self.verdict != "invalid"

    def counterexample_sentence(self) -> str:
        """`At x = 1.3: the derivative is 2.6, your answer gives -2.6.` ("" without one)."""
        ce = self.counterexample
        if not ce:
            return ""
        at = ", ".join(f"{k} = {v}" for k, v in ce["point"].items())
        return f"At {at}: the derivative is {ce['expected']}, your answer gives {ce['got']}."

    def to_json(self) -> dict[str, Any]:
        """The object `gradtutor check --json` prints."""
        return {
            "verdict": self.verdict,
            "message": self.message,
            "normalized": self.normalized,
            "feedback": self.feedback,
            "counterexample": self.counterexample,
        }


def invalid(message: str, column: int | None = None) -> Verdict:
    """An answer that could not be understood."""
    return Verdict("invalid", message, column=column)


def _fmt(v: float) -> str:
    return valuelang.format_number(v)


# ----------------------------------------------------------------------------- derivatives


@dataclass(frozen=True)
class DerivativeReference:
    """A function, its sample points and torch autograd's derivative there."""

    function: Node
    wrt: str
    variables: frozenset[str]
    points: dict[str, torch.Tensor]
    reference: torch.Tensor
    kinks: tuple[Node, ...]

    @property
    def count(self) -> int:
        """How many points the comparison uses."""
        return int(self.reference.shape[0])

    def evaluate(self, node: Node) -> torch.Tensor:
        """Values of an expression at the sample points (no graph)."""
        with torch.no_grad():
            values = mathlang.to_torch(node, self.points)
            return torch.broadcast_to(values, self.reference.shape).clone()

    def local_derivative(self, call: mathlang.Call) -> torch.Tensor:
        """f'(g) at the points, for a call f(g): the outer factor of that link of the chain."""
        with torch.no_grad():
            inner = torch.broadcast_to(
                mathlang.to_torch(call.args[0], self.points), self.reference.shape
            )
        leaf = inner.clone().requires_grad_(True)
        outer = mathlang.to_torch(mathlang.Call(call.func, (mathlang.Var("u"),)), {"u": leaf})
        (grad,) = torch.autograd.grad(outer.sum(), leaf)
        return grad.detach()

    def gradient(self, node: Node) -> torch.Tensor:
        """Autograd's derivative of an expression with respect to wrt at the points."""
        return _autograd_at(node, self.wrt, self.points)


class ReferenceError_(ValueError):
    """The reference itself cannot be sampled (undefined on most of the domain)."""


def _autograd_at(function: Node, wrt: str, points: dict[str, torch.Tensor]) -> torch.Tensor:
    """d function / d wrt at every point, by torch autograd (zero where it does not depend on it)."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in points.items()}
    value = mathlang.to_torch(function, leaves)
    if not value.requires_grad:
        return torch.zeros_like(points[wrt])
    value = torch.broadcast_to(value, points[wrt].shape)
    (grad,) = torch.autograd.grad(value.sum(), leaves[wrt], allow_unused=True)
    return torch.zeros_like(points[wrt]) if grad is None else grad.detach()


@functools.lru_cache(maxsize=256)
def derivative_reference(
    function_text: str, wrt: str, domain: tuple[tuple[str, float, float], ...] = ()
) -> DerivativeReference:
    """Sample a function's domain and take autograd's derivative there (cached per exercise).

    Raises MathError when the function does not parse, ReferenceError_ when it cannot be
    sampled.
    """
    function = mathlang.parse(function_text)
    names = frozenset(mathlang.variables(function))
    if wrt not in names:
        raise MathError(f"`{wrt}` does not occur in the function {mathlang.to_text(function)}")
    ranges = {name: (-2.0, 2.0) for name in names}
    for name, lo, hi in domain:
        if name in ranges:
            ranges[name] = (lo, hi)
    kinks = tuple(mathlang.kink_arguments(function))
    gen = torch.Generator().manual_seed(20261122)
    kept: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    refs: list[torch.Tensor] = []
    total = 0
    for _ in range(ROUNDS):
        points = {
            n: lo + (hi - lo) * torch.rand(CANDIDATES, generator=gen, dtype=DTYPE)
            for n, (lo, hi) in sorted(ranges.items())
        }
        with torch.no_grad():
            value = torch.broadcast_to(mathlang.to_torch(function, points), (CANDIDATES,))
            ok = torch.isfinite(value)
            for kink in kinks:
                arg = torch.broadcast_to(mathlang.to_torch(kink, points), (CANDIDATES,))
                ok &= arg.abs() > KINK_MARGIN
        ref = _autograd_at(function, wrt, points)
        ok &= torch.isfinite(ref)
        for n in names:
            kept[n].append(points[n][ok])
        refs.append(ref[ok])
        total += int(ok.sum())
        if total >= CANDIDATES:
            break
    if total < MIN_POINTS:
        raise ReferenceError_(
            f"the function is undefined (or sits on a kink) almost everywhere in the domain; "
            f"only {total} usable points were found. Set a `domain` where it is defined."
        )
    return DerivativeReference(
        function=function,
        wrt=wrt,
        variables=names,
        points={n: torch.cat(v) for n, v in kept.items()},
        reference=torch.cat(refs),
        kinks=kinks,
    )


def _close(
    a: torch.Tensor, b: torch.Tensor, rtol: float = RTOL, atol: float = ATOL
) -> torch.Tensor:
    return torch.isclose(a, b, rtol=rtol, atol=atol) & torch.isfinite(a)


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
    agree = _close(got, ref.reference)
    if bool(agree.all()):
        return _agreeing(ref, node, normalized, note, symbolic, sandbox)
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
    counterexample = _counterexample(ref, node, got, agree)
    for fb in feedback:
        try:
            match = mathlang.parse(fb.match, ref.variables)
        except MathError:
            continue
        if bool(_close(got, ref.evaluate(match), 1e-6, 1e-9).all()):
            return Verdict("incorrect", "Not quite." + note, normalized, fb.message, counterexample)
    diagnosis = _diagnose(ref, got)  # exp(-x^2) for exp(-x^2) is a missing factor first
    if diagnosis:
        return Verdict(
            "incorrect", f"Not quite. {diagnosis}{note}", normalized, counterexample=counterexample
        )
    kind = _wrong_kind(ref, node, got)
    if kind:
        return Verdict("invalid", kind, normalized)
    return Verdict("incorrect", "Not quite." + note, normalized, counterexample=counterexample)


def _agreeing(
    ref: DerivativeReference,
    node: Node,
    normalized: str,
    note: str,
    symbolic: bool,
    sandbox: SymbolicSandbox | None,
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
        if bool(_close(slope, function_values).all()) and bool(
            (function_values.abs() > 1e-9).any()
        ):
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


def _diagnose(ref: DerivativeReference, got: torch.Tensor) -> str | None:
    expected = ref.reference
    finite = torch.isfinite(got)
    if not bool(finite.any()):
        return "Your answer is undefined at the sample points."
    significant = expected.abs() > 1e-6
    if bool(_close(got, -expected).all()) and bool(significant.any()):
        return "The sign is flipped: your answer is the negative of the derivative."
    for inner in mathlang.inner_functions(ref.function, ref.wrt):
        inner_grad = ref.gradient(inner)
        if bool((inner_grad.abs() > 1e-9).any()) and bool(
            _close(got * inner_grad, expected, 1e-6, 1e-8).all()
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
            _close(got * local, expected, 1e-6, 1e-8).all()
        ):
            return (
                f"A chain factor is missing: the derivative of {call.func} at its argument "
                f"{mathlang.to_text(call.args[0])}."
            )
    if bool(significant.any()) and bool(finite.all()):
        ratio = got[significant] / expected[significant]
        c = float(ratio.median())
        if abs(c) > 1e-9 and bool(_close(got, c * expected, 1e-6, 1e-8).all()):
            nice = _nice(c)
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
            return f"Your answer is off by a constant: it is the derivative {'+' if c > 0 else '-'} {_nice(abs(c))}."
    return None


def _inner_derivative_text(inner: Node, ref: DerivativeReference) -> str:
    grad = ref.gradient(inner)
    if bool(torch.isclose(grad, grad[0].expand_as(grad), rtol=1e-9, atol=1e-12).all()):
        return f" (which is {_nice(float(grad[0]))})"
    return ""


def _nice(c: float) -> str:
    for den in (1, 2, 3, 4):
        num = c * den
        if abs(num - round(num)) < 1e-6:
            num = int(round(num))
            return str(num) if den == 1 else f"{num}/{den}"
    return f"{c:.4g}"


def _counterexample(
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
        exp = _autograd_at(ref.function, ref.wrt, single)
        with torch.no_grad():
            got = torch.broadcast_to(mathlang.to_torch(node, single), (1,))
            kinked = any(
                abs(float(torch.broadcast_to(mathlang.to_torch(k, single), (1,))[0])) <= KINK_MARGIN
                for k in ref.kinks
            )
        if not kinked and torch.isfinite(exp).all() and not bool(_close(got, exp).all()):
            return {
                "point": rounded,
                "expected": _round(float(exp[0])),
                "got": _round(float(got[0])),
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


def parse_value_answer(text: str) -> torch.Tensor:
    """A value answer as a float64 tensor (grammar in `valuelang`); raises MathError."""
    return torch.tensor(valuelang.parse_value(text), dtype=DTYPE)


@functools.lru_cache(maxsize=256)
def _value_reference_cached(ex: ValueExercise) -> torch.Tensor:
    return value_reference(ex)


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
        return result.detach().reshape(result.shape)
    leaf = env[ex.ask.removesuffix(".grad")]
    if not result.requires_grad:
        return torch.zeros_like(leaf)
    result.reshape(()).backward()
    return leaf.grad.detach() if leaf.grad is not None else torch.zeros_like(leaf)


def check_value(ex: ValueExercise, answer: str) -> Verdict:
    """Check a number or list against autograd's value or `.grad`."""
    try:
        got = parse_value_answer(answer)
    except MathError as exc:
        return invalid(
            f"Not understood: {exc}. Answer with a number or a list such as [-32, -40].", exc.column
        )
    normalized = _tensor_text(got)
    expected = _value_reference_cached(ex)
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
        ratio = got_r / expected
        c = float(ratio.flatten()[0])
        # Only the telling factors: any other ratio would give the answer away.
        for factor, words in (
            (2.0, "twice the right one: a factor of 2 too many"),
            (0.5, "half the right one: a factor of 2 is missing"),
        ):
            if abs(c - factor) < 1e-9 and bool(
                torch.isclose(ratio, torch.full_like(ratio, c), rtol=1e-6).all()
            ):
                return Verdict("incorrect", f"Not quite: your answer is {words}.", normalized)
    if expected.numel() > 1:
        wrong = int((~torch.isclose(got_r, expected, rtol=ex.tolerance, atol=ex.tolerance)).sum())
        return Verdict(
            "incorrect", f"Not quite: {wrong} of the {expected.numel()} entries differ.", normalized
        )
    return Verdict("incorrect", "Not quite.", normalized)


def _tensor_text(t: torch.Tensor) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return _fmt(float(v))

    return fmt(t.tolist())


# ----------------------------------------------------------------------------- tensors

NETWORK_NAMES = ("x", "w1", "b1", "l1", "l2", "w2", "b2", "out", "y", "out_g", "l2_g", "l1_g")


@functools.lru_cache(maxsize=32)
def network_environment(
    n: int, d_in: int, hidden: int, seed: int
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The lesson network's tensors (by name) and autograd's gradients of every one."""
    p: Params = make_params(n, d_in, hidden, seed)
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


def tensor_reference(ex: TensorExercise) -> torch.Tensor:
    """Autograd's gradient for the exercise's target."""
    _, grads = network_environment(ex.shapes.n, ex.shapes.d_in, ex.shapes.hidden, ex.seed)
    return grads[ex.target.split(".")[0]]


def _fresh_env(ex: TensorExercise) -> dict[str, torch.Tensor]:
    env, _ = network_environment(ex.shapes.n, ex.shapes.d_in, ex.shapes.hidden, ex.seed)
    return {k: v.clone() for k, v in env.items()}  # answers never touch the cached tensors


def evaluate_tensor_answer(
    ex: TensorExercise, answer: str, env: dict[str, torch.Tensor] | None = None
) -> torch.Tensor:
    """Evaluate a tensor-language answer over the exercise's network; raises TensorLangError."""
    expr = tensorlang.parse(answer, frozenset(NETWORK_NAMES))
    return tensorlang.evaluate(expr, env if env is not None else _fresh_env(ex))


def check_tensor(ex: TensorExercise, answer: str) -> Verdict:
    """Check a gradient formula against autograd with torch.allclose; shapes named on mismatch."""
    env = _fresh_env(ex)  # one copy serves the answer and the feedback matches
    try:
        got = evaluate_tensor_answer(ex, answer, env)
    except tensorlang.TensorLangError as exc:
        return invalid(f"Not understood: {exc}.", exc.column)
    normalized = " ".join(answer.split())
    expected = tensor_reference(ex)
    shape = tensorlang.describe_shape
    target = ex.target
    if got.dtype == torch.bool:
        return Verdict(
            "incorrect",
            "Not quite: that is a boolean mask; convert it with .float() before using it as numbers.",
            normalized,
        )
    if got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-5, atol=1e-8):
        return Verdict("correct", "Correct: it matches autograd.", normalized)
    for fb in ex.feedback:
        try:
            match = tensorlang.evaluate(tensorlang.parse(fb.match, frozenset(NETWORK_NAMES)), env)
        except tensorlang.TensorLangError:
            continue
        if match.shape == got.shape and torch.allclose(
            got.to(DTYPE), match.to(DTYPE), rtol=1e-5, atol=1e-8
        ):
            return Verdict("incorrect", "Not quite.", normalized, feedback=fb.message)
    if got.shape != expected.shape:
        base = f"Not quite: your answer has shape {shape(got)}, but {target} has shape {shape(expected)}."
        if (
            got.dim() == 2
            and expected.dim() == 2
            and got.shape == expected.shape[::-1]
            and torch.allclose(got.T, expected, rtol=1e-5, atol=1e-8)
        ):
            return Verdict("incorrect", base + " It looks transposed.", normalized)
        if (
            got.dim() == expected.dim() + 1
            and got.shape[1:] == expected.shape
            and torch.allclose(got.sum(0), expected, rtol=1e-5, atol=1e-8)
        ):
            return Verdict("incorrect", base + " Sum over the batch dimension?", normalized)
        if (
            got.dim() == 2
            and got.shape[0] == got.shape[1] == ex.shapes.n
            and expected.shape[0] == ex.shapes.n
        ):
            return Verdict(
                "incorrect",
                base
                + " A square n×n result usually means (n, 1) and (n,) broadcast against each other: squeeze or unsqueeze first.",
                normalized,
            )
        if got.numel() == expected.numel() and torch.allclose(
            got.reshape(expected.shape), expected, rtol=1e-5, atol=1e-8
        ):
            return Verdict(
                "incorrect", base + " The numbers are right; reshape (unsqueeze) it.", normalized
            )
        return Verdict("incorrect", base, normalized)
    diff = float((got - expected).abs().max())
    if torch.allclose(got, -expected, rtol=1e-5, atol=1e-8):
        return Verdict("incorrect", "Not quite: the sign is flipped.", normalized)
    nonzero = expected.abs() > 1e-10
    if bool(nonzero.any()):
        c = float((got[nonzero] / expected[nonzero]).median())
        if abs(c) > 1e-9 and torch.allclose(got, c * expected, rtol=1e-5, atol=1e-8):
            hint = ""
            n = ex.shapes.n
            if abs(c - n / 2) < 1e-6 or abs(c - n) < 1e-6 or abs(c - 0.5) < 1e-6:
                hint = " Is the 2/n of the mean squared error missing or doubled?"
            return Verdict(
                "incorrect",
                f"Not quite: right shape, but {_nice(c)} times the gradient.{hint}",
                normalized,
            )
    if target in ("l1.g", "w1.grad", "b1.grad", "x.grad"):
        # Would the answer be right with the ReLU mask applied? (a missing mask)
        if _missing_relu_mask(ex, env, got):
            return Verdict(
                "incorrect",
                "Not quite: right where the ReLU was active; the ReLU mask (l1 > 0) is missing.",
                normalized,
            )
    return Verdict(
        "incorrect",
        f"Not quite: right shape, but the values differ by up to {diff:.3g}.",
        normalized,
    )


def _missing_relu_mask(ex: TensorExercise, env: dict[str, torch.Tensor], got: torch.Tensor) -> bool:
    """Whether the answer equals the target computed from l2.g instead of l1.g (mask forgotten)."""
    unmasked = env["l2_g"]
    target = ex.target
    if target == "l1.g":
        candidate = unmasked
    elif target == "w1.grad":
        candidate = env["x"].T @ unmasked
    elif target == "b1.grad":
        candidate = unmasked.sum(0)
    else:
        candidate = unmasked @ env["w1"].T
    return got.shape == candidate.shape and bool(
        torch.allclose(got, candidate, rtol=1e-5, atol=1e-8)
    )


# ----------------------------------------------------------------------------- choice


def check_choice(ex: ChoiceExercise, answer: str, variant: int = 0) -> Verdict:
    """An option number from 1, as variant `variant` shows the options."""
    from .variants import option_order

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
    answer: str,
    *,
    variant: int = 0,
    symbolic: bool = True,
    sandbox: SymbolicSandbox | None = None,
) -> Verdict:
    """Check an answer to variant `variant` of any exercise kind; never raises on a
    learner's input."""
    if not isinstance(answer, str):
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
    return invalid(f"Unknown exercise kind {ex.kind!r}.")


def reference_text(ex: Exercise, variant: int = 0) -> str | None:
    """The answer an author gave, or the option numbers as variant `variant` shows them."""
    if isinstance(ex, DerivativeExercise | TensorExercise):
        return ex.answer
    if isinstance(ex, ChoiceExercise):
        from .variants import option_order

        order = option_order(ex, variant)
        return ", ".join(str(i) for i, k in enumerate(order, 1) if ex.options[k].correct)
    if isinstance(ex, ValueExercise):
        return _tensor_text(_value_reference_cached(ex))
    return None
