"""Hostile and unlucky packs: control characters, huge files, links out of the pack,
oversized networks and runs. Every problem at a FILE:LINE, never a traceback, and no
pack text reaching the terminal raw."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gradtutor.core import sizes
from gradtutor.core.packs import StepperBlock, load_pack
from gradtutor.core.validate import validate_packs

from .conftest import run_cli

PACK = 'id = "p"\ntitle = "P"\nversion = "1"\n'
ESC_TITLE = 'id = "p"\ntitle = "Pack\\u001b[2J\\u001b[HPWNED"\nversion = "1"\n'
RAW_ESC = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def lesson(body: str = "", front: str = 'id = "one"\ntitle = "One"') -> str:
    return f"+++\n{front}\n+++\n\n{body}"


def block(kind: str, toml: str) -> str:
    return lesson(f"Prose.\n\n```{kind}\n{toml}\n```\n")


DERIVATIVE = 'id = "d"\nkind = "derivative"\nprompt = "{prompt}"\nfunction = "tanh(x)"\nwrt = "x"'


def problems_of(directory: Path, deep: bool = False) -> list:
    return list(validate_packs([directory], deep=deep).problems)


# ----------------------------------------------------------------------------- 1. control characters


def test_an_escape_sequence_in_the_title_is_an_error_and_never_in_the_model(make_pack):
    directory = make_pack({"pack.toml": ESC_TITLE, "01.md": lesson()})
    problems = problems_of(directory)
    esc = [p for p in problems if "ESC" in p.message]
    assert esc and esc[0].path.name == "pack.toml" and (esc[0].line, esc[0].col) == (2, 14)
    result = load_pack(directory)
    assert "\x1b" not in result.pack.title and "PWNED" in result.pack.title


def test_osc52_in_a_prompt_is_reported_at_its_column(make_pack):
    prompt = "Copy \\u001b]52;c;aGk=\\u0007 this"
    directory = make_pack(
        {"pack.toml": PACK, "01.md": block("exercise", DERIVATIVE.format(prompt=prompt))}
    )
    problems = [p for p in problems_of(directory) if "control character" in p.message]
    assert len(problems) == 2  # the ESC and the BEL
    assert all(p.path.name == "01.md" and p.line == 11 for p in problems)
    line = f'prompt = "{prompt}"'
    assert [p.col for p in problems] == [line.index("\\u001b") + 1, line.index("\\u0007") + 1]


def test_tab_escape_in_tanh_is_reported_with_the_literal_string_advice(make_pack):
    directory = make_pack(
        {
            "pack.toml": PACK,
            "01.md": block("exercise", DERIVATIVE.format(prompt="Differentiate \\tanh(x)")),
        }
    )
    problems = [p for p in problems_of(directory) if "TAB" in p.message]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.col) == (11, 25) and problem.severity == "error"
    assert "single quotes ('...')" in problem.message and '"\\tanh"' in problem.message


def test_a_literal_string_with_tanh_is_clean(make_pack):
    toml = DERIVATIVE.replace('prompt = "{prompt}"', "prompt = 'Differentiate $\\tanh(x)$'")
    directory = make_pack({"pack.toml": PACK, "01.md": block("exercise", toml)})
    assert problems_of(directory) == []


def test_unescaped_backslash_suggests_a_literal_string(make_pack):
    toml = DERIVATIVE.format(prompt="Differentiate \\\\sigma").replace("\\\\\\\\", "\\\\")
    toml = DERIVATIVE.replace('"{prompt}"', '"Differentiate $\\sigma(x)$"')
    directory = make_pack({"pack.toml": PACK, "01.md": block("exercise", toml)})
    problems = problems_of(directory)
    assert any("Unescaped" in p.message and "single quotes" in p.message for p in problems)


def test_raw_control_characters_in_prose_are_errors_and_stripped(make_pack):
    text = lesson("A line\x1b[31m with colour\nand a bell \x07 here\n")
    directory = make_pack({"pack.toml": PACK, "01.md": text})
    problems = [p for p in problems_of(directory) if "control character" in p.message]
    assert [(p.line, p.col) for p in problems] == [(6, 7), (7, 12)]
    prose = load_pack(directory).pack.lessons[0].segments[0].text
    assert "\x1b" not in prose and "\x07" not in prose and "colour" in prose


def test_tabs_and_windows_line_ends_in_prose_are_fine(make_pack):
    text = lesson("Some\tprose\nover two lines\n").replace("\n", "\r\n")
    directory = make_pack({"pack.toml": PACK, "01.md": text.encode()})
    assert problems_of(directory) == []


@pytest.mark.parametrize("command", ["validate", "progress"])
def test_commands_never_print_control_characters(command, make_pack, isolated_home):
    directory = make_pack({"pack.toml": ESC_TITLE, "01.md": lesson("x\x1b]52;c;aGk=\x07\n")})
    proc = (
        run_cli(command, "--pack", str(directory))
        if command == "progress"
        else run_cli(command, str(directory))
    )
    assert "Traceback" not in proc.stderr
    assert not RAW_ESC.search(proc.stdout + proc.stderr)
    if command == "validate":
        assert proc.returncode == 1 and "ESC" in proc.stdout


def test_check_never_prints_control_characters_of_an_answer():
    proc = run_cli("check", "x\x1b[2J", "--of", "x^2", "--wrt", "x")
    assert proc.returncode == 1 and not RAW_ESC.search(proc.stdout + proc.stderr)
    assert "control character" in proc.stdout


# ----------------------------------------------------------------------------- 2. sizes


def test_a_huge_lesson_is_refused_at_line_1_with_its_size(make_pack):
    body = lesson("x" * (sizes.MAX_LESSON_BYTES + 10))
    directory = make_pack({"pack.toml": PACK, "01.md": body})
    problems = problems_of(directory)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.line == 1 and "too large" in problem.message
    assert f"{sizes.MAX_LESSON_BYTES:,}" in problem.message and f"{len(body):,}" in problem.message


def test_a_huge_pack_toml_and_data_file_are_refused(make_pack):
    directory = make_pack({"pack.toml": PACK + "#" * sizes.MAX_MANIFEST_BYTES})
    assert [p.line for p in problems_of(directory) if "too large" in p.message] == [1]
    csv = "a,b,t\n" + "1,2,x\n1,2,y\n" * (sizes.MAX_DATA_BYTES // 10)
    training = 'model = "adaline"\ndata = "d.csv"\nfeatures = ["a", "b"]\ntarget = "t"\nclasses = ["x", "y"]'
    directory = make_pack({"pack.toml": PACK, "01.md": block("training", training), "d.csv": csv})
    problems = [p for p in problems_of(directory) if "too large" in p.message]
    assert problems and problems[0].path.name == "d.csv" and problems[0].line == 1


async def test_the_tutor_lists_a_huge_pack_as_broken_and_stays_usable(make_pack, isolated_home):
    from gradtutor.app import create_app
    from gradtutor.screens.lesson import LessonScreen

    from .conftest import PACKS, settle

    huge = make_pack({"pack.toml": PACK, "01.md": lesson("y" * (50 * 1024 * 1024))})
    app = create_app(pack_dirs=[PACKS / "valid", huge], home=isolated_home)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert [b.path for b in app.broken_packs] == [huge]
        tree = app.screen.query_one("#lesson-tree")
        labels = [str(node.label) for node in tree.root.children]
        assert any("not loaded" in label for label in labels)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)


# ----------------------------------------------------------------------------- 3. links


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
@pytest.mark.parametrize("target", ["/proc/self/environ", "outside.md"])
def test_an_unlisted_lesson_linking_out_of_the_pack_is_not_read(target, make_pack, tmp_path):
    directory = make_pack({"pack.toml": PACK, "01.md": lesson()})
    outside = tmp_path / "outside.md"
    outside.write_text(lesson("secret", 'id = "secret"\ntitle = "Secret"'))
    (directory / "02.md").symlink_to(outside if target == "outside.md" else target)
    result = load_pack(directory)
    assert [le.id for le in result.pack.lessons] == ["one"]
    problem = next(p for p in result.problems if p.path.name == "02.md")
    assert "outside the pack" in problem.message
    assert "secret" not in " ".join(p.message for p in result.problems)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_pack_toml_linking_out_of_the_pack_is_not_read(make_pack, tmp_path):
    directory = make_pack({"01.md": lesson()})
    (tmp_path / "elsewhere.toml").write_text(PACK)
    (directory / "pack.toml").symlink_to(tmp_path / "elsewhere.toml")
    result = load_pack(directory)
    assert result.pack is None and "outside the pack" in result.problems[0].message


# ----------------------------------------------------------------------------- 4. network and run sizes


@pytest.mark.parametrize(
    "toml, key_line, phrase",
    [
        ("n = 100000000", 9, "`n` is 100,000,000; at most 50,000"),
        ("n = 50000\nd_in = 4000", 10, "`n` × `d_in` is 200,000,000"),
        ("hidden = 0", 9, "`hidden` must be at least 1"),
        ("seed = -1", 9, "the seed must be"),
        ("lr = 1e9", 9, "the learning rate must be"),
        ("lr = nan", 9, "must be a number"),
    ],
)
def test_stepper_blocks_are_held_to_the_mnist_ceiling(toml, key_line, phrase, make_pack):
    directory = make_pack({"pack.toml": PACK, "01.md": block("stepper", toml)})
    problems = problems_of(directory)
    assert [p.line for p in problems if phrase in p.message] == [key_line], [
        p.format() for p in problems
    ]
    assert not any(
        isinstance(s, StepperBlock) for s in load_pack(directory).pack.lessons[0].segments
    )


@pytest.mark.parametrize(
    "toml, phrase",
    [
        ("steps = 1000000000000", "`steps` must be from 1 to 10,000"),
        ("start = -1e300", "`start` must be within"),
        ("stop = 1e300", "`stop` must be within"),
        ("step = 0.00001", "points; at most 100,000"),
        ("lr = inf", "must be a number"),
        ("steps = 5000\nstep = 0.001", "too long a run"),
    ],
)
def test_linear_training_blocks_finish_in_seconds(toml, phrase, make_pack):
    directory = make_pack(
        {"pack.toml": PACK, "01.md": block("training", 'model = "linear"\n' + toml)}
    )
    messages = [p.message for p in problems_of(directory)]
    assert any(phrase in m for m in messages), messages


def test_adaline_blocks_are_limited_and_their_data_checked(make_pack):
    rows = "a,b,t\n" + "".join(f"{i},{i % 7},{'xy'[i % 2]}\n" for i in range(100))
    training = (
        'model = "adaline"\ndata = "d.csv"\nfeatures = ["a", "b"]\ntarget = "t"\n'
        'classes = ["x", "y"]\nbatch = 1\nepochs = 1000'
    )
    directory = make_pack({"pack.toml": PACK, "01.md": block("training", training), "d.csv": rows})
    assert any("minibatch updates" in p.message for p in problems_of(directory))
    bad = rows.replace("3,3,y", "3,three,y")
    directory = make_pack(
        {
            "pack.toml": PACK,
            "01.md": block("training", training.replace("epochs = 1000", "epochs = 2")),
            "d.csv": bad,
        }
    )
    problem = next(p for p in problems_of(directory) if "not a number" in p.message)
    assert problem.path.name == "d.csv" and problem.line == 5


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["--n", "20000", "--d-in", "20000", "--hidden", "20000"], "--d-in is 20,000"),
        (["--seed", "99999999999999999999999"], "--seed must be"),
        (["--n", "0"], "--n must be at least 1"),
        (["--n", "100000", "--json"], "--n is 100,000"),
        (["--n", "5000", "--d-in", "100", "--json"], "--json prints every tensor"),
    ],
)
def test_stepper_command_refuses_sizes_with_a_sentence(args, phrase):
    proc = run_cli("stepper", *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert phrase in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


async def test_a_failing_stepper_says_so_on_screen(isolated_home, monkeypatch):
    import gradtutor.core.stepper as stepper_module
    from gradtutor.app import create_app
    from gradtutor.core.sizes import NetworkSize

    from .conftest import PACKS, settle

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(stepper_module.Stepper, "__init__", no_memory)
    app = create_app(pack_dirs=[PACKS / "valid"], home=isolated_home, stepper=NetworkSize())
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        chain = str(app.screen.query_one("#chain").render())
        assert "could not start" in chain and "not enough memory" in chain
        assert "Loading torch" not in chain


# ----------------------------------------------------------------------------- 5. duplicates, 12. deep checks


def test_a_duplicate_lesson_id_reports_no_cycle(make_pack):
    directory = make_pack({"pack.toml": PACK, "01.md": lesson(), "02.md": lesson()})
    messages = [p.message for p in problems_of(directory)]
    assert len(messages) == 1 and "already used" in messages[0]


def test_no_deep_check_runs_on_a_rejected_exercise(make_pack):
    toml = (
        'id = "v"\nkind = "value"\nprompt = "p"\ngiven = { x = 1.0 }\ncompute = "x"\nask = "q.grad"'
    )
    directory = make_pack({"pack.toml": PACK, "01.md": block("exercise", toml)})
    proc = run_cli("validate", str(directory))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        'names nothing in `given`; use "value" or "NAME.grad" with NAME one of: x'
    )
    assert ":14:" in lines[0]


def test_a_toml_error_at_the_end_of_the_front_matter_points_at_its_line(make_pack):
    text = '+++\nid = "one"\ntitle = "One"\nrequires = ["a",\n+++\nbody\n'
    directory = make_pack({"pack.toml": PACK, "01.md": text})
    problem = problems_of(directory)[0]
    assert "not valid TOML" in problem.message and problem.line == 4


# -- the escape scanner against tomllib itself ------------------------------------------

APOSTROPHE = "'"
_PIECES = ["a", " ", "\\t", "\\n", "\\\\", '\\"', "\\u001b", "\\U0000007f", "\\b", "#", "'", "é"]


@pytest.mark.parametrize("quote", ['"', '"""'])
@pytest.mark.parametrize("seed", range(40))
def test_the_escape_scanner_finds_what_tomllib_puts_in_the_strings(quote, seed):
    import random
    import tomllib

    from gradtutor.core.text import is_control
    from gradtutor.core.tomlspec import string_controls

    rng = random.Random(seed)
    values = ["".join(rng.choice(_PIECES) for _ in range(rng.randrange(12))) for _ in range(3)]
    literal = [v[:3].replace(APOSTROPHE, "") for v in values]
    text = '# a comment with \\t and a " quote\n' + "".join(
        f"k{i} = {quote}{v}{quote}  # note \\b\nlit{i} = '\\t{literal[i]}'\n"
        for i, v in enumerate(values)
    )
    parsed = tomllib.loads(text)
    truth = sorted(c for i in range(3) for c in parsed[f"k{i}"] if is_control(c) and c != "\n")
    found = string_controls(text)
    assert sorted(ch for _, _, ch, _ in found) == truth
    lines = text.split("\n")
    for line, col, _, escape in found:  # each position points at the escape itself
        assert lines[line - 1][col - 1 :].startswith(escape)
