"""The built-in pack, second edition: no exercise answered by the text before it, every
claim about a run true to the run, every statement about torch true to torch."""

from __future__ import annotations

import json
import re
import warnings

import pytest
import torch

from gradtutor.core import mathlang
from gradtutor.core.checking import check_derivative, reference_text, value_reference
from gradtutor.core.mathtext import convert_math, plain_math
from gradtutor.core.packs import DerivativeExercise, Exercise, Prose, ValueExercise, load_pack
from gradtutor.core.valuelang import format_number
from gradtutor.core.variants import variant_of

from .conftest import PACKS, ROOT, run_cli

PACK = load_pack(ROOT / "lessons").pack


def text_before_each_exercise():
    """(lesson, exercise, the prose between the previous exercise and it, plus its prompt);
    an exercise with drawn numbers once for each of its first variants, as shown."""
    for lesson in PACK.lessons:
        since: list[str] = []
        for segment in lesson.segments:
            if isinstance(segment, Prose):
                since.append(segment.text)
            elif isinstance(segment, Exercise):
                for k in range(12) if segment.params else (0,):
                    fixed = variant_of(segment, k).exercise
                    yield lesson, fixed, "\n".join([*since, fixed.prompt])
                since = []


def number_forms(v: float) -> list[str]:
    text = format_number(v)
    return [text, text.replace("-", "−")]


def mentions_number(text: str, v: float) -> bool:
    plain = plain_math(text)
    for form in number_forms(v):
        if re.search(rf"(?<![\d.]){re.escape(form)}(?![\d])", plain):
            return True
    return False


@pytest.mark.parametrize(
    "lesson, exercise, before",
    [t for t in text_before_each_exercise() if isinstance(t[1], ValueExercise)],
    ids=lambda v: getattr(v, "address", None) or "",
)
def test_no_value_answer_is_in_the_text_before_it(lesson, exercise, before):
    values = value_reference(exercise).flatten().tolist()
    if len(values) == 1:
        assert not mentions_number(before, values[0]), (exercise.address, values[0])
    else:
        joined = ", ".join(format_number(v) for v in values)
        plain = plain_math(before).replace("−", "-")
        assert joined not in plain, (exercise.address, joined)


def math_chunks(text: str) -> list[str]:
    chunks = re.findall(r"\$\$(.+?)\$\$", text, re.S) + re.findall(r"(?<!\$)\$([^$\n]+?)\$", text)
    out = []
    for chunk in chunks:
        for part in re.split(r"=|\\quad|\\qquad|,", convert_math(chunk)):
            out.append(part.strip())
    return out + re.findall(r"`([^`]+)`", text)


@pytest.mark.parametrize(
    "lesson, exercise, before",
    [t for t in text_before_each_exercise() if isinstance(t[1], DerivativeExercise)],
    ids=lambda v: getattr(v, "address", None) or "",
)
def test_no_derivative_answer_is_in_the_text_before_it(lesson, exercise, before):
    names = mathlang.variables(mathlang.parse(exercise.function))
    for chunk in math_chunks(before):
        try:
            mathlang.parse(chunk, names)
        except mathlang.MathError:
            continue
        verdict = check_derivative(
            exercise.function, exercise.wrt, chunk, domain=exercise.domain, symbolic=False
        )
        assert not verdict.correct, f"{exercise.address} is answered by {chunk!r}"


def test_the_answers_are_stated_after_the_learner_found_them():
    text = (ROOT / "lessons" / "03-autograd-linear.md").read_text()
    stated = text.index("tensor([-32., -40.]) tensor(-8.) tensor(8.)")
    assert stated > text.index('id = "w-grad"') and stated > text.index('id = "y-grad"')


# ----------------------------------------------------------------------------- the runs


def train(lesson: str, pack=ROOT / "lessons") -> list[dict]:
    proc = run_cli("train", "--pack", str(pack), "--lesson", lesson, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["blocks"]


@pytest.fixture(scope="module")
def adaline():
    return train("adaline")


@pytest.fixture(scope="module")
def sgd():
    return train("sgd")


def test_the_three_ways_agree(adaline):
    curves = adaline[0]["curves"]
    assert [c["label"] for c in curves] == ["manual", "autograd.grad", "backward"]
    for c in curves[1:]:
        assert c["losses"] == pytest.approx(curves[0]["losses"], abs=1e-9)
        assert c["test_accuracy"] == curves[0]["test_accuracy"]


def test_never_zeroing_adaline_falls_behind_as_the_lesson_says(adaline):
    zeroed, never = adaline[1]["curves"]
    assert zeroed["zero_grad"] and not never["zero_grad"]
    # "the loss falls every epoch and about 93% of the test flowers are classified right"
    assert all(b < a for a, b in zip(zeroed["losses"], zeroed["losses"][1:], strict=False))
    assert zeroed["test_accuracy"] == pytest.approx(0.933, abs=0.005)
    # "the loss jumps up and down (between about 0.1 and 0.5) ... more than 15 points lower"
    assert min(never["losses"]) < 0.12 and max(never["losses"]) > 0.45
    ups = sum(b > a for a, b in zip(never["losses"], never["losses"][1:], strict=False))
    assert ups >= 5
    assert zeroed["test_accuracy"] - never["test_accuracy"] > 0.15
    assert zeroed["test_accuracy"] - never["test_accuracy"] >= 0.10  # the bar


def test_on_an_easy_pair_the_never_zeroed_run_still_classifies_well():
    """The parenthesis of the ADALINE lesson, on setosa against versicolor."""
    from dataclasses import replace

    from gradtutor.core.packs import TrainingBlock
    from gradtutor.core.training import run_adaline

    block = [s for s in PACK.lesson("adaline").segments if isinstance(s, TrainingBlock)][1]
    easy = replace(
        block, data=PACKS / "valid" / "data" / "iris.csv", classes=("setosa", "versicolor")
    )
    never = run_adaline(easy).curves[-1]
    assert not never.zero_grad and never.test_accuracy >= 0.9


def test_sgd_without_zeroing_never_settles(sgd):
    zeroed, never = sgd[0]["curves"]
    assert zeroed["losses"][-1] < 1 and zeroed["weights"][0] == pytest.approx(-5, abs=0.05)
    losses = never["losses"]
    # "the loss swings between about 13 and 740 for all 20 steps"
    assert 12 < min(losses) < 15 and 735 < max(losses) < 745
    assert max(losses[-5:]) > 300 and losses[-1] > 600


def test_the_summed_gradient_stays_bounded():
    from gradtutor.core.packs import TrainingBlock
    from gradtutor.core.training import run_training

    block = [s for s in PACK.lesson("sgd").segments if isinstance(s, TrainingBlock)][0]
    never = run_training(block).curves[1]
    assert max(never.grad_norms) < 83


def test_a_learning_rate_of_013_diverges(sgd):
    (curve,) = sgd[1]["curves"]
    assert curve["losses"][0] == pytest.approx(599.12, abs=0.01)
    assert 90_000 < curve["losses"][-1] < 100_000  # "to about 95,000 in 20 steps"
    path, _ = _w_path(0.13)
    misses = [abs(w + 5) for w in path]  # "every step overshoots further than the last"
    assert all(b > a for a, b in zip(misses, misses[1:], strict=False))
    assert all((a + 5) * (b + 5) < 0 for a, b in zip(path, path[1:], strict=False))


def _w_path(lr: float, steps: int = 20) -> tuple[list[float], list[float]]:
    """The source's own loop (global seed, float32 data), by hand: w and the losses."""
    torch.manual_seed(0)
    x = torch.arange(-5, 5, 0.1).view(-1, 1)
    y = -5 * x + 0.4 * torch.randn(x.size())
    x, y = x.double(), y.double()
    w = torch.tensor(-10.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-20.0, dtype=torch.float64, requires_grad=True)
    path, losses = [], []
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        losses.append(float(loss.detach()))
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        path.append(float(w.detach()))
    return path, losses


def test_at_01_w_overshoots_then_swings_in_ever_smaller_swings():
    path, _ = _w_path(0.1)
    assert path[0] == pytest.approx(-1.9, abs=0.05)  # "jumps past −5 to about −1.9"
    errors = [p + 5 for p in path][:16]
    assert all(a * b < 0 for a, b in zip(errors, errors[1:], strict=False))  # back and forth
    sizes = [abs(e) for e in errors]
    assert all(b < a for a, b in zip(sizes, sizes[2:], strict=False))  # the swings die out
    assert sizes[-1] < 0.02 * sizes[0]


def test_training_settles_only_below_about_012():
    assert _w_path(0.11)[1][-1] < 1
    assert _w_path(0.12)[1][-1] > 100
    x = torch.arange(-5, 5, 0.1).double()
    hessian = 2 * torch.tensor([[float((x * x).mean()), float(x.mean())], [float(x.mean()), 1.0]])
    limit = 2 / float(torch.linalg.eigvalsh(hessian).max())
    assert limit == pytest.approx(0.12, abs=0.001)


def test_the_first_step_numbers_and_the_step_size():
    _, losses = _w_path(0.1, steps=1)
    assert round(losses[0], 2) == 599.12
    assert round(0.1 * 81.35, 3) == 8.135


# ----------------------------------------------------------------------------- torch


def test_relu_at_its_kink_by_each_spelling():
    for fn, expected in (
        (torch.relu, 0.0),
        (lambda t: t.clamp(min=0), 1.0),
        (lambda t: torch.maximum(t, torch.tensor(0.0)), 0.5),
    ):
        t = torch.tensor(0.0, requires_grad=True)
        fn(t).backward()
        assert float(t.grad) == expected


def test_backward_twice_fails_only_where_the_graph_saved_tensors():
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    for make in (lambda: w.sum(), lambda: (w + 1).sum()):
        w.grad = None
        s = make()
        s.backward()
        s.backward()
        assert w.grad.tolist() == [2.0, 2.0]
    loss = (24.0 - (w @ torch.tensor([4.0, 5.0]) - 3.0)) ** 2
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_accumulate_grad_only_for_leaves_that_require_grad():
    x = torch.tensor([4.0, 5.0])
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([-3.0], requires_grad=True)
    y = torch.tensor([24.0], requires_grad=True)
    z = w @ x + b
    loss = (y - z) @ (y - z)
    leaves = []

    def walk(fn):
        if type(fn).__name__ == "AccumulateGrad":
            leaves.append(fn.variable)
        for child, _ in fn.next_functions:
            if child is not None:
                walk(child)

    walk(loss.grad_fn)
    assert {id(t) for t in leaves} == {id(w), id(b), id(y)}
    loss.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert loss.grad is None  # not a leaf


def test_dl_dz_is_the_upstream_gradient_of_w_and_y_grad_is_not():
    x = torch.tensor([4.0, 5.0])
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    y = torch.tensor(24.0, requires_grad=True)
    z = w @ x - 3.0
    z.retain_grad()
    ((y - z) ** 2).backward()
    assert float(z.grad) == -8 and float(y.grad) == 8
    assert torch.equal(w.grad, z.grad * x)


def test_an_out_of_place_update_makes_w_a_non_leaf():
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    w = w - 0.1 * w.grad
    assert not w.is_leaf
    (w * w).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert w.grad is None
        with pytest.raises(TypeError):
            w = w - 0.1 * w.grad


def test_backward_on_a_non_scalar_needs_a_gradient():
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (v * 2).backward()


def test_nn_linear_stores_the_transpose_and_its_gradient():
    layer = torch.nn.Linear(3, 5, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64)
    l1 = layer(x)
    l1.retain_grad()
    (l1**2).sum().backward()
    assert layer.weight.shape == (5, 3)
    assert torch.allclose(layer.weight.grad, l1.grad.T @ x)


def test_sum_reduction_and_micro_batches():
    import torch.nn.functional as F

    pred = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    F.mse_loss(pred, torch.zeros(3)).backward()
    mean = pred.grad.clone()
    pred.grad = None
    F.mse_loss(pred, torch.zeros(3), reduction="sum").backward()
    assert torch.allclose(pred.grad, 3 * mean) and pred.grad.tolist() == [2, 4, 6]
    assert torch.allclose(mean, torch.tensor([2 / 3, 4 / 3, 2.0]))
    gen = torch.Generator().manual_seed(0)
    data, target = torch.randn(64, 3, generator=gen), torch.randn(64, generator=gen)
    w = torch.zeros(3, requires_grad=True)
    F.mse_loss(data @ w, target).backward()
    whole = w.grad.clone()
    w.grad = None
    for chunk, t in zip(data.split(16), target.split(16), strict=True):
        (F.mse_loss(chunk @ w, t) / 4).backward()
    assert torch.allclose(w.grad, whole, atol=1e-6)


def test_the_linear_layer_by_hand():
    inp = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    g = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    assert (inp.T @ g).tolist() == [[1, -1], [2, 0]]


def test_gradient_check_numbers():
    assert ((1.1) ** 2 - (0.9) ** 2) / 0.2 == pytest.approx(2, abs=1e-12)
    assert ((2.1) ** 3 - (1.9) ** 3) / 0.2 == pytest.approx(12.01, abs=1e-9)
    assert ((2.1) ** 3 - 8) / 0.1 == pytest.approx(12.61, abs=1e-9)
    assert 0.01 / 12.01 == pytest.approx(0.00083, abs=5e-6)

    def central(dtype, h):
        x, h = torch.tensor(2.0, dtype=dtype), torch.tensor(h, dtype=dtype)
        return float(((x + h) ** 3 - (x - h) ** 3) / (2 * h))

    assert f"{central(torch.float64, 1e-6):.10f}".startswith("12.0000000003")
    assert abs(central(torch.float64, 1e-6) - 12) / 12 < 1e-10  # "about 3e-11"
    f32 = central(torch.float32, 1e-6)
    assert round(f32, 3) == 11.444 and 0.04 < abs(f32 - 12) / 12 < 0.05  # "almost 5%"
    assert round(central(torch.float32, 1e-2), 5) == 12.00008


def test_the_sources_convention_is_gradient_descent_after_all():
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    y = torch.tensor([1.0, 0.0])
    w = torch.tensor([0.3, -0.2], requires_grad=True)
    z = x @ w
    ((y - z) ** 2).mean().backward()
    theirs = 2 * x.T @ (y - z.detach()) / 2
    assert torch.allclose(theirs, -w.grad)


def test_the_training_screen_claims_nothing_the_run_contradicts():
    source = (ROOT / "gradtutor" / "screens" / "training.py").read_text()
    assert "training goes wrong" not in source and "steps grow" not in source


def test_no_lesson_says_the_steps_keep_growing():
    for path in (ROOT / "lessons").glob("*.md"):
        text = path.read_text()
        assert "steps keep growing" not in text and "steps grow epoch" not in text, path
        assert "∂ℓ/∂z-like" not in text, path


def test_reference_texts_exist_for_every_value_exercise():
    for lesson in PACK.lessons:
        for ex in lesson.exercises:
            if isinstance(ex, ValueExercise):
                assert reference_text(ex)


def test_the_worked_examples_are_right():
    """The examples the prose works out before an exercise, against sympy and torch."""
    import sympy

    x = sympy.Symbol("x", real=True)
    assert sympy.simplify(sympy.diff((2 * x - 5) ** 3, x) - 6 * (2 * x - 5) ** 2) == 0
    assert sympy.simplify(sympy.diff(sympy.exp(3 * x), x) - 3 * sympy.exp(3 * x)) == 0
    assert sympy.simplify(sympy.diff(sympy.log(5 * x), x) - 1 / x) == 0
    assert sympy.diff(x**3, x) == 3 * x**2 and sympy.diff(x**5, x) == 5 * x**4
    chain = sympy.diff(sympy.exp((3 * x + 1) ** 2), x)
    assert sympy.simplify(chain - sympy.exp((3 * x + 1) ** 2) * 2 * (3 * x + 1) * 3) == 0
    assert ((1 + 0.1) ** 2 - 1) / 0.1 == pytest.approx(2.1)
    step = torch.tensor([1.0, 1.0]) - 0.1 * torch.tensor([5.0, -2.0])
    assert torch.allclose(step, torch.tensor([0.5, 1.2]))
    # the micrograd-style graph of the linear-unit lesson: a = 3, b = -5
    a = torch.tensor(3.0, requires_grad=True)
    b = torch.tensor(-5.0, requires_grad=True)
    c = a * b
    d = c + a
    L = d * d
    for t in (c, d):
        t.retain_grad()
    L.backward()
    assert (float(c.detach()), float(d.detach()), float(L.detach())) == (-15, -12, 144)
    assert (float(d.grad), float(c.grad), float(b.grad), float(a.grad)) == (-24, -24, -72, 96)
    assert float((c.grad * b).detach()) == 120  # a's path through c; through d it is -24


# ----------------------------------------------------------------------------- third edition


def _choice_exercises():
    from gradtutor.core.packs import ChoiceExercise

    return [ex for le in PACK.lessons for ex in le.exercises if isinstance(ex, ChoiceExercise)]


def test_picking_the_longest_option_does_no_better_than_chance():
    """A learner who always picks the option longer than every other by more than 5
    characters (and guesses otherwise) must not beat guessing."""
    choices = _choice_exercises()
    assert len(choices) >= 23
    chance = sum(1 / len(ex.options) for ex in choices)
    wins = 0
    for ex in choices:
        lengths = sorted(((len(plain_math(o.text)), o.correct) for o in ex.options), reverse=True)
        (longest, correct), (second, _) = lengths[0], lengths[1]
        wins += longest - second > 5 and correct
    assert wins <= chance, (wins, chance)


def _shape_of(code: str) -> str | None:
    """The expression with its names abstracted (`l2.T @ out.g` and `inp.T @ out.g` alike)."""
    import ast

    code = re.sub(r"\b(\w+)_g\b", r"\1.g", code.replace("−", "-"))
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return None
    kept = {"T", "g", "sum", "mean", "float", "squeeze", "unsqueeze", "t"}
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = names.setdefault(node.id, f"v{len(names)}")
        elif isinstance(node, ast.Attribute) and node.attr not in kept:
            node.attr = names.setdefault(node.attr, f"v{len(names)}")
    return ast.dump(tree)


def _explained_before():
    """(exercise, the text a learner reads before it: the prose since the exercise before,
    that exercise's solution unless it was a tensor exercise of their own writing, and
    the exercise's prompt)."""
    from gradtutor.core.packs import TensorExercise

    for lesson in PACK.lessons:
        since: list[str] = []
        for segment in lesson.segments:
            if isinstance(segment, Prose):
                since.append(segment.text)
            elif isinstance(segment, Exercise):
                yield segment, "\n".join([*since, segment.prompt])
                since = []
                if segment.solution and not isinstance(segment, TensorExercise):
                    since.append(segment.solution)


def test_no_tensor_answer_is_written_out_before_it_is_asked():
    """`inp.T @ out.g` in a solution before `w2-grad` asks for `l2.T @ out.g` is the same
    answer with other names: the learner predicts first, then reads why."""
    from gradtutor.core.packs import TensorExercise

    checked = 0
    for ex, before in _explained_before():
        if not isinstance(ex, TensorExercise) or not ex.answer:
            continue
        checked += 1
        answer = _shape_of(ex.answer)
        for chunk in re.findall(r"`([^`]+)`", before):
            assert _shape_of(chunk.split("=")[-1]) != answer, (ex.address, chunk)
    assert checked >= 7


def test_no_choice_is_answered_by_the_prose_before_it():
    for ex, before in _explained_before():
        for option in getattr(ex, "options", ()):
            if option.correct:
                assert plain_math(option.text) not in plain_math(before), ex.address


def test_the_readme_and_the_lesson_agree_on_the_practice_streak():
    block = PACK.lesson("chain-rule").exercise("chain-drill")
    words = {3: "three", 5: "five"}[block.streak]
    lesson = (ROOT / "lessons" / "02-chain-rule.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"{words.capitalize()} right in a\nrow at three links" in lesson
    assert f"{words} right in a row at the top depth" in readme


def test_one_backward_writes_a_leaf_once_with_the_sum_of_its_paths():
    a = torch.tensor(3.0, requires_grad=True)
    b = torch.tensor(-5.0, requires_grad=True)
    seen = []
    a.register_hook(lambda g: seen.append(float(g)))
    d = a * b + a
    (d * d).backward()
    assert seen == [96.0] and float(a.grad) == 96.0


def test_zero_grad_sets_none_and_gradcheck_warns_on_float32():
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    optimizer.zero_grad()
    assert w.grad is None
    x = torch.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        torch.autograd.gradcheck(lambda t: (t**3).sum(), (x,), eps=1e-2, atol=1e-2, rtol=1e-2)


def test_torch_maximum_needs_a_tensor_and_gives_half_at_the_kink():
    t = torch.tensor(0.0, requires_grad=True)
    with pytest.raises(TypeError):
        torch.maximum(t, 0)
    torch.maximum(t, torch.zeros_like(t)).backward()
    assert float(t.grad) == 0.5


def test_an_in_place_change_of_a_saved_tensor_and_what_data_hides():
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    a = w.sigmoid()
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        a.sum().backward()
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    a = w.sigmoid()
    a.data.mul_(2)
    a.sum().backward()
    assert [round(v, 3) for v in w.grad.tolist()] == [-0.305, 0.249]
    s = torch.sigmoid(torch.tensor([0.5, -1.0]))
    assert [round(v, 3) for v in (2 * s * (1 - s)).tolist()] == [0.47, 0.393]


def test_eval_is_not_no_grad():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Dropout(0.5))
    x = torch.ones(4, 3)
    model.eval()
    assert model(x).requires_grad and torch.equal(model(x), model(x))
    model.train()
    with torch.no_grad():
        first, second = model(x), model(x)
    assert not first.requires_grad and not torch.equal(first, second)


def test_spot_the_bug_also_makes_w_a_non_leaf():
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    w = w + 0.01 * w.grad
    assert not w.is_leaf


def test_a_running_total_of_losses_keeps_the_graphs():
    w = torch.tensor(1.0, requires_grad=True)
    total = 0
    for _ in range(3):
        loss = (w * 2) ** 2
        total += loss
    assert total.grad_fn is not None and isinstance(loss.item(), float)


def test_zero_initialisation_and_symmetry():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 4, generator=gen, dtype=torch.float64), torch.randn(8, generator=gen)
    for value in (0.0, 0.5):
        w1 = torch.full((4, 5), value, dtype=torch.float64, requires_grad=True)
        w2 = torch.full((5, 1), value, dtype=torch.float64, requires_grad=True)
        b1 = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        b2 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        out = torch.relu(x @ w1 + b1) @ w2 + b2
        ((out.squeeze(-1) - y) ** 2).mean().backward()
        if value == 0.0:
            assert not w1.grad.any() and not w2.grad.any() and b2.grad.abs().item() > 0
        else:  # every hidden unit gets the same gradient: the columns are copies
            assert torch.allclose(w1.grad, w1.grad[:, :1].expand(-1, 5)) and w1.grad.any()


def test_the_stepper_network_has_a_dead_fourth_unit():
    from gradtutor.core.packs import StepperBlock

    (stepper,) = [s for s in PACK.lesson("manual-backprop").segments if isinstance(s, StepperBlock)]
    block = stepper.size
    gen = torch.Generator().manual_seed(block.seed)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    x, _y = randn(block.n, block.d_in), randn(block.n)
    w1, b1 = randn(block.d_in, block.hidden) / block.d_in**0.5, randn(block.hidden) * 0.1
    l1 = x @ w1 + b1
    dead = [j for j in range(block.hidden) if (l1[:, j] <= 0).all()]
    assert dead == [3]


def test_the_sigmoid_is_at_most_a_quarter_steep():
    t = torch.linspace(-10, 10, 20001, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(t).sum().backward()
    assert float(t.grad.max()) == pytest.approx(0.25) and int(t.grad.argmax()) == 10000


def test_softmax_cross_entropy_gradient_is_p_minus_y_and_backward_gradient_is_a_vjp():
    z = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([0])).backward()
    p = torch.softmax(z.detach(), 0)
    assert torch.allclose(z.grad, p - torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    (v * v).backward(torch.tensor([3.0, 1.0]))
    assert v.grad.tolist() == [6.0, 4.0]


def test_at_013_the_loss_dips_for_two_steps_then_grows(sgd):
    (curve,) = sgd[1]["curves"]
    losses = curve["losses"]
    assert [round(v) for v in losses[:3]] == [599, 489, 487]
    assert all(b > a for a, b in zip(losses[2:], losses[3:], strict=False))


def test_the_kink_check_scenario():
    """One l1 entry at 2e-7, h = 1e-6, float64: most weights of that hidden unit fail
    with relative errors of 0.2 to 0.45, the rest agree to 1e-8."""
    from gradtutor.core.network import make_params

    p = make_params(8, 4, 5, seed=3)
    x, y, w1, b1, w2, b2 = p.x, p.y, p.w1, p.b1.clone(), p.w2, p.b2
    k, j = 2, 1
    b1[j] += 2e-7 - (x @ w1 + b1)[k, j]

    def loss(w):
        out = torch.relu(x @ w + b1) @ w2 + b2
        return ((out.squeeze(-1) - y) ** 2).mean()

    grad_w = w1.clone().requires_grad_()
    loss(grad_w).backward()
    h = 1e-6
    rel = torch.zeros_like(w1)
    for i in range(4):
        for c in range(5):
            up, down = w1.clone(), w1.clone()
            up[i, c] += h
            down[i, c] -= h
            estimate = (loss(up) - loss(down)) / (2 * h)
            g = grad_w.grad[i, c]
            rel[i, c] = (g - estimate).abs() / max(g.abs(), estimate.abs())
    failing = rel > 1e-3
    assert failing[:, j].sum() >= 3 and not failing[:, [c for c in range(5) if c != j]].any()
    assert 0.19 < rel[failing].min() and rel[failing].max() < 0.45
    assert rel[~failing].max() < 1e-6


def test_one_sided_is_61_times_further_off():
    assert abs((2.1**3 - 8) / 0.1 - 12) / abs((2.1**3 - 1.9**3) / 0.2 - 12) == pytest.approx(61)
