"""Files that are not what they claim: huge TOML integers, deep JSON, FIFOs and devices,
costly `where` conditions, names with terminal escapes, an export onto the live file.
Each gets a clean refusal, a bounded cost, and no traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import time

import pytest

from gradtutor.core.classroom import ClassRoom
from gradtutor.core.exports import export_document
from gradtutor.core.progress import ProgressStore, empty
from gradtutor.core.report import build, spreadsheet_safe, to_csv
from gradtutor.core.report_html import to_html
from gradtutor.core.safefile import UnsafeFile, json_depth, load_json, read_bounded
from gradtutor.core.sizes import MAX_WHERE_CONDITIONS

from .conftest import PACKS, run_cli, write_pack

# -- TOML integers past Python's conversion limit -------------------------------------------

HUGE = "7" * 5_000


@pytest.mark.parametrize("where", ["manifest", "front matter", "block"])
def test_a_huge_toml_integer_is_a_located_error(tmp_path, where):
    manifest = 'format = 2\nid = "big"\ntitle = "Big"\nversion = "1"\nlessons = ["01.md"]\n'
    lesson = (
        '+++\ntitle = "One"\n+++\nText.\n\n```exercise\nid = "a"\nkind = "value"\n'
        'prompt = "What is 1 + 1?"\nanswer = "2"\n```\n'
    )
    if where == "manifest":
        manifest += f"x = {HUGE}\n"
    elif where == "front matter":
        lesson = lesson.replace('title = "One"\n', f'title = "One"\nx = {HUGE}\n')
    else:
        lesson = lesson.replace('answer = "2"\n', f'answer = "2"\nx = {HUGE}\n')
    pack = write_pack(tmp_path / "pack", {"pack.toml": manifest, "01.md": lesson})
    for command in (("validate", str(pack)), ("show", "--pack", str(pack), "1/a")):
        result = run_cli(*command)
        assert "Traceback" not in result.stderr + result.stdout, command
        assert result.returncode != 0
    result = run_cli("validate", str(pack))
    name = "pack.toml" if where == "manifest" else "01.md"
    text = (pack / name).read_text()
    line = text[: text.index(HUGE)].count("\n") + 1
    assert f"{name}:{line}:5: error: " in result.stdout
    assert "number too long" in result.stdout


# -- deep JSON --------------------------------------------------------------------------------


def test_depth_is_measured_without_recursion():
    assert json_depth('{"a": [[{"b": "]]]]"}]]}') == 4
    assert json_depth("[" * 100_000) > 64
    with pytest.raises(ValueError):
        load_json("[" * 100_000)
    assert load_json('{"a": "[[[["}') == {"a": "[[[["}


def test_a_deep_export_is_named_and_skipped_by_the_report(tmp_path):
    bad = tmp_path / "deep.json"
    bad.write_text('{"format": "gradtutor-progress-export", "progress": ' + "[" * 100_000)
    good = tmp_path / "ada.json"
    good.write_text(json.dumps(export_document(empty(), "Ada", [])))
    before = bad.read_bytes()
    result = run_cli("report", str(bad), str(good))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "deep.json" in result.stdout and "Ada" in result.stdout
    assert bad.read_bytes() == before  # the report never changes its inputs


def test_deep_progress_and_cache_files_are_set_aside_not_fatal(isolated_home):
    (isolated_home / "progress.json").write_text(
        '{"version": 4, "packs": {}, "x": ' + "[" * 500 + "]" * 500 + "}"
    )
    result = run_cli("progress")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert list(isolated_home.glob("progress.corrupt-*.json"))
    cache = isolated_home / "cache"
    cache.mkdir()
    (cache / "fences.json").write_text("[" * 100_000)
    from gradtutor.core.packs.fences import load_fence_cache

    load_fence_cache(cache / "fences.json")  # ignored, no RecursionError


def test_the_repair_walk_needs_no_stack():
    from gradtutor.core.progress import upgraded

    deep: object = 1
    for _ in range(50_000):
        deep = [deep]
    document = {"version": 4, "packs": {}, "extra": deep}
    assert upgraded(document) is not None


# -- special files ----------------------------------------------------------------------


def test_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeFile):
        read_bounded(fifo)
    with pytest.raises(UnsafeFile):
        read_bounded("/dev/zero")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(UnsafeFile):
        read_bounded(big, 1000)
    assert read_bounded(big, 1001) == b"x" * 1001


def test_progress_linked_to_dev_zero_or_a_fifo_does_not_hang(isolated_home, tmp_path):
    progress = isolated_home / "progress.json"
    progress.symlink_to("/dev/zero")
    result = run_cli("progress")
    assert "Traceback" not in result.stderr and "not a regular file" in result.stderr
    progress.unlink(missing_ok=True)  # set aside (the link itself, not /dev/zero)
    os.mkfifo(progress)
    result = run_cli("progress")  # would block for ever on open()
    assert "Traceback" not in result.stderr and "not a regular file" in result.stderr


def test_a_fifo_hand_in_is_skipped_by_the_report(tmp_path):
    fifo = tmp_path / "hand-in.json"
    os.mkfifo(fifo)
    result = run_cli("report", str(fifo))
    assert result.returncode == 0 and "hand-in.json" in result.stdout


def test_a_symlinked_progress_file_is_still_followed(isolated_home, tmp_path):
    real = tmp_path / "elsewhere.json"
    (isolated_home / "progress.json").symlink_to(real)
    store = ProgressStore(isolated_home)
    store.record_answer("p", "l", "e", True)
    assert (isolated_home / "progress.json").is_symlink()
    assert json.loads(real.read_text())["packs"]["p"]


# -- costly `where` ------------------------------------------------------------------------


def test_too_many_or_too_long_where_conditions_are_refused_quickly(tmp_path):
    source = (PACKS / "params" / "01-variants.md").read_text()
    condition = "(" + " + ".join(["w[0] * 1"] * 60) + ") == (" + " + ".join(["w[0] * 1"] * 60) + ")"
    many = ", ".join([f'"{condition}"'] * 50)
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.toml").write_text((PACKS / "params" / "pack.toml").read_text())
    (pack / "01-variants.md").write_text(
        source.replace('where = ["(w * x).sum() != y"]', f"where = [{many}]")
    )
    started = time.process_time()
    result = run_cli("validate", "--structure-only", str(pack))
    assert result.returncode == 1
    assert f"at most {MAX_WHERE_CONDITIONS}" in result.stdout
    assert "01-variants.md:36:" in result.stdout
    few = ", ".join([f'"{condition}"'] * 4)
    (pack / "01-variants.md").write_text(
        source.replace('where = ["(w * x).sum() != y"]', f"where = [{few}]")
    )
    result = run_cli("validate", "--structure-only", str(pack))
    assert "characters; at most" in result.stdout
    assert time.process_time() - started < 5  # the test process itself; minutes before


# -- names from hand-ins ---------------------------------------------------------------------

HOSTILE_NAMES = [
    "\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07Eve",
    "Mallory\u202egpj.exe",
    ' =HYPERLINK("http://x")',
    "\n=2+3",
    "Trudy\r\x85\x9b31m",
]


def test_names_from_hand_ins_are_cleaned_everywhere(tmp_path):
    paths = []
    for i, name in enumerate(HOSTILE_NAMES):
        path = tmp_path / f"{i}.json"
        path.write_text(
            json.dumps(export_document(empty(), "x", [])).replace('"x"', json.dumps(name), 1)
        )
        paths.append(path)
    report = build(paths, [PACKS / "valid"])
    assert len(report.learners) == len(HOSTILE_NAMES)  # no hand-in refused for its name
    text = to_csv(report)
    for bad in ("\x1b", "\u202e", "\r", "\x85", "\x9b", "\x07"):
        assert bad not in text and bad not in to_html(report)
    for row in csv.DictReader(io.StringIO(text)):
        assert not row["learner"].lstrip().startswith(("=", "+", "-", "@")), row
    result = run_cli("report", *map(str, paths))
    assert "\x1b]52" not in result.stdout and "\x1b[2J" not in result.stdout
    assert "Traceback" not in result.stderr


def test_the_formula_guard_strips_white_space_first():
    assert spreadsheet_safe(' =HYPERLINK("x")').startswith("'")
    assert spreadsheet_safe("\n=2+3").startswith("'")
    assert spreadsheet_safe("Ada") == "Ada" and spreadsheet_safe(3) == 3


def test_the_report_in_a_terminal_is_styled_not_escaped(tmp_path, monkeypatch):
    room = ClassRoom(tmp_path / "class")
    room.sign_in("Ada", "1234")
    for i in range(3):  # a warning, shown in yellow
        room.sign_in("Ada", "0000", now=10**10 + i * 1000)
    hostile = tmp_path / "eve.json"
    hostile.write_text(
        json.dumps(export_document(empty(), "x", [])).replace(
            '"x"', json.dumps(HOSTILE_NAMES[0]), 1
        )
    )
    monkeypatch.setenv("FORCE_COLOR", "1")  # as in a terminal
    result = run_cli("report", str(tmp_path / "class"), str(hostile))
    assert "\x1b[33m" in result.stdout  # a style, as the terminal takes it
    assert "\\x1b" not in result.stdout  # not a style printed as text
    assert "\x1b]52" not in result.stdout and "\x1b[2J" not in result.stdout


# -- exports ---------------------------------------------------------------------------


def test_an_export_onto_the_live_progress_file_is_refused(isolated_home):
    ProgressStore(isolated_home).record_answer("p", "l", "e", True)
    live = isolated_home / "progress.json"
    before = live.read_bytes()
    result = run_cli("progress", "--export", str(live), "--name", "Ada")
    assert result.returncode == 2 and "live progress file" in result.stderr
    assert live.read_bytes() == before


def test_an_export_never_writes_through_a_link(isolated_home, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "hand-in.json"
    link.symlink_to(target)
    result = run_cli("progress", "--export", str(link), "--name", "Ada")
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "keep me" and not link.is_symlink()
    assert json.loads(link.read_text())["name"] == "Ada"
