"""Program answers: the learner's function, run (walked, never as Python) on shapes of
our choosing, its gradients compared with what autograd gives for the exercise's
`forward`.

The shapes: three sets whose named dimensions all differ from one another (so that a
missing transpose cannot fit by accident), then one set per named dimension with that
dimension 1 (broadcasting slips); random float64 values, seeded by the exercise, so that
a verdict is reproducible. A wrong gradient is named, with the shapes it failed on and
what its numbers say (transposed, unsummed, broadcast, scaled, sign, mask, `=` where
`+=` was needed).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .. import tensorlang
from ..packs import ProgramExercise
from ..proglang import (
    Header,
    Program,
    ProgramError,
    RunState,
    execute,
    library_programs,
    parse_header,
    parse_program,
    run_program,
)
from .diagnosis import nice_number
from .tensor import reshaped, same, transposed, unsummed
from .verdict import Verdict, invalid

DTYPE = torch.float64
DISTINCT_SETS = 3
SIZES = (2, 3, 4, 5, 6, 7)
"""Named dimensions are drawn from these (more when there are more names), all different
within a set."""


@dataclass(frozen=True)
class Case:
    """One shape set: the named dimensions, the arguments, autograd's gradients."""

    dims: dict[str, int]
    args: dict[str, torch.Tensor]
    upstream: dict[str, torch.Tensor]
    forward_values: dict[str, torch.Tensor]
    expected: dict[str, torch.Tensor]

    def shapes_text(self, header: Header) -> str:
        """`inp (5, 3), w (3, 4), b (4,)`."""
        parts = []
        for name in header.params:
            t = self.args.get(name, self.forward_values.get(name))
            if t is not None:
                parts.append(f"{name} {tensorlang.describe_shape(t)}")
        return ", ".join(parts)


def shape_sets(ex: ProgramExercise) -> list[dict[str, int]]:
    """The dimensions of every shape set the exercise is checked on."""
    names: list[str] = []
    for _, dims in ex.shapes:
        for d in dims:
            if isinstance(d, str) and d not in names:
                names.append(d)
    rng = random.Random(_seed(ex.address, "shapes"))
    pool = list(SIZES) + list(range(SIZES[-1] + 1, SIZES[-1] + 1 + max(0, len(names) - len(SIZES))))
    sets = []
    for _ in range(DISTINCT_SETS):
        sets.append(dict(zip(names, rng.sample(pool, len(names)), strict=True)))
    for name in names:  # one dimension at a time set to 1
        others = [n for n in names if n != name]
        sets.append({name: 1, **dict(zip(others, rng.sample(pool, len(others)), strict=True))})
    return sets


def _seed(address: str, what: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{address}/{what}".encode()).digest()[:8], "big")


def _forward_program(ex: ProgramExercise) -> Program:
    return parse_program(parse_header(ex.header), ex.forward)


def make_case(
    ex: ProgramExercise, dims: dict[str, int], index: int, forward: Program | None = None
) -> Case:
    """Random arguments of these shapes, the forward pass (`forward`: the exercise's,
    parsed), and autograd's gradients. Raises ProgramError when the exercise's own forward
    or upstream cannot run."""
    gen = torch.Generator().manual_seed(_seed(ex.address, f"values/{index}") % 2**63)
    leaves = {
        name: torch.randn(
            *(dims[d] if isinstance(d, str) else d for d in shape), generator=gen, dtype=DTYPE
        )
        for name, shape in ex.shapes
    }
    tracked = {k: v.clone().requires_grad_(True) for k, v in leaves.items()}
    env = dict(tracked)
    execute(forward if forward is not None else _forward_program(ex), env)
    upstream: dict[str, torch.Tensor] = {}
    for name, expr in ex.upstream:
        upstream[name] = upstream_value(expr, env).to(DTYPE)
    for t in env.values():
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
    if upstream:
        roots = [env[n] for n in upstream]
        torch.autograd.backward(roots, [upstream[n].expand_as(env[n]) for n in upstream])
    else:
        out = env.get("out")
        if out is None or out.numel() != 1:
            raise ProgramError(
                "`forward` must end with a scalar `out`, or `upstream` must be given"
            )
        out.reshape(()).backward()
    expected = {}
    for target in ex.targets:
        name = target.removesuffix(".g")
        t = env[name]
        expected[target] = (t.grad if t.grad is not None else torch.zeros_like(t)).detach().clone()
    forward_values = {k: v.detach() for k, v in env.items() if k not in leaves}
    return Case(dims, leaves, upstream, forward_values, expected)


def upstream_value(expr: str, env: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """An `upstream` expression over the forward's names, in the program language (so
    that `out.shape[0]` may appear), computed without autograd."""
    header = Header("upstream", tuple(env))
    program = parse_program(header, f"return ({expr})")
    value = run_program(program, {k: v.detach() for k, v in env.items()})
    if not isinstance(value, torch.Tensor):
        raise ProgramError(f"upstream `{expr}` gives no tensor")
    return value


def check_program(
    ex: ProgramExercise, answer: str, accepted: Mapping[str, str] | None = None
) -> Verdict:
    """Check a learner's function body against autograd on every shape set."""
    header = parse_header(ex.header)
    try:
        library, notes = library_programs(ex.library, accepted)
        program = parse_program(header, answer, {k: v.header for k, v in library.items()})
    except ProgramError as exc:
        return invalid(f"Not understood: {exc}.", exc.column)
    normalized = program.text
    note = (
        f" (Your own {', '.join(notes)} {'is' if len(notes) == 1 else 'are'} not accepted yet, "
        "so the reference solution ran in its place.)"
        if notes
        else ""
    )
    state = RunState()
    checked = 0
    forward = _forward_program(ex)
    for index, dims in enumerate(shape_sets(ex)):
        case = make_case(ex, dims, index, forward)
        args = _learner_arguments(header, case)
        try:
            returned = run_program(program, args, library, state)
        except ProgramError as exc:
            return Verdict(
                "incorrect",
                f"On shapes {case.shapes_text(header)}, the program failed at {exc}.{note}",
                normalized,
            )
        for target in ex.targets:
            got = returned if ex.returns else getattr(args[target.removesuffix(".g")], "g", None)
            wrong = _compare(target, got, case, state, ex)
            if wrong is not None:
                return Verdict(
                    "incorrect",
                    f"{target} is wrong on shapes {case.shapes_text(header)}: {wrong}{note}",
                    normalized,
                    details={"target": target, "dims": dims},
                )
        checked += 1
    return Verdict(
        "correct",
        f"Correct: every gradient matches autograd on {checked} shape sets.{note}",
        normalized,
        details={"program": normalized},
    )


def _learner_arguments(header: Header, case: Case) -> dict[str, torch.Tensor]:
    """Fresh copies of the arguments (the learner's code sees no autograd), with the
    upstream gradients set as `.g`."""
    args: dict[str, torch.Tensor] = {}
    for name in header.params:
        source = case.args.get(name, case.forward_values.get(name))
        if source is None:
            continue
        t = source.detach().clone()
        if name in case.upstream:
            t.g = case.upstream[name].detach().clone().expand_as(t).clone()  # type: ignore[attr-defined]
        args[name] = t
    return args


def _compare(
    target: str, got: object, case: Case, state: RunState, ex: ProgramExercise
) -> str | None:
    """What is wrong with one gradient (None: it is right)."""
    expected = case.expected[target]
    name = target.removesuffix(".g")
    if got is None:
        return (
            "it was never set; the function must set it"
            if not ex.returns
            else "the function returned nothing"
        )
    if not isinstance(got, torch.Tensor):
        return "it is not a tensor"
    got = got.to(DTYPE)
    if same(got, expected):
        return None
    shape = tensorlang.describe_shape
    if got.shape != expected.shape:
        base = f"it has shape {shape(got)}, but {name} has shape {shape(expected)}."
        return base + _shape_hint(got, expected)
    if name in state.set_twice:
        return (
            f"{name}.g was set twice with `=`, so the second replaced the first. Where a "
            "tensor gets gradient from two places, add them: `+=`."
        )
    return _value_hint(got, expected, case)


def _shape_hint(got: torch.Tensor, expected: torch.Tensor) -> str:
    if transposed(got, expected):
        return " It looks transposed."
    if reshaped(got, expected):
        return " The numbers are right; reshape it (squeeze, unsqueeze, or keepdim)."
    if unsummed(got, expected):
        return " Sum over the batch dimension, 0."
    if (
        got.dim() == 2
        and got.shape[0] == got.shape[1]
        and expected.dim() >= 1
        and got.shape[0] == expected.shape[0]
    ):
        return (
            " A square n×n result usually means (n, 1) and (n,) broadcast against each "
            "other: squeeze or unsqueeze first."
        )
    if got.dim() == expected.dim() == 1:
        return (
            " Summed over the wrong dimension? The gradient has one entry per entry of the tensor."
        )
    return ""


def _ratio_hint(ratio: float, case: Case) -> str:
    """What a constant factor usually means."""

    def near(a: float, b: float) -> bool:
        return abs(a - b) < 1e-6 * max(1.0, abs(b))

    for name, k in case.dims.items():
        if k > 2 and near(ratio, 1 / k):
            return f" 1/{name}: an average where a sum belongs?"
        if k > 2 and near(ratio, k):
            return f" {name} times: a division by {name} missing?"
        if k > 2 and (near(ratio, k / 2) or near(ratio, 2 / k)):
            return " Is the 2/n of the mean squared error missing or doubled?"
    if near(abs(ratio), 2) or near(abs(ratio), 0.5):
        return " Is the factor 2 of the square missing or doubled?"
    return ""


def _value_hint(got: torch.Tensor, expected: torch.Tensor, case: Case) -> str:
    if same(got, -expected):
        return "right shape, but the sign is flipped."
    nonzero = expected.abs() > 1e-10
    if bool(nonzero.any()):
        ratio = float((got[nonzero] / expected[nonzero]).median())
        if abs(ratio) > 1e-9 and same(got, ratio * expected):
            return f"right shape, but {nice_number(ratio)} times the gradient.{_ratio_hint(ratio, case)}"
        agrees = torch.isclose(got, expected, rtol=1e-5, atol=1e-8)
        if bool(agrees[nonzero].all()) and bool((got[~nonzero].abs() > 1e-12).any()):
            return (
                "right where the gradient passes, but not 0 where it must stop: is the "
                "mask (inp > 0) missing?"
            )
        passes = got.abs() > 1e-12
        if bool((passes == ~nonzero).all()):
            return "the mask is the wrong way round: the gradient must pass where the input was positive."
        if bool(agrees[~nonzero].all()) and bool((got[nonzero].abs() < 1e-12).any()):
            return "right in places, 0 in others where the gradient should pass: check the mask."
    diff = float((got - expected).abs().max())
    return f"right shape, but the values differ by up to {diff:.3g}."
