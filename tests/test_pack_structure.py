"""The loader and the structural validator, against a corpus of broken packs.

Every case is a small pack with one mistake; the test asserts the file, the line and a
phrase of the message, so a problem reported at the wrong place fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradtutor.core.packs import (
    ChoiceExercise,
    DerivativeExercise,
    Prose,
    StepperBlock,
    TensorExercise,
    TrainingBlock,
    ValueExercise,
    load_pack,
)
from gradtutor.core.validate import validate_packs

from .conftest import PACKS, ROOT

PACK = """\
id = "p"
title = "P"
version = "1"
"""


def lesson(body: str, front: str = 'id = "one"\ntitle = "One"') -> str:
    return f"+++\n{front}\n+++\n\nSome prose.\n\n{body}"


def exercise(toml: str) -> str:
    return lesson(f"```exercise\n{toml}\n```\n")


GOOD_DERIVATIVE = 'id = "d"\nkind = "derivative"\nprompt = "p"\nfunction = "x^2"\nwrt = "x"'

# name -> (files, expected file, expected line, phrase in the message, severity)
CASES = {
    "no pack.toml": ({"01.md": lesson("")}, "pack.toml", None, "missing pack.toml", "error"),
    "pack.toml not TOML": (
        {"pack.toml": 'id = "p"\ntitle = = "x"\n'},
        "pack.toml",
        2,
        "not valid TOML",
        "error",
    ),
    "pack id missing": (
        {"pack.toml": 'title = "P"\nversion = "1"\n'},
        "pack.toml",
        1,
        "missing the required key `id`",
        "error",
    ),
    "pack id not a slug": (
        {"pack.toml": 'id = "My Pack"\ntitle = "P"\nversion = "1"\n'},
        "pack.toml",
        1,
        "must be a slug",
        "error",
    ),
    "version not a string": (
        {"pack.toml": 'id = "p"\ntitle = "P"\nversion = 1.2\n'},
        "pack.toml",
        3,
        "`version` in pack.toml must be a string",
        "error",
    ),
    "format too new": (
        {"pack.toml": PACK + "format = 4\n"},
        "pack.toml",
        4,
        "upgrade gradtutor",
        "error",
    ),
    "listed lesson missing": (
        {"pack.toml": PACK + 'lessons = ["01.md", "02.md"]\n', "01.md": lesson("")},
        "pack.toml",
        4,
        '"02.md" does not exist',
        "error",
    ),
    "listed lesson outside the pack": (
        {"pack.toml": PACK + 'lessons = ["../x.md"]\n'},
        "pack.toml",
        4,
        "inside the pack",
        "error",
    ),
    "lesson not UTF-8": (
        {"pack.toml": PACK, "01.md": b'+++\nid = "one"\ntitle = "Caf\xe9"\n+++\n'},
        "01.md",
        3,
        "not UTF-8",
        "error",
    ),
    "no front matter": (
        {"pack.toml": PACK, "01.md": "# Just markdown\n"},
        "01.md",
        1,
        "must start with TOML front matter",
        "error",
    ),
    "front matter never closed": (
        {"pack.toml": PACK, "01.md": '+++\nid = "one"\ntitle = "One"\n'},
        "01.md",
        1,
        "never closed",
        "error",
    ),
    "front matter not TOML": (
        {"pack.toml": PACK, "01.md": '+++\nid = "one"\ntitle = One\n+++\n'},
        "01.md",
        3,
        "not valid TOML",
        "error",
    ),
    "lesson title missing": (
        {"pack.toml": PACK, "01.md": '+++\nid = "one"\n+++\n'},
        "01.md",
        2,
        "missing the required key `title`",
        "error",
    ),
    "lesson id not a slug": (
        {"pack.toml": PACK, "01.md": lesson("", 'id = "One_1"\ntitle = "One"')},
        "01.md",
        2,
        "must be a slug",
        "error",
    ),
    "duplicate lesson id": (
        {"pack.toml": PACK, "01.md": lesson(""), "02.md": lesson("")},
        "02.md",
        2,
        'lesson id "one" is already used',
        "error",
    ),
    "requires unknown lesson": (
        {
            "pack.toml": PACK,
            "01.md": lesson("", 'id = "one"\ntitle = "One"\nrequires = ["zero"]'),
        },
        "01.md",
        4,
        'unknown lesson "zero"',
        "error",
    ),
    "requires cycle": (
        {
            "pack.toml": PACK,
            "01.md": lesson("", 'id = "one"\ntitle = "One"\nrequires = ["two"]'),
            "02.md": lesson("", 'id = "two"\ntitle = "Two"'),
        },
        "01.md",
        4,
        "cycle",
        "error",
    ),
    "requires itself": (
        {"pack.toml": PACK, "01.md": lesson("", 'id = "one"\ntitle = "One"\nrequires = ["one"]')},
        "01.md",
        4,
        "one -> one",
        "error",
    ),
    "exercise block not TOML": (
        {"pack.toml": PACK, "01.md": exercise('id = "d"\nkind = derivative')},
        "01.md",
        10,
        "not valid TOML",
        "error",
    ),
    "exercise missing prompt": (
        {
            "pack.toml": PACK,
            "01.md": exercise('id = "d"\nkind = "derivative"\nfunction = "x"\nwrt = "x"'),
        },
        "01.md",
        8,
        "missing the required key `prompt`",
        "error",
    ),
    "exercise unknown kind": (
        {"pack.toml": PACK, "01.md": exercise('id = "d"\nkind = "essay"\nprompt = "p"')},
        "01.md",
        10,
        'unknown exercise kind "essay"',
        "error",
    ),
    "exercise id wrong type": (
        {"pack.toml": PACK, "01.md": exercise(GOOD_DERIVATIVE.replace('id = "d"', "id = 3"))},
        "01.md",
        9,
        "`id` in the exercise block at line 8 must be a string, not the number 3",
        "error",
    ),
    "exercise id not a slug": (
        {"pack.toml": PACK, "01.md": exercise(GOOD_DERIVATIVE.replace('id = "d"', 'id = "D 1"'))},
        "01.md",
        9,
        "must be a slug",
        "error",
    ),
    "duplicate exercise id": (
        {
            "pack.toml": PACK,
            "01.md": exercise(GOOD_DERIVATIVE + "\n```\n\n```exercise\n" + GOOD_DERIVATIVE),
        },
        "01.md",
        17,
        'exercise id "d" is already used at line 8',
        "error",
    ),
    "hints not strings": (
        {"pack.toml": PACK, "01.md": exercise(GOOD_DERIVATIVE + "\nhints = [1, 2]")},
        "01.md",
        14,
        "must be a list of strings",
        "error",
    ),
    "feedback without message": (
        {"pack.toml": PACK, "01.md": exercise(GOOD_DERIVATIVE + '\n[[feedback]]\nmatch = "x"')},
        "01.md",
        14,
        "missing the required key `message`",
        "error",
    ),
    "bad domain": (
        {"pack.toml": PACK, "01.md": exercise(GOOD_DERIVATIVE + "\ndomain = { x = [2, 1] }")},
        "01.md",
        14,
        "domain of `x` is empty",
        "error",
    ),
    "choice without a correct option": (
        {
            "pack.toml": PACK,
            "01.md": exercise(
                'id = "c"\nkind = "choice"\nprompt = "p"\n[[option]]\ntext = "a"\n[[option]]\ntext = "b"'
            ),
        },
        "01.md",
        12,
        "no option is marked `correct = true`",
        "error",
    ),
    "choice with one option": (
        {
            "pack.toml": PACK,
            "01.md": exercise(
                'id = "c"\nkind = "choice"\nprompt = "p"\n[[option]]\ntext = "a"\ncorrect = true'
            ),
        },
        "01.md",
        12,
        "at least two",
        "error",
    ),
    "value ask names nothing": (
        {
            "pack.toml": PACK,
            "01.md": exercise(
                'id = "v"\nkind = "value"\nprompt = "p"\ngiven = { x = 1.0 }\ncompute = "x*2"\nask = "w.grad"'
            ),
        },
        "01.md",
        14,
        'ask = "w.grad" names nothing in `given`',
        "error",
    ),
    "value given not numeric": (
        {
            "pack.toml": PACK,
            "01.md": exercise(
                'id = "v"\nkind = "value"\nprompt = "p"\ngiven = { x = "one" }\ncompute = "x"\nask = "value"'
            ),
        },
        "01.md",
        12,
        "must be a number or a rectangular list",
        "error",
    ),
    "value given ragged": (
        {
            "pack.toml": PACK,
            "01.md": exercise(
                'id = "v"\nkind = "value"\nprompt = "p"\ncompute = "x.sum()"\nask = "value"\n[given]\nx = [[1, 2], [3]]'
            ),
        },
        "01.md",
        15,
        "rectangular",
        "error",
    ),
    "tensor bad target": (
        {
            "pack.toml": PACK,
            "01.md": exercise('id = "t"\nkind = "tensor"\nprompt = "p"\ntarget = "w3.grad"'),
        },
        "01.md",
        12,
        'target "w3.grad" is not one of',
        "error",
    ),
    "unknown key": (
        {"pack.toml": PACK, "01.md": exercise(GOOD_DERIVATIVE + '\nhint = "typo"')},
        "01.md",
        14,
        "unknown key `hint`",
        "error",  # third edition: the hints would silently vanish
    ),
    "unknown key in pack.toml": (
        {"pack.toml": PACK + 'autor = "me"\n', "01.md": lesson("")},
        "pack.toml",
        4,
        "unknown key `autor`",
        "warning",
    ),
    "stepper size zero": (
        {"pack.toml": PACK, "01.md": lesson("```stepper\nn = 0\n```\n")},
        "01.md",
        9,
        "`n` must be at least 1",
        "error",
    ),
    "training unknown model": (
        {"pack.toml": PACK, "01.md": lesson('```training\nmodel = "mlp"\n```\n')},
        "01.md",
        9,
        'unknown model "mlp"',
        "error",
    ),
    "training data missing": (
        {
            "pack.toml": PACK,
            "01.md": lesson(
                '```training\nmodel = "adaline"\ndata = "data/none.csv"\nfeatures = ["a"]\n'
                'target = "t"\nclasses = ["x", "y"]\n```\n'
            ),
        },
        "01.md",
        10,
        "does not exist",
        "error",
    ),
    "training unknown column": (
        {
            "pack.toml": PACK,
            "data.csv": "a,t\n1,x\n2,y\n",
            "01.md": lesson(
                '```training\nmodel = "adaline"\ndata = "data.csv"\nfeatures = ["a", "b"]\n'
                'target = "t"\nclasses = ["x", "y"]\n```\n'
            ),
        },
        "01.md",
        11,
        "columns not in data.csv: b",
        "error",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_broken_pack_is_reported_at_its_line(name, make_pack):
    files, file, line, phrase, severity = CASES[name]
    directory = make_pack(files)
    report = validate_packs([directory], deep=False)
    matching = [p for p in report.problems if phrase in p.message]
    assert matching, f"no problem mentions {phrase!r}: {[p.format() for p in report.problems]}"
    problem = matching[0]
    assert problem.path.name == file
    assert problem.line == line, problem.format()
    assert problem.severity == severity
    assert report.ok == (severity == "warning")


def test_every_problem_is_collected_not_only_the_first(make_pack):
    directory = make_pack(
        {
            "pack.toml": PACK,
            "01.md": exercise('id = "a"\nkind = "essay"\nprompt = "p"'),
            "02.md": lesson("", 'id = "two"\ntitle = "Two"\nrequires = ["nope"]'),
            "03.md": "no front matter",
        }
    )
    report = validate_packs([directory], deep=False)
    assert {p.path.name for p in report.problems.errors} == {"01.md", "02.md", "03.md"}


def test_valid_pack_from_the_format_loads_without_warning():
    result = load_pack(PACKS / "valid")
    assert list(result.problems) == []
    pack = result.pack
    assert pack.id == "format-tour" and pack.authors == ("Test Author", "Second Author")
    assert [le.id for le in pack.lessons] == ["derivatives", "chain-rule", "network"]
    first, second, third = pack.lessons
    assert first.requires == () and second.requires is None
    assert pack.requirements(second) == ("derivatives",)
    assert pack.requirements(third) == ("derivatives", "chain-rule")
    kinds = [type(s) for s in first.segments]
    assert kinds == [Prose, DerivativeExercise, ValueExercise]
    square = first.exercises[0]
    assert square.function == "x^2" and square.domain_of("x") == (-3.0, 3.0)
    assert square.feedback[0].match == "x" and square.hints == ("Power rule.",)
    # the fence of the first exercise is on line 16 of the file
    assert square.line == 16
    assert "an ordinary code block" in first.segments[0].text
    choice, tensor = second.exercises
    assert isinstance(choice, ChoiceExercise) and [o.correct for o in choice.options] == [
        True,
        False,
    ]
    assert isinstance(tensor, TensorExercise) and tensor.shapes.n == 6 and tensor.seed == 3
    blocks = [s for s in third.segments if not isinstance(s, Prose)]
    assert isinstance(blocks[0], StepperBlock) and blocks[0].size.lr == 0.05
    assert isinstance(blocks[1], TrainingBlock) and blocks[1].methods == (
        "manual",
        "autograd.grad",
        "backward",
    )
    assert blocks[2].model == "linear" and blocks[2].zero_grad is False


def test_default_lesson_order_is_sorted_file_names(make_pack):
    directory = make_pack(
        {
            "pack.toml": PACK,
            "b.md": lesson("", 'id = "second"\ntitle = "S"'),
            "a.md": lesson("", 'id = "first"\ntitle = "F"'),
        }
    )
    pack = load_pack(directory).pack
    assert [le.id for le in pack.lessons] == ["first", "second"]


def test_duplicate_pack_ids_across_directories(make_pack):
    one = make_pack({"pack.toml": PACK})
    two = make_pack({"pack.toml": PACK})
    report = validate_packs([one, two], deep=False)
    assert any('pack id "p" is already used' in p.message for p in report.problems.errors)


@pytest.mark.parametrize("name", ["lesson not UTF-8", "exercise block not TOML", "requires cycle"])
def test_cli_prints_compiler_style_lines_without_traceback(name, make_pack):
    files, file, line, phrase, _ = CASES[name]
    directory = make_pack(files)
    proc = subprocess.run(
        [sys.executable, "-m", "gradtutor", "validate", "--structure-only", str(directory)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if phrase in ln]
    assert lines and f"{file}:{line}:" in lines[0] and ": error: " in lines[0]


def test_validate_usage_error_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "gradtutor", "validate"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 2


def test_validate_json(make_pack):
    files, *_ = CASES["unknown key in pack.toml"]
    directory = make_pack(files)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradtutor",
            "validate",
            "--structure-only",
            "--json",
            str(directory),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    import json

    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["ok"] is True and doc["warnings"] == 1
    assert doc["problems"][0]["line"] == 4 and doc["problems"][0]["severity"] == "warning"


def test_the_shipped_pack_is_structurally_clean():
    report = validate_packs([ROOT / "lessons"], deep=False)
    assert [p.format() for p in report.problems] == []


def test_lessons_dir_is_found_at_run_time():
    from gradtutor.core.paths import builtin_pack_dir

    assert (builtin_pack_dir() / "pack.toml").is_file()


def test_nonexistent_directory(tmp_path: Path):
    report = validate_packs([tmp_path / "nope"], deep=False)
    assert not report.ok and "not a directory" in report.problems[0].message


def test_fence_cache_spares_markdown_it_and_survives_garbage(tmp_path):
    cache = tmp_path / "fences.json"
    script = (
        "import sys\nfrom pathlib import Path\nfrom gradtutor.core import packs\n"
        f"packs.load_fence_cache(Path({str(cache)!r}))\n"
        f"r = packs.load_pack(Path({str(PACKS / 'valid')!r}))\n"
        f"packs.save_fence_cache(Path({str(cache)!r}))\n"
        "print(len(r.pack.lessons[0].exercises), 'markdown_it' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert first.stdout.split() == ["2", "True"]
    second = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT
    )
    assert second.stdout.split() == ["2", "False"]
    cache.write_text('{"abc": [["exercise", "x", 1, 2]], "def": 3}')
    third = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert third.stdout.split() == ["2", "True"]


def test_parameter_trials_that_passed_are_not_drawn_again(tmp_path, monkeypatch):
    """The start-up cache remembers a passed trial by the exercise's content: an unchanged
    exercise is not drawn again, a changed one is, and a failing one is never remembered."""
    from gradtutor.core.packs import fences, parameters
    from gradtutor.core.problems import ProblemList

    calls: list[str] = []
    real_trial = parameters._trial

    def counting(ex, reader):
        calls.append(ex.id)
        real_trial(ex, reader)

    monkeypatch.setattr(parameters, "_trial", counting)
    cache = fences.FenceCache()
    block = (
        'kind = "value"\nid = "scaled"\nprompt = "{{a}} times 2?"\ncompute = "a * 2"\n'
        'given = {{}}\nask = "value"\n{where}[params]\na = {{ int = [1, {high}] }}\n'
    )

    def load(high: int, where: str = "") -> ProblemList:
        from gradtutor.core.packs.blocks import parse_block

        problems = ProblemList()
        parse_block(
            "exercise",
            block.format(high=high, where=where),
            1,
            tmp_path / "l.md",
            tmp_path,
            problems,
            cache,
        )
        return problems

    assert not load(9).errors and calls == ["scaled"]
    assert not load(9).errors and calls == ["scaled"]  # remembered
    assert not load(8).errors and calls == ["scaled", "scaled"]  # changed: drawn again
    failing = 'where = ["a > 100"]\n'
    assert load(9, failing).errors and load(9, failing).errors
    assert calls == ["scaled"] * 4  # a failure is drawn (and reported) every time
    saved = tmp_path / "cache.json"
    cache.save(saved)
    again = fences.FenceCache()
    again.load(saved)
    cache = again
    assert not load(9).errors and calls == ["scaled"] * 4  # the saved cache remembers


def test_an_unknown_exercise_key_fails_validate_but_the_pack_still_opens(make_pack):
    from gradtutor.core.packs import load_pack

    files, *_ = CASES["unknown key"]
    directory = make_pack(files)
    result = load_pack(directory)
    assert result.ok and result.pack is not None and result.pack.lessons[0].exercises
    assert [p.severity for p in result.problems] == ["error"] and result.problems[0].opens
    proc = subprocess.run(
        [sys.executable, "-m", "gradtutor", "validate", "--structure-only", str(directory)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1 and "error: unknown key `hint`" in proc.stdout


def test_an_apostrophe_in_a_single_quoted_string_is_explained(make_pack):
    from gradtutor.core.packs import load_pack

    block = GOOD_DERIVATIVE.replace('prompt = "', "prompt = 'the learner's ", 1)
    block = block.replace("prompt = 'the learner's ", "prompt = 'the learner's answer' #", 1)
    directory = make_pack({"pack.toml": PACK, "01.md": exercise(block)})
    messages = [p.message for p in load_pack(directory).problems]
    assert any(
        "An apostrophe (') ends a single-quoted string" in m and "'''" in m for m in messages
    ), messages


def test_validate_names_drawn_numbers_to_exclude_and_reports_every_distinct_problem():
    """Third edition, items 9 and 10: an undefined or infinite reference for some drawn
    numbers says which and suggests `not`; each distinct problem comes once, with how
    many variants have it, in one run; no second message repeats the first."""
    proc = subprocess.run(
        [sys.executable, "-m", "gradtutor", "validate", str(PACKS / "authoring")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1
    inverse = [line for line in lines if "01.md:15:" in line]
    assert len(inverse) == 1 and "(a = 0)" in inverse[0] and "not = [...]" in inverse[0]
    assert "inf" in inverse[0] and "Answer with a number" not in proc.stdout
    two = [line for line in lines if "01.md:28:" in line]
    assert len(two) == 1 and "a = 0" in two[0] and "not = [...]" in two[0]
    assert "an empty answer is judged" not in proc.stdout
    assert "caught by an earlier [[feedback]]" not in proc.stdout  # there is only one
    assert any(
        "01.md:33: warning:" in line and "right answer for these numbers" in line for line in lines
    )
    assert all("of 50 variants)" in line for line in lines if "variant" in line)
