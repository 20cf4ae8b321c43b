"""Hostile input is refused quickly, runs no code and writes no file; the parser is fuzzed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradtutor.core import mathlang, tensorlang
from gradtutor.core.checking import NETWORK_NAMES, check_derivative, parse_value_answer
from gradtutor.core.mathlang import BinOp, Call, Const, MathError, Neg, Num, Var

from .conftest import work_of

HOSTILE = [
    "__import__('os').system('touch pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "(lambda: __import__('os'))()",
    "[c for c in ().__class__.__mro__]",
    'exec(\'open("pwned", "w")\')',
    "eval('1')",
    "open('pwned', 'w')",
    "9^9^9^9",
    "((9^20)^20)^20",
    "9**9**9**9",
    "10^1000000",
    "1" * 5000,
    "9" * 40,
    "(" * 10000 + "x" + ")" * 10000,
    "-" * 400 + "x",
    "x\x00",
    "x\x1b[31m",
    "\u202ex",
    "х",  # Cyrillic
    "ｘ^２＋[]",
    "[@click=app.quit]",
    "[b]x[/b]",
    "x; import os",
    "x if x else x",
    "{x: x}",
    "x[0",  # square brackets group (third edition): `x[0]` is x·0, an unclosed one is refused
    "f'{x}'",
    "x @ x",
    "x.T",
    "__builtins__",
    "globals()",
    "\\frac{1}{x}",
    "x" * 600,
]


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Work is counted in function calls, not timed: a busy machine must not fail a test. A
# refusal costs a few thousand calls; a blow-up (9^9^9^9 evaluated, a deep recursion)
# would cost millions.
WORK_BUDGET = 50_000


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_math_language_refuses_hostile_input_fast(text, empty_cwd):
    with pytest.raises(MathError) as info:
        mathlang.parse(text, {"x"})
    assert work_of(lambda: mathlang.parse(text, {"x"})) < WORK_BUDGET
    assert str(info.value)  # a message for the learner
    assert list(empty_cwd.iterdir()) == []


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_derivative_check_of_hostile_input_is_invalid(text, empty_cwd):
    check_derivative("x^2", "x", "2x")  # warm: the reference is cached per exercise
    verdict = check_derivative("x^2", "x", text)
    assert work_of(lambda: check_derivative("x^2", "x", text)) < WORK_BUDGET
    assert verdict.verdict == "invalid" and verdict.message.startswith("Not understood")
    assert list(empty_cwd.iterdir()) == []


# `x @ x` and `x.T` are tensor language; `9**9**9**9` is float arithmetic there (inf, at once).
TENSOR_HOSTILE = [t for t in HOSTILE if t not in ("x @ x", "x.T", "9**9**9**9")] + [
    "x.__class__.__mro__",
    "w1.data.zero_()",
    "w1.add_(1)",
    "w1.numpy()",
    "torch.zeros(10)",
    "out - y.unsqueeze(0).expand(100000, 100000)",
    "x.reshape(100000, 100000)",
]


@pytest.mark.parametrize("text", TENSOR_HOSTILE, ids=range(len(TENSOR_HOSTILE)))
def test_tensor_language_refuses_hostile_input_fast(text, empty_cwd):
    import torch

    env = {n: torch.ones(4, 3, dtype=torch.float64) for n in NETWORK_NAMES}

    def attempt() -> None:
        expr = tensorlang.parse(text, frozenset(NETWORK_NAMES))
        tensorlang.evaluate(expr, env)

    with pytest.raises(tensorlang.TensorLangError):
        attempt()
    assert work_of(attempt) < WORK_BUDGET
    assert list(empty_cwd.iterdir()) == []


def test_no_code_ran(empty_cwd):
    """Canaries: executed, these strings would write a file or set a global."""
    import torch

    canaries = HOSTILE + ["globals().update(PWNED=1)", "setattr(__builtins__, 'PWNED', 1)"]
    env = {n: torch.ones(4, 3, dtype=torch.float64) for n in NETWORK_NAMES}
    for text in canaries:
        check_derivative("x^2", "x", text)
        try:
            tensorlang.evaluate(tensorlang.parse(text, frozenset(NETWORK_NAMES)), env)
        except tensorlang.TensorLangError:
            pass
        try:
            parse_value_answer(text)
        except MathError:
            pass
    assert list(empty_cwd.iterdir()) == []
    assert "PWNED" not in globals() and not hasattr(__builtins__, "PWNED")


def test_lesson_tensors_are_not_modified():
    import torch

    from gradtutor.core.checking import check_tensor, network_environment
    from gradtutor.core.packs import Shapes, TensorExercise

    ex = TensorExercise(id="t", prompt="p", target="b2.grad", shapes=Shapes(4, 3, 5))
    env, grads = network_environment(4, 3, 5, 0)
    before = {k: v.clone() for k, v in env.items()}
    for answer in ("-w2", "w1 * 0", "w1.clamp(min=0)", "out_g.sum(0)", "w1.reshape(-1)", "x.T"):
        check_tensor(ex, answer)
    for k, v in env.items():
        assert torch.equal(v, before[k])


# ----------------------------------------------------------------------------- fuzzing


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_random_text_never_crashes_the_parser(text):
    try:
        mathlang.parse(text, {"x", "y", "w1"})
    except MathError as exc:
        assert exc.message
    assert work_of(lambda: mathlang.parse(text, {"x", "y", "w1"})) < WORK_BUDGET


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="x()+-*/^.,0123456789 eσ²·sinexplogrelu", max_size=40))
def test_random_math_like_text_never_crashes(text):
    try:
        mathlang.parse(text, {"x"})
    except MathError:
        pass
    try:
        parse_value_answer(text)
    except MathError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="xyw1.T@+-*/()[]0123456789 <>sumeanfloat", max_size=40))
def test_random_tensor_text_never_crashes(text):
    try:
        tensorlang.parse(text, frozenset({"x", "w1", "y"}))
    except tensorlang.TensorLangError:
        pass


def _numbers():
    return st.one_of(
        st.integers(0, 1000).map(lambda n: Num(__import__("fractions").Fraction(n), str(n))),
        st.sampled_from(["0.5", "2.25", "1e-3", "3.0"]).map(
            lambda t: Num(__import__("fractions").Fraction(t), t)
        ),
    )


_leaves = st.one_of(_numbers(), st.sampled_from([Var("x"), Var("y"), Const("pi"), Const("e")]))


def _extend(children):
    return st.one_of(
        st.builds(BinOp, st.sampled_from(["+", "-", "*", "/"]), children, children),
        st.builds(
            BinOp,
            st.just("^"),
            children,
            _leaves.filter(lambda n: not isinstance(n, Num) or n.value < 20),
        ),
        st.builds(Neg, children),
        st.builds(
            lambda f, a: Call(f, (a,)),
            st.sampled_from(["exp", "log", "sin", "sigmoid", "relu", "Heaviside"]),
            children,
        ),
        st.builds(
            lambda f, a, b: Call(f, (a, b)), st.sampled_from(["max", "min"]), children, children
        ),
    )


trees = st.recursive(_leaves, _extend, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(trees)
def test_print_then_parse_gives_the_same_tree(tree):
    text = mathlang.to_text(tree)
    try:
        again = mathlang.parse(text, {"x", "y"})
    except MathError as exc:
        # only the size limits may refuse a generated tree
        assert "too" in exc.message, (text, exc.message)
        return
    assert again == tree, text
    assert mathlang.to_text(again) == text
