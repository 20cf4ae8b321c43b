"""`gradtutor check` and `gradtutor validate` with the answer checker."""

from __future__ import annotations

import json

import pytest

from gradtutor.core.sandbox import SymbolicSandbox
from gradtutor.core.validate import validate_packs

from .conftest import PACKS, ROOT, run_cli

run = run_cli


def test_check_json_schema_and_exit_codes():
    right = run("check", "2x", "--of", "x^2", "--wrt", "x", "--json")
    assert right.returncode == 0
    doc = json.loads(right.stdout)
    assert set(doc) == {"verdict", "message", "normalized", "feedback", "counterexample"}
    assert doc["verdict"] == "correct" and doc["normalized"] == "2*x"
    wrong = run("check", "x", "--of", "x^2", "--wrt", "x", "--json")
    assert wrong.returncode == 1
    doc = json.loads(wrong.stdout)
    assert doc["verdict"] == "incorrect" and set(doc["counterexample"]) == {
        "point",
        "expected",
        "got",
    }
    bad = run("check", "2*q", "--of", "x^2", "--wrt", "x", "--json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["verdict"] == "invalid"


def test_check_usage_errors_exit_2():
    assert run("check", "2x").returncode == 2
    assert run("check", "2x", "--of", "x^2").returncode == 2
    assert run("check", "2x", "--of", "x^", "--wrt", "x").returncode == 2
    assert (
        run("check", "1", "--pack", str(PACKS / "valid"), "--exercise", "nope/nope").returncode == 2
    )


def test_check_pack_exercises():
    pack = str(PACKS / "valid")
    assert run("check", "10", "--pack", pack, "--exercise", "derivatives/grad-at-5").returncode == 0
    assert run("check", "1", "--pack", pack, "--exercise", "chain-rule/sign").returncode == 0
    out = run("check", "2", "--pack", pack, "--exercise", "chain-rule/sign", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["feedback"] == "No."
    assert (
        run("check", "out_g.sum(0)", "--pack", pack, "--exercise", "chain-rule/b2").returncode == 0
    )
    fb = run("check", "x", "--pack", pack, "--exercise", "derivatives/square", "--json")
    assert json.loads(fb.stdout)["feedback"] == "Bring the exponent down as a factor: $2x$."


def test_check_broken_pack_exits_2(make_pack):
    broken = make_pack({"pack.toml": 'id = "p"\ntitle = "P"\n'})
    proc = run("check", "1", "--pack", str(broken), "--exercise", "a/b")
    assert proc.returncode == 2 and "pack.toml" in proc.stderr and "Traceback" not in proc.stderr


def test_batch_one_verdict_per_line_in_order(tmp_path):
    lines = [
        {"answer": "2x", "of": "x^2", "wrt": "x"},
        {"answer": "x", "of": "x^2", "wrt": "x"},
        "this is not json",
        {"answer": 42, "of": "x^2", "wrt": "x"},
        {"answer": "3x^2", "of": "x^3", "wrt": "x"},
        {"of": "x^2"},
    ]
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    proc = run("check", "--batch", "-", input=text)
    assert proc.returncode == 0, proc.stderr
    verdicts = [json.loads(line)["verdict"] for line in proc.stdout.splitlines()]
    assert verdicts == ["correct", "incorrect", "invalid", "invalid", "correct", "invalid"]
    path = tmp_path / "answers.jsonl"
    path.write_text(
        '{"answer": "1", "exercise": "chain-rule/sign"}\n{"answer": "9", "exercise": "derivatives/grad-at-5"}\n'
    )
    proc = run("check", "--pack", str(PACKS / "valid"), "--batch", str(path))
    assert [json.loads(x)["verdict"] for x in proc.stdout.splitlines()] == ["correct", "incorrect"]


BROKEN_CONTENT = {
    "answer disagrees": (
        'function = "x^3"\nwrt = "x"\nanswer = "3*x"',
        14,
        "`answer` disagrees with autograd at x =",
    ),
    "function does not parse": ('function = "x^"\nwrt = "x"', 12, "`function` does not parse"),
    "wrt absent": ('function = "y^2"\nwrt = "x"', 13, 'wrt = "x" does not occur'),
    "answer does not parse": (
        'function = "x^2"\nwrt = "x"\nanswer = "2q"',
        14,
        "`answer` does not parse",
    ),
    "right feedback": (
        'function = "x^2"\nwrt = "x"\n[[feedback]]\nmatch = "2*x"\nmessage = "m"',
        15,
        "is a right answer",
    ),
    "feedback does not parse": (
        'function = "x^2"\nwrt = "x"\n[[feedback]]\nmatch = "2*"\nmessage = "m"',
        15,
        "does not parse",
    ),
}


@pytest.mark.parametrize("name", list(BROKEN_CONTENT))
def test_validate_checks_expressions_at_their_line(name, make_pack):
    body, line, phrase = BROKEN_CONTENT[name]
    lesson = f'+++\nid = "one"\ntitle = "One"\n+++\n\nText.\n\n```exercise\nid = "d"\nkind = "derivative"\nprompt = "p"\n{body}\n```\n'
    directory = make_pack({"pack.toml": 'id = "p"\ntitle = "P"\nversion = "1"\n', "01.md": lesson})
    report = validate_packs([directory])
    hits = [p for p in report.problems.errors if phrase in p.message]
    assert hits, [p.format() for p in report.problems]
    assert hits[0].line == line and hits[0].path.name == "01.md"


def test_validate_tensor_answer_key(make_pack):
    lesson = (
        '+++\nid = "one"\ntitle = "One"\n+++\n\n```exercise\nid = "t"\nkind = "tensor"\nprompt = "p"\n'
        'target = "w2.grad"\nanswer = "out_g.T @ l2"\n```\n'
    )
    directory = make_pack({"pack.toml": 'id = "p"\ntitle = "P"\nversion = "1"\n', "01.md": lesson})
    report = validate_packs([directory])
    hits = [
        p
        for p in report.problems.errors
        if "disagrees with autograd for w2.grad (shape (5, 1))" in p.message
    ]
    assert hits and hits[0].line == 11


def test_valid_packs_validate_clean_with_deep_checks(tmp_path):
    new = tmp_path / "scaffold"
    assert run("new", str(new)).returncode == 0
    report = validate_packs([PACKS / "valid", new, ROOT / "lessons"])
    assert [p.format() for p in report.problems] == []


def test_sandbox_kills_and_restarts_an_overrun():
    box = SymbolicSandbox(time_limit=0.5)
    try:
        assert box.request({"op": "pretty", "text": "x^2", "vars": ["x"]})["status"] == "ok"
        assert box.request({"op": "sleep", "seconds": 600})["status"] == "timeout"
        assert box.restarts == 1
        again = box.request(
            {"op": "equivalent", "function": "x^2", "wrt": "x", "answer": "2*x", "vars": ["x"]}
        )
        assert again["status"] == "equal"
    finally:
        box.close()


def test_sandbox_parses_with_our_grammar_only():
    box = SymbolicSandbox()
    try:
        reply = box.request(
            {
                "op": "equivalent",
                "function": "x^2",
                "wrt": "x",
                "answer": "__import__('os')",
                "vars": ["x"],
            }
        )
        assert reply["status"] == "error"
    finally:
        box.close()
