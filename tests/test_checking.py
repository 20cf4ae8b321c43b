"""Verdicts over the answer corpus, and the references checked against independent truth."""

from __future__ import annotations

import math

import pytest
import sympy
import torch

from gradtutor.core import mathlang
from gradtutor.core.checking import (
    check_derivative,
    check_exercise,
    derivative_reference,
    parse_value_answer,
)
from gradtutor.core.mathlang import MathError
from gradtutor.core.packs import Feedback, load_pack

from .conftest import PACKS
from .corpus import CORPUS


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 100
    kinds = {row[3] for row in CORPUS}
    assert kinds == {"correct", "incorrect", "invalid"}


@pytest.mark.parametrize(
    "function,wrt,answer,expected,phrase", CORPUS, ids=[f"{r[0]}|{r[2]}" for r in CORPUS]
)
def test_corpus_verdict(function, wrt, answer, expected, phrase):
    verdict = check_derivative(function, wrt, answer)
    assert verdict.verdict == expected, verdict.message
    if phrase:
        assert phrase in verdict.message, verdict.message
    if expected == "invalid":
        assert not verdict.spends_attempt
    if expected == "incorrect":
        ce = verdict.counterexample
        assert ce is not None and set(ce) == {"point", "expected", "got"}
        assert ce["expected"] != ce["got"]


def _sympy_derivative(function: str, wrt: str):
    """sympy built directly from the text by our own hand-written translation table."""
    x, y, w, b, a = sympy.symbols("x y w b a", real=True)
    table = {
        "x^2": (x**2, x),
        "(3x+1)^2": ((3 * x + 1) ** 2, x),
        "exp(-x^2)": (sympy.exp(-(x**2)), x),
        "log(1 + x^2)": (sympy.log(1 + x**2), x),
        "sigmoid(w*x + b)": (1 / (1 + sympy.exp(-(w * x + b))), w),
        "sin(x)^2": (sympy.sin(x) ** 2, x),
        "a*x^2": (a * x**2, x),
    }
    expr, var = table[function]
    return sympy.diff(expr, var), {str(s): s for s in (x, y, w, b, a)}


@pytest.mark.parametrize(
    "function,wrt",
    [
        ("x^2", "x"),
        ("(3x+1)^2", "x"),
        ("exp(-x^2)", "x"),
        ("log(1 + x^2)", "x"),
        ("sigmoid(w*x + b)", "w"),
        ("sin(x)^2", "x"),
        ("a*x^2", "x"),
    ],
)
def test_autograd_reference_matches_sympy_built_directly(function, wrt):
    ref = derivative_reference(function, wrt)
    derivative, symbols = _sympy_derivative(function, wrt)
    assert ref.count >= 8
    for i in range(ref.count):
        subs = {symbols[k]: float(v[i]) for k, v in ref.points.items()}
        expected = float(derivative.evalf(subs=subs))
        assert math.isclose(float(ref.reference[i]), expected, rel_tol=1e-9, abs_tol=1e-12)


def test_points_avoid_kinks_and_undefined_regions():
    ref = derivative_reference("relu(x) + sqrt(x + 1)", "x")
    xs = ref.points["x"]
    assert ref.count >= 8
    assert bool((xs.abs() > 1e-3).all()) and bool((xs > -1).all())


def test_undefined_almost_everywhere_is_undecided():
    verdict = check_derivative("sqrt(x - 100)", "x", "1/(2sqrt(x-100))")
    assert verdict.verdict == "undecided" and "domain" in verdict.message


def test_domain_is_used():
    verdict = check_derivative(
        "sqrt(x - 100)", "x", "1/(2sqrt(x-100))", domain=(("x", 101.0, 110.0),)
    )
    assert verdict.verdict == "correct"


def test_authored_feedback_comes_first():
    fb = (Feedback("x", "Bring the exponent down.", 1),)
    verdict = check_derivative("x^2", "x", "x", feedback=fb)
    assert verdict.verdict == "incorrect" and verdict.feedback == "Bring the exponent down."
    # an equivalent form of the match also triggers it
    assert check_derivative("x^2", "x", "2x/2", feedback=fb).feedback == "Bring the exponent down."


def test_simplify_alone_would_miss_relu_against_step():
    x = sympy.Symbol("x", real=True)
    assert sympy.simplify(sympy.Max(0, x) - x * sympy.Heaviside(x)) != 0  # sympy alone cannot tell
    assert check_derivative("x*relu(x)/2", "x", "x*Heaviside(x)").verdict == "correct"


def test_sympy_and_sampling_disagreeing_is_undecided():
    # abs(x)/x is 1 on the sampled domain [1, 2], but sympy knows it is not the constant 1 …
    # … and the reverse: an answer right at every sampled point but symbolically different
    # (a fraction, not a decimal: a decimal answer is judged by the numbers)
    verdict = check_derivative("x^2", "x", "2x + 1/10^12", domain=(("x", 1.0, 2.0),))
    assert verdict.verdict == "undecided"
    assert "sympy" in verdict.message


def test_counterexample_is_consistent():
    verdict = check_derivative("x^3", "x", "3x^2 + 1")
    ce = verdict.counterexample
    x = ce["point"]["x"]
    assert math.isclose(ce["expected"], 3 * x**2, rel_tol=1e-5)
    assert math.isclose(ce["got"], 3 * x**2 + 1, rel_tol=1e-5)


@pytest.mark.parametrize(
    "text,values",
    [
        ("8", [8.0]),
        ("-32, -40", [-32.0, -40.0]),
        ("[-32, -40]", [-32.0, -40.0]),
        ("[ -32 , -40 ]", [-32.0, -40.0]),
        ("[[1, 2], [3, 4]]", [1.0, 2.0, 3.0, 4.0]),
        ("2*(20-24)", [-8.0]),
        ("−8", [-8.0]),
        ("1e-3", [0.001]),
    ],
)
def test_value_answers_parse(text, values):
    assert parse_value_answer(text).flatten().tolist() == values


@pytest.mark.parametrize("text", ["", "[1, 2", "[1,, 2]", "[[1, 2], [3]]", "x", "[]", "1/0"])
def test_bad_value_answers_are_invalid(text):
    with pytest.raises(MathError):
        parse_value_answer(text)


def _valid_pack_exercise(lesson: str, exercise: str):
    pack = load_pack(PACKS / "valid").pack
    return pack.lesson(lesson).exercise(exercise)


def test_value_exercise_from_autograd():
    ex = _valid_pack_exercise("derivatives", "grad-at-5")
    assert check_exercise(ex, "10").correct
    assert check_exercise(ex, "10.0000000001").correct
    wrong = check_exercise(ex, "-10")
    assert wrong.verdict == "incorrect" and "sign" in wrong.message
    assert check_exercise(ex, "[10, 10]").verdict == "incorrect"
    assert check_exercise(ex, "ten").verdict == "invalid"


def test_choice_exercise():
    ex = _valid_pack_exercise("chain-rule", "sign")
    assert check_exercise(ex, "1").correct and check_exercise(ex, "1").feedback == "Yes."
    assert check_exercise(ex, "2").verdict == "incorrect"
    for bad in ("0", "3", "a", ""):
        assert check_exercise(ex, bad).verdict == "invalid"


def test_check_never_raises_on_odd_input():
    ex = _valid_pack_exercise("derivatives", "square")
    for bad in (None, 3, b"x", ["x"]):
        assert check_exercise(ex, bad).verdict == "invalid"  # type: ignore[arg-type]


def test_mathlang_builds_the_same_sympy_as_written_by_hand():
    x = sympy.Symbol("x", real=True)
    node = mathlang.parse("2x^2 - sin(x)/3 + e^x", {"x"})
    built = mathlang.to_sympy(node, {"x": x})
    assert sympy.expand(built - (2 * x**2 - sympy.sin(x) / 3 + sympy.exp(x))) == 0
    values = mathlang.to_torch(node, {"x": torch.tensor([0.5], dtype=torch.float64)})
    assert math.isclose(
        float(values[0]), 2 * 0.25 - math.sin(0.5) / 3 + math.exp(0.5), rel_tol=1e-12
    )


@pytest.mark.parametrize(
    "function,answer",
    [
        ("x*relu(x)", "2relu(x)"),
        ("relu(x)", "relu(x)/x"),
        ("abs(x)", "x/abs(x)"),
        ("min(x, 0)", "1 - Heaviside(x)"),
        ("sin(x)^2", "sin(2x)"),
    ],
)
def test_kinked_and_trigonometric_answers_are_confirmed_symbolically(function, answer):
    verdict = check_derivative(function, "x", answer)
    assert verdict.correct and verdict.details["symbolic"]["status"] == "equal", verdict.details


def test_a_counterexample_at_a_point_that_cannot_be_rounded_does_not_crash():
    # found by the computation graph's random functions: the rounded point gave a
    # reference that is not finite, and the fallback read the wrong tensor
    verdict = check_derivative(
        "sin(exp((x^3)^2)) + 1*x", "x", "6*x^5*cos(exp(x^6))*exp(x^6) + 1", symbolic=False
    )
    assert verdict.verdict in ("incorrect", "undecided")  # floating point cannot tell; no crash


# -- third edition: notation and diagnoses ---------------------------------------------


def _value(compute: str, tolerance: float = 1e-6, given=()):
    from gradtutor.core.packs import ValueExercise

    return ValueExercise(
        id="v", prompt="p", compute=compute, ask="value", given=given, tolerance=tolerance
    )


def test_a_decimal_comma_is_asked_about_and_costs_nothing():
    ex = _value("-0.3209")
    verdict = check_exercise(ex, "-0,3209")
    assert verdict.verdict == "invalid" and "−0.3209" in verdict.message
    assert "point" in verdict.message
    assert check_exercise(ex, "-0.3209").correct
    lst = _value("torch.tensor([0.0, 3209.0])")
    assert check_exercise(lst, "0,3209").verdict != "invalid"  # a list is meant there


def test_twice_and_half_are_diagnosed_within_the_tolerance():
    import math

    truth = 1 / (10 * math.pi)  # 0.031830988...
    ex = _value(repr(truth), tolerance=1e-3)
    assert "twice" in check_exercise(ex, "0.0636").message
    assert "half" in check_exercise(ex, "0.0159").message
    assert check_exercise(ex, "0.0318").correct
    assert "twice" not in check_exercise(ex, "0.07").message


def test_an_answer_or_function_that_begins_with_a_minus_needs_no_double_dash():
    from .conftest import run_cli

    result = run_cli("check", "-2*x*exp(-x^2)", "--of", "exp(-x^2)", "--wrt", "x")
    assert result.returncode == 0 and "Correct" in result.stdout
    result = run_cli("check", "--of", "-x^2", "--wrt", "x", "-2x")
    assert result.returncode == 0 and "Correct" in result.stdout
    assert "usage" in run_cli("check", "-h").stdout
    assert run_cli("explain", "-x^3", "--wrt", "x").returncode == 0


INVERSE_CASES = {
    # function as typed: (the derivative, sympy built directly as the truth)
    "arcsin(x)": lambda s, x: s.diff(s.asin(x), x),
    "asin(x)": lambda s, x: s.diff(s.asin(x), x),
    "sin^(-1)(x)": lambda s, x: s.diff(s.asin(x), x),
    "arccos(2x)": lambda s, x: s.diff(s.acos(2 * x), x),
    "tan^-1 x": lambda s, x: s.diff(s.atan(x), x),
    "arctan(x^2)": lambda s, x: s.diff(s.atan(x**2), x),
    "arcsec(x)": lambda s, x: s.diff(s.asec(x), x),
    "arccsc(x)": lambda s, x: s.diff(s.acsc(x), x),
    "arccot(x)": lambda s, x: s.diff(s.acot(x), x),
    "asinh(x)": lambda s, x: s.diff(s.asinh(x), x),
    "acosh(x)": lambda s, x: s.diff(s.acosh(x), x),
    "atanh(x)": lambda s, x: s.diff(s.atanh(x), x),
    "[x - (x^2 + 1)]^2": lambda s, x: s.diff((x - (x**2 + 1)) ** 2, x),
}


@pytest.mark.parametrize("function", sorted(INVERSE_CASES))
def test_inverse_functions_roots_and_brackets_against_sympy(function):
    import sympy

    from gradtutor.core import mathlang
    from gradtutor.core.compgraph import assemble, build_graph

    x = sympy.Symbol("x", real=True)
    truth = sympy.simplify(INVERSE_CASES[function](sympy, x))
    answer = str(truth).replace("**", "^")
    verdict = check_derivative(function, "x", answer)
    assert verdict.correct, (function, answer, verdict.message)
    # the breakdown's own rules agree with sympy, at points inside the domain
    ours = assemble(build_graph(mathlang.parse(function)), "x")
    text = mathlang.to_text(ours)
    assert check_derivative(function, "x", text).correct, (function, text)
    assert mathlang.parse(mathlang.to_text(mathlang.parse(function))) == mathlang.parse(function)


@pytest.mark.parametrize(
    ("function", "answer", "n"),
    [("cbrt(x)", "1/(3 cbrt(x)^2)", 3), ("nthroot(x, 5)", "1/(5 nthroot(x, 5)^4)", 5)],
)
def test_real_roots_against_sympy(function, answer, n):
    import sympy

    x = sympy.Symbol("x", real=True)
    truth = sympy.diff(sympy.real_root(x, n), x)
    ours = 1 / (n * sympy.real_root(x, n) ** (n - 1))
    for point in (-2.7, -0.4, 0.3, 5.0):  # both sides of 0: the real root, not the complex one
        assert abs(complex(truth.subs(x, point)) - complex(ours.subs(x, point))) < 1e-9
    assert check_derivative(function, "x", answer).correct
    assert not check_derivative(function, "x", answer.replace("1/", "2/")).correct


def test_an_unknown_function_in_an_authored_function_is_an_error_at_its_column():
    from gradtutor.core import mathlang

    from .conftest import run_cli

    with pytest.raises(mathlang.MathError) as caught:
        mathlang.parse("3 + atn(x)")
    assert caught.value.column == 5 and "did you mean `atan(`" in caught.value.message
    # a product stays a product where the name is a variable elsewhere, or a parameter
    assert mathlang.parse("2a(a x + b)") == mathlang.parse("2*a*(a*x + b)")
    assert mathlang.parse("k(x + 1)", known=frozenset({"k"})) == mathlang.parse("k*(x + 1)")
    assert mathlang.parse("atan(x)") == mathlang.Call("atan", (mathlang.Var("x"),))
    result = run_cli("check", "1", "--of", "foo(x)", "--wrt", "x")
    assert result.returncode == 2 and "`foo(` at column 1" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("explain", "asinn(x)", "--wrt", "x")
    assert result.returncode == 2 and "did you mean `asin(`" in result.stderr


def test_letters_typed_together_are_a_product_of_the_exercises_variables():
    from gradtutor.core import mathlang

    names = {"w", "x", "b", "y"}
    assert mathlang.parse("2(wx + b - y)x", names) == mathlang.parse("2*(w*x + b - y)*x", names)
    assert mathlang.parse("sin xy", {"x", "y"}) == mathlang.parse("sin(x*y)", {"x", "y"})
    assert mathlang.parse("xy", {"x", "y", "xy"}) == mathlang.Var("xy")  # a name of its own
    with pytest.raises(mathlang.MathError):
        mathlang.parse("wz", names)
    # the reading agrees with sympy built directly
    import sympy

    w, x = sympy.symbols("w x")
    assert check_derivative("(w x - 3)^2", "w", "2(wx - 3)x").correct
    assert sympy.simplify(sympy.diff((w * x - 3) ** 2, w) - 2 * (w * x - 3) * x) == 0


def _printed_forms(node):
    from gradtutor.core import mathlang

    return (mathlang.pretty_text(node), mathlang.to_text(node))


def test_everything_printed_as_math_reads_back_the_same():
    """Previews, solutions and the breakdown print trees (pretty and plain): over the
    corpus, its functions, their derivatives as the breakdown assembles them, and the
    built-in practice block's generated functions, each reads back as the same tree."""
    from gradtutor.core import mathlang
    from gradtutor.core.compgraph import assemble, build_graph
    from gradtutor.core.packs import PracticeExercise, load_pack
    from gradtutor.core.paths import builtin_pack_dir
    from gradtutor.core.variants import variant_of

    from .corpus import CORPUS

    trees = []
    for function, wrt, answer, *_ in CORPUS:
        try:
            names = mathlang.variables(mathlang.parse(function))
            trees.append((mathlang.parse(function), names))
            trees.append((mathlang.parse(answer, names, equation=True), names))
            trees.append((assemble(build_graph(mathlang.parse(function)), wrt), names))
        except mathlang.MathError:
            continue
    pack = load_pack(builtin_pack_dir()).pack
    blocks = [e for le in pack.lessons for e in le.exercises if isinstance(e, PracticeExercise)]
    for block in blocks:
        for k in range(60):
            fixed = variant_of(block, k).exercise
            node = mathlang.parse(fixed.function)
            trees.append((node, mathlang.variables(node)))
    assert len(trees) > 300
    for node, names in trees:
        for shown in _printed_forms(node):
            assert mathlang.parse(shown, names) == node, shown


def test_greek_letters_are_variables_and_sigma_and_pi_keep_their_meanings():
    import sympy

    from gradtutor.core import mathlang
    from gradtutor.core.kinds import KINDS
    from gradtutor.core.packs import DerivativeExercise

    theta, lam = sympy.symbols("θ λ")
    truth = sympy.diff(sympy.sin(theta**2) * sympy.exp(lam * theta), theta)
    answer = str(truth).replace("**", "^")
    assert check_derivative("sin(θ^2) exp(λ θ)", "θ", answer).correct
    assert check_derivative("α x^2", "x", "2α x").correct
    assert mathlang.parse("σ(x)") == mathlang.parse("sigmoid(x)")
    assert mathlang.parse("π x", {"x"}) == mathlang.parse("pi*x", {"x"})
    with pytest.raises(mathlang.MathError):
        mathlang.parse("ο + 1")  # a Greek omicron looks like o: refused, not a variable
    ex = DerivativeExercise(id="a", prompt="p", function="sigmoid(x)", wrt="x")
    note = KINDS["derivative"].preview(ex, "σ(x)(1 - σ(x))").note
    assert "σ is the sigmoid" in note
    assert "a^(b^c)" in KINDS["derivative"].preview(ex, "2^x^2").note


def _built(name):
    import sympy

    x = sympy.Symbol("x", real=True)
    return {
        "abs": (sympy.diff(sympy.Abs(x + 10) - 10, x), sympy.sign(x + 11)),
        "huge": (sympy.diff(x**2 / 2 + sympy.Float(1e9) * x, x), 2 * x + sympy.Float(1e9)),
    }[name], x


@pytest.mark.parametrize(
    ("function", "answer", "name"),
    [
        ("abs(x + 10) - 10", "sign(x + 11)", "abs"),  # differs only for -11 < x < -10
        ("x^2/2 + 1E9 x", "2x + 1E9", "huge"),  # a huge constant hid the x
    ],
)
def test_agreeing_at_the_samples_is_not_enough_where_sympy_finds_a_difference(
    function, answer, name
):
    verdict = check_derivative(function, "x", answer)
    assert verdict.verdict == "incorrect" and verdict.counterexample is not None
    (truth, mine), x = _built(name)  # sympy built directly, as the truth
    at = verdict.counterexample["point"]["x"]
    assert abs(float(truth.subs(x, at)) - float(mine.subs(x, at))) > 1e-6  # they truly differ
    right = "sign(x + 10)" if name == "abs" else "x + 1E9"
    assert check_derivative(function, "x", right).correct
