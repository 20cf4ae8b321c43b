"""A class's accounts against a hostile world: overflowing slow-downs, lock-outs and the
way back, one-time PINs, tampered account files, and a log no visitor can flood."""

from __future__ import annotations

import json
import os

import pytest

from gradtutor.core.classroom import (
    FREE_FAILURES,
    LOG_PER_ADDRESS,
    LOG_TOTAL,
    MAX_WAIT,
    ONE_TIME_PIN_DAYS,
    UNREADABLE,
    ClassRoom,
    lockout_wait,
    safe_text,
)
from gradtutor.core.progress import ProgressStore
from gradtutor.core.report import build

from .conftest import PACKS, run_cli, settle


def _account(room: ClassRoom, name: str) -> dict:
    return json.loads((room.home_of(name) / "account.json").read_text(encoding="utf-8"))


def _events(room: ClassRoom) -> list[dict]:
    path = room.directory / "activity.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- the slow-down ---------------------------------------------------------------------


def test_the_wait_never_overflows_and_a_right_pin_waits_too(tmp_path):
    room = ClassRoom(tmp_path)
    assert room.sign_in("Ada", "1234", now=0).ok
    account = _account(room, "Ada")
    account["failures"] = 1100  # past 2.0 ** 1024, which raised OverflowError
    (room.home_of("Ada") / "account.json").write_text(json.dumps(account))
    outcome = room.sign_in("Ada", "0000", now=10)
    assert not outcome.ok and outcome.wait == MAX_WAIT
    assert _account(room, "Ada")["failures"] == 1101  # counted, and written
    assert not room.sign_in("Ada", "1234", now=11).ok  # the right PIN waits as well
    assert room.sign_in("Ada", "1234", now=10 + MAX_WAIT + 1).ok
    assert lockout_wait(10**9) == MAX_WAIT and lockout_wait(FREE_FAILURES - 1) == 0


def test_a_lock_out_names_the_addresses_for_the_instructor(tmp_path):
    room = ClassRoom(tmp_path)
    assert room.sign_in("Ada", "1234", now=0).ok
    outcomes = [
        room.sign_in("Ada", "0000", now=100 * i, address=f"10.0.0.{i}")
        for i in range(1, FREE_FAILURES + 1)
    ]
    assert outcomes[-1].locked_out == tuple(f"10.0.0.{i}" for i in range(1, FREE_FAILURES + 1))
    assert not any(o.locked_out for o in outcomes[:-1])
    report = build([tmp_path], [PACKS / "valid"])
    assert any("Ada" in w and "10.0.0.2" in w and "--reset-pin" in w for w in report.warnings)
    result = run_cli("report", str(tmp_path), "--pack", str(PACKS / "valid"))
    assert "10.0.0.3" in result.stdout and "Traceback" not in result.stderr


# -- one-time PINs -----------------------------------------------------------------------


def test_a_one_time_pin_lets_the_owner_choose_a_new_pin(tmp_path):
    room = ClassRoom(tmp_path)
    home = room.sign_in("Ada", "1234", now=0).home
    ProgressStore(home).record_answer("p", "l", "e", True)
    one_time = room.reset_pin("Ada", now=1000)
    assert one_time is not None and len(one_time) >= 8
    assert "1234" not in (home / "account.json").read_text()
    assert not room.sign_in("Ada", "1234", now=1001).ok  # the old PIN is gone
    assert not room.sign_in("Ada", "9999", now=1002).ok  # nobody else chooses one
    ok = room.sign_in("Ada", one_time, now=1003)
    assert ok.ok and ok.choose_pin and ok.home == home
    # a session that ends here leaves the one-time PIN valid
    again = room.sign_in("Ada", one_time.lower(), now=1004)
    assert again.ok and again.choose_pin
    assert not room.choose_pin("Ada", one_time, one_time).ok  # not the one-time PIN itself
    assert not room.choose_pin("Ada", "WRONGPIN", "5678").ok
    chosen = room.choose_pin("Ada", one_time, "5678", now=1005)
    assert chosen.ok and chosen.home == home
    assert room.sign_in("Ada", "5678", now=1006).ok
    assert not room.sign_in("Ada", one_time, now=1007).ok  # used: gone
    assert ProgressStore(home).load().exercise("p", "l", "e").solved
    assert [e["event"] for e in _events(room)].count("pin-reset") == 1


def test_a_one_time_pin_expires_and_is_slowed_down_like_a_pin(tmp_path):
    room = ClassRoom(tmp_path)
    room.sign_in("Ada", "1234", now=0)
    one_time = room.reset_pin("Ada", now=0)
    late = room.sign_in("Ada", one_time, now=ONE_TIME_PIN_DAYS * 86400 + 1)
    assert not late.ok and "expired" in late.message
    one_time = room.reset_pin("Ada", now=0)
    for i in range(FREE_FAILURES):
        room.sign_in("Ada", "GUESS" + str(i), now=i)
    held = room.sign_in("Ada", one_time, now=FREE_FAILURES)
    assert not held.ok and "wait" in held.message.lower()


def test_an_account_in_the_old_reset_state_needs_a_one_time_pin(tmp_path):
    room = ClassRoom(tmp_path)
    home = room.sign_in("Ada", "1234", now=0).home
    account = _account(room, "Ada")
    for key in ("hash", "salt"):
        del account[key]  # how the second edition's --reset-pin left it
    (home / "account.json").write_text(json.dumps(account))
    outcome = room.sign_in("Ada", "5678", now=1)
    assert not outcome.ok and "one-time PIN" in outcome.message
    assert "hash" not in _account(room, "Ada")  # nobody registered over it
    one_time = room.reset_pin("Ada")
    assert room.sign_in("Ada", one_time).choose_pin


# -- account files that are not what they claim ----------------------------------------------

TAMPERED = {
    "not JSON": b"{not json",
    "a list": b"[1, 2, 3]",
    "no hash, no name": b'{"failures": 0}',
    "a hash without salt": None,
    "a hash that is not hex": None,
    "failures as text": None,
    "locked_until as text": None,
    "deep JSON": b"[" * 100_000,
    "empty": b"",
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_an_unreadable_account_is_refused_kept_and_repaired_by_a_reset(tmp_path, case):
    room = ClassRoom(tmp_path)
    home = room.sign_in("Ada", "1234", now=0).home
    ProgressStore(home).record_answer("p", "l", "e", True)
    account = _account(room, "Ada")
    raw = TAMPERED[case]
    if raw is None:
        if case == "a hash without salt":
            del account["salt"]
        elif case == "a hash that is not hex":
            account["hash"] = "zz" * 32
        elif case == "failures as text":
            account["failures"] = "many"
        else:
            account["locked_until"] = "soon"
        raw = json.dumps(account).encode()
    (home / "account.json").write_bytes(raw)
    for pin in ("1234", "9999"):
        outcome = room.sign_in("Ada", pin, now=5)
        assert not outcome.ok and outcome.message == UNREADABLE and outcome.unreadable
    assert (home / "account.json").read_bytes() == raw  # kept as it is
    report = build([tmp_path], [PACKS / "valid"])
    assert any("cannot be read" in w for w in report.warnings)
    one_time = room.reset_pin("Ada")
    assert one_time and room.sign_in("Ada", one_time).choose_pin
    assert room.choose_pin("Ada", one_time, "4321").ok
    assert room.sign_in("Ada", "4321").ok
    assert ProgressStore(home).load().exercise("p", "l", "e").solved


def test_a_fifo_as_account_is_refused_at_once(tmp_path):
    room = ClassRoom(tmp_path)
    home = room.sign_in("Ada", "1234").home
    (home / "account.json").unlink()
    os.mkfifo(home / "account.json")
    outcome = room.sign_in("Ada", "1234")  # would block for ever on open()
    assert not outcome.ok and outcome.unreadable


async def _refused_at_sign_in(class_dir, name: str, pin: str) -> str:
    """Sign in on the sign-in screen at 80×24; the message of a refusal (which keeps
    the screen signing in)."""
    from textual.widgets import Static

    from gradtutor.app import create_app
    from gradtutor.screens.signin import SignInScreen

    app = create_app(pack_dirs=[PACKS / "valid"], class_dir=class_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*name, "tab", *pin, "enter")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        return str(app.screen.query_one("#sign-in-message", Static).render())


async def test_no_tampered_account_leaves_the_screen_signing_in(tmp_path):
    class_dir = tmp_path / "class"
    home = ClassRoom(class_dir).sign_in("Ada", "1234").home
    (home / "account.json").write_text('{"name": "Ada", "folded": "ada", "hash": "ab"}')
    assert await _refused_at_sign_in(class_dir, "Ada", "1234") == UNREADABLE


async def test_signing_in_with_a_one_time_pin_in_the_app(tmp_path):
    from gradtutor.app import create_app
    from gradtutor.screens.browser import BrowserScreen

    class_dir = tmp_path / "class"
    room = ClassRoom(class_dir)
    room.sign_in("Ada", "1234")
    one_time = room.reset_pin("Ada")
    app = create_app(pack_dirs=[PACKS / "valid"], class_dir=class_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"Ada", "tab", *one_time, "enter")
        await settle(pilot)
        assert app.screen.one_time == one_time and not app.learner_name
        await pilot.press(*"2468", "enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen) and app.learner_name == "Ada"
    assert room.sign_in("Ada", "2468").ok and not room.sign_in("Ada", one_time).ok


# -- the activity log ----------------------------------------------------------------------


def test_a_refused_name_is_never_logged_in_clear(tmp_path):
    room = ClassRoom(tmp_path)
    huge = "x" * 1_000_000
    room.log_refused(huge, "10.0.0.1")
    room.log_refused("1234\u202e\x1b[31m", "10.0.0.1")  # a PIN typed as a name, bidi, ESC
    text = (tmp_path / "activity.jsonl").read_text(encoding="utf-8")
    assert len(text) < 1_000 and "xxxx" not in text and "1234" not in text
    assert "\u202e" not in text and "\x1b" not in text and "\\u001b" not in text
    first, second = _events(room)
    assert first["name_length"] == 1_000_000 and len(first["name_hash"]) == 12
    assert second["event"] == "refused" and "name" not in second


def test_accepted_names_are_logged_safely():
    assert safe_text("Ada\u202e\x1b]52;c;x\x07 Lovelace") == (
        "Ada\\u{202e}\\u{001b}]52;c;x\\u{0007} Lovelace"
    )
    assert safe_text("  a\n=2+3 ") == "a =2+3"


def test_a_visitor_cannot_grow_the_log_without_bound(tmp_path):
    room = ClassRoom(tmp_path)
    for _ in range(LOG_PER_ADDRESS * 3):
        room.log("session-open", address="10.0.0.1", signed_in=False)
        room.log_refused("someone", "10.0.0.1")
    assert len(_events(room)) == LOG_PER_ADDRESS
    for i in range(LOG_TOTAL * 2):
        room.log("session-open", address=f"10.1.{i // 250}.{i % 250}", signed_in=False)
    assert len(_events(room)) <= LOG_TOTAL
    room.log("signed-in", "Ada")  # a learner's own events are not limited
    assert _events(room)[-1]["event"] == "signed-in"


# -- the sign-in screen offers nothing else ------------------------------------------------


async def test_a_long_paste_into_the_name_or_pin_is_cut_at_once(tmp_path):
    from textual import events
    from textual.widgets import Input

    from gradtutor.app import create_app
    from gradtutor.core.sizes import MAX_NAME_CHARS, MAX_PIN_CHARS

    app = create_app(pack_dirs=[PACKS / "valid"], class_dir=tmp_path / "class")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        name = app.screen.query_one("#sign-in-name", Input)
        name.post_message(events.Paste("A" * 64_000))
        await settle(pilot)
        assert name.value == "A" * MAX_NAME_CHARS
        for _ in range(200):  # typed one by one, past the limit: nothing more goes in
            await pilot.press("b")
        assert len(name.value) == MAX_NAME_CHARS
        await pilot.press("tab")
        pin = app.screen.query_one("#sign-in-pin", Input)
        pin.post_message(events.Paste("9" * 64_000))
        await settle(pilot)
        assert len(pin.value) <= MAX_PIN_CHARS


ANSWERED = ("derivative", "value", "tensor")


async def test_answer_fields_take_at_most_what_their_language_reads(isolated_home):
    from gradtutor.app import create_app
    from gradtutor.core import mathlang, tensorlang, valuelang
    from gradtutor.core.kinds import KINDS
    from gradtutor.widgets.inputs import AnswerInput

    lengths = {k.name: k.answer_chars for k in KINDS.values() if k.name in ANSWERED}
    assert lengths == {
        "derivative": mathlang.MAX_LENGTH,
        "value": valuelang.MAX_LENGTH,
        "tensor": tensorlang.MAX_LENGTH,
    }
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home, unlock_all=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pack = app.packs[0]
        app.open_lesson(pack, pack.lessons[0])
        await settle(pilot)
        fields = list(app.screen.query(AnswerInput))
        assert fields and all(f.max_length in lengths.values() for f in fields)


async def test_a_session_left_on_the_sign_in_screen_ends(tmp_path, monkeypatch):
    from gradtutor.app import create_app
    from gradtutor.screens.signin import SignInScreen

    monkeypatch.setattr(SignInScreen, "idle_limit", 0.01)
    app = create_app(pack_dirs=[PACKS / "valid"], class_dir=tmp_path / "class")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(2000):  # wait on state: the app has been told to exit
            if app._exit_renderables or not app.is_running or app.return_code is not None:
                break
            await pilot.pause(0.01)
    assert app.return_code is not None


async def test_the_palette_before_sign_in_offers_only_help_and_quit(tmp_path):
    from gradtutor.app import create_app
    from gradtutor.commands import LessonCommands
    from gradtutor.screens.signin import SignInScreen

    app = create_app(pack_dirs=[PACKS / "valid"], class_dir=tmp_path / "class")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert titles == {"Help", "Quit"}
        assert LessonCommands._commands(LessonCommands(app.screen)) == []
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"open lesson")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        app.open_lesson(app.packs[0], app.packs[0].lessons[0])
        app.open_stepper()
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
    assert not (tmp_path / "class" / "learners").exists()


def test_the_instructor_is_told_through_the_serve_log(monkeypatch):
    from gradtutor.core.classroom import tell_instructor

    read_end, write_end = os.pipe()
    monkeypatch.setenv("GRADTUTOR_SERVE_LOG_FD", str(write_end))
    tell_instructor("Ada: 3 wrong PINs in a row, from 10.0.0.7\x1b[2J")
    os.close(write_end)
    line = os.read(read_end, 4096).decode()
    os.close(read_end)
    assert "gradtutor serve: Ada: 3 wrong PINs in a row, from 10.0.0.7" in line
    assert "\x1b" not in line


async def test_a_name_not_on_the_roster_is_told_so_on_the_sign_in_screen(tmp_path):
    from gradtutor.core.classroom import NOT_ON_ROSTER
    from gradtutor.core.roster import RosterEntry

    class_dir = tmp_path / "class"
    ClassRoom(class_dir).import_roster([RosterEntry("s-1", "Ada", "4711")])
    assert await _refused_at_sign_in(class_dir, "Mallory", "1234") == NOT_ON_ROSTER
