"""A class: names, PINs, exports, mistakes remembered, and the report."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from gradtutor.core.classroom import (
    FREE_FAILURES,
    ClassError,
    ClassRoom,
    directory_name,
    fold_name,
)
from gradtutor.core.exports import read_export
from gradtutor.core.progress import ProgressStore, migrate
from gradtutor.core.report import build, to_csv
from gradtutor.core.report_html import to_html

from .conftest import PACKS, run_cli, settle

# -- names and PINs ----------------------------------------------------------------------


def test_names_fold_and_map_to_safe_directories():
    assert fold_name("  Ada   Lovelace ") == fold_name("ada lovelace") == "ada lovelace"
    assert fold_name("Ａｄａ") == "ada"  # NFKC: full-width letters
    assert fold_name("STRASSE") == fold_name("straße")  # case folding, not lower()
    for name in ("../../etc", "a/b", "..", "con", "x\\y", "名前", "Ωmega", "\u202eevil"):
        d = directory_name(fold_name(name))
        assert "/" not in d and "\\" not in d and d not in (".", "..") and not d.startswith(".")
        assert len(d) <= 60
    assert directory_name("ada") != directory_name("ada!")  # the digest keeps them apart


def test_a_name_cannot_leave_the_class_directory(tmp_path):
    room = ClassRoom(tmp_path / "class")
    outcome = room.sign_in("../../outside", "1234")
    assert outcome.ok and outcome.home is not None
    assert outcome.home.resolve().parent == (tmp_path / "class" / "learners").resolve()
    with pytest.raises(ClassError):
        room.home_of("bad\x1bname")


def test_a_pin_is_kept_only_as_a_salted_hash(tmp_path):
    room = ClassRoom(tmp_path)
    first = room.sign_in("Ada", "4321")
    other = room.sign_in("Bob", "4321")
    assert first.ok and first.new and other.ok
    a = json.loads((first.home / "account.json").read_text())
    b = json.loads((other.home / "account.json").read_text())
    assert a["hash"] != b["hash"] and a["salt"] != b["salt"]  # the same PIN, two hashes
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"4321" not in path.read_bytes()
    again = room.sign_in(" ada ", "4321")
    assert again.ok and not again.new and again.home == first.home and again.name == "Ada"


def test_wrong_pins_are_refused_and_slowed_down_across_sessions(tmp_path):
    now = 1_000_000.0
    for i in range(FREE_FAILURES):
        outcome = ClassRoom(tmp_path).sign_in("Ada", "1234" if i == 0 else "9999", now=now)
        if i == 0:
            assert outcome.ok
    # two wrong so far; the third wrong starts the wait, counted on disk
    third = ClassRoom(tmp_path).sign_in("Ada", "0000", now=now)
    assert not third.ok and third.wait > 0
    # a new "browser session" (a new ClassRoom) is held back too, even with the right PIN
    held = ClassRoom(tmp_path).sign_in("Ada", "1234", now=now + 0.5)
    assert not held.ok and "wait" in held.message.lower()
    later = ClassRoom(tmp_path).sign_in("Ada", "1234", now=now + third.wait + 1)
    assert later.ok
    account = json.loads((later.home / "account.json").read_text())
    assert account["failures"] == 0


def test_the_wait_grows_with_each_wrong_pin(tmp_path):
    room = ClassRoom(tmp_path)
    assert room.sign_in("Ada", "1234", now=0).ok
    waits, now = [], 0.0
    for _ in range(6):
        outcome = room.sign_in("Ada", "0000", now=now)
        waits.append(outcome.wait)
        now += outcome.wait + 0.1
    assert waits[: FREE_FAILURES - 1] == [0.0] * (FREE_FAILURES - 1)
    grown = [w for w in waits if w]
    assert grown == sorted(grown) and grown[-1] > grown[0]


def test_short_pins_and_empty_names_are_refused(tmp_path):
    room = ClassRoom(tmp_path)
    assert "PIN" in room.sign_in("Ada", "12").message
    assert not room.sign_in("   ", "1234").ok
    assert not (tmp_path / "learners").exists() or not any((tmp_path / "learners").iterdir())


def test_reset_pin_gives_a_one_time_pin_and_keeps_progress(tmp_path):
    room = ClassRoom(tmp_path)
    home = room.sign_in("Ada", "1234").home
    ProgressStore(home).record_answer("p", "l", "e", True)
    one_time = room.reset_pin("ADA")
    assert one_time and len(one_time) >= 8 and room.reset_pin("nobody") is None
    assert not room.sign_in("Ada", "5678").ok  # nobody else chooses Ada's PIN
    assert not room.sign_in("Ada", "1234").ok  # and the old one is gone
    assert ProgressStore(home).load().exercise("p", "l", "e").solved
    result = run_cli("serve", "--class", str(tmp_path), "--reset-pin", "ada")
    assert result.returncode == 0 and "One-time PIN for ada: " in result.stdout
    assert run_cli("serve", "--class", str(tmp_path), "--reset-pin", "zed").returncode == 2


# -- mistakes in progress ------------------------------------------------------------------


def test_the_last_five_mistakes_are_remembered(tmp_path):
    store = ProgressStore(tmp_path)
    for i in range(7):
        store.record_answer("p", "l", "e", False, mistake=(f"x^{i}", None, "The sign is flipped."))
    store.record_answer("p", "l", "e", True, mistake=("2x", None, None))
    raw = json.loads((tmp_path / "progress.json").read_text())
    mistakes = raw["packs"]["p"]["lessons"]["l"]["exercises"]["e"]["mistakes"]
    assert [m["answer"] for m in mistakes] == [f"x^{i}" for i in range(2, 7)]
    assert raw["version"] == 4
    store.reset()
    assert "p" not in json.loads((tmp_path / "progress.json").read_text())["packs"]


def test_a_version_1_file_reaches_version_4_keeping_every_field():
    old = {
        "version": 1,
        "packs": {
            "p": {
                "lessons": {
                    "l": {
                        "exercises": {
                            "e": {
                                "solved": True,
                                "attempts": 3,
                                "hints": 2,
                                "revealed": False,
                                "mine": "kept",
                            }
                        }
                    }
                }
            }
        },
        "last": {"pack": "p", "lesson": "l"},
        "extra": [1, 2],
    }
    data = json.loads(json.dumps(old))
    migrate(data)
    record = data["packs"]["p"]["lessons"]["l"]["exercises"]["e"]
    for key, value in old["packs"]["p"]["lessons"]["l"]["exercises"]["e"].items():
        assert record[key] == value
    assert record["mistakes"] == [] and data["version"] == 4
    assert data["extra"] == [1, 2] and data["last"] == old["last"]


async def test_the_tutor_remembers_a_wrong_answer_with_its_feedback(isolated_home):
    from gradtutor.app import create_app

    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x", "enter")  # the authored feedback: bring the exponent down
        await settle(pilot)
    record = json.loads((isolated_home / "progress.json").read_text())["packs"]["format-tour"]
    mistakes = record["lessons"]["derivatives"]["exercises"]["square"]["mistakes"]
    assert mistakes == [
        {
            "answer": "x",
            "feedback": "Bring the exponent down as a factor: $2x$.",
            "diagnosis": None,
            "key": "feedback:x",  # third edition: the entry that fired, for the report
        }
    ]


# -- exports and the report --------------------------------------------------------------


def _learner(home, solved: bool, wrong: str | None = None) -> None:
    store = ProgressStore(home)
    if wrong:
        store.record_answer(
            "format-tour", "derivatives", "square", False, mistake=(wrong, "Bring it down.", None)
        )
    store.record_answer("format-tour", "derivatives", "square", solved)


def test_export_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADTUTOR_HOME", str(tmp_path / "home"))
    _learner(tmp_path / "home", True)
    out = tmp_path / "ada.json"
    result = run_cli("progress", "--export", str(out), "--name", "Ada Lovelace")
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["format"] == "gradtutor-progress-export" and doc["format_version"] == 2
    assert doc["name"] == "Ada Lovelace" and doc["exported"].endswith("Z")
    assert doc["progress"]["packs"]["format-tour"]
    name, progress = read_export(out)
    assert name == "Ada Lovelace" and progress["version"] == 4
    # no --pack: every pack of the progress is still listed (by id where not found)
    assert [p["id"] for p in doc["packs"]] == list(doc["progress"]["packs"])
    assert doc["checksum"].startswith("sha256:") and "id" not in doc


def test_an_export_carries_an_id_and_a_checksum_the_report_checks(tmp_path, monkeypatch):
    import hashlib

    from gradtutor.core.exports import read_export_file

    monkeypatch.setenv("GRADTUTOR_HOME", str(tmp_path / "home"))
    _learner(tmp_path / "home", True)
    out = tmp_path / "ada.json"
    result = run_cli("progress", "--export", str(out), "--name", "Ada", "--id", "s-1042")
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    canonical = json.dumps(
        doc["progress"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert doc["checksum"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert doc["id"] == "s-1042"
    clean = read_export_file(out)
    assert clean.checksum_ok and clean.learner_id == "s-1042"
    assert not any("checksum" in w for w in build([out]).warnings)
    # a hand-edited "all solved": the checksum no longer matches, and the report says so
    lessons = doc["progress"]["packs"]["format-tour"]["lessons"]
    lessons["graded-lab"] = {"completed": True, "exercises": {"all": {"solved": True}}}
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    assert not read_export_file(edited).checksum_ok
    warnings = build([edited]).warnings
    assert any("does not match the export's checksum" in w for w in warnings)
    old = dict(doc, format_version=1)
    del old["checksum"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert any("no checksum" in w for w in build([tmp_path / "old.json"]).warnings)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "gradtutor-progress-export", "format_version": 99}',
        b'{"format": "gradtutor-progress-export", "format_version": 1, "name": "", "progress": {}}',
        b'{"format": "gradtutor-progress-export", "format_version": 1, "name": "A", "progress": 3}',
    ],
)
def test_a_malformed_export_is_named_and_skipped(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(ClassError, match="bad.json"):
        read_export(bad)
    report = build([bad])
    assert report.learners == [] and any("bad.json" in w for w in report.warnings)


def test_a_report_over_a_class_and_an_export_merges_the_same_learner(tmp_path, monkeypatch):
    room = ClassRoom(tmp_path / "class")
    _learner(room.sign_in("Ada", "1234").home, False, wrong="x")
    _learner(room.sign_in("Bob", "1234").home, True, wrong="x")
    _learner(room.sign_in("Cy", "1234").home, True)
    monkeypatch.setenv("GRADTUTOR_HOME", str(tmp_path / "ada-at-home"))
    _learner(tmp_path / "ada-at-home", True)
    assert (
        run_cli("progress", "--export", str(tmp_path / "ada.json"), "--name", "ADA ").returncode
        == 0
    )
    report = build([tmp_path / "class", tmp_path / "ada.json"], [PACKS / "valid"])
    assert [le.name for le in report.learners] == ["Ada", "Bob", "Cy"]
    assert any("Ada" in w and "merged" in w for w in report.warnings)
    (square,) = [s for s in report.exercises if s.exercise == "square"]
    assert (square.tried, square.solved, square.first_attempt) == (3, 3, 1)
    assert square.wrong["x"] == 2 and square.said["Bring it down."] == 2
    assert square.median_attempts == 2
    text = to_csv(report)
    assert text.startswith("\ufeff")  # a byte-order mark: spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0])[:8] == [
        "id",
        "learner",
        "last_active",
        "lessons_completed",
        "solved",
        "revealed",
        "attempts",
        "hints",
    ]
    assert "solved:format-tour" in rows[0] and [r["solved"] for r in rows] == ["1", "1", "1"]
    assert [r["format-tour/derivatives/square"] for r in rows] == ["solved"] * 3
    html = to_html(report)
    assert "<svg" in html and "<script" not in html and "http" not in html.replace("xmlns", "")
    assert "<code>x</code> ×2" in html


def test_the_report_escapes_what_learners_typed(tmp_path):
    room = ClassRoom(tmp_path / "class")
    home = room.sign_in("<b>Eve</b>", "1234").home
    ProgressStore(home).record_answer(
        "p", "l", "e", False, mistake=("<script>alert(1)</script>", None, None)
    )
    report = build([tmp_path / "class"])
    html = to_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Eve" in html
    room.sign_in("=cmd()", "1234")
    assert "'=cmd()" in to_csv(build([tmp_path / "class"]))  # no formula for a spreadsheet


def test_report_on_the_command_line(tmp_path):
    room = ClassRoom(tmp_path / "class")
    _learner(room.sign_in("Ada", "1234").home, True)
    result = run_cli(
        "report",
        str(tmp_path / "class"),
        "--csv",
        str(tmp_path / "r.csv"),
        "--html",
        str(tmp_path / "r.html"),
    )
    assert result.returncode == 0, result.stderr
    assert (
        "Ada" in result.stdout and (tmp_path / "r.csv").exists() and (tmp_path / "r.html").exists()
    )
    assert run_cli("report", str(tmp_path / "nothing-here")).returncode == 2


# -- signing in, in the app ----------------------------------------------------------------


async def test_sign_in_opens_the_learners_own_progress(tmp_path):
    from gradtutor.app import create_app
    from gradtutor.screens.browser import BrowserScreen
    from gradtutor.screens.signin import SignInScreen

    class_dir = tmp_path / "class"
    ClassRoom(class_dir).sign_in("Ada", "1234")
    app = create_app(pack_dirs=[PACKS / "valid"], class_dir=class_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        await pilot.press(*"ada", "tab", *"0000", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "not right" in str(app.screen.query_one("#sign-in-message").render())
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen) and app.learner_name == "Ada"
        assert app.store.home == ClassRoom(class_dir).home_of("Ada")
    events = [
        json.loads(line)["event"]
        for line in (class_dir / "activity.jsonl").read_text().splitlines()
    ]
    assert events == ["session-open", "wrong-pin", "signed-in"]
    assert not (class_dir / "progress.json").exists()  # no progress before a sign-in


def test_serve_says_when_it_cannot_listen(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("serve", "--class", str(tmp_path), "--port", str(port))
    assert result.returncode == 2 and "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_report_groups_mistakes_by_what_fired_and_draws_a_grid_in_pack_order(tmp_path):
    """Third edition, items 1-4: wrong answers with different drawn numbers group under
    the feedback entry (or diagnosis kind) that fired; mistakes from before keys group by
    their text with the numbers masked; the grid follows the pack's order, found from
    where the learners opened it; who has not been seen for a week is named."""
    import os
    import time

    from gradtutor.core.session import diagnosis_kind

    room = ClassRoom(tmp_path / "class")
    pack_dir = str(PACKS / "valid")
    answers = {"Ada": "3x^2", "Bob": "5x^4", "Cy": "7x^6"}  # three learners, three numbers
    for name, answer in answers.items():
        store = ProgressStore(room.sign_in(name, "1234").home)
        store.set_last("format-tour", "derivatives", pack_dir)
        store.record_answer(
            "format-tour",
            "derivatives",
            "square",
            False,
            mistake=(answer, f"Bring {answer[0]} down.", None, "feedback:x^(n - 1)"),
        )
    old = ProgressStore(room.sign_in("Dee", "1234").home)
    old.record_answer(
        "format-tour", "derivatives", "square", False, mistake=("2", None, "off by 3.5")
    )
    old.record_answer("format-tour", "derivatives", "grad-at-5", True)
    ProgressStore(room.sign_in("Eve", "1234").home).record_answer(
        "format-tour", "derivatives", "square", False, mistake=("9", None, "off by 12.25")
    )
    week_ago = time.time() - 8 * 86_400
    os.utime(room.home_of("Eve") / "progress.json", (week_ago, week_ago))
    report = build([tmp_path / "class"])  # no --pack: found from where they opened it
    (square,) = [s for s in report.exercises if s.exercise == "square"]
    assert square.groups["feedback:x^(n - 1)"] == 3
    assert len(square.examples["feedback:x^(n - 1)"]) == 2  # one or two examples
    masked = [g for g in square.groups if g.startswith("text:")]
    assert len(masked) == 1 and square.groups[masked[0]] == 2  # 3.5 and 12.25: one group
    from gradtutor.core.packs import load_pack

    pack = load_pack(PACKS / "valid").pack
    in_pack_order = [f"{le.id}/{ex.id}" for le in pack.lessons for ex in le.exercises]
    assert [f"{s.lesson}/{s.exercise}" for s in report.columns] == in_pack_order
    assert "chain-rule/sign" in [f"{s.lesson}/{s.exercise}" for s in report.untried]
    text = to_csv(report).removeprefix("\ufeff")
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["Dee"]["format-tour/derivatives/grad-at-5"] == "solved"
    assert rows["Dee"]["format-tour/derivatives/square"] == "tried"
    assert rows["Ada"]["format-tour/chain-rule/sign"] == ""
    assert "done:format-tour/derivatives" in rows["Ada"] and rows["Ada"]["last_active"]
    html = to_html(report)
    assert "Not seen for a week: Eve" in html and "Who is where" in html
    assert "background:#3a8f4a" in html  # a solved cell, coloured
    assert diagnosis_kind("right shape, but 0.1429 times the gradient. More.") == (
        "right shape, but # times the gradient."
    )


def test_a_roster_admits_only_its_names_issues_pins_and_carries_ids(tmp_path, monkeypatch):
    from gradtutor.core.classroom import NOT_ON_ROSTER
    from gradtutor.core.roster import read_roster

    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffid,name,pin\ns-1,Ada Lovelace,4711\ns-2,Bob,\n", encoding="utf-8")
    room = ClassRoom(tmp_path / "class")
    room.sign_in("Mallory", "1234")  # registered before the roster: no longer admitted
    assert room.import_roster(read_roster(roster)) == 1
    refused = room.sign_in("Mallory", "1234")
    assert not refused.ok and refused.message == NOT_ON_ROSTER
    assert not room.sign_in("Eve", "1234").ok  # not on it: no account is made
    assert [name for name, _ in room.members()] == ["Ada Lovelace", "Mallory"]  # no Eve
    assert not room.sign_in("ada lovelace", "0000").ok  # the issued PIN, not any
    ada = room.sign_in("  ADA  lovelace ", "4711")
    assert ada.ok and not ada.new
    bob = room.sign_in("Bob", "9999")  # no PIN issued: Bob chooses his own
    assert bob.ok and bob.new
    accounts = {
        json.loads((home / "account.json").read_text())["name"]: json.loads(
            (home / "account.json").read_text()
        ).get("id")
        for _, home in room.members()
    }
    assert accounts["Ada Lovelace"] == "s-1" and accounts["Bob"] == "s-2"
    _learner(ada.home, True)
    monkeypatch.setenv("GRADTUTOR_HOME", str(tmp_path / "bob-home"))
    _learner(tmp_path / "bob-home", True)
    export = tmp_path / "bob.json"
    assert (
        run_cli("progress", "--export", str(export), "--name", "Bob", "--id", "s-9").returncode == 0
    )
    report = build([tmp_path / "class", export])
    ids = {le.name: le.learner_id for le in report.learners}
    assert ids["Ada Lovelace"] == "s-1" and ids["Bob"] == "s-2"
    assert any("the export says id 's-9', the roster 's-2'" in w for w in report.warnings)
    rows = list(csv.DictReader(io.StringIO(to_csv(report).removeprefix("\ufeff"))))
    assert {r["learner"]: r["id"] for r in rows}["Ada Lovelace"] == "s-1"


def test_the_report_lists_the_whole_roster_and_who_never_signed_in(tmp_path):
    """The roster is the class: a learner on it who never opened a session is in the
    report (said so, with the roster's id), and an account from before the roster is
    listed with a warning that it cannot sign in."""
    from rich.console import Console

    from gradtutor.core.report import to_text_tables
    from gradtutor.core.roster import read_roster

    room = ClassRoom(tmp_path / "class")
    _learner(room.sign_in("Mallory", "1234").home, False)  # before the roster
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,pin\ns-1,Ada,4711\ns-2,Bob,\ns-3,Cleo,\n", encoding="utf-8")
    room.import_roster(read_roster(roster))
    ada = room.sign_in("Ada", "4711")
    _learner(ada.home, True)
    assert not room.sign_in("Mallory", "1234").ok
    cleo = room.sign_in("Cleo", "2222")  # an account, but no session was opened
    assert cleo.ok and not (cleo.home / "progress.json").exists()

    report = build([tmp_path / "class"])
    by_name = {le.name: le for le in report.learners}
    assert sorted(by_name) == ["Ada", "Bob", "Cleo", "Mallory"]
    assert [n for n, le in by_name.items() if le.never_signed_in] == ["Bob", "Cleo"]
    assert by_name["Bob"].learner_id == "s-2" and by_name["Cleo"].learner_id == "s-3"
    assert by_name["Bob"].last_seen == "never signed in" and by_name["Ada"].last_seen
    assert any(w.startswith("Mallory: not on the class roster") for w in report.warnings)
    assert not any("Ada: not on" in w or "Bob: not on" in w for w in report.warnings)

    console = Console(width=200, record=True)
    console.print(to_text_tables(report))
    assert "never signed in" in console.export_text()
    assert "Never signed in: Bob, Cleo" in to_html(report)
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO(to_csv(report).lstrip("\ufeff")))}
    assert rows["Bob"]["id"] == "s-2" and rows["Bob"]["last_active"] == ""
    assert rows["Bob"]["solved"] == "0" and rows["Ada"]["solved"] == "1"


@pytest.mark.parametrize(
    "text, says",
    [
        ("name\nAda\n", "id and name"),
        ("id,name\ns-1,Ada\ns-1,Bob\n", ":3: 'Bob' (s-1) is on the roster twice"),
        ("id,name,pin\ns-1,Ada,12\n", ":2: a PIN has"),
        ("id,name\n,Ada\n", ":2: an id of 1 to 80"),
    ],
)
def test_a_broken_roster_is_refused_at_its_line(tmp_path, text, says):
    from gradtutor.core.roster import read_roster

    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(ClassError, match=re.escape(says)):
        read_roster(path)
    result = run_cli("serve", "--class", str(tmp_path / "c"), "--roster", str(path), "--port", "0")
    assert result.returncode == 2 and says.strip(":").split(":")[-1].strip()[:10] in result.stderr
