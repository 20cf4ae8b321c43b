"""The packs' outlines: the browser paints from them at start, the packs load right after.

An outline must show exactly what the loaded pack shows, be used only while the pack's
files are unchanged, never crash on a bad cache file, and give way to the loaded packs
(the browser rebuilt) whenever they differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

from gradtutor import __version__
from gradtutor.app import create_app
from gradtutor.core.outline import load_outlines, outline_of, packs_key, save_outlines
from gradtutor.core.packs import load_pack
from gradtutor.core.progress import ProgressStore, lesson_states
from gradtutor.core.shelf import OUTLINE_FILE, PackShelf
from gradtutor.screens.browser import LessonTree
from gradtutor.screens.lesson import LessonScreen

from .conftest import PACKS, ROOT, settle, wait_until

VALID = PACKS / "valid"


def _copy(tmp_path, source=VALID):
    return shutil.copytree(source, tmp_path / "pack")


def _saved_shelf(pack_dirs, home) -> PackShelf:
    shelf = PackShelf(pack_dirs, home / "cache", __version__)
    shelf.load()
    shelf.save_outlines()
    assert (home / "cache" / OUTLINE_FILE).is_file()
    return shelf


def _tree_lines(app) -> list[str]:
    tree = app.screen.query_one(LessonTree)
    return [str(node.label) for node in tree.root.children[0].children]


def test_the_outline_shows_what_the_loaded_pack_shows(tmp_path, isolated_home):
    pack = load_pack(ROOT / "lessons").pack
    store = ProgressStore(isolated_home)
    store.start()
    first = pack.lessons[0]
    for exercise in first.exercises:  # lesson 1 done; lesson 2 started
        store.record_attempt(pack.id, first.id, exercise.id, True)
    second = pack.lessons[1]
    store.record_attempt(pack.id, second.id, second.exercises[0].id, True)
    progress = store.load()

    key = packs_key([ROOT / "lessons"])
    path = tmp_path / "outline.json"
    save_outlines(path, key, __version__, [outline_of(pack)])
    (outline,) = load_outlines(path, key, __version__)

    assert outline.id == pack.id and outline.title == pack.title
    assert [le.title for le in outline.lessons] == [le.title for le in pack.lessons]
    assert [le.summary for le in outline.lessons] == [le.summary for le in pack.lessons]
    for unlock_all in (False, True):
        assert lesson_states(outline, progress, unlock_all) == lesson_states(
            pack, progress, unlock_all
        )
    states = lesson_states(outline, progress)
    assert states[first.id].status == "done"
    assert states[second.id].status == "in progress"
    assert states[pack.lessons[2].id].status == "locked"
    assert outline.titles([first.id, second.id]) == pack.titles([first.id, second.id])


def test_any_change_to_a_pack_file_leaves_the_outline_unused(tmp_path, isolated_home):
    pack_dir = _copy(tmp_path)
    shelf = _saved_shelf([pack_dir], isolated_home)
    assert PackShelf([pack_dir], shelf.cache_dir, __version__).adopt_outlines()

    lesson = pack_dir / "01-derivatives.md"
    stat = lesson.stat()
    os.utime(lesson, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not PackShelf([pack_dir], shelf.cache_dir, __version__).adopt_outlines()

    _saved_shelf([pack_dir], isolated_home)
    (pack_dir / "data" / "new.csv").write_text("x\n1\n")  # any file, at any depth
    assert not PackShelf([pack_dir], shelf.cache_dir, __version__).adopt_outlines()

    _saved_shelf([pack_dir], isolated_home)
    assert not PackShelf(
        [pack_dir, ROOT / "lessons"], shelf.cache_dir, __version__
    ).adopt_outlines()
    assert not PackShelf([pack_dir], shelf.cache_dir, "0.0.0-other").adopt_outlines()
    assert PackShelf([pack_dir], shelf.cache_dir, __version__).adopt_outlines()


def test_the_key_survives_link_cycles_and_broken_links(tmp_path, isolated_home):
    pack_dir = _copy(tmp_path)
    (pack_dir / "data" / "loop").symlink_to(pack_dir)  # a cycle: never followed
    (pack_dir / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    key = packs_key([pack_dir])
    assert key is not None and key == packs_key([pack_dir])
    names = [row[0] for row in key[0][1]]
    assert str(pack_dir / "gone.csv") in names and len(names) < 50
    (tmp_path / "nowhere.csv").write_text("x\n")  # the link's target appears: a change
    assert packs_key([pack_dir]) != key


def test_a_bad_outline_file_is_ignored(tmp_path, isolated_home):
    pack_dir = _copy(tmp_path)
    shelf = _saved_shelf([pack_dir], isolated_home)
    path = shelf.cache_dir / OUTLINE_FILE
    good = json.loads(path.read_text())

    def damaged(change) -> dict:
        doc = json.loads(json.dumps(good))
        change(doc)
        return doc

    bad = [
        "not json",
        "[]",
        '"a string"',
        json.dumps(damaged(lambda d: d["packs"][0].__setitem__("title", 7))),
        json.dumps(damaged(lambda d: d["packs"][0]["lessons"][0].pop("exercises"))),
        json.dumps(damaged(lambda d: d["packs"][0]["lessons"][0].__setitem__("requires", "x"))),
        json.dumps(damaged(lambda d: d.__setitem__("packs", {"a": 1}))),
        json.dumps(damaged(lambda d: d.__setitem__("format", 99))),
        "[" * 100_000,
    ]
    for text in bad:
        path.write_text(text)
        assert not PackShelf([pack_dir], shelf.cache_dir, __version__).adopt_outlines(), text[:60]
    path.unlink()
    os.mkfifo(path)  # a FIFO where the file was: not read, not waited on
    assert not PackShelf([pack_dir], shelf.cache_dir, __version__).adopt_outlines()
    path.unlink()
    path.mkdir()  # a directory in its place: neither read nor written, and no error
    again = PackShelf([pack_dir], shelf.cache_dir, __version__)
    assert not again.adopt_outlines()
    again.load()
    again.save_outlines()
    assert path.is_dir()


def test_a_pack_with_problems_keeps_no_outline(tmp_path, isolated_home):
    pack_dir = _copy(tmp_path)
    shelf = _saved_shelf([pack_dir], isolated_home)
    lesson = pack_dir / "01-derivatives.md"
    lesson.write_text(
        lesson.read_text().replace('kind = "derivative"', 'kind = "derivative"\nnope = 1', 1)
    )
    shelf = PackShelf([pack_dir], shelf.cache_dir, __version__)
    shelf.load()
    assert shelf.pack_problems  # the unknown key: the pack opens, listed with its problem
    shelf.save_outlines()
    assert not (shelf.cache_dir / OUTLINE_FILE).exists()


async def test_the_browser_paints_from_the_outline_then_the_packs_load(isolated_home, monkeypatch):
    _saved_shelf([VALID], isolated_home)
    seen: dict[str, object] = {}
    original = PackShelf.load_outlined

    def load_outlined(self):
        if "packs" not in seen:  # what was on the screen before any pack was read
            seen["packs"], seen["lines"] = list(app.shelf.packs), _tree_lines(app)
        return original(self)

    monkeypatch.setattr(PackShelf, "load_outlined", load_outlined)
    app = create_app(pack_dirs=[VALID], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.shelf.packs)
        await settle(pilot)
        assert seen["packs"] == []
        assert seen["lines"] and seen["lines"] == _tree_lines(app)
        assert "Derivatives" in seen["lines"][0]
        tree = app.screen.query_one(LessonTree)
        pack, lesson = tree.cursor_node.data
        assert pack is app.packs[0] and lesson is app.packs[0].lessons[0]  # no outline left
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "derivatives"


async def test_enter_before_the_packs_load_opens_the_lesson_under_the_cursor(
    isolated_home, monkeypatch
):
    _saved_shelf([VALID], isolated_home)
    app = create_app(pack_dirs=[VALID], home=isolated_home, unlock_all=True)
    monkeypatch.setattr(type(app), "start_warm_up", lambda self: None)  # no load after paint
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.shelf.outlines is not None and app.shelf.packs == []
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson is app.packs[0].lessons[2]


async def test_an_outline_that_differs_from_the_pack_gives_way_to_it(tmp_path, isolated_home):
    """A lesson retitled without its size or time changing (so the key still matches):
    the browser shows the outline's title, then the real one once the pack has loaded,
    and the outline file is rewritten."""
    pack_dir = _copy(tmp_path)
    shelf = _saved_shelf([pack_dir], isolated_home)
    path = shelf.cache_dir / OUTLINE_FILE
    doc = json.loads(path.read_text())
    real = doc["packs"][0]["lessons"][0]["title"]
    doc["packs"][0]["lessons"][0]["title"] = "An old title"
    path.write_text(json.dumps(doc))

    app = create_app(pack_dirs=[pack_dir], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.shelf.packs)
        await settle(pilot)
        lines = _tree_lines(app)
        assert real in lines[0] and not any("An old title" in line for line in lines)
        assert real in str(app.screen.query_one("#lesson-detail").render())
    assert json.loads(path.read_text())["packs"][0]["lessons"][0]["title"] == real


def test_the_start_path_with_an_outline_reads_no_pack(tmp_path, isolated_home):
    _saved_shelf([ROOT / "lessons"], isolated_home)
    probe = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "import gradtutor.cli, gradtutor.app, gradtutor.screens.browser\n"
        "from gradtutor.app import create_app\n"
        f"app = create_app(pack_dirs=[Path({str(ROOT / 'lessons')!r})], home=Path({str(isolated_home)!r}))\n"
        "app.on_load()\n"
        "assert app.shelf.outlines and not app.shelf.packs\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "gradtutor.core.outline" in loaded
    assert not {m for m in loaded if m.startswith("gradtutor.core.packs")}
    assert "tomllib" not in loaded and "torch" not in loaded and "sympy" not in loaded


async def test_a_pack_broken_behind_its_outline_is_listed_with_its_problems(
    tmp_path, isolated_home
):
    """The outline matched (as a file restored with its old time would), but the pack no
    longer loads: once loaded, the browser lists it as not loaded and says so."""
    pack_dir = _copy(tmp_path)
    good = [outline_of(load_pack(pack_dir).pack)]
    (pack_dir / "pack.toml").write_text('id = "format-tour"\ntitle = = 1\n')
    save_outlines(isolated_home / "cache" / OUTLINE_FILE, packs_key([pack_dir]), __version__, good)
    app = create_app(pack_dirs=[pack_dir], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.broken_packs)
        await settle(pilot)
        tree = app.screen.query_one(LessonTree)
        labels = [str(node.label) for node in tree.root.children]
        assert any("not loaded" in label for label in labels)
        assert not any("A tour of the lesson format" in label for label in labels)
        assert any("could not be loaded" in n.message for n in app._notifications)
    assert not (isolated_home / "cache" / OUTLINE_FILE).exists()  # no outline for it now


def test_the_shipped_outline_is_the_built_in_packs_own():
    """`gradtutor/builtin_outline.json` is what a first start paints from: it must be
    the outline of the built-in pack as it is now. After editing a lesson, run
    `make outline` to write it again."""
    from gradtutor.core.outline import SHIPPED, pack_digest, shipped_outline

    builtin = ROOT / "lessons"
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped["digest"] == pack_digest(builtin), "the built-in pack changed: run make outline"
    pack = load_pack(builtin).pack
    assert shipped["pack"] == outline_of(pack).as_json() | {"path": ""}
    outline = shipped_outline(builtin)
    assert outline is not None and outline.path == builtin


def test_the_shipped_outline_is_used_only_for_the_pack_it_was_made_from(tmp_path):
    from gradtutor.core.outline import pack_digest, shipped_outline

    copy = _copy(tmp_path, ROOT / "lessons")
    assert pack_digest(copy) == pack_digest(ROOT / "lessons")  # content, not place or time
    assert shipped_outline(copy) is not None
    lesson = next(copy.glob("01-*.md"))
    lesson.write_text(lesson.read_text() + "\nOne more line.\n")
    assert shipped_outline(copy) is None
    lesson.unlink()
    assert shipped_outline(copy) is None


async def test_a_first_start_on_the_built_in_pack_paints_from_the_shipped_outline(
    isolated_home, monkeypatch
):
    assert not (isolated_home / "cache").exists()
    seen: dict[str, object] = {}
    original = PackShelf.load_outlined

    def load_outlined(self):
        if "packs" not in seen:
            seen["packs"], seen["lines"] = list(app.shelf.packs), _tree_lines(app)
        return original(self)

    monkeypatch.setattr(PackShelf, "load_outlined", load_outlined)
    app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.shelf.packs)
        await settle(pilot)
        assert seen["packs"] == [] and len(seen["lines"]) == len(app.packs[0].lessons)
        assert seen["lines"] == _tree_lines(app)
    assert (isolated_home / "cache" / OUTLINE_FILE).is_file()  # the next start uses its own


async def test_the_browser_answers_keys_while_the_warm_up_loads_the_packs(
    isolated_home, monkeypatch
):
    """The packs load in the warm-up thread: the browser's cursor moves meanwhile, and
    Enter, which needs them, waits for that load and opens the lesson under the cursor."""
    _saved_shelf([VALID], isolated_home)
    loading, go_on = threading.Event(), threading.Event()
    original = PackShelf._load

    def held_load(self):
        if threading.current_thread() is not threading.main_thread():
            loading.set()
            go_on.wait(60)
        original(self)

    monkeypatch.setattr(PackShelf, "_load", held_load)
    app = create_app(pack_dirs=[VALID], home=isolated_home, unlock_all=True)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(10_000):  # state, not time: the warm-up thread is in the load
            if loading.is_set():
                break
            await pilot.pause()
        assert loading.is_set()
        tree = app.screen.query_one(LessonTree)
        before = tree.cursor_line
        await pilot.press("down")
        assert tree.cursor_line == before + 1 and app.shelf.packs == []
        go_on.set()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson is app.packs[0].lessons[1]
