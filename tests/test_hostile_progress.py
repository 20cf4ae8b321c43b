"""Whatever is in the progress directory: wrong types, NaN, unusable homes, stale
temporary files, links. Never a crash, never a wrong unlock, always valid JSON out."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from gradtutor.core.packs import load_pack
from gradtutor.core.progress import HomeUnusable, ProgressStore, lesson_states

from .conftest import PACKS, run_cli, settle

PACK = PACKS / "valid"


def document(exercise: dict, lesson: dict | None = None) -> str:
    lesson = {"exercises": {"square": exercise}, **(lesson or {})}
    return json.dumps(
        {"version": 1, "packs": {"format-tour": {"lessons": {"derivatives": lesson}}}, "last": None}
    )


BAD_EXERCISES = {
    "attempts a string": ({"attempts": "lots", "solved": True}, "attempts"),
    "attempts a list": ({"attempts": [1, 2], "solved": True}, "attempts"),
    "attempts negative": ({"attempts": -3, "solved": True}, "attempts"),
    "hints a float": ({"hints": 1.5, "solved": True}, "hints"),
    "solved a string": ({"solved": "true"}, "solved"),
}


@pytest.mark.parametrize("name", list(BAD_EXERCISES))
def test_wrong_types_are_dropped_with_a_notice_and_the_original_kept(name, tmp_path):
    record, key = BAD_EXERCISES[name]
    text = document(record)
    (tmp_path / "progress.json").write_text(text)
    store = ProgressStore(tmp_path)
    progress = store.load()
    rec = progress.exercise("format-tour", "derivatives", "square")
    assert rec.attempts == 0 and rec.hints == 0
    assert rec.solved is (record.get("solved") is True)
    notices = store.take_notices()
    assert len(notices) == 1 and key in notices[0]
    kept = list(tmp_path.glob("progress.repaired-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == text
    # the next write keeps everything else, and says nothing twice
    store.record_hint("format-tour", "derivatives", "square", 1)
    assert store.take_notices() == []
    again = ProgressStore(tmp_path).load().exercise("format-tour", "derivatives", "square")
    assert again.hints == 1 and again.solved is rec.solved


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_never_reach_the_output(constant, tmp_path, isolated_home):
    raw = document({"solved": True, "attempts": 2}).replace(
        '"attempts": 2', f'"attempts": {constant}'
    )
    raw = raw.replace('"last": null', f'"last": null, "extra": {{"keep": 1, "bad": {constant}}}')
    (isolated_home / "progress.json").write_text(raw)
    proc = run_cli("progress", "--json", "--pack", str(PACK))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout, parse_constant=lambda c: pytest.fail(f"{c} in the output"))
    square = doc["packs"]["format-tour"]["lessons"]["derivatives"]["exercises"]["square"]
    assert square["attempts"] == 0 and square["solved"] is True
    assert "left out" in proc.stderr
    table = run_cli("progress", "--pack", str(PACK))
    assert table.returncode == 0 and "Traceback" not in table.stderr


def test_unknown_keys_are_kept(tmp_path):
    data = json.loads(document({"solved": True, "attempts": 1, "note": "mine"}))
    data["theme"] = "dark"
    (tmp_path / "progress.json").write_text(json.dumps(data))
    store = ProgressStore(tmp_path)
    store.record_hint("format-tour", "derivatives", "square", 1)
    written = json.loads((tmp_path / "progress.json").read_text())
    assert written["theme"] == "dark"
    assert (
        written["packs"]["format-tour"]["lessons"]["derivatives"]["exercises"]["square"]["note"]
        == "mine"
    )
    assert store.take_notices() == []


def test_completed_as_a_string_does_not_unlock(tmp_path):
    (tmp_path / "progress.json").write_text(document({"solved": False}, {"completed": "false"}))
    pack = load_pack(PACK).pack
    states = lesson_states(pack, ProgressStore(tmp_path).load())
    assert states["derivatives"].status != "done"
    assert states["chain-rule"].status == "locked"


async def test_the_tutor_starts_on_a_badly_typed_file(isolated_home):
    from gradtutor.app import create_app

    (isolated_home / "progress.json").write_text(document({"attempts": "lots"}, {"completed": []}))
    app = create_app(pack_dirs=[PACK], home=isolated_home)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#lesson-tree")
        assert any("left out" in n.message for n in app._notifications)


# ----------------------------------------------------------------------------- unusable homes


def _home_is_a_file(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.write_text("not a directory")
    return home


def _lock_is_a_directory(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "progress.json.lock").mkdir(parents=True)
    return home


def _read_only(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "progress.json").write_text(json.dumps({"version": 1, "packs": {}, "last": None}))
    home.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return home


HOMES = {
    "a file": _home_is_a_file,
    "lock a directory": _lock_is_a_directory,
    "read-only": _read_only,
}


@pytest.mark.parametrize("name", list(HOMES))
@pytest.mark.parametrize(
    "args", [("progress",), ("progress", "--json"), ("progress", "--reset", "--yes")]
)
def test_the_cli_names_an_unusable_home_in_one_line(name, args, tmp_path):
    if name == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    home = HOMES[name](tmp_path)
    env = {**os.environ, "GRADTUTOR_HOME": str(home)}
    import subprocess
    import sys

    from .conftest import ROOT

    proc = subprocess.run(
        [sys.executable, "-m", "gradtutor", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot save progress in" in lines[0] and str(home) in lines[0]


@pytest.mark.parametrize("name", ["a file", "lock a directory"])
async def test_the_tutor_opens_and_says_progress_cannot_be_saved(name, tmp_path):
    from gradtutor.app import create_app
    from gradtutor.screens.lesson import LessonScreen

    home = HOMES[name](tmp_path)
    app = create_app(pack_dirs=[PACK], home=home)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        warning = str(app.screen.query_one("#progress-warning").render())
        assert "Progress cannot be saved" in warning
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        await pilot.press(*"2x", "enter")
        await settle(pilot)
        # the session still works, in memory
        assert app.progress.exercise("format-tour", "derivatives", "square").solved


def test_check_home_raises_with_the_path(tmp_path):
    with pytest.raises(HomeUnusable) as info:
        ProgressStore(_home_is_a_file(tmp_path)).check_home()
    assert "is a file" in info.value.sentence()


# ----------------------------------------------------------------------------- temp files, links


def test_stale_temporary_files_are_removed_on_start(tmp_path):
    for i in range(53):
        (tmp_path / f".progress-{i}.tmp").write_text("{")
    (tmp_path / "keep.tmp").write_text("mine")
    store = ProgressStore(tmp_path)
    store.start()
    assert list(tmp_path.glob(".progress-*.tmp")) == []
    assert (tmp_path / "keep.tmp").exists()


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_linked_progress_file_is_written_through_the_link(tmp_path):
    real = tmp_path / "synced" / "progress.json"
    real.parent.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "progress.json").symlink_to(real)
    store = ProgressStore(home)
    store.record_attempt("p", "l", "e", correct=True)
    store.record_attempt("p", "l", "f", correct=False)
    assert (home / "progress.json").is_symlink()
    data = json.loads(real.read_text())
    assert data["packs"]["p"]["lessons"]["l"]["exercises"]["e"]["solved"] is True
    assert not [p for p in real.parent.iterdir() if re.match(r"\.progress-", p.name)]


def test_a_read_only_file_system_is_unusable(tmp_path, monkeypatch):
    """Simulated: as root (in CI containers) a mode of 0500 does not stop writes."""
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode: False if Path(path) == tmp_path else real_access(path, mode),
    )
    with pytest.raises(HomeUnusable) as info:
        ProgressStore(tmp_path).check_home()
    assert "not writable" in info.value.sentence()
