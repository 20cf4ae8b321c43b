"""The first interface: the browser lists packs and lessons; lessons open and close."""

from __future__ import annotations

from gradtutor.app import create_app
from gradtutor.core.progress import ProgressStore
from gradtutor.screens.browser import BrowserScreen, LessonTree
from gradtutor.screens.lesson import LessonScreen

from .conftest import PACKS, write_pack


def labels(app) -> list[str]:
    tree = app.screen.query_one(LessonTree)
    return [str(node.label) for node in tree.root.children[0].children]


async def test_browser_lists_lessons_with_state(isolated_home):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        shown = labels(app)
        assert shown[0].startswith("○ 1. Derivatives")
        assert "⊘" in shown[1] and "⊘" in shown[2]
        # what a locked lesson waits for, by title, in the detail beside the list
        await pilot.press("down", "down")
        await pilot.pause()
        detail = str(app.screen.query_one("#lesson-detail").render())
        assert "Complete first: Derivatives and The chain rule" in detail
        assert "chain-rule" not in detail


async def test_enter_opens_escape_returns(isolated_home):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "derivatives"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
    assert ProgressStore(isolated_home).load().last == ("format-tour", "derivatives")


async def test_locked_lesson_does_not_open(isolated_home):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)


async def test_ctrl_q_quits(isolated_home):
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_markup_in_lesson_text_is_shown_literally(tmp_path, isolated_home):
    hostile = "[@click=app.quit]press[/] and [bold]"
    pack = write_pack(
        tmp_path / "hostile",
        {
            "pack.toml": 'id = "h"\ntitle = "[@click=app.quit]T[/]"\nversion = "1"\n',
            "01.md": f'+++\nid = "one"\ntitle = "{hostile}"\n+++\n\n{hostile}\n\n'
            f'```exercise\nid = "c"\nkind = "choice"\nprompt = "{hostile}"\n'
            '[[option]]\ntext = "a"\ncorrect = true\n[[option]]\ntext = "b"\n```\n',
        },
    )
    app = create_app(pack_dirs=[pack], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert hostile in labels(app)[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        # clicking everywhere on the lesson must not trigger the embedded action
        for y in range(2, 20):
            await pilot.click(offset=(10, y))
        await pilot.pause()
        assert app.is_running
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "[@click=app.quit]" in text
