"""The learner's view: nothing gives an answer away, the verdict is in sight, keys do
what the learner expects, variants are the learner's own."""

from __future__ import annotations

import json
import re

import pytest

from gradtutor.app import create_app
from gradtutor.core.checking import check_exercise
from gradtutor.core.packs import ChoiceExercise, load_pack
from gradtutor.core.progress import SCHEMA_VERSION, ProgressStore
from gradtutor.core.variants import learner_variant, option_order
from gradtutor.screens.lesson import LessonScreen
from gradtutor.widgets.exercise import PLACEHOLDERS, ExerciseView

from .conftest import PACKS, ROOT, run_cli, settle

BUILTIN = load_pack(ROOT / "lessons").pack
VALID = PACKS / "valid"


def examples(kind: str) -> list[str]:
    """The example answers a placeholder shows (after its colon, between commas or …)."""
    text = PLACEHOLDERS[kind].split(":", 1)[1].rstrip("…").replace("−", "-")
    if kind == "value":  # lists hold commas of their own
        return [e.strip() for e in re.findall(r"\[\[.*?\]\]|\[.*?\]|[^,\s][^,]*", text)]
    return [e.strip() for e in text.split(",") if e.strip()]


@pytest.mark.parametrize("kind", ["derivative", "value", "tensor"])
def test_no_placeholder_answers_an_exercise_of_the_builtin_pack(kind):
    exercises = [e for le in BUILTIN.lessons for e in le.exercises if e.kind == kind]
    assert exercises and examples(kind)
    for example in examples(kind):
        for ex in exercises:
            verdict = check_exercise(ex, example, symbolic=False)
            assert not verdict.correct, f"{example!r} answers {ex.address}"


def test_choice_options_are_in_each_learners_own_order():
    choices = [e for le in BUILTIN.lessons for e in le.exercises if isinstance(e, ChoiceExercise)]
    assert len(choices) >= 10
    for ex in choices:
        places = set()
        for learner in range(40):
            k = learner_variant(f"learner-{learner}", ex.address)
            order = option_order(ex, k)
            assert sorted(order) == list(range(len(ex.options)))
            places.add(next(i for i, o in enumerate(order) if ex.options[o].correct))
        assert len(places) > 1, ex.address
        assert option_order(ex, 0) == tuple(range(len(ex.options)))  # variant 0: authored


def test_show_and_check_agree_on_the_numbers_shown():
    ref = "chain-rule/order"
    for k in (0, 1, 7, 12345):
        shown = json.loads(
            run_cli(
                "show", "--pack", "lessons", "--exercise", ref, "--variant", str(k), "--json"
            ).stdout
        )
        assert shown["variant"] == k and shown["params"] == {}
        right = next(i for i, t in enumerate(shown["options"], 1) if t.startswith("The outer 2u"))
        proc = run_cli(
            "check", str(right), "--pack", "lessons", "--exercise", ref, "--variant", str(k)
        )
        assert proc.returncode == 0, (k, proc.stdout)
        lines = json.dumps({"answer": str(right), "exercise": ref, "variant": k})
        batch = run_cli("check", "--pack", "lessons", "--batch", "-", input=lines + "\n")
        assert json.loads(batch.stdout)["verdict"] == "correct"
    bad = run_cli("show", "--pack", "lessons", "--exercise", ref, "--variant", "-1")
    assert bad.returncode == 2 and "variant" in bad.stderr


def test_a_version_1_file_migrates_keeping_every_field(tmp_path):
    old = {
        "version": 1,
        "packs": {
            "p": {
                "note": "kept",
                "lessons": {
                    "l": {
                        "completed": True,
                        "exercises": {
                            "e": {
                                "solved": True,
                                "attempts": 4,
                                "hints": 2,
                                "revealed": True,
                                "x": 1,
                            }
                        },
                    }
                },
            }
        },
        "last": {"pack": "p", "lesson": "l"},
        "mine": [1, 2],
    }
    raw = json.dumps(old)
    (tmp_path / "progress.json").write_text(raw)
    store = ProgressStore(tmp_path)
    store.start()
    data = json.loads((tmp_path / "progress.json").read_text())
    assert data["version"] == SCHEMA_VERSION and re.fullmatch(r"[0-9a-f]{16}", data["learner"])
    for key in ("packs", "last", "mine"):
        assert _keeps(data[key], old[key]), key
    # version 3: rounds, with the one round so far a copy of the totals
    record = data["packs"]["p"]["lessons"]["l"]["exercises"]["e"]
    assert record["round"] == 0 and record["variants_solved"] == 1
    assert record["current"] == {"solved": True, "attempts": 4, "hints": 2, "revealed": True}
    assert (tmp_path / "progress.v1.json").read_text() == raw
    learner = data["learner"]
    ProgressStore(tmp_path).start()  # a second start keeps the id and the copy
    assert json.loads((tmp_path / "progress.json").read_text())["learner"] == learner
    assert len(list(tmp_path.glob("progress.v1*.json"))) == 1


def _keeps(new, old):
    """Every field of `old` is in `new` with the same value (new fields may be added)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and _keeps(new[k], v) for k, v in old.items())
    return new == old


def test_a_new_learner_gets_an_id_that_stays(tmp_path):
    store = ProgressStore(tmp_path)
    first = store.load().learner
    store.start()
    assert ProgressStore(tmp_path).load().learner == first != ""


def test_completion_is_recorded_and_stays_when_a_lesson_gains_exercises(tmp_path):
    pack = load_pack(VALID).pack
    lesson = pack.lesson("derivatives")
    ids = tuple(e.id for e in lesson.exercises)
    store = ProgressStore(tmp_path)
    for ex in ids:
        store.record_attempt(pack.id, lesson.id, ex, True, ids)
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert doc["packs"][pack.id]["lessons"]["derivatives"]["completed"] is True
    # the lesson gains an exercise: it stays completed, and the next one stays open
    from gradtutor.core.progress import lesson_states

    grown = ids + ("new-one",)
    assert store.load().lesson_completed(pack.id, "derivatives")
    states = lesson_states(pack, store.load())
    assert states["derivatives"].status == "done" and states["chain-rule"].status != "locked"
    assert grown  # (the pack itself is unchanged here; the flag is what counts)


# ----------------------------------------------------------------------------- the interface


async def test_the_verdict_is_in_view_after_enter_at_80x24(isolated_home):
    app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await pilot.press("pagedown")
        await settle(pilot)
        view = screen.query(ExerciseView).first()
        assert app.focused is view.answer_field and screen.in_view(view.answer_field)
        await pilot.press(*"x", "enter")
        await settle(pilot)
        await pilot.pause()
        verdict = view.query_one(".verdict")
        assert "Not quite" in str(verdict.render())
        assert screen.in_view(verdict) and screen.in_view(view.answer_field)


async def test_the_verdict_dims_once_the_answer_changes(isolated_home):
    app = create_app(pack_dirs=[VALID], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query(ExerciseView).first()
        await pilot.press("x", "enter")
        await settle(pilot)
        verdict = view.query_one(".verdict")
        assert not verdict.has_class("-stale")
        await pilot.press("+")
        await settle(pilot)
        assert verdict.has_class("-stale") and "previous answer" in str(verdict.render())
        await pilot.press("backspace")
        await settle(pilot)
        assert not verdict.has_class("-stale")


async def test_one_decision_is_one_attempt(isolated_home):
    ProgressStore(isolated_home).mark_completed("format-tour", "derivatives")
    app = create_app(pack_dirs=[VALID], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        choice = app.screen.query(ExerciseView).first()
        order = option_order(choice.exercise, choice.variant)
        wrong = str(
            next(i for i, k in enumerate(order, 1) if not choice.exercise.options[k].correct)
        )
        await pilot.press(wrong)
        await settle(pilot)
        await pilot.press("enter")  # the same option, again
        await settle(pilot)
    rec = ProgressStore(isolated_home).load().exercise("format-tour", "chain-rule", "sign")
    assert rec.attempts == 1


async def test_the_same_answer_twice_is_checked_once(isolated_home):
    app = create_app(pack_dirs=[VALID], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    rec = ProgressStore(isolated_home).load().exercise("format-tour", "derivatives", "square")
    assert rec.attempts == 1


async def test_reopening_a_lesson_shows_the_exercise_that_has_focus(isolated_home):
    lesson = BUILTIN.lesson("chain-rule")
    store = ProgressStore(isolated_home)
    store.mark_completed(BUILTIN.id, "derivatives")
    first, second = lesson.exercises[0], lesson.exercises[1]
    store.record_attempt(BUILTIN.id, lesson.id, first.id, True)
    app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_lesson(BUILTIN, lesson)
        await settle(pilot)
        await pilot.pause()
        screen = app.screen
        views = list(screen.query(ExerciseView))
        assert views[1].exercise.id == second.id
        assert app.focused is views[1].answer_field and screen.in_view(views[1].answer_field)
        # whatever has focus is on screen, wherever the lesson is scrolled
        for _ in range(12):
            await pilot.press("pagedown")
            await settle(pilot)
            focused = app.focused
            assert focused is screen.body or screen.in_view(focused)


async def test_unlock_all_opens_every_lesson_and_writes_nothing(isolated_home):
    app = create_app(pack_dirs=[VALID], home=isolated_home, unlock_all=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        pack = app.packs[0]
        assert all(s.status != "locked" for s in app.states(pack).values())
        app.open_lesson(pack, pack.lesson("network"))
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "network"
    assert not (isolated_home / "progress.json").exists()


async def test_the_palette_lists_locked_lessons_with_what_they_wait_for(isolated_home):
    from gradtutor.commands import LessonCommands

    app = create_app(pack_dirs=[VALID], home=isolated_home)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        commands = LessonCommands(app.screen)._commands()
        helps = {name: help_text for name, _, help_text in commands}
        assert "locked: complete Derivatives first" in helps["Open lesson: The chain rule"]


def test_progress_says_where_a_pack_was_last_opened(isolated_home, tmp_path):
    ProgressStore(isolated_home).set_last("elsewhere", "l", tmp_path / "my-pack")
    proc = run_cli("progress", "--pack", str(VALID))
    assert f"last opened from {tmp_path / 'my-pack'}" in proc.stdout


# ----------------------------------------------------------------------------- the stepper


async def test_stepper_keys_say_what_they_did(isolated_home):
    from gradtutor.core.sizes import NetworkSize

    app = create_app(pack_dirs=[VALID], home=isolated_home, stepper=NetworkSize())
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("u")
        await settle(pilot)
        assert "no gradients to step with" in str(screen.query_one("#notes").render())
        for _ in range(4):
            await pilot.press("right")
            await settle(pilot)
        labels = [v.tensor_name for v in screen.query("#results TensorView")]
        assert "out" in labels and "y" in labels  # what out.g is predicted from
        for _ in range(2):  # into the backward pass
            await pilot.press("right")
            await settle(pilot)
        w2 = screen.stepper.current.grads["w2"].clone()
        await pilot.press("a")  # finishes this pass: one pass's worth, not two
        await settle(pilot)
        assert screen.stepper.position == 0
        assert bool((screen.stepper.current.grads["w2"] == w2).all())
        await pilot.press("a")
        await settle(pilot)
        assert bool((screen.stepper.current.grads["w2"] - 2 * w2).abs().max() < 1e-12)
        await pilot.press("t")
        await settle(pilot)
        assert "loss over" in str(screen.query_one("#loss-text").render())
        await pilot.press("r")
        await settle(pilot)
        assert "draws its curve here" in str(screen.query_one("#loss-text").render())
        assert not screen.query_one("#loss-curve").display


@pytest.mark.parametrize("width", [30, 36, 44, 60])
def test_tensor_rows_never_wrap(width):
    import torch

    from gradtutor.core.summary import summarize
    from gradtutor.widgets.tensor_view import render_summary

    gen = torch.Generator().manual_seed(0)
    for shape in [(3, 5), (5,), (4, 12), (12,), (6, 8), (1,), ()]:
        t = torch.randn(shape, generator=gen, dtype=torch.float64) / 7
        text = render_summary("w1.grad", summarize(t), False, width)
        for line in text.plain.splitlines():
            assert len(line) <= width, (shape, width, line)


def test_a_first_edition_learner_keeps_every_completed_lesson(tmp_path):
    """Lessons gained exercises in the second edition: completed ones stay completed,
    and nothing a first-edition learner could open is locked now."""
    from gradtutor.core.progress import FIRST_EDITION, lesson_states

    done = [
        "derivatives",
        "chain-rule",
        "autograd-linear",
        "accumulate-zero-update",
        "manual-backprop",
        "adaline",
    ]
    lessons = {
        lesson: {
            "completed": False,
            "exercises": {
                e: {"solved": True, "attempts": 1} for e in FIRST_EDITION[BUILTIN.id][lesson]
            },
        }
        for lesson in done
    }
    lessons["sgd"] = {
        "completed": False,
        "exercises": {"point-grad": {"solved": True, "attempts": 2}},
    }
    (tmp_path / "progress.json").write_text(
        json.dumps({"version": 1, "packs": {BUILTIN.id: {"lessons": lessons}}, "last": None})
    )
    store = ProgressStore(tmp_path)
    store.start()
    states = lesson_states(BUILTIN, store.load())
    for lesson in done:
        assert states[lesson].status == "done", lesson
    assert states["sgd"].status == "in progress"  # it was open then; open now
    assert states["gradient-check"].status == "open"


def test_show_full_count_and_a_learners_own_variant(tmp_path):
    """Third edition, item 12: hints, solution and feedback of a variant; how many
    distinct variants there are; and what one learner (by id, or by name in a class)
    sees, the same numbers the tutor shows them."""
    from gradtutor.core.classroom import ClassRoom
    from gradtutor.core.packs import load_pack
    from gradtutor.core.progress import ProgressStore
    from gradtutor.core.variants import learner_k, variant_of

    ref = "chain-rule/square-of-line"
    full = json.loads(
        run_cli(
            "show", "--pack", "lessons", "--exercise", ref, "--full", "--count", "--json"
        ).stdout
    )
    assert full["hints"] and full["solution"] and full["feedback"][0]["match"]
    assert full["variants"] == 16  # a in 2..5, b in 1..4: counted, not guessed
    exercise = load_pack(ROOT / "lessons").pack.lesson("chain-rule").exercise("square-of-line")
    by_id = json.loads(
        run_cli("show", "--pack", "lessons", "--exercise", ref, "--learner", "abc", "--json").stdout
    )
    assert by_id["params"] == variant_of(exercise, learner_k(exercise, "abc", 0)).params
    room = ClassRoom(tmp_path / "class")
    home = room.sign_in("Grace Hopper", "2468").home
    store = ProgressStore(home)
    store.record_reveal("backprop-from-scratch", "chain-rule", "square-of-line")
    _, began = store.fresh_variant("backprop-from-scratch", "chain-rule", "square-of-line")
    assert began  # round 1
    learner = store.load().learner
    by_name = json.loads(
        run_cli(
            "show",
            "--pack",
            "lessons",
            "--exercise",
            ref,
            "--name",
            "grace hopper",
            "--class",
            str(tmp_path / "class"),
            "--json",
        ).stdout
    )
    assert by_name["variant"] == learner_k(exercise, learner, 1)
    assert by_name["learner"] == "Grace Hopper, round 1"
    assert (
        json.loads(
            run_cli(
                "show", "--pack", "lessons", "--exercise", "chain-rule/order", "--count", "--json"
            ).stdout
        )["variants"]
        == 6
    )  # three options: 3! orders
