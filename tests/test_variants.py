"""One exercise, many variants (issue 5/7): drawing, rendering, checking, validating,
the commands, progress version 3, practice blocks, and the tutor's F4."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest
import torch

from gradtutor.core import paramlang, tensorlang
from gradtutor.core.checking import check_exercise, reference_text
from gradtutor.core.packs import ChoiceExercise, PracticeExercise, load_pack
from gradtutor.core.progress import ProgressStore, migrate, practice_step
from gradtutor.core.validate import validate_packs
from gradtutor.core.variants import learner_variant, variant_of, variant_rng, variant_seed

from .conftest import PACKS, ROOT, run_cli

BUILTIN = load_pack(ROOT / "lessons").pack
DEMO = PACKS / "params"

# The "Parameters" section of LESSON_FORMAT.md, its example [params] table as written,
# in an exercise of each kind: a pack an instructor writes from the format alone.
SPEC_PARAMS = """
[params]
a = { int = [2, 9] }
b = { int = [-5, 5], not = [0, 1] }
lr = { choose = [0.01, 0.05, 0.1] }
c = { real = [-2, 2], digits = 1 }
w = { int = [-3, 3], shape = [2] }
"""
SPEC_LESSON = f"""+++
id = "spec"
title = "From the format"
+++

```exercise
id = "poly"
kind = "derivative"
prompt = 'Differentiate $f(x) = {{{{a}}}} x^2 + {{{{b}}}} x + {{{{c}}}}$.'
function = "a*x^2 + b*x + c"
wrt = "x"
answer = "2*a*x + b"
where = ["a != b"]
{SPEC_PARAMS}
[[feedback]]
match = "a*x + b"
message = "The 2 of x² comes down: {{{{2 * a}}}}x."
```

```exercise
id = "step"
kind = "value"
prompt = "w = {{{{w}}}}, lr = {{{{lr}}}}: what is `w.grad` of L = a (w·w) + b?"
compute = "a * (w * w).sum() + b"
ask = "w.grad"
requires_grad = ["w"]
{SPEC_PARAMS}
[[feedback]]
match = "a * w"
message = "The square contributes a factor 2."
```

```exercise
id = "pick"
kind = "choice"
prompt = "With learning rate {{{{lr}}}}, which way does w = {{{{a}}}} move when its gradient is {{{{b}}}}?"
{SPEC_PARAMS}
[[option]]
text = "By {{{{-lr * b}}}}"
correct = true

[[option]]
text = "By {{{{lr * b}}}}"
why = "That is uphill."
```

```exercise
id = "b2"
kind = "tensor"
prompt = "Write `b2.grad` ({{{{a}}}} is just decoration)."
target = "b2.grad"
answer = "out.g.sum(0)"
{SPEC_PARAMS}
```
"""


@pytest.fixture(scope="module")
def spec_pack(tmp_path_factory):
    root = tmp_path_factory.mktemp("spec")
    (root / "pack.toml").write_text('format = 2\nid = "spec"\ntitle = "Spec"\nversion = "1"\n')
    (root / "01.md").write_text(SPEC_LESSON)
    return root


def _show(pack, exercise, k):
    proc = run_cli(
        "show", "--pack", str(pack), "--exercise", exercise, "--variant", str(k), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# -- the variant function --------------------------------------------------------------


def test_variants_are_pure_functions_of_address_and_k():
    ex = BUILTIN.lesson("chain-rule").exercise("square-of-line")
    assert variant_of(ex, 5).params == variant_of(ex, 5).params
    variant_of.cache_clear()
    again = variant_of(ex, 5)
    rng = variant_rng(ex.address, 5)  # by the format's recipe, drawn by hand
    seed = int.from_bytes(
        __import__("hashlib").sha256(f"{ex.address}/5".encode()).digest()[:8], "big"
    )
    assert variant_seed(ex.address, 5) == seed
    assert again.params == {"a": rng.randint(2, 5), "b": rng.randint(1, 4)}


def test_variants_spread_evenly():
    """Chi-square over 3,000 variants of an int draw of eight values: uniform."""
    counts = Counter(variant_rng("p/l/e", k).randint(2, 9) for k in range(3000))
    expected = 3000 / 8
    chi2 = sum((counts[v] - expected) ** 2 / expected for v in range(2, 10))
    assert chi2 < 24.3  # the 0.999 quantile of chi-square with 7 degrees of freedom
    learners = Counter(learner_variant(f"{i:016x}", "p/l/e") % 8 for i in range(3000))
    chi2 = sum((learners[v] - expected) ** 2 / expected for v in range(8))
    assert chi2 < 24.3


def test_learners_see_different_variants_and_a_round_changes_it():
    seen = {learner_variant(f"{i:016x}", "p/l/e") for i in range(200)}
    assert len(seen) == 200
    assert learner_variant("aa", "p/l/e", 0) != learner_variant("aa", "p/l/e", 1)


def test_draws_stay_in_their_ranges_and_respect_not_and_where(spec_pack):
    pack = load_pack(spec_pack).pack
    ex = pack.lessons[0].exercise("poly")
    for k in range(300):
        p = variant_of(ex, k).params
        assert 2 <= p["a"] <= 9 and isinstance(p["a"], int)
        assert -5 <= p["b"] <= 5 and p["b"] not in (0, 1) and p["a"] != p["b"]
        assert p["lr"] in (0.01, 0.05, 0.1)
        assert -2 <= p["c"] <= 2 and round(p["c"], 1) == p["c"]
        assert len(p["w"]) == 2 and all(-3 <= v <= 3 for v in p["w"])


# -- the hidden-pack judgement: a pack written from the format alone ----------------------


def test_a_pack_written_from_the_format_validates_clean(spec_pack):
    report = validate_packs([spec_pack], deep=True)
    assert report.ok, [p.format() for p in report.problems]
    assert not report.problems.warnings, [p.format() for p in report.problems]


@pytest.mark.parametrize("exercise", ["spec/poly", "spec/step", "spec/pick", "spec/b2"])
def test_show_gives_the_numbers_of_each_variant(spec_pack, exercise):
    shown = [_show(spec_pack, exercise, k) for k in (0, 1, 2, 3)]
    assert shown[1] == _show(spec_pack, exercise, 1)  # the same numbers twice for the same K
    assert len({json.dumps(s["params"], sort_keys=True) for s in shown}) > 1  # and others across K
    for s in shown:
        assert s["params"]["a"] in range(2, 10) and s["params"]["lr"] in (0.01, 0.05, 0.1)
        drawn = [paramlang.format_value(v) for v in s["params"].values()]
        assert "{{" not in s["prompt"] and any(d in s["prompt"] for d in drawn)


def test_right_and_wrong_answers_for_the_drawn_numbers(spec_pack):
    for k in range(6):
        a, b = (_show(spec_pack, "spec/poly", k)["params"][n] for n in "ab")
        right = run_cli(
            "check",
            "--pack",
            str(spec_pack),
            "--exercise",
            "spec/poly",
            "--variant",
            str(k),
            "--json",
            f"{2 * a}*x + ({b})",
        )
        assert json.loads(right.stdout)["verdict"] == "correct"
        wrong = run_cli(
            "check",
            "--pack",
            str(spec_pack),
            "--exercise",
            "spec/poly",
            "--variant",
            str(k),
            "--json",
            f"{a}*x + ({b})",
        )
        verdict = json.loads(wrong.stdout)
        assert (
            verdict["verdict"] == "incorrect"
            and verdict["feedback"] == f"The 2 of x² comes down: {2 * a}x."
        )


def test_value_answers_against_torch_for_the_drawn_numbers(spec_pack):
    ex = load_pack(spec_pack).pack.lessons[0].exercise("step")
    for k in range(10):
        p = variant_of(ex, k).params
        w = torch.tensor(p["w"], dtype=torch.float64, requires_grad=True)
        (p["a"] * (w * w).sum() + p["b"]).backward()
        truth = w.grad.tolist()
        assert check_exercise(ex, json.dumps(truth), variant=k).correct
        slip = check_exercise(ex, json.dumps([p["a"] * v for v in p["w"]]), variant=k)
        if any(p["w"]):
            assert not slip.correct and slip.feedback == "The square contributes a factor 2."


def test_batch_lines_carry_the_variant(spec_pack):
    lines = []
    for k in range(4):
        a, b = (_show(spec_pack, "spec/poly", k)["params"][n] for n in "ab")
        lines.append(
            json.dumps({"exercise": "spec/poly", "variant": k, "answer": f"{2 * a}x + ({b})"})
        )
    proc = run_cli("check", "--pack", str(spec_pack), "--batch", "-", input="\n".join(lines) + "\n")
    verdicts = [json.loads(line)["verdict"] for line in proc.stdout.splitlines()]
    assert verdicts == ["correct"] * 4


def test_the_correct_option_moves_across_variants_of_every_builtin_choice():
    for lesson in BUILTIN.lessons:
        for ex in lesson.exercises:
            if isinstance(ex, ChoiceExercise):
                places = set()
                for k in range(30):
                    variant = variant_of(ex, k)
                    places |= {
                        shown for shown, i in enumerate(variant.order) if ex.options[i].correct
                    }
                assert len(places) > 1, ex.address


# -- errors at FILE:LINE:COL -------------------------------------------------------------

BROKEN = {
    "malformed draw": (
        "x = { int = [1.5, 3] }",
        "parameter `x`: `int` bounds must be whole numbers",
        14,
    ),
    "empty range": ("x = { int = [5, 3] }", "the range [5, 3] is empty", 14),
    "unknown key": ("x = { int = [1, 3], step = 2 }", "unknown key `step`", 14),
    "shape too large": ("x = { int = [1, 3], shape = [5, 5] }", "at most 16", 14),
    "shadows a function": ("exp = { int = [1, 3] }", "shadows a function of the math language", 14),
    "shadows the variable": ("t = { int = [1, 3] }", "shadows `t`, the variable", 14),
    "not excludes all": ("x = { int = [1, 2], not = [1, 2] }", "excludes every value", 14),
}


def _lesson_with(params: str, prompt: str = "Differentiate.", where: str = "") -> str:
    return (
        '+++\nid = "l"\ntitle = "L"\n+++\n\n```exercise\nid = "e"\nkind = "derivative"\n'
        f'prompt = \'{prompt}\'\nfunction = "x*t"\nwrt = "t"\n{where}\n[params]\n{params}\n```\n'
    )


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_parameters_are_reported_at_their_line(make_pack, case):
    params, message, line = BROKEN[case]
    pack = make_pack(
        {
            "pack.toml": 'format = 2\nid = "p"\ntitle = "P"\nversion = "1"\n',
            "01.md": _lesson_with(params),
        }
    )
    result = load_pack(pack)
    errors = [p.format() for p in result.problems.errors]
    assert any(message in e and f"01.md:{line}:1: error:" in e for e in errors), errors


def test_an_unknown_name_in_braces_is_located(make_pack):
    pack = make_pack(
        {
            "pack.toml": 'format = 2\nid = "p"\ntitle = "P"\nversion = "1"\n',
            "01.md": _lesson_with("x = { int = [1, 3] }", prompt="Use {{ y + 1 }} here."),
        }
    )
    (error,) = load_pack(pack).problems.errors
    assert "01.md:9:15: error:" in error.format() and "`y` is not a name here" in error.format()


def test_a_where_that_never_holds_is_an_error(make_pack):
    pack = make_pack(
        {
            "pack.toml": 'format = 2\nid = "p"\ntitle = "P"\nversion = "1"\n',
            "01.md": _lesson_with("x = { int = [1, 3] }", where='where = ["x > 3"]'),
        }
    )
    (error,) = load_pack(pack).problems.errors
    assert "01.md:12:1: error: `where` (almost) never holds" in error.format()


def test_parameters_need_format_2(make_pack):
    pack = make_pack(
        {
            "pack.toml": 'id = "p"\ntitle = "P"\nversion = "1"\n',
            "01.md": _lesson_with("x = { int = [1, 3] }"),
        }
    )
    (error,) = load_pack(pack).problems.errors
    assert "01.md:13: error: [params] need `format = 2`" in error.format()


def test_validate_names_the_variant_whose_numbers_break_the_answer(make_pack):
    lesson = (
        '+++\nid = "l"\ntitle = "L"\n+++\n\n```exercise\nid = "e"\nkind = "derivative"\n'
        'prompt = "p"\nfunction = "a*x^2"\nwrt = "x"\nanswer = "2*x"\n\n[params]\na = { int = [1, 3] }\n```\n'
    )
    pack = make_pack(
        {"pack.toml": 'format = 2\nid = "p"\ntitle = "P"\nversion = "1"\n', "01.md": lesson}
    )
    report = validate_packs([pack], deep=True)
    messages = [p.format() for p in report.problems.errors]
    assert any(
        "variant " in m and "(a = " in m and "`answer` disagrees with autograd" in m
        for m in messages
    ), messages


def test_a_feedback_match_right_for_some_variant_is_a_warning_and_right_wins(make_pack):
    lesson = (
        '+++\nid = "l"\ntitle = "L"\n+++\n\n```exercise\nid = "e"\nkind = "derivative"\n'
        'prompt = "p"\nfunction = "a*x^2"\nwrt = "x"\nanswer = "2*a*x"\n\n[params]\na = { int = [1, 3] }\n\n'
        '[[feedback]]\nmatch = "2*x"\nmessage = "forgot a"\n```\n'
    )
    pack = make_pack(
        {"pack.toml": 'format = 2\nid = "p"\ntitle = "P"\nversion = "1"\n', "01.md": lesson}
    )
    report = validate_packs([pack], deep=True)
    assert report.ok
    assert any(
        "is the right answer for these numbers" in p.message for p in report.problems.warnings
    )
    ex = load_pack(pack).pack.lessons[0].exercise("e")
    k = next(k for k in range(50) if variant_of(ex, k).params["a"] == 1)
    assert check_exercise(ex, "2*x", variant=k).verdict == "correct"


# -- the languages of parameters --------------------------------------------------------


def test_braces_are_computed_as_torch_computes_them():
    """paramlang (plain Python) against tensorlang evaluated by torch, on random values."""
    rng = random.Random(7)
    texts = [
        "2 * a - b",
        "a / b",
        "(w * v).sum()",
        "w @ v",
        "m @ w",
        "m.T @ v",
        "a ** 2 + b",
        "exp(b / 5)",
        "mse(w, v)",
        "(w - a).mean()",
        "sigmoid(a) * tanh(b)",
        "m.t().sum()",
    ]
    for _ in range(30):
        env = {
            "a": rng.randint(-5, 5),
            "b": rng.choice([-3, -1, 2, 7]),
            "w": [rng.randint(-3, 3) for _ in range(2)],
            "v": [rng.randint(-3, 3) for _ in range(2)],
            "m": [[rng.randint(-3, 3) for _ in range(2)] for _ in range(2)],
        }
        tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in env.items()}
        for text in texts:
            ours = paramlang.evaluate(text, env)
            theirs = tensorlang.evaluate(tensorlang.parse(text, frozenset(env)), tensors)
            assert torch.allclose(torch.tensor(ours, dtype=torch.float64), theirs), text


def test_numbers_print_in_their_shortest_form():
    f = paramlang.format_value
    assert [f(3), f(6 / 2), f(0.1 + 0.2), f(-2.5), f([1, -2.0]), f(1 / 3)] == [
        "3",
        "3",
        "0.3",
        "-2.5",
        "[1, -2]",
        "0.3333333333",
    ]
    assert paramlang.render("e^{ {{a}} x^2 }, {{ 2*a }}", {"a": 3}) == "e^{ 3 x^2 }, 6"


def test_decimals_are_substituted_exactly():
    import sympy

    from gradtutor.core import mathlang
    from gradtutor.core.variants import substitute

    x = sympy.Symbol("x")
    for text, values, truth in (
        ("c*x^2", {"c": 0.3}, sympy.Rational(3, 10) * x**2),
        ("c*x + a", {"c": 0.1, "a": -3}, x / 10 - 3),
        ("x^a", {"a": -2}, x**-2),
    ):
        built = mathlang.to_sympy(mathlang.parse(substitute(text, values)))
        (symbol,) = built.free_symbols  # the backend's own x (with its assumptions)
        assert sympy.simplify(built - truth.subs(x, symbol)) == 0, text


# -- progress, version 3 -----------------------------------------------------------------


def test_version_2_migrates_to_3_and_4_keeping_every_field():
    old = {
        "version": 2,
        "learner": "ab",
        "mine": 1,
        "last": None,
        "revision": 4,
        "packs": {
            "p": {
                "opened_from": "/x",
                "lessons": {
                    "l": {
                        "completed": False,
                        "note": "k",
                        "exercises": {
                            "e": {
                                "solved": False,
                                "attempts": 2,
                                "hints": 1,
                                "revealed": True,
                                "extra": [1],
                            },
                        },
                    }
                },
            }
        },
    }
    data = json.loads(json.dumps(old))
    assert migrate(data)
    record = data["packs"]["p"]["lessons"]["l"]["exercises"]["e"]
    for key, value in old["packs"]["p"]["lessons"]["l"]["exercises"]["e"].items():
        assert record[key] == value
    assert record["round"] == 0 and record["variants_solved"] == 0
    assert record["current"] == {"solved": False, "attempts": 2, "hints": 1, "revealed": True}
    assert (
        data["mine"] == 1 and data["learner"] == "ab" and data["packs"]["p"]["opened_from"] == "/x"
    )
    assert data["packs"]["p"]["lessons"]["l"]["note"] == "k" and data["version"] == 4
    assert record["mistakes"] == []  # and on to version 4


def test_a_fresh_variant_only_after_solving_or_revealing(tmp_path):
    store = ProgressStore(tmp_path)
    _, began = store.fresh_variant("p", "l", "e")
    assert not began
    store.record_answer("p", "l", "e", True)
    progress, began = store.fresh_variant("p", "l", "e")
    record = progress.exercise("p", "l", "e")
    assert began and record.round == 1 and record.solved and not record.current.solved
    assert record.variants_solved == 1
    for _ in range(3):  # three wrong in the new round reveal it, and it stays solved
        progress, revealed = store.record_answer("p", "l", "e", False)
    record = progress.exercise("p", "l", "e")
    assert revealed and record.current.revealed and record.solved and record.attempts == 4


# -- practice blocks ---------------------------------------------------------------------


def test_depth_follows_right_and_wrong_answers():
    record: dict = {}
    steps = [True, True, True, False, True, True, True, True, True]
    depths = []
    for correct in steps:
        practice_step(record, correct, (1, 3), 3)
        depths.append(record["depth"])
    # two right raise it (1 -> 2 -> 3), a wrong lowers it, the streak counts at the top
    assert depths == [1, 2, 2, 1, 1, 2, 2, 3, 3]
    assert record["streak"] == 1 and not record.get("solved")
    for _ in range(2):
        practice_step(record, True, (1, 3), 3)
    assert record["streak"] == 3 and record["solved"] is True


def test_generated_exercises_are_checked_against_autograd():
    block = BUILTIN.lesson("chain-rule").exercise("chain-drill")
    assert isinstance(block, PracticeExercise)
    for k in range(40):
        fixed = variant_of(block, k).exercise
        assert block.depth_of(k) == 1 + k % 3
        assert check_exercise(block, fixed.answer, variant=k, symbolic=False).correct, (
            fixed.function
        )
        # the derivative is nonzero and defined at most points of the domain, by torch
        lo, hi = fixed.domain[0][1:]
        from gradtutor.core import mathlang

        x = torch.linspace(lo, hi, 101, dtype=torch.float64, requires_grad=True)
        f = mathlang.to_torch(mathlang.parse(fixed.function), {"x": x})
        (g,) = torch.autograd.grad(f.sum(), x)
        assert torch.isfinite(g).all() and (g.abs() > 1e-4).double().mean() > 0.75, fixed.function
        hints = " ".join(fixed.hints)
        assert "outer function" in hints and "inside it" in hints
        assert fixed.answer not in fixed.prompt


def test_a_practice_block_is_addressed_like_an_exercise():
    shown = _show(ROOT / "lessons", "chain-rule/chain-drill", 4)
    assert shown["params"] == {"depth": 2} and shown["prompt"].startswith("Differentiate f(x) =")
    answer = variant_of(BUILTIN.lesson("chain-rule").exercise("chain-drill"), 4).exercise.answer
    proc = run_cli(
        "check",
        "--pack",
        "lessons",
        "--exercise",
        "chain-rule/chain-drill",
        "--variant",
        "4",
        "--json",
        answer,
    )
    assert json.loads(proc.stdout)["verdict"] == "correct"


def test_the_store_moves_a_practice_block_on(tmp_path):
    block = BUILTIN.lesson("chain-rule").exercise("chain-drill")
    store = ProgressStore(tmp_path)
    for correct in (True, True):
        progress = store.record_practice("p", "l", block, correct)
    record = progress.exercise("p", "l", block.id)
    assert record.depth == 2 and record.round == 2 and record.attempts == 2 and not record.solved
    progress = store.record_practice("p", "l", block, False)
    assert progress.exercise("p", "l", block.id).depth == 1


def test_reference_text_has_the_drawn_numbers():
    ex = BUILTIN.lesson("chain-rule").exercise("bell")
    for k in range(5):
        a = variant_of(ex, k).params["a"]
        assert reference_text(ex, k) == f"-2*{a}*x*exp(-{a}*x^2)"
    assert math.isfinite(
        float(reference_text(BUILTIN.lesson("derivatives").exercise("finite-difference"), 3))
    )


# -- the tutor: F4 and practice blocks, through Pilot --------------------------------------


async def test_f4_gives_fresh_numbers_once_solved(isolated_home):
    from gradtutor.app import create_app
    from gradtutor.widgets.exercise import ExerciseView

    from .conftest import settle

    app = create_app(pack_dirs=[DEMO], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query(ExerciseView).first()
        before = view.fixed.prompt
        assert app.screen.fresh_target() is None  # unsolved: no way around the exercise
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen.query(ExerciseView).first().fixed.prompt == before
        p = view.shown.params
        await pilot.press(*f"{2 * p['a']}x + ({p['b']})", "enter")
        await settle(pilot)
        assert view.status == "solved" and app.screen.fresh_target() is view
        assert app.focused is not view.query_one(".answer-input")  # focus moved on; F4 still works
        await pilot.press("f4")
        await settle(pilot)
        fresh = app.screen.query(ExerciseView).first()
        assert fresh is not view and fresh.status == "unsolved" and fresh.variant != view.variant
        assert "new numbers, 1 solved" in str(fresh.header_text())
        assert app.focused is fresh.query_one(".answer-input")
        assert not fresh.query_one(".solution").display  # nothing of the new answer shown
    record = (
        ProgressStore(isolated_home).load().exercise("params-demo", "variants", "scaled-square")
    )
    assert record.round == 1 and record.solved and record.variants_solved == 1


async def test_f4_at_80x24_keeps_the_exercise_in_view_and_focused(isolated_home):
    """Fresh numbers for an exercise low on the screen: the new round takes its place
    with focus, and the lesson does not jump back to its first exercise."""
    from gradtutor.app import create_app
    from gradtutor.widgets.exercise import ExerciseView

    from .conftest import settle

    app = create_app(home=isolated_home, unlock_all=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")  # lesson 4
        await settle(pilot)
        await pilot.press("pagedown")
        await settle(pilot)
        view = list(app.screen.query(ExerciseView))[1]
        assert view.exercise.id == "backward-twice" and app.screen.in_view(view.answer_field)
        order = view.shown.order
        right = next(i for i, k in enumerate(order, 1) if view.fixed.options[k].correct)
        await pilot.press(str(right), "enter")
        await settle(pilot)
        assert view.status == "solved"
        await pilot.press("f4")
        await settle(pilot)
        fresh = list(app.screen.query(ExerciseView))[1]
        assert fresh is not view and fresh.exercise.id == "backward-twice"
        assert app.focused is fresh.answer_field
        assert app.screen.in_view(fresh.answer_field)
        assert not app.screen.in_view(list(app.screen.query(ExerciseView))[0].answer_field)


async def test_a_practice_block_deepens_and_moves_on(isolated_home):
    from gradtutor.app import create_app
    from gradtutor.widgets.practice import PracticeView

    from .conftest import settle

    app = create_app(pack_dirs=[DEMO], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        depths = []
        for _ in range(3):
            view = app.screen.query(PracticeView).first()
            depths.append(view.block.depth_of(view.variant))
            view.focus_answer()
            await pilot.pause()
            await pilot.press(*view.fixed.answer, "enter")
            await settle(pilot)
            assert view.status == "solved" and "Correct" in str(view.query_one(".verdict").render())
            await pilot.press("enter")  # Enter on a judged exercise brings the next
            await settle(pilot)
            new = app.screen.query(PracticeView).first()
            assert new is not view and not new.query_one(".solution").display
        assert depths == [1, 1, 2]  # two right in a row: one link deeper
        view = app.screen.query(PracticeView).first()
        view.focus_answer()
        await pilot.pause()
        await pilot.press(*"x", "enter")
        await settle(pilot)
        assert view.status == "revealed" and view.query_one(".solution").display
    record = ProgressStore(isolated_home).load().exercise("params-demo", "variants", "drill")
    assert record.depth == 1 and record.attempts == 4 and record.round == 4


def _drawn_exercise(tmp_path, params: str, where: str = ""):
    from gradtutor.core.packs import load_pack

    pack = tmp_path / "pack"
    pack.mkdir(exist_ok=True)
    (pack / "pack.toml").write_text('format = 2\nid = "p"\ntitle = "P"\nversion = "1"\n')
    (pack / "01.md").write_text(
        '+++\nid = "l"\ntitle = "L"\n+++\n\n```exercise\nid = "e"\nkind = "value"\n'
        'prompt = "{{a}} times {{b}}?"\ncompute = "a * b"\nask = "value"\nrequires_grad = []\n'
        f'hints = ["h"]\n{where}[params]\n{params}```\n'
    )
    result = load_pack(pack)
    assert result.ok, [p.format() for p in result.problems]
    return result.pack.lessons[0].exercises[0]


def test_a_learners_numbers_survive_an_edit_they_still_fit(tmp_path):
    """Third edition, item 8: progress keeps the round's numbers; an edit of [params]
    keeps them while they fit, gives a fresh round when not (totals kept); a parameter
    added is drawn for the round, one removed is dropped."""
    from gradtutor.core.checking import check_exercise
    from gradtutor.core.progress import ProgressStore
    from gradtutor.core.session import ExerciseSession

    home = tmp_path / "home"
    store = ProgressStore(home)
    before = _drawn_exercise(tmp_path, "a = { int = [2, 9] }\nb = { int = [2, 9] }\n")
    learner = store.load().learner
    record = store.load().exercise("p", "l", "e")
    session = ExerciseSession.open("p", "l", before, record, learner)
    mine = dict(session.shown.params)
    judged = session.submit("0")  # a wrong answer: the numbers matter now, and are kept
    from gradtutor.core.progress.commands import apply

    apply(store, judged.command)
    kept = store.load().exercise("p", "l", "e").current.params
    assert kept == mine
    # the author widens the ranges: the learner keeps their numbers (a new draw would differ)
    wider = _drawn_exercise(tmp_path, "a = { int = [2, 50] }\nb = { int = [2, 50] }\n")
    again = ExerciseSession.open("p", "l", wider, store.load().exercise("p", "l", "e"), learner)
    assert again.shown.params == mine and again.pending is None
    right = str(mine["a"] * mine["b"])
    assert again.submit(right).verdict.correct  # checked against the numbers shown
    assert check_exercise(wider, right, variant=again.variant, values=mine).correct
    # a parameter added is drawn for the round; one removed is dropped
    added = _drawn_exercise(
        tmp_path, "a = { int = [2, 50] }\nb = { int = [2, 50] }\nc = { int = [1, 3] }\n"
    )
    shown = ExerciseSession.open("p", "l", added, store.load().exercise("p", "l", "e"), learner)
    assert {k: shown.shown.params[k] for k in ("a", "b")} == mine and "c" in shown.shown.params
    # the author narrows a range past the learner's number: a fresh round, totals kept
    outside = mine["a"] + 1 if mine["a"] < 9 else 2
    narrow = _drawn_exercise(
        tmp_path, f"a = {{ int = [{outside}, {outside}] }}\nb = {{ int = [2, 9] }}\n"
    )
    moved = ExerciseSession.open("p", "l", narrow, store.load().exercise("p", "l", "e"), learner)
    assert moved.pending is not None and moved.shown.params["a"] == outside
    apply(store, moved.pending)
    record = store.load().exercise("p", "l", "e")
    assert record.round == 1 and record.attempts == 1 and record.current.attempts == 0
