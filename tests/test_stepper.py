"""The network, the step machine and the training runs, against torch autograd in float64."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtutor.core.network import (
    forward,
    lin_grad,
    make_params,
    manual_backward,
    mse_grad,
    relu_grad,
)
from gradtutor.core.packs import TrainingBlock, load_pack
from gradtutor.core.stepper import Stepper, predict, prediction_target, trace_json
from gradtutor.core.training import run_training

from .conftest import PACKS, ROOT, source_sgd_start


def truth(p):
    """Autograd on the network, written here from scratch (not the code under test)."""
    leaves = {k: getattr(p, k).clone().requires_grad_(True) for k in ("x", "w1", "b1", "w2", "b2")}
    l1 = leaves["x"] @ leaves["w1"] + leaves["b1"]
    l2 = l1.clamp(min=0)
    out = l2 @ leaves["w2"] + leaves["b2"]
    for t in (l1, l2, out):
        t.retain_grad()
    loss = ((out[:, 0] - p.y) ** 2).sum() / len(p.y)
    loss.backward()
    grads = {k: v.grad for k, v in leaves.items()}
    grads.update(l1=l1.grad, l2=l2.grad, out=out.grad)
    return grads, float(loss.detach())


sizes = st.tuples(st.integers(1, 12), st.integers(1, 6), st.integers(1, 7), st.integers(0, 10_000))


@settings(max_examples=60, deadline=None)
@given(sizes)
def test_manual_gradients_equal_autograd(size):
    n, d_in, hidden, seed = size
    p = make_params(n, d_in, hidden, seed)
    acts = forward(p)
    manual = manual_backward(p, acts)
    expected, loss = truth(p)
    assert abs(float(acts["loss"]) - loss) < 1e-12
    for name, value in manual.items():
        assert value.dtype == torch.float64
        assert torch.allclose(value, expected[name], rtol=1e-10, atol=1e-12), name


def test_the_pieces_one_by_one():
    torch.manual_seed(0)
    out, y = (
        torch.randn(5, 1, dtype=torch.float64, requires_grad=True),
        torch.randn(5, dtype=torch.float64),
    )
    ((out.squeeze(-1) - y) ** 2).mean().backward()
    assert torch.allclose(mse_grad(out.detach(), y), out.grad)
    inp = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    g = torch.randn(5, 2, dtype=torch.float64)
    (inp @ w + b).backward(g)
    assert all(
        torch.allclose(a, e)
        for a, e in zip(
            lin_grad(inp.detach(), w.detach(), g), (inp.grad, w.grad, b.grad), strict=True
        )
    )
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    g = torch.randn(5, 3, dtype=torch.float64)
    torch.relu(x).backward(g)
    assert torch.allclose(relu_grad(x.detach(), g), x.grad)


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_every_step_holds_the_grads_torch_has(size):
    n, d_in, hidden, seed = size
    expected, loss = truth(make_params(n, d_in, hidden, seed))
    s = Stepper(n, d_in, hidden, seed)
    reached = {
        "mse": set(),
        "lin2": {"w2", "b2"},
        "relu": {"w2", "b2"},
        "lin1": {"w1", "b1", "w2", "b2"},
    }
    for _ in range(4):
        snap = s.forward()
        assert snap.phase == "forward" and all(v is None for v in snap.grads.values())
    assert abs(snap.loss - loss) < 1e-12
    for node in ("mse", "lin2", "relu", "lin1"):
        snap = s.forward()
        assert snap.node == node and snap.max_diff < 1e-10
        for leaf, value in snap.grads.items():
            if leaf in reached[node]:
                assert torch.allclose(value, expected[leaf], rtol=1e-10, atol=1e-12)
            else:
                assert value is None
    for name in ("out", "l2", "l1", "x"):
        assert torch.allclose(snap.known[f"{name}_g"], expected[name], rtol=1e-10, atol=1e-12)


def test_accumulate_doubles_zero_grad_clears_update_lowers_the_loss():
    s = Stepper(6, 3, 4, 1)
    snap = s.run_pass()
    once = {k: v.clone() for k, v in snap.grads.items()}
    snap = s.accumulate()
    for k, v in snap.grads.items():
        assert torch.allclose(v, 2 * once[k])
    snap = s.zero_grad()
    assert all(v is None for v in snap.grads.values())
    s.run_pass()
    before = s.loss_now()
    snap = s.update(0.05)
    assert snap.loss < before
    s.train(30, 0.05)
    assert s.losses[-1] < s.losses[0]


def test_stepping_back_replays_without_recomputing():
    s = Stepper()
    snaps = [s.forward() for _ in range(6)]
    assert s.back() is snaps[4] and s.back() is snaps[3]
    assert s.forward() is snaps[4] and s.forward() is snaps[5]
    assert s.forward().node == "relu"


def test_reset_with_a_seed():
    s = Stepper(seed=3)
    a = s.tensors()["w1"].clone()
    s.run_pass()
    s.reset(4)
    assert not torch.equal(a, s.tensors()["w1"]) and all(
        v is None for v in s.current.grads.values()
    )
    s.reset(3)
    assert torch.equal(a, s.tensors()["w1"])


def test_autograd_graph_has_torch_names_down_to_the_leaves():
    s = Stepper()
    snap = [s.forward() for _ in range(4)][-1]
    text = json.dumps(snap.graph)
    for name in ("MeanBackward0", "PowBackward0", "ReluBackward0", "MmBackward0"):
        assert name in text
    for leaf in ("w1", "b1", "w2", "b2", "x"):
        assert f"AccumulateGrad ({leaf})" in text


def test_memory_notes_and_large_broadcast_not_run():
    s = Stepper(3000, 784, 50)
    snaps = [s.forward() for _ in range(8)]
    mse_note = snaps[3].notes[0]
    assert "(3000, 3000)" in mse_note and "9,000,000 numbers" in mse_note
    lin1_note = snaps[7].notes[0]
    assert "(3000, 784, 50)" in lin1_note and "too large to run here" in lin1_note
    small = Stepper()
    assert "agrees with inp.T @ out.g" in [small.forward() for _ in range(8)][7].notes[0]


def test_predictions():
    s = Stepper()
    assert prediction_target(s) is None
    for _ in range(4):
        s.forward()
    assert prediction_target(s) == "out.g"
    verdict, snap = predict(s, "2 * (out.squeeze(-1) - y).unsqueeze(-1) / 4")
    assert verdict.correct and snap.node == "mse"
    verdict, _ = predict(s, "out_g.T @ l2")
    assert verdict.verdict == "incorrect" and "(5, 1)" in verdict.message
    assert prediction_target(s) == "l1.g"
    verdict, _ = predict(s, "sin(x)")
    assert verdict.verdict == "invalid"
    early = Stepper()
    for _ in range(4):
        early.forward()
    verdict, _ = predict(early, "l1.g * 2")  # before the mse step nothing upstream is known
    assert verdict.verdict == "invalid" and "l1.g is not known yet" in verdict.message
    assert prediction_target(s) == "w1.g"
    numbers = ", ".join(str(v) for v in s.x.detach().T.matmul(s.known["l1_g"]).flatten().tolist())
    verdict, _ = predict(s, numbers)  # a plain list of the right numbers is accepted
    assert verdict.correct


def test_trace_json_schema():
    doc = trace_json(4, 3, 5, 0)
    assert set(doc["tensors"]) == {"x", "y", "w1", "b1", "w2", "b2"}
    assert len(doc["tensors"]["x"]) == 4 and len(doc["tensors"]["x"][0]) == 3
    steps = doc["steps"]
    assert [s["phase"] for s in steps] == ["forward"] * 4 + ["backward"] * 4
    assert [s["node"] for s in steps] == [
        "lin1",
        "relu",
        "lin2",
        "mse",
        "mse",
        "lin2",
        "relu",
        "lin1",
    ]
    for s in steps:
        assert set(s) >= {"phase", "node", "formula", "values", "grads"}
    assert steps[3]["grads"] == {} and set(steps[4]["grads"]) == {"out"}
    assert {"w1", "b1", "w2", "b2"} <= set(steps[-1]["grads"])
    expected, _ = truth(make_params(4, 3, 5, 0))
    assert torch.allclose(
        torch.tensor(steps[-1]["grads"]["w1"], dtype=torch.float64), expected["w1"]
    )


def test_stepper_json_from_the_command_line():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradtutor",
            "stepper",
            "--json",
            "--n",
            "2",
            "--d-in",
            "2",
            "--hidden",
            "3",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    doc = json.loads(out.stdout)
    assert out.returncode == 0 and len(doc["steps"]) == 8 and len(doc["tensors"]["w1"]) == 2
    bad = subprocess.run(
        [sys.executable, "-m", "gradtutor", "stepper", "--json", "--n", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2


def _blocks():
    pack = load_pack(PACKS / "valid").pack
    return [s for s in pack.lesson("network").segments if isinstance(s, TrainingBlock)]


def test_adaline_three_ways_agree():
    adaline = _blocks()[0]
    result = run_training(adaline)
    assert [c.label for c in result.curves] == ["manual", "autograd.grad", "backward"]
    assert result.max_difference < 1e-6
    first = result.curves[0]
    assert first.losses[-1] < first.losses[0] and first.test_accuracy > 0.9
    for curve in result.curves[1:]:
        assert (
            curve.train_accuracy == first.train_accuracy
            and curve.test_accuracy == first.test_accuracy
        )


def test_forgetting_zero_grad_breaks_training():
    adaline = _blocks()[0]
    block = dataclasses.replace(adaline, zero_grad=False)
    curves = run_training(block).curves
    zeroed, never = curves[2], curves[3]
    assert never.label == "backward, never zeroed"
    assert never.grad_norms[-1] > 5 * zeroed.grad_norms[-1]
    assert never.losses[-1] > zeroed.losses[-1]


def test_linear_sgd_numbers_are_computed_from_the_start_values():
    linear = _blocks()[1]
    loss, w_grad, _ = source_sgd_start()
    result = run_training(linear)
    sgd, never = result.curves
    assert sgd.losses[0] == pytest.approx(loss, rel=1e-5)
    assert f"w.grad {w_grad:.2f}" in result.facts[1]
    assert abs(sgd.weights[0] + 5) < 0.1 and abs(sgd.bias) < 0.5
    assert never.losses[-1] > sgd.losses[-1]
    assert 598 < sgd.losses[0] < 600 and -81.5 < w_grad < -81.2
