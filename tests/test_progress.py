"""Progress: atomic writes, corrupt files kept aside, concurrent writers, unlocking."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from multiprocessing import get_context
from pathlib import Path

import pytest

from gradtutor.core.packs import load_pack
from gradtutor.core.progress import (
    SCHEMA_VERSION,
    ProgressStore,
    first_unfinished,
    lesson_states,
    progress_report,
)

from .conftest import PACKS


def test_attempts_hints_reveals_are_recorded(tmp_path):
    store = ProgressStore(tmp_path)
    store.record_attempt("p", "l", "e", correct=False)
    store.record_attempt("p", "l", "e", correct=True)
    store.record_attempt("p", "l", "e", correct=False)  # solved stays solved
    store.record_hint("p", "l", "e", 2)
    store.record_hint("p", "l", "e", 1)  # never fewer hints than shown
    store.record_reveal("p", "l", "e2")
    rec = ProgressStore(tmp_path).load().exercise("p", "l", "e")
    assert (rec.solved, rec.attempts, rec.hints, rec.revealed) == (True, 3, 2, False)
    other = ProgressStore(tmp_path).load().exercise("p", "l", "e2")
    assert other.revealed and not other.solved
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert doc["version"] == SCHEMA_VERSION
    assert doc["packs"]["p"]["lessons"]["l"]["exercises"]["e"]["attempts"] == 3


def test_no_temporary_files_are_left(tmp_path):
    store = ProgressStore(tmp_path)
    for _ in range(5):
        store.record_attempt("p", "l", "e", correct=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["progress.json", "progress.json.lock"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'{"version": 1, "packs": []}',
        b'{"version": 99, "packs": {}}',
    ],
)
def test_corrupt_file_is_kept_aside_and_reported_once(tmp_path, content):
    (tmp_path / "progress.json").write_bytes(content)
    store = ProgressStore(tmp_path)
    progress = store.load()
    assert progress.pack_ids() == []
    kept = list(tmp_path.glob("progress.corrupt-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    notices = store.take_notices()
    assert len(notices) == 1 and str(kept[0]) in notices[0]
    assert store.take_notices() == []
    store.record_attempt("p", "l", "e", correct=True)
    assert ProgressStore(tmp_path).load().exercise("p", "l", "e").solved
    assert len(list(tmp_path.glob("progress.corrupt-*.json"))) == 1


def _writer_forever(home: str) -> None:
    store = ProgressStore(Path(home))
    i = 0
    while True:
        i += 1
        store.record_attempt("pack", f"lesson{i % 7}", f"ex{i % 13}", correct=i % 3 == 0)


def test_killed_writer_never_leaves_an_unloadable_file(tmp_path):
    """A writer killed at random moments, hundreds of times: the file always loads."""
    rng = random.Random(1234)
    store = ProgressStore(tmp_path)
    store.record_attempt("pack", "lesson0", "ex0", correct=False)
    kills = 0
    for _ in range(300):
        pid = os.fork()
        if pid == 0:  # the child writes until it is killed
            try:
                _writer_forever(str(tmp_path))
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, 0.004))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        fresh = ProgressStore(tmp_path)
        data = json.loads((tmp_path / "progress.json").read_text())
        assert data["version"] == SCHEMA_VERSION
        fresh.load()
        assert fresh.take_notices() == []
    assert kills == 300
    assert not list(tmp_path.glob("progress.corrupt-*"))


def _add_attempts(home: str, who: int, count: int) -> None:
    store = ProgressStore(Path(home))
    for i in range(count):
        store.record_attempt("pack", "lesson", "shared", correct=False)
        store.record_attempt("pack", "lesson", f"own{who}", correct=i == count - 1)


def test_two_concurrent_writers_lose_no_update(tmp_path):
    ctx = get_context("fork")
    procs = [ctx.Process(target=_add_attempts, args=(str(tmp_path), who, 150)) for who in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    progress = ProgressStore(tmp_path).load()
    assert progress.exercise("pack", "lesson", "shared").attempts == 300
    for who in (1, 2):
        rec = progress.exercise("pack", "lesson", f"own{who}")
        assert rec.attempts == 150 and rec.solved


def test_reset_one_pack_or_all(tmp_path):
    store = ProgressStore(tmp_path)
    store.record_attempt("a", "l", "e", correct=True)
    store.record_attempt("b", "l", "e", correct=True)
    store.set_last("a", "l")
    store.reset("a")
    progress = store.load()
    assert progress.pack_ids() == ["b"] and progress.last is None
    store.reset()
    assert store.load().pack_ids() == []


def test_unlocking_is_a_pure_function_of_pack_and_progress(tmp_path):
    pack = load_pack(PACKS / "valid").pack
    store = ProgressStore(tmp_path)
    states = lesson_states(pack, store.load())
    assert states["derivatives"].status == "open"
    assert states["chain-rule"].status == "locked"
    assert states["chain-rule"].waits_for == ("derivatives",)
    assert states["network"].waits_for == ("derivatives", "chain-rule")

    store.record_attempt(pack.id, "derivatives", "square", correct=True)
    states = lesson_states(pack, store.load())
    assert states["derivatives"].status == "in progress"
    assert states["derivatives"].solved == 1 and states["derivatives"].total == 2
    assert states["chain-rule"].status == "locked"

    progress = store.record_attempt(pack.id, "derivatives", "grad-at-5", correct=True)
    states = lesson_states(pack, progress)
    assert states["derivatives"].status == "done"
    assert states["chain-rule"].status == "open"
    assert states["network"].waits_for == ("chain-rule",)
    assert first_unfinished(pack, progress).id == "chain-rule"
    # the same inputs give the same answer, and nothing was written by asking
    before = (tmp_path / "progress.json").read_bytes()
    assert lesson_states(pack, progress) == states
    assert (tmp_path / "progress.json").read_bytes() == before


def test_lesson_without_exercises_completes_by_flag(tmp_path):
    pack = load_pack(PACKS / "valid").pack
    store = ProgressStore(tmp_path)
    progress = store.mark_completed(pack.id, "network")
    assert lesson_states(pack, progress)["network"].status == "done"


def test_report_schema(tmp_path):
    pack = load_pack(PACKS / "valid").pack
    store = ProgressStore(tmp_path)
    store.record_attempt(pack.id, "derivatives", "square", correct=True)
    store.record_attempt("gone-pack", "l", "e", correct=False)
    report = progress_report([pack], store.load())
    square = report["packs"][pack.id]["lessons"]["derivatives"]["exercises"]["square"]
    assert square == {"solved": True, "attempts": 1, "hints": 0, "revealed": False}
    assert report["packs"][pack.id]["lessons"]["network"] == {"completed": False, "exercises": {}}
    assert report["packs"]["gone-pack"]["lessons"]["l"]["exercises"]["e"]["attempts"] == 1
