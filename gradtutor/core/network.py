"""The lesson network and its gradients written by hand.

    l1 = x @ w1 + b1        x: (n, d_in)   w1: (d_in, hidden)   b1: (hidden,)
    l2 = relu(l1)
    out = l2 @ w2 + b2      w2: (hidden, 1)   b2: (1,)
    loss = mse(out, y)      y: (n,)

Backward, from the loss to the inputs, each gradient = upstream gradient x local
derivative. `g` names the gradient of the loss with respect to a tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .sizes import NetworkSize

DTYPE = torch.float64
DEFAULT = NetworkSize()


def mse(out: Tensor, y: Tensor) -> Tensor:
    """Mean squared error; squeeze first so that (n, 1) - (n,) does not broadcast to (n, n)."""
    return (out.squeeze(-1) - y).pow(2).mean()


def mse_grad(out: Tensor, y: Tensor) -> Tensor:
    """out.g = 2 (out - y) / n, shaped like out."""
    return 2.0 * (out.squeeze(-1) - y).unsqueeze(-1) / out.shape[0]


def lin_grad(inp: Tensor, w: Tensor, out_g: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """For out = inp @ w + b: (inp.g, w.g, b.g), in the matmul form."""
    return out_g @ w.T, inp.T @ out_g, out_g.sum(0)


def relu_grad(inp: Tensor, out_g: Tensor) -> Tensor:
    """For out = relu(inp): the upstream gradient where the input was positive, 0 elsewhere.

    `torch.where` rather than a 0/1 mask times out_g: one pass instead of two, and a 0
    (not 0 * inf = nan) where the input was not positive, as torch's own backward gives."""
    return torch.where(inp > 0, out_g, 0.0)


@dataclass(frozen=True)
class Params:
    """The network's inputs and parameters."""

    x: Tensor
    y: Tensor
    w1: Tensor
    b1: Tensor
    w2: Tensor
    b2: Tensor


def make_params(
    n: int = DEFAULT.n, d_in: int = DEFAULT.d_in, hidden: int = DEFAULT.hidden, seed: int = 0
) -> Params:
    """Seeded random tensors (float64); weights scaled so activations stay near 1."""
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=gen, dtype=DTYPE)

    x = randn(n, d_in)
    y = randn(n)
    w1 = randn(d_in, hidden) / d_in**0.5
    b1 = randn(hidden) * 0.1
    w2 = randn(hidden, 1) / hidden**0.5
    b2 = randn(1) * 0.1
    return Params(x, y, w1, b1, w2, b2)


def forward(p: Params) -> dict[str, Tensor]:
    """The forward pass: every intermediate by name."""
    l1 = p.x @ p.w1 + p.b1
    l2 = torch.relu(l1)
    out = l2 @ p.w2 + p.b2
    return {"l1": l1, "l2": l2, "out": out, "loss": mse(out, p.y)}


def manual_backward(p: Params, acts: dict[str, Tensor]) -> dict[str, Tensor]:
    """The backward pass by hand, in order: mse, the second linear, relu, the first linear."""
    out_g = mse_grad(acts["out"], p.y)
    l2_g, w2_g, b2_g = lin_grad(acts["l2"], p.w2, out_g)
    l1_g = relu_grad(acts["l1"], l2_g)
    x_g, w1_g, b1_g = lin_grad(p.x, p.w1, l1_g)
    return {
        "out": out_g,
        "w2": w2_g,
        "b2": b2_g,
        "l2": l2_g,
        "l1": l1_g,
        "x": x_g,
        "w1": w1_g,
        "b1": b1_g,
    }


def autograd_gradients(p: Params) -> dict[str, Tensor]:
    """The same gradients from torch autograd: leaves' .grad and intermediates' retained grads."""
    leaves = {
        k: getattr(p, k).detach().clone().requires_grad_(True)
        for k in ("x", "w1", "b1", "w2", "b2")
    }
    l1 = leaves["x"] @ leaves["w1"] + leaves["b1"]
    l2 = torch.relu(l1)
    out = l2 @ leaves["w2"] + leaves["b2"]
    for t in (l1, l2, out):
        t.retain_grad()
    mse(out, p.y).backward()
    grads: dict[str, Tensor] = {}
    for name, t in (*leaves.items(), ("l1", l1), ("l2", l2), ("out", out)):
        assert t.grad is not None  # every one is on the path to the loss
        grads[name] = t.grad
    return grads
