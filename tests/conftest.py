"""Shared fixtures: an isolated GRADTUTOR_HOME, pack writers, the repository paths."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# A busy machine must not fail a test: no per-example deadline, no "too slow" health check.
settings.register_profile("gradtutor", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gradtutor")

ROOT = Path(__file__).resolve().parent.parent
PACKS = Path(__file__).resolve().parent / "packs"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes progress into its own directory, never the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GRADTUTOR_HOME", str(home))
    return home


def write_pack(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write a pack from a mapping of relative path to text (dedented) or bytes."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_pack(tmp_path):
    """A factory: make_pack({"pack.toml": ..., "01.md": ...}) -> the pack directory."""
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes]) -> Path:
        return write_pack(tmp_path / f"pack{next(counter)}", files)

    return make


async def settle(pilot) -> None:
    """Wait for the app's workers (checks, previews, saves, steps) and the messages they post."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot, condition, turns: int = 2000) -> None:
    """Let the app run until `condition()` holds: waits on state, never on the clock."""
    for _ in range(turns):
        if condition():
            return
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    raise AssertionError("the condition never held")


VALID_PACK_EXERCISES = (
    ("derivatives", "square"),
    ("derivatives", "grad-at-5"),
    ("chain-rule", "sign"),
    ("chain-rule", "b2"),
)


def fixed_learner(home: Path, learner: str = "0123456789abcdef") -> None:
    """A progress file with a known learner id: the learner's variants (option orders)
    are then the same on every run, as snapshots need."""
    import json

    from gradtutor.core.progress import SCHEMA_VERSION

    (home / "progress.json").write_text(
        json.dumps({"version": SCHEMA_VERSION, "learner": learner, "packs": {}, "last": None})
    )


def learner_seeing(exercise, params: dict) -> str:
    """A learner id whose first variant of `exercise` draws exactly `params` (so that a
    test can type the answer of those numbers)."""
    from gradtutor.core.variants import learner_k, variant_of

    for i in range(10_000):
        learner = f"{i:016x}"
        if variant_of(exercise, learner_k(exercise, learner, 0)).params == params:
            return learner
    raise AssertionError(f"no learner sees {params}")


def solve_valid_pack(home: Path) -> None:
    """Record every exercise of tests/packs/valid as solved, so its last lesson opens."""
    from gradtutor.core.progress import ProgressStore

    store = ProgressStore(home)
    for lesson, exercise in VALID_PACK_EXERCISES:
        store.record_attempt("format-tour", lesson, exercise, correct=True)


def run_cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """`python -m gradtutor ARGS` from the repository root, in the test's GRADTUTOR_HOME."""
    return subprocess.run(
        [sys.executable, "-m", "gradtutor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=input,
    )


def source_sgd_start() -> tuple[float, float, float]:
    """The SGD lesson's start, by the source's own recipe (global seed, float32):
    the first loss, w.grad and b.grad. An independent truth for the training code."""
    import torch

    torch.manual_seed(0)
    x = torch.arange(-5, 5, 0.1).view(-1, 1)
    y = -5 * x + 0.4 * torch.randn(x.size())
    w = torch.tensor(-10.0, requires_grad=True)
    b = torch.tensor(-20.0, requires_grad=True)
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    return float(loss.detach()), float(w.grad), float(b.grad)


def work_of(fn) -> int:
    """How many function calls `fn()` makes (Python and C): a measure of work that, unlike
    a stopwatch, does not change when the machine is busy. Exceptions count as done."""
    import sys

    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        fn()
    except Exception:
        pass
    finally:
        sys.setprofile(None)
    return calls
