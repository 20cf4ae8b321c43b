"""Training runs for `training` blocks: ADALINE three ways, and linear regression by SGD.

ADALINE: net input w·x + b, identity activation, mean squared error, class 1 when the
output is at least 0.5. The same minibatch SGD runs three ways on the same data and
shuffles: gradients derived by hand, `torch.autograd.grad`, and `nn.Linear` with
`loss.backward()` and `torch.optim.SGD`. They agree to rounding; `compare` says how close.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from .packs import AdalineBlock, LinearBlock, TrainingBlock

DTYPE = torch.float64


@dataclass(frozen=True)
class Curve:
    """One run: the loss after every epoch (or step) and the final parameters."""

    label: str
    losses: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    grad_norms: tuple[float, ...] = ()
    """Size of the gradient used at each epoch's last update (shows accumulation)."""
    zero_grad: bool = True
    """False for the run that never zeroes the gradients."""

    def to_json(self) -> dict[str, object]:
        """The curve as `gradtutor train --json` prints it (null where a run overflowed)."""

        def finite(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "label": self.label,
            "zero_grad": self.zero_grad,
            "losses": [finite(v) for v in self.losses],
            "weights": [finite(v) for v in self.weights],
            "bias": finite(self.bias),
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
        }


@dataclass(frozen=True)
class TrainingResult:
    """Every curve of a training block, and how far the methods are apart."""

    title: str
    curves: tuple[Curve, ...]
    max_difference: float | None = None
    """Largest difference between the methods' losses and parameters."""
    facts: tuple[str, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------- data


def load_two_classes(
    path: Path, features: tuple[str, ...], target: str, classes: tuple[str, ...]
) -> tuple[Tensor, Tensor]:
    """The rows of two classes: features (float64) and labels 0 (first class) / 1 (second)."""
    xs, ys = [], []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = (row.get(target) or "").strip()
            if label in classes:
                xs.append([float(row[f]) for f in features])
                ys.append(float(classes.index(label)))
    return torch.tensor(xs, dtype=DTYPE), torch.tensor(ys, dtype=DTYPE)


def split_and_standardise(
    x: Tensor, y: Tensor, test_fraction: float, seed: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """A seeded shuffle split; features standardised with the training rows' mean and std."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=gen)
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(0), x[train].std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (x[train] - mean) / std, y[train], (x[test] - mean) / std, y[test]


def _accuracy(x: Tensor, y: Tensor, w: Tensor, b: Tensor) -> float | None:
    if len(y) == 0:
        return None
    with torch.no_grad():
        predicted = ((x @ w + b) >= 0.5).to(DTYPE)
        return float((predicted == y).to(DTYPE).mean())


def _loss(x: Tensor, y: Tensor, w: Tensor, b: Tensor) -> float:
    with torch.no_grad():
        return float(((y - (x @ w + b)) ** 2).mean())


def grad_of(t: Tensor) -> Tensor:
    """The `.grad` a backward pass has just filled (an error, never None, if it has not)."""
    if t.grad is None:
        raise RuntimeError("the backward pass left no gradient in a parameter")
    return t.grad


def _batches(n: int, batch: int, gen: torch.Generator) -> list[Tensor]:
    return list(torch.randperm(n, generator=gen).split(batch))


# ----------------------------------------------------------------------------- ADALINE


def adaline(
    method: str,
    x: Tensor,
    y: Tensor,
    xt: Tensor,
    yt: Tensor,
    block: AdalineBlock,
    zero_grad: bool = True,
) -> Curve:
    """Train ADALINE one way; the shuffles come from the block's seed, so all ways see the same."""
    gen = torch.Generator().manual_seed(block.seed)
    d = x.shape[1]
    losses, norms = [], []
    if method == "backward":
        model = torch.nn.Linear(d, 1, dtype=DTYPE)
        with torch.no_grad():  # in-place changes to parameters need no_grad
            model.weight.zero_()
            model.bias.zero_()
        optimizer = torch.optim.SGD(model.parameters(), lr=block.lr)
        for _ in range(block.epochs):
            for idx in _batches(len(y), block.batch, gen):
                if zero_grad:
                    optimizer.zero_grad()
                out = model(x[idx]).squeeze(-1)
                loss = ((y[idx] - out) ** 2).mean()
                loss.backward()
                optimizer.step()
            norms.append(float(grad_of(model.weight).norm()))
            losses.append(_loss(x, y, model.weight.detach().squeeze(0), model.bias.detach()))
        w, b = model.weight.detach().squeeze(0), model.bias.detach()
    else:
        w = torch.zeros(d, dtype=DTYPE, requires_grad=method == "autograd.grad")
        b = torch.zeros(1, dtype=DTYPE, requires_grad=method == "autograd.grad")
        for _ in range(block.epochs):
            for idx in _batches(len(y), block.batch, gen):
                xb, yb = x[idx], y[idx]
                if method == "manual":
                    err = yb - (xb @ w + b)
                    grad_w = -2 * xb.T @ err / len(yb)
                    grad_b = -2 * err.sum(0, keepdim=True) / len(yb)
                else:
                    loss = ((yb - (xb @ w + b)) ** 2).mean()
                    # two calls on one graph: the first must keep it alive
                    (grad_w,) = torch.autograd.grad(loss, w, retain_graph=True)
                    (grad_b,) = torch.autograd.grad(loss, b)
                with torch.no_grad():
                    w -= block.lr * grad_w
                    b -= block.lr * grad_b
            norms.append(float(grad_w.norm()))
            losses.append(_loss(x, y, w.detach(), b.detach()))
        w, b = w.detach(), b.detach()
    return Curve(
        label=method if zero_grad else f"{method}, never zeroed",
        losses=tuple(losses),
        weights=tuple(float(v) for v in w),
        bias=float(b),
        train_accuracy=_accuracy(x, y, w, b),
        test_accuracy=_accuracy(xt, yt, w, b),
        grad_norms=tuple(norms),
        zero_grad=zero_grad,
    )


def run_adaline(block: AdalineBlock) -> TrainingResult:
    """Every method of the block on the same data, and the largest disagreement between them."""
    assert block.data is not None
    x_all, y_all = load_two_classes(block.data, block.features, block.target, block.classes)
    x, y, xt, yt = split_and_standardise(x_all, y_all, block.test_fraction, block.seed)
    curves = [adaline(m, x, y, xt, yt, block) for m in block.methods]
    diff = None
    if len(curves) > 1:
        ref = curves[0]
        diff = max(
            max(
                abs(a - b)
                for a, b in zip(
                    c.losses + c.weights + (c.bias,),
                    ref.losses + ref.weights + (ref.bias,),
                    strict=True,
                )
            )
            for c in curves[1:]
        )
    if not block.zero_grad:
        curves.append(adaline("backward", x, y, xt, yt, block, zero_grad=False))
    facts = (
        f"{len(y)} training rows and {len(yt)} test rows of {block.classes[0]} (0) and {block.classes[1]} (1); "
        f"features {', '.join(block.features)} standardised",
    )
    return TrainingResult("ADALINE three ways", tuple(curves), diff, facts)


# ----------------------------------------------------------------------------- linear SGD


def linear_data(block: LinearBlock) -> tuple[Tensor, Tensor]:
    """x from start to stop by step (a column), y = slope·x + noise·N(0, 1) with the block's seed.

    Made in float32, as `torch.manual_seed(seed)` and `torch.randn` make it in a notebook,
    so the numbers are the ones a learner reproduces; then computed on in float64.
    """
    x = torch.arange(block.start, block.stop, block.step).view(-1, 1)
    gen = torch.Generator().manual_seed(block.seed)
    y = block.slope * x + block.noise * torch.randn(x.shape, generator=gen)
    return x.to(DTYPE), y.to(DTYPE)


def linear_sgd(block: LinearBlock, x: Tensor, y: Tensor, zero_grad: bool = True) -> Curve:
    """Gradient descent on w·x + b with MSE: predict, loss, backward, step under no_grad, zero."""
    w = torch.tensor(block.w0, dtype=DTYPE, requires_grad=True)
    b = torch.tensor(block.b0, dtype=DTYPE, requires_grad=True)
    losses, norms = [], []
    for _ in range(block.steps):
        loss = ((w * x + b - y) ** 2).mean()
        losses.append(float(loss.detach()))
        loss.backward()
        w_grad, b_grad = grad_of(w), grad_of(b)
        norms.append(float(w_grad.abs()))
        with torch.no_grad():
            w -= block.lr * w_grad
            b -= block.lr * b_grad
        if zero_grad:
            w_grad.zero_()
            b_grad.zero_()
    losses.append(float(((w * x + b - y) ** 2).mean().detach()))
    label = "SGD" if zero_grad else "SGD, never zeroed"
    return Curve(
        label,
        tuple(losses),
        (float(w.detach()),),
        float(b.detach()),
        grad_norms=tuple(norms),
        zero_grad=zero_grad,
    )


def first_step(block: LinearBlock, x: Tensor, y: Tensor) -> tuple[float, float, float]:
    """The first loss and the gradients of w and b at the start values."""
    w = torch.tensor(block.w0, dtype=DTYPE, requires_grad=True)
    b = torch.tensor(block.b0, dtype=DTYPE, requires_grad=True)
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    return float(loss.detach()), float(grad_of(w)), float(grad_of(b))


def run_linear(block: LinearBlock) -> TrainingResult:
    """The SGD run, and without zeroing when the block asks for it."""
    x, y = linear_data(block)
    curves = [linear_sgd(block, x, y)]
    if not block.zero_grad:
        curves.append(linear_sgd(block, x, y, zero_grad=False))
    loss, gw, gb = first_step(block, x, y)
    facts = (
        f"{len(x)} points, y = {block.slope:g}·x + {block.noise:g}·noise, seed {block.seed}",
        f"at the start (w = {block.w0:g}, b = {block.b0:g}): loss {loss:.2f}, w.grad {gw:.2f}, b.grad {gb:.2f}",
    )
    return TrainingResult("Linear regression by SGD", tuple(curves), None, facts)


def run_training(block: TrainingBlock) -> TrainingResult:
    """Run a training block."""
    return run_adaline(block) if isinstance(block, AdalineBlock) else run_linear(block)
