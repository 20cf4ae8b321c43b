"""One answer's life at 80×24, as a learner meets it: keys land in the exercise in view,
no key answers a question off screen, every block is reachable by keyboard, the footer
fits, the preview and the verdict stay in view, and saving never silently stops."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList, Static
from textual.widgets._footer import FooterKey

from gradtutor.app import create_app
from gradtutor.core.packs import ChoiceExercise
from gradtutor.core.paths import builtin_pack_dir
from gradtutor.core.progress import ProgressStore
from gradtutor.screens.lesson import LessonScreen
from gradtutor.widgets.exercise import ExerciseView

from .conftest import PACKS, settle

SIZE = (80, 24)


async def _open(pilot, app, index: int) -> LessonScreen:
    pack = app.packs[0]
    app.open_lesson(pack, pack.lessons[index])
    await settle(pilot)
    await settle(pilot)
    assert isinstance(app.screen, LessonScreen)
    return app.screen


def _answer_of(view: ExerciseView) -> str:
    from gradtutor.core.checking import reference_text

    ex = view.fixed
    if isinstance(ex, ChoiceExercise):
        return str(next(i for i, k in enumerate(view.shown.order, 1) if ex.options[k].correct))
    text = reference_text(view.exercise, view.variant)
    assert text, view.exercise.id
    return text


def _in_view(screen: LessonScreen, widget) -> bool:
    return screen.in_view(widget)


def _verdict(view: ExerciseView) -> str:
    return str(view.query_one(".verdict", Static).render())


@pytest.fixture
def builtin(isolated_home):
    return create_app(pack_dirs=[builtin_pack_dir()], home=isolated_home, unlock_all=True)


@pytest.mark.parametrize("lesson", [1, 2, 3])
async def test_pagedown_puts_focus_in_the_exercise_in_view(builtin, lesson):
    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, lesson)
        views = list(screen.query(ExerciseView))
        first = views[0]
        first.focus_answer()
        await settle(pilot)
        if not isinstance(first.fixed, ChoiceExercise):
            await pilot.press(*_answer_of(first), "enter")
            await settle(pilot)
            assert first.status == "solved"
        for _ in range(12):
            await pilot.press("pagedown")
            await settle(pilot)
            focused = app.focused
            open_in_view = [
                v for v in views if v.status != "solved" and _in_view(screen, v.answer_field)
            ]
            if open_in_view:
                assert focused is not None and _in_view(screen, focused)
                owner = screen._exercise_of(focused)
                assert owner in open_in_view, (owner, open_in_view)
            elif focused is not None and focused is not screen.body:
                assert _in_view(screen, focused)


@pytest.mark.parametrize("lesson", [2, 3])
async def test_tab_and_digits_never_answer_a_question_off_screen(builtin, lesson, isolated_home):
    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, lesson)
        for _ in range(6):
            await pilot.press("pagedown")
            await settle(pilot)
            await pilot.press("tab")
            await settle(pilot)
            focused = app.focused
            assert focused is screen.body or _in_view(screen, focused)
            await pilot.press(*"0.01/12")
            await settle(pilot)
        for view in screen.query(ExerciseView):
            if isinstance(view.fixed, ChoiceExercise):
                assert _verdict(view) == "", view.exercise.id  # digits highlight, never answer
                assert view.record.attempts == 0


async def test_a_digit_highlights_and_enter_answers_a_choice(isolated_home):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home, unlock_all=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, 1)
        choice = next(v for v in screen.query(ExerciseView) if isinstance(v.fixed, ChoiceExercise))
        choice.focus_answer()
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert choice.query_one(OptionList).highlighted == 1 and _verdict(choice) == ""
        await pilot.press("enter")
        await settle(pilot)
        assert _verdict(choice) != "" and choice.record.attempts == 1


async def test_every_block_is_reachable_by_tab_and_opens_with_enter(builtin):
    from gradtutor.screens.stepper import StepperScreen
    from gradtutor.widgets.blocks import ActionBlock

    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, 4)  # the manual backward pass ends with a stepper
        block = screen.query(ActionBlock).last()
        for _ in range(40):
            await pilot.press("tab")
            await settle(pilot)
            if app.focused is block.button:
                break
        assert app.focused is block.button and _in_view(screen, block.button)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StepperScreen)


async def test_the_footer_fits_80_columns_and_follows_focus(builtin):
    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, 0)
        first = screen.query(ExerciseView).first()
        first.focus_answer()
        await settle(pilot)
        await pilot.press(*_answer_of(first), "enter")
        await settle(pilot)
        keys = list(screen.query(FooterKey))
        assert keys and all(k.region.right <= SIZE[0] for k in keys)
        for key in keys:  # every label whole
            rendered = str(key.render())
            assert key.description in rendered and key.region.width >= len(key.description)
        shown = {k.key for k in keys}
        assert {"f2", "f3", "f5"} <= shown and "f4" in shown  # fresh numbers, once solved


async def test_f5_never_reaches_an_exercise_that_lost_focus(builtin):
    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, 2)
        choice = next(v for v in screen.query(ExerciseView) if isinstance(v.fixed, ChoiceExercise))
        choice.focus_answer()
        await settle(pilot)
        assert "f5" not in {k.key for k in screen.query(FooterKey)}
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)


async def test_the_preview_stays_in_view_after_pagedown(builtin):
    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, 0)
        await pilot.press("pagedown")
        await settle(pilot)
        field = app.focused
        assert isinstance(field, Input)
        await pilot.press(*"wx")
        await settle(pilot)
        view = screen._exercise_of(field)
        preview = view.query_one(".answer-preview", Static)
        assert preview.display and _in_view(screen, preview) and _in_view(screen, field)


async def test_after_f3_no_attempts_left_line_remains(builtin):
    app = builtin
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, 0)
        view = screen.query(ExerciseView).first()
        view.focus_answer()
        await settle(pilot)
        await pilot.press(*"5x", "enter")
        await settle(pilot)
        assert "more wrong attempt" in _verdict(view)
        await pilot.press("f3")
        await settle(pilot)
        assert view.status == "revealed" and "more wrong attempt" not in _verdict(view)


async def test_the_browser_panel_agrees_with_the_tree(isolated_home):
    from gradtutor.screens.browser import BrowserScreen, LessonTree

    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        view = screen.query(ExerciseView).first()
        view.focus_answer()
        await pilot.press(*_answer_of(view), "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        tree = app.screen.query_one(LessonTree)
        label = str(tree.cursor_node.label)
        detail = str(app.screen.query_one("#lesson-detail", Static).render())
        solved, total = label.rsplit(" ", 1)[-1].split("/")
        assert f"{solved} of {total}" in detail, (label, detail)


async def test_the_standalone_stepper_quits_on_escape_and_keeps_early_keys(isolated_home):
    from gradtutor.core.sizes import NetworkSize
    from gradtutor.screens.stepper import StepperScreen

    size = NetworkSize()
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home, stepper=size)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("right", "right", "right")  # sent while the stepper loads
        await settle(pilot)
        for _ in range(50):
            await settle(pilot)
            screen = app.screen
            if isinstance(screen, StepperScreen) and not screen.busy and not screen._waiting:
                break
        assert isinstance(app.screen, StepperScreen)
        assert app.screen.stepper.position == 3
        await pilot.press("escape")
        await settle(pilot)
    assert app.return_code is not None


# -- saving never silently stops ---------------------------------------------------------------


async def test_a_failing_save_is_said_and_the_next_ones_still_happen(isolated_home, monkeypatch):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home, unlock_all=False)
    failures = []
    original = ProgressStore.record_answer

    def flaky(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise LookupError("a widget went away")  # not an OSError
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ProgressStore, "record_answer", flaky)
    notes = []
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "notify", lambda message, **kw: notes.append(message))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query(ExerciseView).first()
        view.focus_answer()
        await pilot.press(*"5x", "enter")  # this save fails
        await settle(pilot)
        assert any("could not be saved" in n for n in notes)
        await pilot.press("ctrl+a", "ctrl+k", *_answer_of(view), "enter")
        await settle(pilot)
    record = ProgressStore(isolated_home).load().exercise("format-tour", "derivatives", "square")
    assert record.solved and record.attempts == 1


async def test_leaving_the_lesson_mid_save_loses_nothing(isolated_home):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query(ExerciseView).first()
        view.focus_answer()
        await pilot.press(*"5x", "enter", "escape")  # gone before the save returns
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        again = app.screen.query(ExerciseView).first()
        again.focus_answer()
        await pilot.press(*_answer_of(again), "enter")
        await settle(pilot)
    record = ProgressStore(isolated_home).load().exercise("format-tour", "derivatives", "square")
    assert record.solved and record.attempts == 2


async def test_a_failed_worker_is_said_and_never_leaves_checking_on_screen(
    isolated_home, monkeypatch
):
    from gradtutor.core.session import ExerciseSession

    def broken(self, answer):
        raise RuntimeError("the checker fell over")

    monkeypatch.setattr(ExerciseSession, "check", broken)
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    notes = []
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "notify", lambda message, **kw: notes.append(message))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query(ExerciseView).first()
        view.focus_answer()
        await pilot.press(*"2x", "enter")
        await settle(pilot)
        await settle(pilot)
        assert any("the checker fell over" in n for n in notes)
        assert "checking" not in _verdict(view) and not view.session.checking
        assert "The check failed" in _verdict(view)
