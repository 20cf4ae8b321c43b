"""The step machine over the lesson network's forward and backward passes.

Every step does one node's work for real and returns a frozen `Snapshot`. Backward steps
run torch's own backward node by node: `tensor.backward(upstream, inputs=[...])` fills
the leaves' `.grad` exactly as a full `loss.backward()` would (accumulating, unless
zeroed), and `torch.autograd.grad` gives the intermediates' gradients. Beside each, the
manual formula of `network.py` is computed and the largest difference reported.

Snapshots keep references to activations (never modified) and copies of the small
parameters and gradients, so stepping back is free and memory stays bounded even at the
source's MNIST size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .network import lin_grad, make_params, mse, mse_grad, relu_grad
from .sizes import LEAVES, NetworkSize

if TYPE_CHECKING:
    from .checking import Verdict

DEFAULT = NetworkSize()

FORWARD = ("lin1", "relu", "lin2", "mse")
BACKWARD = ("mse", "lin2", "relu", "lin1")
BROADCAST_LIMIT = 5_000_000
"""Elements a teaching-only formula may materialise before it is shown but not run."""

FORMULAS = {
    ("forward", "lin1"): "l1 = x @ w1 + b1",
    ("forward", "relu"): "l2 = relu(l1)",
    ("forward", "lin2"): "out = l2 @ w2 + b2",
    ("forward", "mse"): "loss = ((out.squeeze(-1) - y) ** 2).mean()",
    ("backward", "mse"): "out.g = 2 * (out.squeeze(-1) - y).unsqueeze(-1) / n",
    ("backward", "lin2"): "l2.g = out.g @ w2.T;  w2.g = l2.T @ out.g;  b2.g = out.g.sum(0)",
    ("backward", "relu"): "l1.g = (l1 > 0).float() * l2.g",
    ("backward", "lin1"): "x.g = l1.g @ w1.T;  w1.g = x.T @ l1.g;  b1.g = l1.g.sum(0)",
}
LOCAL = {
    ("backward", "mse"): "∂loss/∂out = 2(out − y)/n",
    ("backward", "lin2"): "∂out/∂l2 = w2ᵀ, ∂out/∂w2 = l2ᵀ, ∂out/∂b2 = 1 (summed over the batch)",
    ("backward", "relu"): "∂l2/∂l1 = 1 where l1 > 0, else 0",
    ("backward", "lin1"): "∂l1/∂x = w1ᵀ, ∂l1/∂w1 = xᵀ, ∂l1/∂b1 = 1 (summed over the batch)",
}


GraphNode = tuple[str, tuple[Any, ...]]
"""(name, children): a node of torch's autograd graph, children of the same form."""


@dataclass(frozen=True)
class Snapshot:
    """What one step did, frozen."""

    index: int
    phase: str
    """"forward", "backward", "zero_grad", "update" or "reset"."""
    node: str
    formula: str
    local: str = ""
    """The local derivative, in words (backward steps)."""
    upstream: Tensor | None = None
    result: dict[str, Tensor] = field(default_factory=dict)
    """What the step computed, by name (`l1`, `out_g`, `w2_g`, ...)."""
    grads: dict[str, Tensor | None] = field(default_factory=dict)
    """The leaves' `.grad` as torch holds them after this step (None: never reached)."""
    known: dict[str, Tensor] = field(default_factory=dict)
    """Every gradient known after this step (leaves and intermediates), by name."""
    max_diff: float | None = None
    """Largest |manual - autograd| over the gradients of this step."""
    loss: float | None = None
    notes: tuple[str, ...] = ()
    """Facts computed for this step (memory costs of the tempting wrong formulas)."""
    graph: GraphNode | None = None
    """The autograd graph under `loss` (after the forward mse step)."""
    inputs: dict[str, Tensor] = field(default_factory=dict)
    """What the step read that the learner needs to predict the next gradient (`out` and
    `y` at the loss)."""


def _clone(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.detach().clone()


def _gb(elements: int, dtype: torch.dtype) -> str:
    size = elements * torch.empty((), dtype=dtype).element_size()
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale / 10:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _difference(manual: Tensor, reference: Tensor) -> float:
    """The largest entry of |manual − reference| (inf when the shapes differ or a
    gradient was never set: the learner's function is then plainly wrong)."""
    if manual.shape != reference.shape:
        return float("inf")
    return float((manual - reference).abs().max())


def autograd_graph(t: Tensor, names: dict[int, str]) -> GraphNode:
    """(torch's node name, children) from `t.grad_fn` down to the AccumulateGrad leaves."""

    def walk(fn: Any, depth: int) -> GraphNode:
        name = type(fn).__name__
        if name == "AccumulateGrad":
            leaf = names.get(id(fn.variable), "?")
            return (f"AccumulateGrad ({leaf})", ())
        if depth > 30:
            return (name, ())
        children = tuple(
            walk(child, depth + 1) for child, _ in fn.next_functions if child is not None
        )
        return (name, children)

    return walk(t.grad_fn, 0) if t.grad_fn is not None else ("(no grad_fn)", ())


class Stepper:
    """Walks the lesson network one node at a time, forward then backward."""

    def __init__(
        self,
        n: int = DEFAULT.n,
        d_in: int = DEFAULT.d_in,
        hidden: int = DEFAULT.hidden,
        seed: int = DEFAULT.seed,
        lr: float = DEFAULT.lr,
        learner: Mapping[str, Any] | None = None,
    ) -> None:
        self.sizes = (n, d_in, hidden)
        self.lr = lr
        self.learner = dict(learner or {})
        """The learner's own `mse_grad`, `relu_grad`, `lin_grad` (parsed programs), which
        then replace the reference manual backward (a stepper block's `manual = "learner"`)."""
        # float64 where every number is meant to be read; float32 at MNIST size, for memory
        self.dtype = torch.float64 if n * d_in <= 2_000_000 else torch.float32
        self.reset(seed)

    # -- state ---------------------------------------------------------------------------

    def reset(self, seed: int) -> Snapshot:
        """New random tensors from `seed`; gradients cleared; history restarted."""
        self.seed = seed
        p = make_params(*self.sizes, seed=seed)
        self.x = p.x.to(self.dtype).requires_grad_(True)
        self.y = p.y.to(self.dtype)
        self.params = {k: getattr(p, k).to(self.dtype).requires_grad_(True) for k in LEAVES}
        self.names = {id(self.x): "x", **{id(v): k for k, v in self.params.items()}}
        self.acts: dict[str, Tensor] = {}
        self.known: dict[str, Tensor] = {}
        self.history: list[Snapshot] = []
        self.cursor = -1
        self.position = 0  # index into the 8 steps of a pass
        self.losses: list[float] = []
        return self._record("reset", "network", f"seed = {seed}", result={})

    @property
    def current(self) -> Snapshot:
        """The snapshot under the cursor."""
        return self.history[self.cursor]

    @property
    def next_step(self) -> tuple[str, str]:
        """(phase, node) of the step `forward()` will compute next."""
        return (
            ("forward", FORWARD[self.position])
            if self.position < 4
            else ("backward", BACKWARD[self.position - 4])
        )

    def _grads(self) -> dict[str, Tensor | None]:
        return {k: _clone(v.grad) for k, v in self.params.items()}

    def _record(self, phase: str, node: str, formula: str, **kw: Any) -> Snapshot:
        snap = Snapshot(
            index=len(self.history),
            phase=phase,
            node=node,
            formula=formula,
            grads=self._grads(),
            known={k: v for k, v in self.known.items()},
            **kw,
        )
        self.history.append(snap)
        self.cursor = len(self.history) - 1
        return snap

    # -- moving -----------------------------------------------------------------------

    def forward(self) -> Snapshot:
        """One step on: replay history after stepping back, else compute the next node."""
        if self.cursor < len(self.history) - 1:
            self.cursor += 1
            return self.current
        phase, node = self.next_step
        snap = self._forward_step(node) if phase == "forward" else self._backward_step(node)
        self.position = (self.position + 1) % 8
        return snap

    def back(self) -> Snapshot:
        """One step back through the history (nothing is recomputed)."""
        self.cursor = max(0, self.cursor - 1)
        return self.current

    def _forward_step(self, node: str) -> Snapshot:
        p, a = self.params, self.acts
        notes: tuple[str, ...] = ()
        graph = None
        loss = None
        inputs: dict[str, Tensor] = {}
        if node == "lin1":
            self.known = {}  # a fresh graph: intermediate gradients start over
            a.clear()
            a["l1"] = self.x @ p["w1"] + p["b1"]
            result = {"l1": a["l1"]}
        elif node == "relu":
            a["l2"] = torch.relu(a["l1"])
            result = {"l2": a["l2"]}
        elif node == "lin2":
            a["out"] = a["l2"] @ p["w2"] + p["b2"]
            result = {"out": a["out"]}
        else:
            a["loss"] = mse(a["out"], self.y)
            loss = float(a["loss"].detach())
            result = {"loss": a["loss"]}
            inputs = {"out": a["out"].detach(), "y": self.y}
            n = self.sizes[0]
            notes = (
                f"Without squeeze, out − y would broadcast ({n}, 1) against ({n},) to ({n}, {n}): "
                f"{n * n:,} numbers, {_gb(n * n, self.dtype)}; and the loss would be wrong.",
                "The backward pass needs none of the loss's value: only its graph.",
            )
            graph = autograd_graph(a["loss"], self.names)
        return self._record(
            "forward",
            node,
            FORMULAS[("forward", node)],
            result={k: v.detach() for k, v in result.items()},
            loss=loss,
            notes=notes,
            graph=graph,
            inputs=inputs,
        )

    def _backward_step(self, node: str) -> Snapshot:
        a, p, k = self.acts, self.params, self.known
        grad = torch.autograd.grad
        result: dict[str, Tensor] = {}
        manual: dict[str, Tensor] = {}
        notes: tuple[str, ...] = ()
        upstream = None
        said: list[str] = []
        if node == "mse":
            (out_g,) = grad(a["loss"], a["out"], retain_graph=True)
            result["out_g"] = out_g
            manual["out_g"] = self._mse_grad(a["out"].detach(), said)
        elif node == "lin2":
            upstream = k["out_g"]
            a["out"].backward(upstream, inputs=[p["w2"], p["b2"]], retain_graph=True)
            l2_g, w2_g, b2_g = grad(
                a["out"], [a["l2"], p["w2"], p["b2"]], upstream, retain_graph=True
            )
            result.update(l2_g=l2_g, w2_g=w2_g, b2_g=b2_g)
            m = self._lin_grad(a["l2"].detach(), p["w2"].detach(), p["b2"].detach(), upstream, said)
            manual.update(l2_g=m[0], w2_g=m[1], b2_g=m[2])
            notes = self._broadcast_note(a["l2"].detach(), upstream, "w2")
        elif node == "relu":
            upstream = k["l2_g"]
            (l1_g,) = grad(a["l2"], a["l1"], upstream, retain_graph=True)
            result["l1_g"] = l1_g
            manual["l1_g"] = self._relu_grad(a["l1"].detach(), upstream, said)
        else:
            upstream = k["l1_g"]
            a["l1"].backward(upstream, inputs=[p["w1"], p["b1"]], retain_graph=True)
            x_g, w1_g, b1_g = grad(a["l1"], [self.x, p["w1"], p["b1"]], upstream, retain_graph=True)
            result.update(x_g=x_g, w1_g=w1_g, b1_g=b1_g)
            m = self._lin_grad(self.x.detach(), p["w1"].detach(), p["b1"].detach(), upstream, said)
            manual.update(x_g=m[0], w1_g=m[1], b1_g=m[2])
            notes = self._broadcast_note(self.x.detach(), upstream, "w1")
        notes = (*said, *notes)
        diff = max(_difference(manual[name], result[name]) for name in result)
        for name, value in result.items():
            k[name] = value.detach()
        return self._record(
            "backward",
            node,
            FORMULAS[("backward", node)],
            local=LOCAL[("backward", node)],
            upstream=upstream,
            result={n: v.detach() for n, v in result.items()},
            max_diff=diff,
            notes=notes,
        )

    # -- the manual backward: the reference, or the learner's own functions --------------

    def _run_learner(
        self, name: str, args: list[Tensor], upstream: Tensor | None, said: list[str]
    ) -> list[Tensor] | None:
        """Run the learner's function `name` on copies of `args` (the second one carrying
        `upstream` as its `.g`); the `.g` of each argument after it, or None (and a note)
        when it failed, so that the reference stands in."""
        from .proglang import ProgramError, RunState, run_program

        program = self.learner.get(name)
        if program is None:
            return None
        copies = [t.detach().clone().to(torch.float64) for t in args]
        if upstream is not None:
            copies[1].g = upstream.detach().clone().to(torch.float64)  # type: ignore[attr-defined]
        try:
            run_program(
                program,
                dict(zip(program.header.params, copies, strict=True)),
                self.learner,
                RunState(),
            )
        except (ProgramError, ValueError) as exc:
            said.append(f"your {name} failed here ({exc}); the reference ran instead")
            return None
        grads = [getattr(c, "g", None) for c in copies]
        return [
            g if isinstance(g, Tensor) else torch.full_like(c, float("nan"))
            for g, c in zip(grads, copies, strict=True)
        ]

    def _mse_grad(self, out: Tensor, said: list[str]) -> Tensor:
        mine = self._run_learner("mse_grad", [out, self.y], None, said)
        if mine is None:
            return mse_grad(out, self.y)
        said.append("manual: your mse_grad")
        return mine[0].to(out.dtype)

    def _relu_grad(self, inp: Tensor, upstream: Tensor, said: list[str]) -> Tensor:
        mine = self._run_learner("relu_grad", [inp, torch.relu(inp)], upstream, said)
        if mine is None:
            return relu_grad(inp, upstream)
        said.append("manual: your relu_grad")
        return mine[0].to(inp.dtype)

    def _lin_grad(
        self, inp: Tensor, w: Tensor, b: Tensor, upstream: Tensor, said: list[str]
    ) -> tuple[Tensor, Tensor, Tensor]:
        mine = self._run_learner("lin_grad", [inp, inp @ w + b, w, b], upstream, said)
        if mine is None:
            return lin_grad(inp, w, upstream)
        said.append("manual: your lin_grad")
        return mine[0].to(inp.dtype), mine[2].to(inp.dtype), mine[3].to(inp.dtype)

    def _broadcast_note(self, inp: Tensor, out_g: Tensor, name: str) -> tuple[str, ...]:
        """The broadcast form of w.g: its memory cost, and whether it agrees (run where it fits)."""
        n, d, h = inp.shape[0], inp.shape[1], out_g.shape[1]
        elements = n * d * h
        cost = f"{name}.g = (inp.unsqueeze(-1) * out.g.unsqueeze(1)).sum(0) materialises ({n}, {d}, {h}): {elements:,} numbers, {_gb(elements, self.dtype)}"
        if elements > BROADCAST_LIMIT:
            return (
                cost
                + "; too large to run here. The matmul inp.T @ out.g gives the same without it.",
            )
        broadcast = (inp.unsqueeze(-1) * out_g.unsqueeze(1)).sum(0)
        agree = float((broadcast - inp.T @ out_g).abs().max())
        return (cost + f"; run here, it agrees with inp.T @ out.g to {agree:.1e}.",)

    # -- whole-network actions ----------------------------------------------------------

    def run_pass(self) -> Snapshot:
        """Finish the current pass, or run a whole forward + backward pass."""
        self.cursor = len(self.history) - 1
        snap = self.forward()
        while self.position != 0:
            snap = self.forward()
        return snap

    def zero_grad(self) -> Snapshot:
        """Clear the leaves' .grad, as optimizer.zero_grad() does (set to None)."""
        for v in self.params.values():
            v.grad = None
        self.cursor = len(self.history) - 1
        return self._record("zero_grad", "network", "for p in params: p.grad = None")

    def accumulate(self) -> Snapshot:
        """Exactly one more backward pass into .grad, without zeroing: the pass in progress
        is finished, or else a fresh forward and backward pass is run."""
        self.cursor = len(self.history) - 1
        return self.run_pass()

    def update(self, lr: float | None = None) -> Snapshot:
        """One SGD step under no_grad: p -= lr * p.grad; reports the loss before and after."""
        lr = self.lr if lr is None else lr
        self.cursor = len(self.history) - 1
        if all(v.grad is None for v in self.params.values()):
            return self._record(
                "update",
                "network",
                f"with torch.no_grad(): p -= {lr:g} * p.grad",
                notes=(
                    "No step taken: every .grad is None, so there are no gradients to step "
                    "with. Run a backward pass first (→ to the end of the pass, or a).",
                ),
            )
        before = self.loss_now()
        with torch.no_grad():
            for v in self.params.values():
                if v.grad is not None:
                    v -= lr * v.grad
        after = self.loss_now()
        self.losses.extend([before, after] if not self.losses else [after])
        self.position = 0  # the old graph is stale: the next step starts a forward pass
        self.acts.clear()
        self.known = {}
        return self._record(
            "update",
            "network",
            f"with torch.no_grad(): p -= {lr:g} * p.grad",
            loss=after,
            notes=(f"loss {before:.6g} → {after:.6g}",),
        )

    def loss_now(self) -> float:
        """The loss at the current parameters (no graph)."""
        with torch.no_grad():
            p = self.params
            out = torch.relu(self.x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
            return float(mse(out, self.y))

    def train(self, steps: int, lr: float | None = None) -> Snapshot:
        """`steps` iterations of zero_grad, forward, backward, update."""
        snap = self.current
        for _ in range(steps):
            self.zero_grad()
            self.run_pass()
            snap = self.update(lr)
        return snap

    def tensors(self) -> dict[str, Tensor]:
        """The inputs and parameters now."""
        return {
            "x": self.x.detach(),
            "y": self.y,
            **{k: v.detach() for k, v in self.params.items()},
        }


def trace_json(
    n: int = DEFAULT.n, d_in: int = DEFAULT.d_in, hidden: int = DEFAULT.hidden, seed: int = 0
) -> dict[str, Any]:
    """The whole forward and backward trace as plain JSON (`gradtutor stepper --json`)."""
    stepper = Stepper(n, d_in, hidden, seed)
    tensors = {k: v.tolist() for k, v in stepper.tensors().items()}
    steps = []
    for _ in range(8):
        snap = stepper.forward()
        grads = {
            name.removesuffix("_g"): v.tolist()
            for name, v in snap.known.items()
            if name in ("out_g", "l2_g", "l1_g", "x_g")
        }
        grads.update({k: v.tolist() for k, v in snap.grads.items() if v is not None})
        steps.append(
            {
                "phase": snap.phase,
                "node": snap.node,
                "formula": snap.formula,
                "values": {name: v.tolist() for name, v in snap.result.items()},
                "grads": grads,
                "max_diff": snap.max_diff,
            }
        )
    return {"tensors": tensors, "steps": steps}


# ----------------------------------------------------------------------------- predict mode

PREDICT_TARGETS = {
    "mse": ("out_g", "out.g"),
    "lin2": ("w2_g", "w2.g"),
    "relu": ("l1_g", "l1.g"),
    "lin1": ("w1_g", "w1.g"),
}
"""What the learner predicts before each backward step is revealed."""


def prediction_target(stepper: Stepper) -> str | None:
    """The gradient to predict before the next step, or None when it is not a backward step."""
    phase, node = stepper.next_step
    if phase != "backward" or stepper.cursor != len(stepper.history) - 1:
        return None
    return PREDICT_TARGETS[node][1]


def prediction_env(stepper: Stepper) -> dict[str, Tensor]:
    """The names a prediction may use: inputs, parameters, activations, known upstream grads."""
    env = dict(stepper.tensors())
    env.update({k: v.detach() for k, v in stepper.acts.items() if k != "loss"})
    env.update({k: v for k, v in stepper.known.items() if k in ("out_g", "l2_g", "l1_g")})
    return env


def judge_prediction(answer: str, target: Tensor, env: dict[str, Tensor], label: str) -> Verdict:
    """A verdict on a predicted gradient: a number, a list, or a tensor-language formula."""
    from . import tensorlang
    from .checking import Verdict, invalid, parse_value_answer
    from .mathlang import MathError

    got = None
    try:
        got = parse_value_answer(answer).to(target.dtype)
        if got.numel() == target.numel():
            got = got.reshape(target.shape)
    except MathError:
        unknown = [
            g
            for g in ("out_g", "l2_g", "l1_g")
            if g not in env and (g in answer or g.replace("_", ".") in answer)
        ]
        if unknown:
            name = unknown[0].replace("_", ".")
            return invalid(
                f"{name} is not known yet: the backward pass has not reached it. Use what is above it."
            )
        try:
            got = tensorlang.evaluate(tensorlang.parse(answer, frozenset(env)), env)
        except tensorlang.TensorLangError as exc:
            return invalid(f"Not understood: {exc}.", exc.column)
    if got.dtype == torch.bool:
        return Verdict(
            "incorrect", "Not quite: that is a boolean mask; convert it with .float().", answer
        )
    got = got.to(target.dtype)
    tolerance = 1e-5 if target.dtype == torch.float64 else 1e-3
    if got.shape != target.shape:
        return Verdict(
            "incorrect",
            f"Not quite: {label} has shape {tensorlang.describe_shape(target)}; yours has {tensorlang.describe_shape(got)}.",
            answer,
        )
    close = torch.isclose(got, target, rtol=tolerance, atol=tolerance * 1e-3)
    if bool(close.all()):
        return Verdict("correct", f"Correct: that is autograd's {label}.", answer)
    return Verdict("incorrect", _differences(label, got, target, close), answer)


def _differences(label: str, got: Tensor, target: Tensor, close: Tensor) -> str:
    """Which entries differ, element by element (a count when there are many)."""
    wrong = (~close).nonzero().tolist()
    total = target.numel()
    if total <= 12:
        shown = []
        for index in wrong[:6]:
            at = f"[{', '.join(str(i) for i in index)}]" if index else ""
            shown.append(
                f"{label}{at} is {float(target[tuple(index)]):.4g}, yours {float(got[tuple(index)]):.4g}"
            )
        more = f" (and {len(wrong) - 6} more)" if len(wrong) > 6 else ""
        return (
            f"Not quite: {len(wrong)} of {total} entries differ: " + "; ".join(shown) + more + "."
        )
    diff = float((got - target).abs().max())
    return (
        f"Not quite: {len(wrong)} of {total} entries differ from autograd's {label}; "
        f"the largest difference is {diff:.3g}."
    )


def predict(stepper: Stepper, answer: str) -> tuple[Verdict, Snapshot] | None:
    """Judge a prediction of the next backward step, then take that step: (verdict, snapshot)."""
    label = prediction_target(stepper)
    if label is None:
        return None
    env = prediction_env(stepper)
    node = stepper.next_step[1]
    snap = stepper.forward()
    return judge_prediction(answer, snap.result[PREDICT_TARGETS[node][0]], env, label), snap
