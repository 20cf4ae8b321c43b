"""Snapshot tests (pytest-textual-snapshot), grouped by feature.

Update after an intended change with `pytest tests/test_snapshots.py --snapshot-update`
and review the SVGs in tests/__snapshots__/.
"""

from __future__ import annotations

from gradtutor.app import create_app
from gradtutor.core.sizes import NetworkSize

from .conftest import PACKS, ROOT, fixed_learner, settle


class TestBrowser:
    def test_browser(self, snap_compare, isolated_home):
        app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
        assert snap_compare(app, terminal_size=(100, 30), run_before=settle)

    def test_browser_at_80x24(self, snap_compare, isolated_home):
        app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
        assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


class TestLesson:
    def test_lesson_with_answered_exercise(self, snap_compare, isolated_home):
        async def run_before(pilot):
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("x")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            for field in pilot.app.screen.query("Input"):
                field.cursor_blink = False  # the cursor is drawn, not blinking
            pilot.app.clear_notifications()
            await pilot.pause()

        app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
        assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)

    def test_lesson_after_a_wrong_answer_at_80x24(self, snap_compare, isolated_home):
        fixed_learner(isolated_home)

        async def run_before(pilot):
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("pagedown")
            await settle(pilot)
            await pilot.press(*"x^2", "enter")
            await settle(pilot)
            for field in pilot.app.screen.query("Input"):
                field.cursor_blink = False  # the cursor is drawn, not blinking
            pilot.app.clear_notifications()
            await pilot.pause()

        app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestProgram:
    def test_program_after_a_wrong_answer_at_80x24(self, snap_compare, isolated_home):
        async def run_before(pilot):
            from gradtutor.widgets.exercise import ExerciseView
            from gradtutor.widgets.program import ProgramEditor

            await settle(pilot)
            pack = pilot.app.packs[0]
            pilot.app.open_lesson(pack, pack.lesson("code"))
            await settle(pilot)
            view = pilot.app.screen.query(ExerciseView).first()
            view.focus_answer()
            await settle(pilot)
            editor = view.query_one(ProgramEditor)
            editor.cursor_blink = False  # before anything is drawn: a steady cursor
            editor.text = "s = sigmoid(inp)\nreturn s * out.g"
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            pilot.app.clear_notifications()
            await pilot.pause()

        app = create_app(pack_dirs=[PACKS / "programs"], home=isolated_home)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestBreakdown:
    def test_breakdown_backward_pass_at_80x24(self, snap_compare, isolated_home):
        """The graph with its fan-out, values and gradients so far, and the += prompt."""

        async def run_before(pilot):
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            pilot.app.screen.query("ExerciseView").first().focus_answer()
            await pilot.press("f5")
            await settle(pilot)
            for answer in ("cos(x)", "u1", "x"):
                await pilot.press(*answer, "enter")
                await settle(pilot)
            for _ in range(2):
                await pilot.press("enter")
                await settle(pilot)
            pilot.app.screen.query_one("#breakdown-input").cursor_blink = False  # one frame
            pilot.app.clear_notifications()
            await pilot.pause()

        app = create_app(pack_dirs=[PACKS / "breakdown"], home=isolated_home)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestStepper:
    def test_stepper_mid_backward_at_80x24(self, snap_compare, isolated_home):
        async def run_before(pilot):
            await settle(pilot)
            for _ in range(6):
                await pilot.press("right")
                await settle(pilot)

        app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home, stepper=NetworkSize())
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestHelp:
    def test_help_screen(self, snap_compare, isolated_home):
        async def run_before(pilot):
            await settle(pilot)
            await pilot.press("f1")
            await pilot.pause()

        app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
        assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)
