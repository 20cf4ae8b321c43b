"""The stepper and training screens through Pilot, and a snapshot at a backward step."""

from __future__ import annotations

import torch

from gradtutor.app import create_app
from gradtutor.core.packs import TrainingBlock, load_pack
from gradtutor.core.sizes import NetworkSize
from gradtutor.screens.lesson import LessonScreen
from gradtutor.screens.stepper import StepperScreen
from gradtutor.screens.training import TrainingScreen

from .conftest import PACKS, settle, solve_valid_pack


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def stepper_app(home):
    return create_app(pack_dirs=[PACKS / "valid"], home=home, stepper=NetworkSize(4, 3, 5, 0))


def grad_text(screen, leaf: str) -> str:
    return str(screen.query_one(f"#grad-{leaf}").render())


async def test_step_forward_and_back(isolated_home):
    app = stepper_app(isolated_home)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepperScreen)
        await press(pilot, "right", "right", "right", "right")
        assert screen.stepper.current.node == "mse" and screen.stepper.current.phase == "forward"
        assert "None" in grad_text(screen, "w2")
        assert "MeanBackward0" in str(screen.query_one("#graph").root.children[0].label)
        await press(pilot, "right", "right")
        assert screen.stepper.current.node == "lin2"
        assert "None" not in grad_text(screen, "w2") and "None" in grad_text(screen, "w1")
        assert screen.query_one("#grad-w2").has_class("-changed")
        await press(pilot, "left")
        assert screen.stepper.current.node == "mse" and "None" in grad_text(screen, "w2")
        await press(pilot, "right", "right", "right")
        assert screen.stepper.current.node == "lin1" and "None" not in grad_text(screen, "w1")


async def test_zero_accumulate_update_reset(isolated_home):
    app = stepper_app(isolated_home)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        await press(pilot, *["right"] * 8)
        once = screen.stepper.current.grads["w1"].clone()
        await press(pilot, "a")
        assert torch.allclose(screen.stepper.current.grads["w1"], 2 * once)
        await press(pilot, "z")
        assert all(v is None for v in screen.stepper.current.grads.values())
        assert "None" in grad_text(screen, "w1")
        await press(pilot, *["right"] * 8, "u")
        losses = screen.stepper.losses
        assert len(losses) == 2 and losses[1] < losses[0]
        assert screen.query_one("#loss-curve").display
        await press(pilot, "t")
        assert len(screen.stepper.losses) == 12
        await press(pilot, "r")
        assert screen.stepper.seed == 1 and screen.stepper.current.phase == "reset"


async def test_predict_before_a_backward_step(isolated_home):
    app = stepper_app(isolated_home)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert not screen.query_one("#predict").display
        await press(pilot, *["right"] * 4)
        assert screen.query_one("#predict").display
        await press(pilot, "p")
        await pilot.press(*"2*(out.squeeze(-1) - y).unsqueeze(-1)/4", "enter")
        await settle(pilot)
        assert "Correct" in str(screen.query_one("#prediction").render())
        assert screen.stepper.current.phase == "backward" and screen.stepper.current.node == "mse"
        # the field keeps focus for the next prediction: its letters never fire bindings
        assert app.focused is screen.query_one("#predict")
        losses_before = list(screen.stepper.losses)
        await pilot.press(*"out_g.T @ l2", "enter")
        await settle(pilot)
        assert "shape (5, 1)" in str(screen.query_one("#prediction").render())
        assert screen.stepper.losses == losses_before  # no `u` (update) fired
        assert screen.stepper.current.phase == "backward" and screen.stepper.current.node == "lin2"


async def test_stepper_block_in_a_lesson_opens_the_stepper(isolated_home):
    solve_valid_pack(isolated_home)
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "network"
        await pilot.click("Button")
        await settle(pilot)
        assert isinstance(app.screen, StepperScreen)
        assert app.screen.stepper.sizes == (4, 3, 5) and app.screen.stepper.seed == 1
        await press(pilot, "escape")
        assert isinstance(app.screen, LessonScreen)


async def test_training_view(isolated_home):
    pack = load_pack(PACKS / "valid").pack
    block = [s for s in pack.lesson("network").segments if isinstance(s, TrainingBlock)][0]
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_training(block)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        status = str(screen.query_one("#training-status").render())
        assert "methods agree" in status
        assert len(screen.query(".loss-curve")) == 3


def test_snapshot_at_a_backward_step(snap_compare, isolated_home):
    async def run_before(pilot):
        await settle(pilot)
        for _ in range(6):
            await pilot.press("right")
            await settle(pilot)

    assert snap_compare(stepper_app(isolated_home), terminal_size=(110, 45), run_before=run_before)
