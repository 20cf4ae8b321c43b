"""Tensor exercises: verdicts against autograd, and feedback that names shapes."""

from __future__ import annotations

import pytest
import torch

from gradtutor.core.checking import check_tensor, tensor_reference
from gradtutor.core.packs import Feedback, Shapes, TensorExercise

SHAPES = Shapes(n=6, d_in=3, hidden=4)


def exercise(target: str, feedback=()) -> TensorExercise:
    return TensorExercise(
        id="t", prompt="p", target=target, shapes=SHAPES, seed=1, feedback=feedback
    )


def _truth(target: str) -> torch.Tensor:
    """Autograd, written out here independently of the checker."""
    from gradtutor.core.network import make_params

    p = make_params(6, 3, 4, 1)
    leaves = {k: getattr(p, k).clone().requires_grad_(True) for k in ("x", "w1", "b1", "w2", "b2")}
    l1 = leaves["x"] @ leaves["w1"] + leaves["b1"]
    l1.retain_grad()
    l2 = l1.clamp(min=0)
    l2.retain_grad()
    out = l2 @ leaves["w2"] + leaves["b2"]
    out.retain_grad()
    loss = ((out[:, 0] - p.y) ** 2).mean()
    loss.backward()
    name, kind = target.split(".")
    if kind == "grad":
        return leaves[name].grad
    return {"out": out, "l2": l2, "l1": l1}[name].grad


@pytest.mark.parametrize(
    "target,answer",
    [
        ("out.g", "2 * (out.squeeze(-1) - y).unsqueeze(-1) / 6"),
        ("out.g", "2*(out - y.unsqueeze(-1))/6"),
        ("w2.grad", "l2.T @ out.g"),
        ("w2.grad", "l2.t() @ out_g"),
        ("w2.grad", "(l2.unsqueeze(-1) * out_g.unsqueeze(1)).sum(0)"),
        ("b2.grad", "out_g.sum(0)"),
        ("l2.g", "out.g @ w2.T"),
        ("l1.g", "(l1 > 0).float() * l2.g"),
        ("l1.g", "(l1 > 0) * l2_g"),
        ("w1.grad", "x.T @ l1.g"),
        ("b1.grad", "l1_g.sum(0)"),
        ("b1.grad", "l1_g.sum(dim=0)"),
        ("x.grad", "l1.g @ w1.T"),
    ],
)
def test_right_answers(target, answer):
    verdict = check_tensor(exercise(target), answer)
    assert verdict.verdict == "correct", verdict.message
    assert torch.allclose(tensor_reference(exercise(target)), _truth(target))


@pytest.mark.parametrize(
    "target,answer,phrase",
    [
        ("l2.g", "out.g @ w2", "shapes (6, 1) and (4, 1) cannot be multiplied"),
        ("w2.grad", "out_g.T @ l2", "looks transposed"),
        ("b2.grad", "out_g", "Sum over the batch dimension?"),
        ("b1.grad", "l1_g", "Sum over the batch dimension?"),
        ("l1.g", "l1 > 0", "boolean mask"),
        ("l1.g", "l2.g", "ReLU mask (l1 > 0) is missing"),
        ("w1.grad", "x.T @ l2.g", "ReLU mask (l1 > 0) is missing"),
        ("out.g", "(out.squeeze(-1) - y).unsqueeze(-1)", "2/n"),
        ("out.g", "2 * (out - y) / 6", "broadcast"),
        ("out.g", "-2 * (out.squeeze(-1) - y).unsqueeze(-1) / 6", "sign is flipped"),
        ("w2.grad", "l2.T @ out.g + 1", "values differ by up to 1"),
        ("out.g", "2 * (out.squeeze(-1) - y) / 6", "reshape"),
    ],
)
def test_wrong_answers_get_specific_feedback(target, answer, phrase):
    verdict = check_tensor(exercise(target), answer)
    assert verdict.verdict in ("incorrect", "invalid"), verdict.message
    assert phrase in verdict.message, verdict.message


def test_wrong_shape_names_both_shapes():
    verdict = check_tensor(exercise("w2.grad"), "l2")
    assert "(6, 4)" in verdict.message and "(4, 1)" in verdict.message


def test_authored_feedback():
    ex = exercise("b2.grad", feedback=(Feedback("out_g.mean(0)", "Sum, do not average.", 1),))
    verdict = check_tensor(ex, "out.g.mean(0)")
    assert verdict.verdict == "incorrect" and verdict.feedback == "Sum, do not average."


def test_invalid_answers_spend_nothing():
    verdict = check_tensor(exercise("b2.grad"), "out_g.sum(")
    assert verdict.verdict == "invalid" and not verdict.spends_attempt


def test_broadcasting_slip_at_mnist_size_is_refused_before_computing():
    ex = TensorExercise(id="t", prompt="p", target="out.g", shapes=Shapes(50000, 4, 5), seed=0)
    verdict = check_tensor(ex, "2 * (out - y) / 50000")
    assert verdict.verdict == "invalid"
    assert "2,500,000,000" in verdict.message and "GB" in verdict.message


# -- no answer may name what it should compute (third edition) --------------------------

DOWNSTREAM = {
    "out.g": ("out_g", "l2_g", "l1_g"),
    "l2.g": ("l2_g", "l1_g"),
    "w2.grad": ("l2_g", "l1_g"),
    "b2.grad": ("l2_g", "l1_g"),
    "l1.g": ("l1_g",),
    "w1.grad": (),
    "b1.grad": (),
    "x.grad": (),
}


@pytest.mark.parametrize("target", sorted(DOWNSTREAM))
def test_an_answer_naming_its_own_or_a_later_gradient_is_invalid(target):
    ex = exercise(target)
    for name in DOWNSTREAM[target]:
        for spelled in (name, name.replace("_g", ".g")):
            verdict = check_tensor(ex, spelled)
            assert verdict.verdict == "invalid", (target, spelled)
            assert "not allowed here" in verdict.message and target in verdict.message
            if target == "out.g":
                assert "no gradient" in verdict.message


def test_upstream_gradients_stay_allowed_and_right_answers_pass():
    assert check_tensor(exercise("l2.g"), "out_g @ w2.T").correct
    assert check_tensor(exercise("l2.g"), "out.g @ w2.T").correct
    assert check_tensor(exercise("l1.g"), "l2.g * (l1 > 0).float()").correct
    assert check_tensor(exercise("w1.grad"), "x.T @ l1_g").correct
    assert check_tensor(exercise("out.g"), "2 * (out.squeeze(-1) - y).unsqueeze(-1) / 6").correct
    assert check_tensor(exercise("w2.grad"), "x.g").verdict == "invalid"  # `.g` elsewhere


def test_validate_refuses_a_reference_or_a_match_that_names_a_later_gradient(tmp_path):
    from .conftest import run_cli, write_pack

    pack = write_pack(
        tmp_path / "p",
        {
            "pack.toml": 'format = 2\nid = "t"\ntitle = "T"\nversion = "1"\nlessons = ["01.md"]\n',
            "01.md": """
                +++
                id = "one"
                title = "One"
                +++
                Text.

                ```exercise
                id = "a"
                kind = "tensor"
                prompt = "The gradient of l1."
                target = "l1.g"
                answer = "l1_g"
                [shapes]
                n = 4
                d_in = 3
                hidden = 5

                [[feedback]]
                match = "l1.g * 2"
                message = "Twice."
                ```
            """,
        },
    )
    result = run_cli("validate", str(pack))
    assert result.returncode == 1
    assert "01.md:12:" in result.stdout and "not allowed here" in result.stdout
    assert result.stdout.count("not allowed here") == 2
