"""The command line: version, new, progress, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from gradtutor import __version__
from gradtutor.core.progress import ProgressStore
from gradtutor.core.validate import validate_packs

from .conftest import PACKS, ROOT, run_cli

run = run_cli


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"gradtutor {__version__}"


def test_new_scaffolds_a_pack_that_validates_clean(tmp_path):
    target = tmp_path / "my-course"
    proc = run("new", str(target))
    assert proc.returncode == 0, proc.stderr
    report = validate_packs([target], deep=False)
    assert [p.format() for p in report.problems] == []
    pack = report.packs[0]
    assert pack.id == "my-course"
    kinds = {e.kind for e in pack.lessons[0].exercises}
    assert kinds == {"derivative", "value", "tensor", "choice"}


def test_new_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "x.txt").write_text("keep me")
    proc = run("new", str(tmp_path))
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert (tmp_path / "x.txt").read_text() == "keep me"


def test_progress_json_and_table(isolated_home):
    store = ProgressStore(isolated_home)
    store.record_attempt("format-tour", "derivatives", "square", correct=True)
    store.record_hint("format-tour", "derivatives", "grad-at-5", 1)
    proc = run("progress", "--json", "--pack", str(PACKS / "valid"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    lesson = doc["packs"]["format-tour"]["lessons"]["derivatives"]
    assert lesson["completed"] is False
    assert lesson["exercises"]["square"] == {
        "solved": True,
        "attempts": 1,
        "hints": 0,
        "revealed": False,
    }
    assert lesson["exercises"]["grad-at-5"]["hints"] == 1
    table = run("progress", "--pack", str(PACKS / "valid"))
    assert "derivatives" in table.stdout and "1/2 exercises" in table.stdout
    assert "waits for derivatives" in table.stdout


def test_progress_reset_needs_yes_without_a_terminal(isolated_home):
    store = ProgressStore(isolated_home)
    store.record_attempt("p", "l", "e", correct=True)
    refused = run("progress", "--reset", input="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert store.load().pack_ids() == ["p"]
    done = run("progress", "--reset", "p", "--yes")
    assert done.returncode == 0
    assert store.load().pack_ids() == []


def test_progress_reports_a_corrupt_file(isolated_home):
    (isolated_home / "progress.json").write_text("{oops")
    proc = run("progress", "--json")
    assert proc.returncode == 0
    assert "kept as" in proc.stderr
    assert list(isolated_home.glob("progress.corrupt-*.json"))


def test_unknown_subcommand_is_a_usage_error():
    assert run("frobnicate").returncode == 2


def test_tutor_refuses_a_directory_without_pack_toml(tmp_path):
    proc = run("--pack", str(tmp_path))
    assert proc.returncode == 2 and "not a pack" in proc.stderr


def test_the_wheel_ships_the_builtin_pack(tmp_path):
    """An installed copy finds lessons/ inside the package, not only in a checkout."""
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("gradtutor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "gradtutor/lessons/pack.toml",
        "gradtutor/lessons/07-sgd.md",
        "gradtutor/lessons/data/iris.csv",
    } <= names
    assert "gradtutor/app.tcss" in names
