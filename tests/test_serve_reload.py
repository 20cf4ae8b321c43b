"""Packs that change mid-term: `serve` serves a validated copy, and a saved edit reaches
new sessions only after `serve --reload` (or SIGHUP) validates it; a broken edit is
refused with its errors in the serve log, the old copy still served.

Waits are on the server's own log lines (state), with a generous outer limit."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

from gradtutor.core.served import COPY_FAILED, current_pack_dirs, publish, server_pid

from .conftest import PACKS, run_cli
from .test_serve_browser import Served, _wait


def test_publish_refuses_a_pack_that_does_not_validate(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACKS / "valid", pack)
    first, problems = publish(tmp_path / "class", [pack])
    assert first is not None and not problems
    (served,) = current_pack_dirs(tmp_path / "class")
    assert (served / "pack.toml").read_text() == (pack / "pack.toml").read_text()
    lesson = next(pack.glob("01-*.md"))
    lesson.write_text(lesson.read_text().replace("```exercise", "```exercise\nid = = 1", 1))
    again, problems = publish(tmp_path / "class", [pack])
    assert again is None and any("not valid TOML" in p for p in problems)
    assert current_pack_dirs(tmp_path / "class") == [served]  # the old copy, still


def test_publish_refuses_a_copy_that_fails_and_leaves_nothing_half_copied(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACKS / "valid", pack)
    os.mkfifo(pack / "data" / "pipe")  # opening it to copy would wait for a writer
    published, problems = publish(tmp_path / "class", [pack])
    assert published is None and len(problems) == 1
    assert problems[0].startswith(COPY_FAILED) and "pipe is not a regular file" in problems[0]
    assert not [p for p in (tmp_path / "class" / "served").iterdir()]
    result = run_cli("serve", "--pack", str(pack), "--class", str(tmp_path / "class"))
    assert result.returncode == 2 and "could not be copied; nothing is served" in result.stderr


@contextlib.contextmanager
def _serving(tmp_path) -> Iterator[tuple[Path, Path, Served, Path]]:
    """A copy of the valid pack served: (the pack, the class, the server, the copy)."""
    pack = tmp_path / "pack"
    shutil.copytree(PACKS / "valid", pack)
    class_dir = tmp_path / "class"
    server = Served(tmp_path, pack, class_dir)
    try:
        _wait(lambda: server_pid(class_dir), "the server to say its process")
        (served,) = current_pack_dirs(class_dir)
        yield pack, class_dir, server, served
    finally:
        server.stop()


def _said(server: Served, text: str) -> int:
    return sum(text in line for line in server.log)


def test_serve_reload_publishes_a_valid_edit_and_refuses_a_broken_one(tmp_path):
    with _serving(tmp_path) as (pack, class_dir, server, served):
        manifest = pack / "pack.toml"
        manifest.write_text(manifest.read_text().replace('version = "', 'version = "9', 1))
        assert 'version = "9' not in (current_pack_dirs(class_dir)[0] / "pack.toml").read_text()
        reload = run_cli("serve", "--reload", "--class", str(class_dir))
        assert reload.returncode == 0, reload.stderr
        _wait(lambda: _said(server, "reloaded"), "the reload")
        (now,) = current_pack_dirs(class_dir)
        assert now != served and 'version = "9' in (now / "pack.toml").read_text()
        lesson = next(pack.glob("01-*.md"))
        lesson.write_text(lesson.read_text().replace("```exercise", "```exercise\nid = = 1", 1))
        os.kill(server.process.pid, signal.SIGHUP)  # the same, by signal
        _wait(lambda: _said(server, "reload refused"), "the refusal")
        assert _said(server, "not valid TOML")
        assert current_pack_dirs(class_dir) == [now]  # the previous version, still served


def test_reload_without_a_server_says_so(tmp_path):
    result = run_cli("serve", "--reload", "--class", str(tmp_path / "nobody"))
    assert result.returncode == 2 and "no server is running" in result.stderr


def test_a_reload_that_fails_is_said_and_the_server_serves_on(tmp_path):
    """A copy that fails midway (a named pipe in the pack: never copied, never waited
    on) is said in the log and leaves nothing behind; the server keeps serving the last
    good copy; SIGHUPs sent in a burst afterwards publish the fixed pack."""
    with _serving(tmp_path) as (pack, class_dir, server, served):
        os.mkfifo(pack / "data" / "pipe")
        os.kill(server.process.pid, signal.SIGHUP)
        _wait(lambda: _said(server, "could not be copied"), "the failure")
        assert _said(server, "pipe is not a regular file")
        assert server.process.poll() is None and server.listening()
        leftovers = [p for p in (class_dir / "served").iterdir() if p.name.startswith("gen-")]
        assert leftovers == [served.parent]  # no half copy left behind
        assert current_pack_dirs(class_dir) == [served]
        (pack / "data" / "pipe").unlink()
        for _ in range(3):
            os.kill(server.process.pid, signal.SIGHUP)
        _wait(lambda: _said(server, "reloaded"), "the reload")
        assert server.process.poll() is None and server.listening()
        assert current_pack_dirs(class_dir) != [served]
