"""Answers and batch lines that once crashed or fooled `check`: huge and tiny numbers,
trailing text, undecodable bytes, deep nesting, byte-order marks; and --pack handling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtutor.core.checking import check_derivative, check_exercise, parse_value_answer
from gradtutor.core.mathlang import MathError
from gradtutor.core.packs import load_pack

from .conftest import PACKS, ROOT, run_cli

BUILTIN = ROOT / "lessons"


def exercise(ref: str):
    lesson_id, ex_id = ref.split("/")
    return load_pack(BUILTIN).pack.lesson(lesson_id).exercise(ex_id)


def batch(data: bytes, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gradtutor", "check", "--batch", "-", *args],
        input=data,
        capture_output=True,
        cwd=ROOT,
    )


# ----------------------------------------------------------------------------- 9. numbers


@pytest.mark.parametrize("answer", ["1e400*x", "1e-400*x", "1e99999999*x", "2x + 1e-999"])
def test_numbers_beyond_a_float_are_invalid_with_a_sentence(answer):
    verdict = check_derivative("x^2", "x", answer)
    assert verdict.verdict == "invalid"
    assert "too large" in verdict.message or "too small" in verdict.message
    assert "Error" not in verdict.message


@pytest.mark.parametrize("answer", ["1e400", "[1e400, 1]", "-1e-400"])
def test_value_answers_beyond_a_float_are_invalid(answer):
    verdict = check_exercise(exercise("derivatives/grad-at-5"), answer)
    assert verdict.verdict == "invalid" and "Error" not in verdict.message


def test_check_prints_a_sentence_for_a_huge_number():
    proc = run_cli("check", "1e400*x", "--of", "x^2", "--wrt", "x")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "too large to work with" in proc.stdout


# ----------------------------------------------------------------------------- 11. trailing text


@pytest.mark.parametrize(
    "answer", ["[-32, -40], 7", "[-32, -40]]x+y(", "[-32, -40] x", "-32, -40)"]
)
def test_anything_after_a_complete_value_answer_is_invalid(answer):
    verdict = check_exercise(exercise("autograd-linear/w-grad"), answer)
    assert verdict.verdict == "invalid", verdict
    assert "column" in verdict.message


@pytest.mark.parametrize(
    "text, values",
    [
        ("[-32, -40]", [-32, -40]),
        ("-32, -40", [-32, -40]),
        ("[-16 -24]", [-16, -24]),
        ("tensor(10.)", [10]),
        ("tensor([-32., -40.])", [-32, -40]),
        ("tensor([-32., -40.], dtype=torch.float64)", [-32, -40]),
        ("tensor(8., grad_fn=<MulBackward0>)", [8]),
        ("array([1., 2.])", [1, 2]),
        ("[[1 2]\n [3 4]]", [1, 2, 3, 4]),
        ("[2 * 3]", [6]),
        ("[max(1, 2), 3]", [2, 3]),
    ],
)
def test_value_answers_in_the_forms_python_prints(text, values):
    assert parse_value_answer(text).flatten().tolist() == values


@pytest.mark.parametrize(
    "text", ["[1, [2]]", "[]", "[1,,2]", "tensor(1, colour=red)", "[1 2", "(1, 2"]
)
def test_malformed_value_answers_are_refused(text):
    with pytest.raises(MathError):
        parse_value_answer(text)


# ----------------------------------------------------------------------------- 10. batches


def test_a_byte_that_is_not_utf8_loses_no_line():
    lines = [
        json.dumps({"answer": "2x", "of": "x^2", "wrt": "x"}).encode(),
        b'{"answer": "\xff\xfe", "of": "x^2", "wrt": "x"}',
        json.dumps({"answer": "3x^2", "of": "x^3", "wrt": "x"}).encode(),
    ]
    proc = batch(b"\n".join(lines) + b"\n")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    verdicts = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [v["verdict"] for v in verdicts] == ["correct", "invalid", "correct"]
    assert "not UTF-8" in verdicts[1]["message"]


def test_deep_nesting_and_a_bom_are_single_verdicts():
    lines = [
        b"\xef\xbb\xbf" + json.dumps({"answer": "2x", "of": "x^2", "wrt": "x"}).encode(),
        b"[" * 100_000,
        b'{"answer": ' + b"[" * 100_000 + b"}",
        json.dumps({"answer": "2", "of": "2x", "wrt": "x"}).encode(),
    ]
    proc = batch(b"\n".join(lines))
    verdicts = [json.loads(line)["verdict"] for line in proc.stdout.splitlines()]
    assert verdicts == ["correct", "invalid", "invalid", "correct"]


def test_blank_lines_are_skipped_and_crlf_lines_read():
    one = json.dumps({"answer": "2x", "of": "x^2", "wrt": "x"}).encode()
    proc = batch(one + b"\r\n\r\n   \n" + one + b"\r\n")
    assert [json.loads(x)["verdict"] for x in proc.stdout.splitlines()] == ["correct", "correct"]


def test_unicode_line_separators_inside_a_line_do_not_split_it():
    line = json.dumps({"answer": "2x\u2028", "of": "x^2", "wrt": "x"}, ensure_ascii=False)
    proc = batch(line.encode() + b"\n")
    assert len(proc.stdout.splitlines()) == 1


def test_an_internal_error_on_one_line_is_that_lines_verdict(tmp_path):
    """The grader's own failure, forced: the line is undecided and the next is answered."""
    script = (
        "import sys, gradtutor.checkcli as c, gradtutor.core.checking as k\n"
        "real = k.check_derivative\n"
        "def flaky(of, wrt, answer, **kw):\n"
        "    if answer == 'boom': raise RuntimeError('internal')\n"
        "    return real(of, wrt, answer, **kw)\n"
        "k.check_derivative = flaky\n"
        "from gradtutor.cli import main\n"
        "sys.exit(main(['check', '--batch', '-']))\n"
    )
    lines = [
        json.dumps({"answer": "boom", "of": "x^2", "wrt": "x"}),
        json.dumps({"answer": "2x", "of": "x^2", "wrt": "x"}),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    verdicts = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [v["verdict"] for v in verdicts] == ["undecided", "correct"]
    assert "internal" not in verdicts[0]["message"].split("internal error")[0]


_line = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda a, of: json.dumps({"answer": a, "of": of, "wrt": "x"}).encode(),
        st.text(max_size=30),
        st.sampled_from(["x^2", "sin(x)", "relu(x)", "x^", "q"]),
    ),
    st.sampled_from([b"[" * 5000, b"{" * 5000, b"\xef\xbb\xbf{}", b"null", b'{"answer": 1e999}']),
)


def batch_in_process(data: bytes) -> tuple[int, list[str]]:
    """`check --batch -` run in this process (the fuzz needs many runs)."""
    import contextlib
    import io

    from gradtutor.cli import main

    class Stdin:
        buffer = io.BytesIO(data)

    out = io.StringIO()
    real = sys.stdin
    sys.stdin = Stdin()  # type: ignore[assignment]
    try:
        with contextlib.redirect_stdout(out):
            code = main(["check", "--batch", "-"])
    finally:
        sys.stdin = real
    return code, out.getvalue().splitlines()


@settings(max_examples=150, deadline=None)
@given(st.lists(_line, min_size=1, max_size=8))
def test_fuzzed_batches_get_one_line_per_non_blank_line(lines):
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n"
    code, out = batch_in_process(data)
    assert code == 0
    raw_lines = data.split(b"\n")[:-1]
    raw_lines[0] = raw_lines[0].removeprefix(b"\xef\xbb\xbf")
    assert len(out) == sum(1 for line in raw_lines if line.strip())
    for line in out:
        assert json.loads(line)["verdict"] in ("correct", "incorrect", "invalid", "undecided")


# ----------------------------------------------------------------------------- 14. --pack


def test_pack_before_check_is_honoured():
    proc = run_cli(
        "--pack", str(PACKS / "valid"), "check", "2x", "--exercise", "derivatives/square"
    )
    assert proc.returncode == 0, proc.stderr


def test_two_packs_for_check_are_refused():
    proc = run_cli(
        "--pack",
        str(PACKS / "valid"),
        "check",
        "2x",
        "--pack",
        str(ROOT / "lessons"),
        "--exercise",
        "a/b",
    )
    assert proc.returncode == 2 and "give --pack once" in proc.stderr


def test_pack_before_progress_is_honoured(isolated_home):
    proc = run_cli("--pack", str(PACKS / "valid"), "progress")
    assert proc.returncode == 0 and "A tour of the lesson format" in proc.stdout
    assert "Backprop from scratch" not in proc.stdout


def test_pack_before_validate_is_one_more_directory():
    proc = run_cli("--pack", str(PACKS / "valid"), "validate")
    assert proc.returncode == 0 and "1 pack(s)" in proc.stderr


def test_pack_has_no_meaning_for_new(tmp_path):
    proc = run_cli("--pack", str(PACKS / "valid"), "new", str(tmp_path / "n"))
    assert proc.returncode == 2 and "does not apply to new" in proc.stderr
    assert not (tmp_path / "n").exists()


def test_pack_before_stepper_must_be_a_pack(tmp_path):
    proc = run_cli("--pack", str(tmp_path), "stepper")
    assert proc.returncode == 2 and "is not a pack" in proc.stderr
