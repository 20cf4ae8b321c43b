"""The computation graph against independent truths: torch autograd in float64 for
every node's gradient, sympy built directly from the tree for the assembled derivative."""

from __future__ import annotations

import json
import math
import random

import pytest
import sympy
import torch

from gradtutor.cli import main
from gradtutor.core import compgraph
from gradtutor.core.checking import check_derivative
from gradtutor.core.mathlang import BinOp, Call, Neg, Node, Num, Var, parse, to_sympy, to_text

FUNCTIONS = [
    ("sin(x^2)", "x"),
    ("x*sin(x)", "x"),
    ("x*x", "x"),
    ("x*x*x", "x"),
    ("x^2*exp(x) + x", "x"),
    ("x/(1 + x^2)", "x"),
    ("(3*x + 1)^4", "x"),
    ("exp(-2*x^2)", "x"),
    ("log(1 + x^2)*cos(x)", "x"),
    ("sigmoid(w*x + b)", "w"),
    ("sigmoid(w*x + b)", "b"),
    ("x*y + x", "x"),
    ("x*y + x", "y"),
    ("sin(x)^2 + sin(x)", "x"),
    ("relu(x)*x - abs(x - 1)", "x"),
    ("max(x, 2*x - 1) + min(x, 0.5)", "x"),
    ("sqrt(x^2 + 1)/x", "x"),
    ("tanh(3*x - 1)*x^3", "x"),
    ("exp(x*y)*sin(x + y)/(1 + x^2)", "x"),
    ("2^x + x^x", "x"),
    ("(x - y)^2/(x + 3)", "y"),
    ("-x*exp(x)", "x"),
    ("cos(sin(cos(x)))", "x"),
    ("x*exp(x)*log(x^2 + 2)", "x"),
]


def _replace(tree: Node, target: str, by: Node) -> Node:
    if to_text(tree) == target:
        return by
    match tree:
        case BinOp(op, left, right):
            return BinOp(op, _replace(left, target, by), _replace(right, target, by))
        case Neg(operand):
            return Neg(_replace(operand, target, by))
        case Call(func, args):
            return Call(func, tuple(_replace(a, target, by) for a in args))
    return tree


def _autograd(tree: Node, wrt: str, point: dict[str, float]) -> float:
    from gradtutor.core.mathlang import to_torch

    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in point.items()}
    out = to_torch(tree, leaves)
    (grad,) = torch.autograd.grad(out, leaves[wrt], allow_unused=True)
    return 0.0 if grad is None else float(grad)


@pytest.mark.parametrize(("function", "wrt"), FUNCTIONS)
def test_every_node_gradient_is_autograds(function, wrt):
    doc = compgraph.explain(function, wrt)
    tree = parse(function)
    point = doc["at"]
    from gradtutor.core.mathlang import to_torch

    for node in doc["nodes"]:
        assert node["grad"] is not None and math.isfinite(node["grad"]), node
        if node["op"] == "var":
            truth = _autograd(tree, node["id"], point)
        else:
            # the node's gradient is d f / d t with every use of its expression replaced by t
            value = float(
                to_torch(
                    parse(node["expr"]),
                    {k: torch.tensor(v, dtype=torch.float64) for k, v in point.items()},
                )
            )
            replaced = _replace(tree, node["expr"], Var("_t"))
            assert replaced != tree
            truth = _autograd(replaced, "_t", {**point, "_t": value})
        assert node["grad"] == pytest.approx(truth, rel=1e-9, abs=1e-12), (function, node["id"])
    leaf = next(n for n in doc["nodes"] if n["id"] == wrt)
    assert leaf["grad"] == pytest.approx(_autograd(tree, wrt, point), rel=1e-9, abs=1e-12)
    output = next(n for n in doc["nodes"] if n["id"] == doc["output"])
    from gradtutor.core.mathlang import to_torch as tt

    f_value = float(tt(tree, {k: torch.tensor(v, dtype=torch.float64) for k, v in point.items()}))
    assert output["value"] == pytest.approx(f_value, rel=1e-12) and output["grad"] == 1.0


@pytest.mark.parametrize(("function", "wrt"), FUNCTIONS)
def test_the_assembled_derivative_is_sympys(function, wrt):
    doc = compgraph.explain(function, wrt)
    tree = parse(function)
    symbols = {
        v: sympy.Symbol(v, real=True) for v in {n["id"] for n in doc["nodes"] if n["op"] == "var"}
    }
    truth = sympy.diff(to_sympy(tree, symbols), symbols[wrt])
    ours = to_sympy(parse(doc["derivative"]), symbols)
    rng = random.Random(7)
    checked = 0
    for _ in range(40):  # numerically at many points: Heaviside and sign defeat simplify
        at = {s: rng.uniform(-2, 2) for s in symbols.values()}
        a, b = complex(truth.evalf(subs=at)), complex(ours.evalf(subs=at))
        if not (math.isfinite(a.real) and abs(a.imag) < 1e-12):
            continue
        assert b.real == pytest.approx(a.real, rel=1e-8, abs=1e-10), (function, at)
        checked += 1
    assert checked >= 10
    # and the checker the learners meet agrees
    assert check_derivative(function, wrt, doc["derivative"], symbolic=False).correct


def test_a_variable_used_twice_is_one_node_with_two_consumers():
    doc = compgraph.explain("x*sin(x)", "x")
    x = next(n for n in doc["nodes"] if n["id"] == "x")
    assert len(x["consumers"]) == 2
    assert sum(1 for n in doc["nodes"] if n["op"] == "var") == 1
    # three times: x^2*exp(x) + x
    doc = compgraph.explain("x^2*exp(x) + x", "x")
    assert len(next(n for n in doc["nodes"] if n["id"] == "x")["consumers"]) == 3


def test_a_repeated_subexpression_is_computed_once():
    doc = compgraph.explain("sin(x)^2 + sin(x)", "x")
    sines = [n for n in doc["nodes"] if n["op"] == "sin"]
    assert len(sines) == 1 and len(sines[0]["consumers"]) == 2


def test_the_paths_multiply_local_derivatives():
    doc = compgraph.explain("x*sin(x)", "x", {"x": 1.0})
    products = sorted(p["product"] for p in doc["paths"])
    assert products == ["sin(x)", "x*cos(x)"]
    assert doc["derivative"] == "sin(x) + x*cos(x)"


def test_kinks_follow_pytorch():
    doc = compgraph.explain("relu(x)", "x", {"x": 0.0})
    assert next(n for n in doc["nodes"] if n["id"] == "x")["grad"] == 0.0


def test_a_chosen_point_avoids_kinks_and_undefined_points():
    for function in ("relu(x - 1)*log(x)", "abs(x)/x", "sqrt(x)"):
        doc = compgraph.explain(function, "x")
        assert doc["point_chosen"]
        assert all(n["grad"] is not None and n["value"] is not None for n in doc["nodes"])


def _random_tree(rng: random.Random, depth: int) -> Node:
    if depth == 0 or rng.random() < 0.2:
        return Var("x") if rng.random() < 0.75 else Num(rng.choice([1, 2, 3]))  # type: ignore[arg-type]
    kind = rng.choice(["+", "-", "*", "/", "^", "call", "call"])
    if kind == "call":
        return Call(
            rng.choice(["sin", "cos", "exp", "tanh", "sigmoid"]), (_random_tree(rng, depth - 1),)
        )
    if kind == "^":
        return BinOp("^", _random_tree(rng, depth - 1), Num(rng.choice([2, 3])))  # type: ignore[arg-type]
    return BinOp(kind, _random_tree(rng, depth - 1), _random_tree(rng, depth - 1))


def test_random_functions_against_autograd():
    from fractions import Fraction

    rng = random.Random(20261201)
    done = 0
    for _ in range(300):
        tree = _random_tree(rng, 4)
        tree = BinOp("+", tree, BinOp("*", Num(Fraction(1)), Var("x")))  # x is always there
        text = to_text(tree)
        try:
            doc = compgraph.explain(text, "x")
        except Exception as exc:  # noqa: BLE001 - a point may not exist (say 1/(x-x))
            assert "no point" in str(exc) or "not defined" in str(exc), (text, exc)
            continue
        grid = [_autograd(parse(text), "x", {"x": -2 + i / 10}) for i in range(41)]
        if not all(math.isfinite(g) and abs(g) < 1e6 for g in grid):
            continue  # cos(exp(x^6)): floating point cannot judge anything there
        truth = _autograd(parse(text), "x", doc["at"])
        leaf = next(n for n in doc["nodes"] if n["id"] == "x")
        assert leaf["grad"] == pytest.approx(truth, rel=1e-8, abs=1e-10), text
        assert check_derivative(text, "x", doc["derivative"], symbolic=False).correct, text
        done += 1
    assert done > 200


def test_explain_json_on_the_command_line(capsys):
    assert main(["explain", "x^2*sin(x)", "--wrt", "x", "--at", "x=1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"function", "wrt", "at", "nodes", "output", "derivative"}
    assert doc["at"] == {"x": 1.0}
    for node in doc["nodes"]:
        assert set(node) >= {"id", "op", "expr", "inputs", "value", "local", "grad"}
    assert [n["id"] for n in doc["nodes"]][:1] == ["x"]
    assert next(n for n in doc["nodes"] if n["id"] == "x")["grad"] == pytest.approx(
        2 * math.sin(1) + math.cos(1)
    )


def test_explain_text_and_its_errors(capsys):
    assert main(["explain", "x*sin(x)", "--wrt", "x"]) == 0
    out = capsys.readouterr().out
    assert "├─╯" in out and "x feeds u₁ and u₂" in out and "Backward pass" in out
    assert main(["explain", "--wrt", "x", "--", "-x*exp(x)"]) == 0
    capsys.readouterr()
    for argv, says in [
        (["explain", "x^2 +", "--wrt", "x"], "could not be read"),
        (["explain", "x^2", "--wrt", "y"], "does not occur"),
        (["explain", "log(x)", "--wrt", "x", "--at", "x=-1"], "not defined"),
        (["explain", "x^2", "--wrt", "x", "--at", "x=abc"], "NAME=VALUE"),
        (["explain", "x^2", "--wrt", "x", "--at", "z=1"], "does not use"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, argv
