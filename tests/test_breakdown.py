"""Break it down: the session in the core, the diagnosis from the graph, the screen."""

from __future__ import annotations

import pytest

from gradtutor.core.breakdown import Breakdown
from gradtutor.core.checking import check_derivative
from gradtutor.core.mathlang import to_text
from gradtutor.core.progress import ProgressStore

from .conftest import PACKS, settle

DEMO = PACKS / "breakdown"


# -- the session ---------------------------------------------------------------------


def test_local_derivatives_are_checked_against_each_node():
    b = Breakdown("x*sin(x)", "x")
    edges = b.edges
    assert [(e.node.id, e.input) for e in edges] == [("u1", "x"), ("u2", "x"), ("u2", "u1")]
    assert b.check_edge(edges[0], "cos(x)").correct
    assert b.check_edge(edges[1], "u1").correct
    assert b.check_edge(edges[1], "sin(x)").correct  # in the function's variables, too
    wrong = b.check_edge(edges[2], "1")
    assert wrong.verdict == "incorrect" and "product rule" in wrong.message
    assert b.check_edge(edges[2], "u1 +").verdict == "invalid"
    assert b.check_edge(edges[2], "x").correct


def test_the_backward_pass_meets_the_sum_where_x_is_used_twice():
    import math

    b = Breakdown("x*sin(x)", "x")
    steps = b.backward_steps()
    assert [s.node.id for s in steps] == ["u2", "u1", "x"]
    x = b.point["x"]
    last = steps[-1]
    assert last.joins and last.grad == pytest.approx(math.sin(x) + x * math.cos(x))
    one_path = last.terms[0][1] * last.terms[0][2]
    right, sentence = Breakdown.check_grad(last, f"{one_path:.4f}")
    assert not right and "+=" in sentence
    assert Breakdown.check_grad(last, f"{last.grad:.4f}")[0]
    assert not Breakdown.check_grad(last, "abc")[0]


def test_the_assembly_uses_the_learners_own_local_derivatives():
    b = Breakdown("sin(x^2)", "x")
    first, second = b.edges
    assert b.check_edge(first, "2x").correct
    assert b.check_edge(second, "cos(u1)").correct
    paths, total = b.assembled()
    assert [route for route, _ in paths] == ["u₂ → u₁ → x"]
    assert check_derivative("sin(x^2)", "x", to_text(total)).correct


def test_revealed_edges_are_counted():
    b = Breakdown("exp(3*x)", "x")
    for edge in b.edges:
        b.reveal_edge(edge)
    assert len(b.revealed) == len(b.edges)
    assert check_derivative("exp(3*x)", "x", to_text(b.assembled()[1])).correct


# -- diagnosis from the graph ----------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "answer", "says"),
    [
        (
            "x*sin(x)",
            "x*cos(x)",
            "leaves out the term through its use in x·sin(x) (the product rule)",
        ),
        ("x*sin(x)", "sin(x)", "leaves out the term through its use in sin(x)"),
        ("(x^2 + x)*exp(x)", "(2*x + 1)*exp(x)", "used in 3 places"),
        ("sin(x)^2 + sin(x)", "2*sin(x)*cos(x)", "sin(x) is used in 2 places"),
        (
            "exp(sin(3*x))*x",
            "exp(sin(3*x))*cos(3*x)*x + exp(sin(3*x))",
            "A chain factor is missing",
        ),
    ],
)
def test_a_wrong_answer_is_told_which_piece_of_the_graph_it_misses(function, answer, says):
    verdict = check_derivative(function, "x", answer)
    assert verdict.verdict == "incorrect"
    assert says in verdict.message, verdict.message
    assert verdict.details.get("breakdown") is True


def test_other_mistakes_do_not_offer_the_breakdown():
    verdict = check_derivative("x^3", "x", "3*x^3")
    assert verdict.verdict == "incorrect" and not verdict.details.get("breakdown")


# -- the screen ------------------------------------------------------------------------


async def _open_lesson(pilot):
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def _open_breakdown(pilot):
    """The demo lesson, its first exercise focused, F5: (the exercise, the breakdown)."""
    from gradtutor.screens.breakdown import BreakdownScreen
    from gradtutor.widgets.exercise import ExerciseView

    await _open_lesson(pilot)
    product = pilot.app.screen.query(ExerciseView).first()
    product.focus_answer()
    await pilot.press("f5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BreakdownScreen)
    return product, screen


async def test_f5_opens_the_breakdown_on_derivatives_only(isolated_home):
    from gradtutor.app import create_app
    from gradtutor.screens.breakdown import BreakdownScreen
    from gradtutor.widgets.exercise import ExerciseView

    app = create_app(pack_dirs=[DEMO], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await _open_lesson(pilot)
        product, number = app.screen.query(ExerciseView)
        assert product.check_action("breakdown", ()) and not number.check_action("breakdown", ())
        product.focus_answer()
        await pilot.pause()
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, BreakdownScreen) and app.screen.stage == "local"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, BreakdownScreen)
        assert product.query_one(".answer-input").value == ""  # Escape carries nothing
    record = ProgressStore(isolated_home).load().exercise("breakdown-demo", "graphs", "product")
    assert record.breakdowns == 1 and not record.solved


async def test_a_breakdown_walked_through_carries_the_answer_back(isolated_home):
    from gradtutor.app import create_app

    app = create_app(pack_dirs=[DEMO], home=isolated_home)
    async with app.run_test(size=(80, 24)) as pilot:
        product, screen = await _open_breakdown(pilot)
        for answer in ("cos(x)", "u1", "x"):
            await pilot.press(*answer, "enter")
            await settle(pilot)
        assert screen.stage == "backward"
        for _ in screen.steps:
            await pilot.press("enter")
            await settle(pilot)
        assert screen.stage == "assemble" and screen.result is not None
        assert screen.result.shown == 0
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not screen
        field = product.query_one(".answer-input")
        assert field.value == screen.result.answer and app.focused is field
        await pilot.press("enter")
        await settle(pilot)
        assert product.status == "solved"


async def test_local_derivatives_shown_make_the_carried_answer_a_shown_solution(isolated_home):
    from gradtutor.app import create_app

    app = create_app(pack_dirs=[DEMO], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        product, screen = await _open_breakdown(pilot)
        for _ in screen.edges:
            await pilot.press("f3")
            await settle(pilot)
        while screen.stage == "backward":
            await pilot.press("f3")
            await settle(pilot)
        assert "counts as shown, not solved" in str(screen.query_one("#breakdown-prompt").render())
        await pilot.press("enter")
        await settle(pilot)
        assert product.status == "revealed"
        await pilot.press("enter")  # the carried answer, checked: right, and still shown
        await settle(pilot)
        assert product.status == "revealed"
        said = str(product.query_one(".verdict").render())
        assert "shown, not solved" in said
    record = ProgressStore(isolated_home).load().exercise("breakdown-demo", "graphs", "product")
    assert record.revealed and not record.solved


def test_the_breakdown_session_is_headless_and_refuses_f3_while_checking():
    from gradtutor.core.breakdown import BreakdownSession

    session = BreakdownSession(Breakdown("x*sin(x)", "x"))
    assert session.stage == "local" and session.current_edge() is session.edges[0]
    index = session.begin_check()
    assert index == 0 and session.begin_check() is None  # one check at a time
    verdict = session.judge(index, "cos(x)")  # a worker's part: nothing changes
    assert verdict.correct and not session.breakdown.given
    assert session.reveal() is None  # F3 waits for the verdict
    assert session.checked(index, verdict) and session.position == 1
    assert session.breakdown.given  # kept on the checking side's return, not in the worker
    session.reveal()
    session.reveal()
    assert session.stage == "backward"
    while session.stage == "backward":
        session.grad_answer("")
    assert session.stage == "assemble" and session.result is not None
    assert session.result.shown == 2


async def test_the_wrong_answer_feedback_offers_the_breakdown(isolated_home):
    from gradtutor.app import create_app
    from gradtutor.widgets.exercise import ExerciseView

    app = create_app(pack_dirs=[DEMO], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await _open_lesson(pilot)
        product = app.screen.query(ExerciseView).first()
        product.focus_answer()
        await pilot.press(*"x*cos(x)", "enter")
        await settle(pilot)
        text = str(product.query_one(".verdict").render())
        assert "A path is missing" in text and "F5 breaks the function down" in text


async def test_the_breakdown_works_on_drawn_and_generated_exercises(isolated_home):
    """A parameterized exercise breaks down its own numbers; a practice block's generated
    exercise breaks down the function on screen."""
    from gradtutor.app import create_app
    from gradtutor.core.mathlang import parse
    from gradtutor.screens.breakdown import BreakdownScreen
    from gradtutor.widgets.exercise import ExerciseView
    from gradtutor.widgets.practice import PracticeView

    app = create_app(pack_dirs=[PACKS / "params"], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        seen = []
        for view in list(app.screen.query(ExerciseView)):
            if view.fixed.kind != "derivative":
                assert not view.check_action("breakdown", ())
                continue
            view.focus_answer()
            await pilot.pause()
            await pilot.press("f5")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BreakdownScreen) and screen.stage == "local"
            assert screen.breakdown is not None
            assert screen.breakdown.graph.function == parse(view.fixed.function)
            assert all(name.isidentifier() for name in screen.breakdown.point)
            await pilot.press("escape")
            await settle(pilot)
            seen.append("practice" if isinstance(view, PracticeView) else "drawn")
        assert "practice" in seen and "drawn" in seen


# -- third edition: what the breakdown asks, where it stands, what it explains ----------


def test_only_the_local_derivatives_on_the_path_to_the_variable_are_asked():
    b = Breakdown("(y - (w1*x1 + w2*x2 + b))^2", "w1")
    asked = [(e.node.id, e.input) for e in b.edges]
    assert asked == [("u1", "w1"), ("u3", "u1"), ("u4", "u3"), ("u5", "u4"), ("u6", "u5")]
    assert set(b.path_nodes) == {"u6", "u5", "u4", "u3", "u1", "w1"}  # x1, u2, b, y greyed
    assert [s.node.id for s in b.backward_steps()] == ["u6", "u5", "u4", "u3", "u1", "w1"]
    for edge in b.edges:
        b.reveal_edge(edge)
    _, total = b.assembled()
    truth = "-2*x1*(y - (w1*x1 + w2*x2 + b))"
    assert check_derivative(b.function_text, "w1", to_text(total), symbolic=False).correct
    assert check_derivative(b.function_text, "w1", truth, symbolic=False).correct


def _shown_numbers(b: Breakdown) -> list[float]:
    ev = b.evaluation
    return [float(t) for t in (*ev.values.values(), *ev.grads.values(), *ev.local.values())]


def test_the_point_avoids_degenerate_numbers_and_the_answers_ahead():
    from gradtutor.core.breakdown import answers_ahead
    from gradtutor.core.packs import DerivativeExercise, load_pack

    from .conftest import ROOT

    pack = load_pack(ROOT / "lessons").pack
    built = 0
    for lesson in pack.lessons:
        for ex in lesson.exercises:
            if not isinstance(ex, DerivativeExercise) or ex.params:
                continue
            avoid = answers_ahead(list(lesson.exercises), ex.id)
            b = Breakdown(ex.function, ex.wrt, avoid)
            built += 1
            for v in _shown_numbers(b):
                assert v == 0 or 0.01 <= abs(v) <= 1e4, (ex.address, v)
                assert not any(abs(v - a) < 5e-4 for a in avoid), (ex.address, v)
    assert built >= 6
    lesson = pack.lesson("autograd-linear")
    assert {-8.0, 8.0, 96.0, -72.0} <= answers_ahead(list(lesson.exercises), "dl-dw1")
    plain = Breakdown("x*sin(x)", "x")
    shown = next(v for v in _shown_numbers(plain) if abs(v) not in (0.0, 1.0))
    moved = Breakdown("x*sin(x)", "x", frozenset({shown}))
    assert moved.point != plain.point
    assert not any(abs(v - shown) < 5e-4 for v in _shown_numbers(moved))


def test_a_wrong_local_derivative_is_explained_once():
    from gradtutor.core.breakdown import LOCAL, BreakdownSession

    session = BreakdownSession(Breakdown("x*sin(x)", "x"))
    product = next(i for i, e in enumerate(session.edges) if (e.node.id, e.input) == ("u2", "x"))
    total = session.breakdown.judge_edge(session.edges[product], "sin(x) + x cos(x)")
    assert total.verdict == "incorrect" and "total derivative" in total.message
    assert "held fixed" in total.message
    wrong = session.breakdown.judge_edge(session.edges[product], "1")
    assert "as independent numbers" in wrong.message
    first = session.wrong_edge_message(wrong)
    assert first.startswith(LOCAL)
    assert session.wrong_edge_message(wrong) == wrong.message  # said once
    assert "held fixed" in session.breakdown.prompt(session.edges[product])


async def test_the_last_gradient_is_named_for_the_variable_at_80x24():
    """∂ℓ/∂w₁: the closing line names w₁'s gradient (autograd's), not the last node's."""
    import torch
    from textual.app import App

    from gradtutor.screens.breakdown import BreakdownScreen

    function = "(y - (w1*x1 + w2*x2 + b))^2"

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(BreakdownScreen(function, "w1", "Break it down"))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        while screen.session is None:
            await pilot.pause()
        assert len(screen.edges) == 5
        for _ in screen.edges:
            await pilot.press("f3")
            await settle(pilot)
        while screen.stage == "backward":
            await pilot.press("enter")
            await settle(pilot)
        said = str(screen.query_one("#breakdown-verdict").render())
        point = screen.breakdown.point
        leaves = {
            k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in point.items()
        }
        loss = (
            leaves["y"] - (leaves["w1"] * leaves["x1"] + leaves["w2"] * leaves["x2"] + leaves["b"])
        ) ** 2
        loss.backward()
        from gradtutor.core.compgraph import fmt

        assert f"w₁.grad = {fmt(float(leaves['w1'].grad))}" in said
        assert "y.grad" not in said
