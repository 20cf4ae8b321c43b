"""The reference a derivative answer is compared with: the function sampled over its
domain, and torch autograd's derivative at every sample point."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from .. import mathlang
from ..mathlang import MathError, Node

MIN_POINTS = 8
CANDIDATES = 64
ROUNDS = 6
KINK_MARGIN = 1e-3
DTYPE = torch.float64


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
        return autograd_at(node, self.wrt, self.points)


class ReferenceError_(ValueError):
    """The reference itself cannot be sampled (undefined on most of the domain)."""


def autograd_at(function: Node, wrt: str, points: dict[str, torch.Tensor]) -> torch.Tensor:
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
        ref = autograd_at(function, wrt, points)
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
