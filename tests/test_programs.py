"""Program exercises: the language walked (never run as Python), the checks against
torch autograd in float64, the diagnoses, the limits, the command line and the editor."""

from __future__ import annotations

import json

import pytest
import torch

from gradtutor.core.checking import check_exercise
from gradtutor.core.packs import load_pack
from gradtutor.core.proglang import (
    MAX_STATEMENTS,
    ProgramError,
    parse_header,
    parse_program,
    run_program,
)

from .conftest import PACKS, ROOT, run_cli, settle

PACK = load_pack(ROOT / "lessons").pack
LESSON = PACK.lesson("write-backward")
CUSTOM = load_pack(PACKS / "programs").pack.lesson("code")
F64 = torch.float64

MSE = "inp.g = 2. * (inp.squeeze(-1) - targ).unsqueeze(-1) / inp.shape[0]"
FASTAI_MSE = "inp.g = 2. * (inp.squeeze() - targ).unsqueeze(-1) / inp.shape[0]"
RELU = "inp.g = (inp > 0).float() * out.g"
LIN = "inp.g = out.g @ w.t()\nw.g = inp.t() @ out.g\nb.g = out.g.sum(0)"
FORWARD_AND_BACKWARD = """
l1 = inp @ w1 + b1
l2 = l1.clamp_min(0.)
out = l2 @ w2 + b2
mse_grad(out, targ)
lin_grad(l2, out, w2, b2)
relu_grad(l1, l2)
lin_grad(inp, l1, w1, b1)
"""


def check(exercise_id: str, answer: str, accepted=None, lesson=LESSON):
    return check_exercise(lesson.exercise(exercise_id), answer, accepted=accepted)


# -- against autograd, computed here ----------------------------------------------------


def _headers():
    return {
        "mse_grad": parse_header("def mse_grad(inp, targ):"),
        "relu_grad": parse_header("def relu_grad(inp, out):"),
        "lin_grad": parse_header("def lin_grad(inp, out, w, b):"),
    }


def test_the_learners_functions_agree_with_torch_autograd_in_float64():
    """The reference programs, run by our interpreter, against loss.backward() in torch."""
    headers = _headers()
    library = {
        name: parse_program(headers[name], code, headers)
        for name, code in (("mse_grad", MSE), ("relu_grad", RELU), ("lin_grad", LIN))
    }
    whole = parse_program(
        parse_header("def forward_and_backward(inp, targ, w1, b1, w2, b2):"),
        FORWARD_AND_BACKWARD,
        headers,
    )
    gen = torch.Generator().manual_seed(7)
    n, d, h = 6, 4, 5
    tensors = {
        "inp": torch.randn(n, d, generator=gen, dtype=F64),
        "targ": torch.randn(n, generator=gen, dtype=F64),
        "w1": torch.randn(d, h, generator=gen, dtype=F64),
        "b1": torch.randn(h, generator=gen, dtype=F64),
        "w2": torch.randn(h, 1, generator=gen, dtype=F64),
        "b2": torch.randn(1, generator=gen, dtype=F64),
    }
    mine = {k: v.clone() for k, v in tensors.items()}
    run_program(whole, mine, library)
    leaves = {k: v.clone().requires_grad_(k != "targ") for k, v in tensors.items()}
    out = torch.relu(leaves["inp"] @ leaves["w1"] + leaves["b1"]) @ leaves["w2"] + leaves["b2"]
    ((out.squeeze(-1) - leaves["targ"]) ** 2).mean().backward()
    for name in ("inp", "w1", "b1", "w2", "b2"):
        assert torch.allclose(mine[name].g, leaves[name].grad, rtol=1e-10, atol=1e-12), name


def test_the_reference_solutions_and_fastais_mse_grad_are_correct():
    for ex in LESSON.exercises:
        if ex.kind == "program":
            verdict = check(ex.id, ex.solution_code)
            assert verdict.correct, (ex.id, verdict.message)
            assert "4 shape sets" in verdict.message or "shape sets" in verdict.message
    assert check("mse-grad", FASTAI_MSE).correct


@pytest.mark.parametrize(
    "exercise, answer, says",
    [
        ("mse-grad", "inp.g = (inp.squeeze(-1) - targ).unsqueeze(-1)", "times the gradient"),
        ("mse-grad", "inp.g = 2 * (inp - targ) / inp.shape[0]", "broadcast against each other"),
        ("mse-grad", "inp.g = 2 * (inp.squeeze(-1) - targ) / inp.shape[0]", "reshape it"),
        ("mse-grad", "inp.g = 2 * (targ - inp.squeeze(-1)).unsqueeze(-1) / inp.shape[0]", "sign"),
        ("mse-grad", "x = 1", "never set"),
        ("relu-grad", "inp.g = out.g", "mask (inp > 0) missing"),
        ("relu-grad", "inp.g = (inp < 0).float() * out.g", "wrong way round"),
        (
            "lin-grad",
            "inp.g = out.g @ w\nw.g = inp.T @ out.g\nb.g = out.g.sum(0)",
            "cannot be multiplied",
        ),
        ("lin-grad", "inp.g = out.g @ w.T\nw.g = out.g.T @ inp\nb.g = out.g.sum(0)", "transposed"),
        ("lin-grad", "inp.g = out.g @ w.T\nw.g = inp.T @ out.g\nb.g = out.g", "Sum over the batch"),
        (
            "lin-grad",
            "inp.g = out.g @ w.T\nw.g = inp.T @ out.g\nb.g = out.g.sum(1)",
            "wrong dimension",
        ),
        (
            "lin-grad",
            "inp.g = out.g @ w.T\nw.g = inp.T @ out.g\nb.g = out.g.mean(0)",
            "average where a sum",
        ),
        ("lin-grad", "inp.g = out.g @ w.T\nw.g = inp.T @ out.g", "b.g is wrong"),
    ],
)
def test_typical_wrong_programs_get_the_right_diagnosis(exercise, answer, says):
    verdict = check(exercise, answer)
    assert verdict.verdict == "incorrect", verdict.message
    assert says in verdict.message, verdict.message
    assert "shapes" in verdict.message  # the shapes it failed on are named


def test_a_forgotten_step_in_forward_and_backward_is_named_where_it_breaks():
    skipped = FORWARD_AND_BACKWARD.replace("relu_grad(l1, l2)\n", "")
    verdict = check("forward-and-backward", skipped)
    assert verdict.verdict == "incorrect"
    assert "in `lin_grad`, called here with inp = inp" not in verdict.message
    assert (
        "called here with out = l1" in verdict.message
        and "`out.g` is not set yet" in verdict.message
    )


def test_uses_run_the_learners_own_code_or_say_the_reference_ran():
    address = "backprop-from-scratch/write-backward/lin-grad"
    alone = check("forward-and-backward", FORWARD_AND_BACKWARD)
    assert alone.correct and "reference solution ran in its place" in alone.message
    wrong_lin = "inp.g = out.g @ w.T\nw.g = inp.T @ out.g\nb.g = out.g.mean(0)"
    mine = check("forward-and-backward", FORWARD_AND_BACKWARD, accepted={address: wrong_lin})
    assert mine.verdict == "incorrect" and "b1.g" in mine.message or "b2.g" in mine.message
    theirs = {
        "backprop-from-scratch/write-backward/mse-grad": FASTAI_MSE,
        "backprop-from-scratch/write-backward/relu-grad": RELU,
        address: LIN,
    }
    verdict = check("forward-and-backward", FORWARD_AND_BACKWARD, accepted=theirs)
    assert verdict.correct and "reference" not in verdict.message


def test_returns_literal_shapes_and_the_sum_of_two_paths():
    assert check(
        "sigmoid-grad", "s = sigmoid(inp)\nreturn s * (1 - s) * out.g", lesson=CUSTOM
    ).correct
    wrong = check("sigmoid-grad", "return sigmoid(inp) * out.g", lesson=CUSTOM)
    assert wrong.verdict == "incorrect" and "inp.g is wrong" in wrong.message
    nothing = check("sigmoid-grad", "s = sigmoid(inp)", lesson=CUSTOM)
    assert "returned nothing" in nothing.message
    replaced = check("square-twice", "x.g = y\nx.g = 1 + 0 * x\ny.g = x", lesson=CUSTOM)
    assert "set twice with `=`" in replaced.message and "+=" in replaced.message
    added = check("square-twice", "x.g = y\nx.g += 1\ny.g = x", lesson=CUSTOM)
    assert added.correct
    calls = check(
        "two-sigmoids",
        "mid = sigmoid(inp)\nmid.g = sigmoid_grad(mid, out)\ninp.g = sigmoid_grad(inp, mid)",
        lesson=CUSTOM,
    )
    assert calls.correct


def test_shape_sets_differ_in_every_dimension_and_one_has_a_dimension_of_one():
    from gradtutor.core.checking.program import shape_sets

    sets = shape_sets(LESSON.exercise("lin-grad"))
    distinct = [s for s in sets if 1 not in s.values()]
    assert len(distinct) >= 3 and all(len(set(s.values())) == len(s) for s in distinct)
    assert {name for s in sets for name, v in s.items() if v == 1} == {"n", "d_in", "h"}


# -- the language, and what it refuses --------------------------------------------------

HEADER = parse_header("def lin_grad(inp, out, w, b):")


@pytest.mark.parametrize(
    "program, says",
    [
        ("import os", "an import"),
        ("x = __import__('os')", "not a function"),
        ("inp.g = inp.__class__", "attribute `.__class__`"),
        ("inp.g = inp.__class__.__mro__", "attribute"),
        ("inp.g = out.g.grad_fn", "attribute `.grad_fn`"),
        ("for i in inp: pass", "a loop"),
        ("while True: pass", "a loop"),
        ("if inp: pass", "`if`"),
        ("inp.g = lambda: 1", "lambda"),
        ("inp.g = [i for i in inp]", "ListComp"),
        ("inp.g = eval('1')", "not a function"),
        ("inp.g = open('/etc/passwd')", "not a function"),
        ("relu(inp)", "throws it away"),
        ("inp.g = out.g @ w.T\n" * (MAX_STATEMENTS + 1), f"at most {MAX_STATEMENTS}"),
        ("inp.g = " + "relu(" * 60 + "inp" + ")" * 60, "nested too deeply"),
        ("inp.g = " + "-" * 100 + "inp", "nested too deeply"),
        ("inp.g = inp.shape", "one dimension at a time"),
        ("inp.g == out", "throws it away"),
        ("x += 1", "no value yet"),
        ("a, b = inp, out", "one target"),
    ],
)
def test_hostile_and_unknown_code_is_refused_with_a_line_and_column(program, says):
    with pytest.raises(ProgramError) as caught:
        parse_program(HEADER, program, {"lin_grad": HEADER})
    assert says in str(caught.value), str(caught.value)
    assert caught.value.line is not None or "at most" in str(caught.value)


def test_a_refused_program_is_invalid_and_costs_no_attempt():
    verdict = check("lin-grad", "import torch")
    assert verdict.verdict == "invalid" and not verdict.spends_attempt


def test_a_function_cannot_call_itself_and_calls_nest_boundedly():
    with pytest.raises(ProgramError, match="cannot call itself"):
        parse_program(HEADER, "lin_grad(inp, out, w, b)", {"lin_grad": HEADER})
    with pytest.raises(ProgramError, match="not a function"):
        parse_program(HEADER, "inp.g = lin_grad(inp, out, w, b)", {"lin_grad": HEADER})
    # the library of an exercise holds only earlier exercises: no cycle can be written
    whole = LESSON.exercise("forward-and-backward")
    assert [f.exercise.rsplit("/", 1)[1] for f in whole.library] == [
        "mse-grad",
        "relu-grad",
        "lin-grad",
    ]


def test_huge_intermediate_results_are_refused_before_they_are_computed():
    big = parse_program(
        HEADER,
        "t = inp.unsqueeze(0) * inp.unsqueeze(1)\nu = t.unsqueeze(0) * t.unsqueeze(1)\ninp.g = u.sum(0).sum(0).sum(0)",
    )
    inp = torch.randn(300, 300, dtype=F64)
    with pytest.raises(ProgramError, match="too large"):
        run_program(big, {"inp": inp, "out": inp, "w": inp, "b": inp})


# -- the command line and validate ------------------------------------------------------


def test_check_reads_a_program_from_a_file_and_from_a_batch(tmp_path):
    code = tmp_path / "lin.py"
    lin_grad = ["check", "--pack", str(ROOT / "lessons"), "--exercise", "write-backward/lin-grad"]
    code.write_text(LIN + "\n")
    ok = run_cli(*lin_grad, "--file", str(code))
    assert ok.returncode == 0 and "Correct" in ok.stdout
    code.write_text("inp.g = out.g @ w\n")
    bad = run_cli(*lin_grad, "--file", str(code), "--json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["verdict"] == "incorrect"
    lines = "\n".join(
        json.dumps({"exercise": "write-backward/relu-grad", "answer": a})
        for a in (RELU, "inp.g = out.g", "import os")
    )
    batch = tmp_path / "batch.jsonl"
    batch.write_text(lines + "\n")
    graded = run_cli("check", "--pack", str(ROOT / "lessons"), "--batch", str(batch))
    verdicts = [json.loads(line)["verdict"] for line in graded.stdout.splitlines()]
    assert verdicts == ["correct", "incorrect", "invalid"]


def test_validate_runs_every_solution_code_and_reports_a_wrong_one_at_its_line(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(PACKS / "programs", pack)
    lesson = pack / "01-code.md"
    text = lesson.read_text()
    lesson.write_text(text.replace("x.g = y + 1\n", "x.g = y\n"))
    result = run_cli("validate", str(pack))
    assert result.returncode == 1
    line = next(
        i
        for i, t in enumerate(lesson.read_text().splitlines(), 1)
        if t.startswith("solution_code") and i > 20
    )
    assert f"01-code.md:{line}:" in result.stdout and "solution_code" in result.stdout
    assert "x.g is wrong" in result.stdout or "set twice" in result.stdout or "x.g" in result.stdout


def test_program_exercises_need_format_3(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(PACKS / "programs", pack)
    (pack / "pack.toml").write_text(
        (pack / "pack.toml").read_text().replace("format = 3", "format = 2")
    )
    result = run_cli("validate", str(pack))
    assert result.returncode == 1 and "format = 3" in result.stdout


# -- the editor --------------------------------------------------------------------------


async def test_the_editor_checks_on_ctrl_s_and_esc_gives_tab_back_at_80x24(isolated_home):
    from gradtutor.app import create_app
    from gradtutor.core.progress import ProgressStore
    from gradtutor.widgets.exercise import ExerciseView
    from gradtutor.widgets.program import ProgramEditor

    ProgressStore(isolated_home).mark_completed("backprop-from-scratch", "manual-backprop")
    app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pack = app.packs[0]
        app.open_lesson(pack, pack.lesson("write-backward"))
        await settle(pilot)
        first = app.screen.query(ExerciseView).first()
        first.focus_answer()
        await settle(pilot)
        editor = first.query_one(ProgramEditor)
        assert app.screen.focused is editor
        await pilot.press("x", "enter", "tab")  # Enter: a new line; Tab: an indent, not a move
        assert app.screen.focused is editor and editor.text.startswith("x\n ")
        editor.text = MSE
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert first.status == "solved"
        verdict = first.query_one(".verdict")
        assert app.screen.in_view(verdict) and "Correct" in str(verdict.render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen.focused, ProgramEditor)
        await pilot.press("pagedown")  # the lesson's keys again: on to the next exercise
        await settle(pilot)
        focused = app.screen.focused
        assert isinstance(focused, ProgramEditor) and focused is not editor
        assert app.screen.in_view(focused)
    record = (
        ProgressStore(isolated_home)
        .load()
        .exercise("backprop-from-scratch", "write-backward", "mse-grad")
    )
    assert record.solved and record.program == MSE


# -- the stepper with the learner's own functions ---------------------------------------


def test_a_stepper_block_runs_the_learners_functions_and_compares_them_live():
    from gradtutor.core.packs import StepperBlock
    from gradtutor.core.stepper import Stepper

    (block,) = [s for s in LESSON.segments if isinstance(s, StepperBlock)]
    assert block.manual == "learner"
    assert [f.header for f in block.library] == [
        "def mse_grad(inp, targ):",
        "def relu_grad(inp, out):",
        "def lin_grad(inp, out, w, b):",
    ]
    headers = _headers()

    def stepper(lin: str) -> list[tuple[str, float, tuple[str, ...]]]:
        codes = {"mse_grad": FASTAI_MSE, "relu_grad": RELU, "lin_grad": lin}
        programs = {n: parse_program(headers[n], c, headers) for n, c in codes.items()}
        s = Stepper(4, 3, 5, 0, 0.01, programs)
        steps = [s.forward() for _ in range(8)]
        return [(x.node, x.max_diff, x.notes) for x in steps if x.phase == "backward"]

    good = stepper(LIN)
    assert all(diff < 1e-12 for _, diff, _ in good)
    assert all(any("your" in n for n in notes) for _, _, notes in good)
    averaged = stepper(LIN.replace("sum(0)", "mean(0)"))
    by_node = {node: diff for node, diff, _ in averaged}
    assert by_node["lin2"] > 1e-3 and by_node["lin1"] > 1e-3 and by_node["relu"] < 1e-12
    broken = stepper("inp.g = out.g @ w")  # fails at run time: the reference stands in
    notes = {node: notes for node, _, notes in broken}
    assert any("your lin_grad failed here" in n for n in notes["lin2"])


def test_uses_must_name_an_earlier_program_exercise(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(PACKS / "programs", pack)
    lesson = pack / "01-code.md"
    lesson.write_text(lesson.read_text().replace('uses = ["sigmoid-grad"]', 'uses = ["later-one"]'))
    result = run_cli("validate", str(pack))
    assert (
        result.returncode == 1 and '"later-one" is not a program exercise earlier' in result.stdout
    )


async def test_the_stepper_block_runs_only_the_learners_own_accepted_functions(isolated_home):
    """A learner who solved lin_grad (here with a slip the checker would have caught in
    another round) sees their own lin_grad compared live; the others run built in."""
    from gradtutor.app import create_app
    from gradtutor.core.packs import StepperBlock
    from gradtutor.core.progress import ProgressStore

    averaged = LIN.replace("sum(0)", "mean(0)")
    ProgressStore(isolated_home).record_answer(
        "backprop-from-scratch", "write-backward", "lin-grad", True, program=averaged
    )
    app = create_app(pack_dirs=[ROOT / "lessons"], home=isolated_home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        (block,) = [s for s in LESSON.segments if isinstance(s, StepperBlock)]
        app.open_block(block)
        await settle(pilot)
        screen = app.screen
        assert sorted(screen.programs) == ["lin_grad"]
        assert screen.sub_title == "your backward pass"
        for _ in range(6):  # four forward steps, then mse and the second layer
            await pilot.press("right")
            await settle(pilot)
        snap = screen.stepper.current
        assert snap.node == "lin2" and snap.max_diff > 1e-3
        assert "manual: your lin_grad" in snap.notes
