"""The tutor, driven through Textual's Pilot: every flow a learner takes."""

from __future__ import annotations

import json
import subprocess
import sys

from gradtutor.app import create_app
from gradtutor.core.progress import ProgressStore
from gradtutor.screens.browser import BrowserScreen, LessonTree
from gradtutor.screens.help import HelpScreen
from gradtutor.screens.lesson import LessonScreen
from gradtutor.widgets.exercise import ExerciseView

from .conftest import PACKS, ROOT, settle, solve_valid_pack, wait_until, write_pack

PACK = PACKS / "valid"


def views(app) -> list[ExerciseView]:
    return list(app.screen.query(ExerciseView))


def shown(view: ExerciseView, selector: str) -> str:
    widget = view.query_one(selector)
    return str(widget.render()) if widget.display else ""


async def open_first_lesson(pilot) -> None:
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, LessonScreen)


async def answer(pilot, text: str) -> None:
    await pilot.press(*text)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def option_key(view: ExerciseView, correct: bool) -> str:
    """The number shown (in the learner's own order) of a right or a wrong option."""
    from gradtutor.core.variants import option_order

    order = option_order(view.exercise, view.variant)
    return next(
        str(i) for i, k in enumerate(order, 1) if view.exercise.options[k].correct == correct
    )


def record(home, lesson="derivatives", exercise="square"):
    return ProgressStore(home).load().exercise("format-tour", lesson, exercise)


async def test_lesson_opens_with_focus_in_the_first_answer(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        first = views(app)[0]
        assert app.focused is first.query_one(".answer-input")
        assert app.screen.query_one("#lesson-body").scroll_y == 0


async def test_right_answer(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await answer(pilot, "2x")
        view = views(app)[0]
        assert "Correct" in shown(view, ".verdict")
        assert view.status == "solved"
        # focus moves on to the next unsolved exercise
        assert app.focused is views(app)[1].query_one(".answer-input")
    rec = record(isolated_home)
    assert rec.solved and rec.attempts == 1


async def test_live_preview_shows_the_parsed_answer_and_errors(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await pilot.press(*"3x²")
        await settle(pilot)
        assert "3x²" in shown(views(app)[0], ".answer-preview")
        await pilot.press("backspace", "backspace", "backspace", *"2*q")
        await settle(pilot)
        preview = shown(views(app)[0], ".answer-preview")
        assert "^" in preview and "`q` at column 3 is not a variable" in preview


async def test_wrong_answer_and_feedback(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await answer(pilot, "x")
        verdict = shown(views(app)[0], ".verdict")
        assert "Not quite" in verdict and "Bring the exponent down as a factor: 2x." in verdict
        assert "2 more wrong attempts" in verdict
        assert views(app)[0].status == "unsolved"
    rec = record(isolated_home)
    assert rec.attempts == 1 and not rec.solved


async def test_invalid_answer_spends_no_attempt(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await answer(pilot, "sin x y")
        verdict = shown(views(app)[0], ".verdict")
        assert "parentheses" in verdict and "cost no attempt" in verdict
    assert record(isolated_home).attempts == 0


async def test_hint_then_reveal(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await pilot.press("f2")
        await settle(pilot)
        view = views(app)[0]
        assert len(view.query(".hint")) == 1
        await pilot.press("f2")  # only one hint: says so, shows no more
        await settle(pilot)
        assert len(view.query(".hint")) == 1
        await pilot.press("f3")
        await settle(pilot)
        assert view.status == "revealed"
        assert view.query_one(".solution").display
    rec = record(isolated_home)
    assert rec.hints == 1 and rec.revealed and not rec.solved


async def test_three_wrong_attempts_reveal_the_solution(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        for wrong in ("x", "3x", "x^3"):
            await pilot.press("ctrl+a", "ctrl+k")
            await answer(pilot, wrong)
        view = views(app)[0]
        assert view.status == "revealed" and view.query_one(".solution").display
        # the learner can still solve it
        await pilot.press("ctrl+a", "ctrl+k")
        await answer(pilot, "2x")
        assert view.status == "solved"
    rec = record(isolated_home)
    assert rec.revealed and rec.solved and rec.attempts == 4


async def test_value_exercise(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        views(app)[1].focus_answer()
        await answer(pilot, "10")
        assert views(app)[1].status == "solved"
    assert record(isolated_home, exercise="grad-at-5").solved


async def _solve_first_lesson(pilot):
    await open_first_lesson(pilot)
    await answer(pilot, "2x")
    await answer(pilot, "10")


async def test_solving_a_lesson_unlocks_the_next(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await _solve_first_lesson(pilot)
        notes = [n.message for n in app._notifications]
        assert "Unlocked: The chain rule" in notes
        assert "Lesson complete: Derivatives" in notes
        await pilot.press("escape")
        await settle(pilot)
        tree = app.screen.query_one(LessonTree)
        labels = [str(n.label) for n in tree.root.children[0].children]
        assert labels[0].startswith("✓") and labels[1].startswith("○")
        assert tree.cursor_node.data[1].id == "chain-rule"


async def test_choice_and_tensor_exercises(isolated_home):
    store = ProgressStore(isolated_home)
    store.mark_completed("format-tour", "derivatives")
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # the cursor starts on the first open lesson: chain-rule
        await settle(pilot)
        assert app.screen.lesson.id == "chain-rule"
        choice, tensor = views(app)
        assert app.focused is choice.query_one(".choice-options")
        await pilot.press(option_key(choice, correct=False))
        await settle(pilot)
        assert shown(choice, ".verdict") == ""  # a digit highlights; Enter answers
        await pilot.press("enter")
        await settle(pilot)
        assert "No." in shown(choice, ".verdict") and choice.status == "unsolved"
        await pilot.press(option_key(choice, correct=True), "enter")
        await settle(pilot)
        assert "Yes." in shown(choice, ".verdict") and choice.status == "solved"
        assert app.focused is tensor.query_one(".answer-input")
        await pilot.press(*"out_g")
        await settle(pilot)
        assert "shape (6, 1)" in shown(tensor, ".answer-preview")
        await pilot.press("enter")
        await settle(pilot)
        assert "Sum over the batch dimension?" in shown(tensor, ".verdict")
        await pilot.press(*".sum(0)", "enter")
        await settle(pilot)
        assert tensor.status == "solved"
    progress = ProgressStore(isolated_home).load()
    assert progress.exercise("format-tour", "chain-rule", "sign").attempts == 2


async def test_quit_and_reopen_restores_progress_and_last_lesson(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await _solve_first_lesson(pilot)
        await pilot.press("ctrl+n")  # the next lesson
        await settle(pilot)
        assert app.screen.lesson.id == "chain-rule"
        await pilot.press("ctrl+q")
    again = create_app(pack_dirs=[PACK], home=isolated_home)
    async with again.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        tree = again.screen.query_one(LessonTree)
        assert tree.cursor_node.data[1].id == "chain-rule"
        await pilot.press("up", "enter")
        await settle(pilot)
        assert all(v.status == "solved" for v in views(again))


async def test_lesson_without_exercises_completes_at_its_end(isolated_home):
    solve_valid_pack(isolated_home)
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.lesson.id == "network"
        await pilot.press("end")
        await settle(pilot)
    assert ProgressStore(isolated_home).load().lesson_completed("format-tour", "network")


async def test_help_screen(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)


async def test_command_palette_opens_a_lesson(isolated_home):
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Open lesson: Deriv")
        from textual.command import CommandList

        def found() -> bool:
            hits = app.screen.query(CommandList)
            return (
                bool(hits)
                and hits.first().option_count > 0
                and ("Derivatives" in str(hits.first().get_option_at_index(0).prompt))
            )

        await wait_until(pilot, found)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "derivatives"


async def test_the_palette_runs_a_key_of_the_screen_in_use(isolated_home):
    """Every key of the screen is one search away in the palette, and runs there as the
    key does: the browser's Open (Enter) opens the lesson under the cursor."""
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Open (⏎)" in commands and not any(t.startswith("Quit (") for t in commands)
        commands["Open (⏎)"].callback()
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "derivatives"


async def test_markup_in_prompts_and_answers_is_literal(tmp_path, isolated_home):
    hostile = "[@click=app.quit]quit[/] [bold]x"
    pack = write_pack(
        tmp_path / "hostile",
        {
            "pack.toml": 'id = "h"\ntitle = "H"\nversion = "1"\n',
            "01.md": f'+++\nid = "one"\ntitle = "One"\n+++\n\n```exercise\nid = "d"\nkind = "derivative"\n'
            f'prompt = "{hostile}"\nfunction = "x^2"\nwrt = "x"\nhints = ["{hostile}"]\n'
            f'[[feedback]]\nmatch = "x"\nmessage = "{hostile}"\n```\n',
        },
    )
    app = create_app(pack_dirs=[pack], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await answer(pilot, "x")
        assert "[@click=app.quit]quit[/]" in shown(views(app)[0], ".verdict")
        await pilot.press("f2")
        await answer(pilot, "[@click=app.quit]")
        for y in range(1, 39):
            await pilot.click(offset=(20, y))
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, LessonScreen)


async def test_a_failing_check_is_shown_not_raised(isolated_home, monkeypatch):
    import gradtutor.core.checking as checking

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(checking, "check_exercise", broken)
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_lesson(pilot)
        await answer(pilot, "2x")
        verdict = shown(views(app)[0], ".verdict")
        assert "The check could not be completed" in verdict
        assert "RuntimeError" not in verdict and "boom" not in verdict
        assert app.is_running
    assert record(isolated_home).attempts == 0


async def test_sizes_from_small_to_large(isolated_home):
    for size in ((60, 20), (80, 24), (200, 60)):
        app = create_app(pack_dirs=[PACK], home=isolated_home)
        async with app.run_test(size=size) as pilot:
            await open_first_lesson(pilot)
            await answer(pilot, "2x")
            await pilot.press("f1")
            await pilot.pause()
            await pilot.press("escape", "escape")
            await pilot.pause()
            assert isinstance(app.screen, BrowserScreen)


def test_first_paint_comes_before_torch_and_sympy():
    """In a fresh process: nothing heavy is imported when the browser first paints."""
    script = f"""
import asyncio, sys, json
from pathlib import Path
from gradtutor.app import create_app
from gradtutor.screens.browser import BrowserScreen
seen = {{}}
app = create_app(pack_dirs=[Path({str(PACK)!r})], home=Path(sys.argv[1]))
start = app.start_warm_up
def at_first_paint():
    # called by the browser after its first refresh: record what is imported by then
    seen["at_first_paint"] = sorted(m for m in ("torch", "sympy") if m in sys.modules)
    seen["tree_painted"] = app.screen.query_one("#lesson-tree").size.height > 0
    start()
app.start_warm_up = at_first_paint
async def main():
    async with app.run_test() as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        seen["after_warm_up"] = sorted(m for m in ("torch", "sympy") if m in sys.modules)
        seen["ready"] = app.heavy_ready
asyncio.run(main())
print(json.dumps(seen))
"""
    import tempfile

    with tempfile.TemporaryDirectory() as home:
        out = subprocess.run(
            [sys.executable, "-c", script, home],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["at_first_paint"] == [] and seen["tree_painted"]
    # sympy runs in the sandbox process only: the tutor itself never imports it
    assert seen["after_warm_up"] == ["torch"] and seen["ready"] is True
