"""Fuzzed packs: mutated front matter and blocks, sizes, control characters, encodings,
links. Loading and validating never raise, and every problem names a FILE:LINE."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtutor.core.packs import load_pack
from gradtutor.core.validate import validate_packs

from .conftest import PACKS

VALID = PACKS / "valid"
LESSON = (VALID / "01-derivatives.md").read_text(encoding="utf-8")
BLOCKS = (VALID / "03-network.md").read_text(encoding="utf-8")

_CONTROL = st.sampled_from(["\x1b[2J", "\x07", "\x00", "\x9b", "\r", "\t", "\x1b]52;c;aGk=\x07"])
_ESCAPES = st.sampled_from(["\\t", "\\u001b", "\\b", "\\f", "\\U0000009b", "\\nabla", "\\s"])
_JUNK = st.sampled_from(
    [
        '"',
        "'",
        "[",
        "]",
        "{",
        "}",
        "=",
        "+++",
        "```",
        "```exercise",
        "\n",
        "nan",
        "inf",
        "1e999",
        "-1",
    ]
)


@st.composite
def mutated(draw, source: str) -> bytes:
    """A lesson with a few cuts, insertions and replacements; sometimes other bytes."""
    text = source
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "escape", "junk", "truncate"]))
        if op == "insert":
            text = text[:at] + draw(_CONTROL) + text[at:]
        elif op == "escape":
            text = text[:at] + draw(_ESCAPES) + text[at:]
        elif op == "junk":
            text = text[:at] + draw(_JUNK) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            text = text[:at]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16", "bom"]))
    if encoding == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "replace")
    return text.encode(encoding, "replace")


def _write(files: dict[str, bytes], links: list[tuple[str, str]]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="fuzz-pack-"))
    (root / "data").mkdir()
    shutil.copy(VALID / "data" / "iris.csv", root / "data" / "iris.csv")
    for name, content in files.items():
        (root / name).write_bytes(content)
    for name, target in links:
        if os.name == "posix" and not os.path.lexists(root / name):
            (root / name).symlink_to(target)
    return root


def _check(root: Path, deep: bool) -> None:
    try:
        result = load_pack(root)
        report = validate_packs([root], deep=deep)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for problem in list(result.problems) + list(report.problems):
        assert problem.line is not None or not problem.path.exists(), problem.format()
        assert problem.line is None or problem.line >= 1
        line = problem.format()
        assert not any(c in line for c in "\x1b\x07\x00\x9b"), line


_MANIFEST = st.sampled_from(
    [
        b'id = "f"\ntitle = "F"\nversion = "1"\n',
        b'id = "f"\ntitle = "F\\u001b[2J"\nversion = "1"\nlessons = ["01.md", "02.md", "../x.md"]\n',
        b'id = "f"\ntitle = "F"\nversion = "1"\nformat = 99\n',
        b'id = "f"\ntitle = "F"\n',
        b'id = "f\ntitle = F\n',
        b"\xff\xfe\x00",
    ]
)
_LINKS = st.lists(
    st.tuples(
        st.sampled_from(["03.md", "04.md", "data.csv"]),
        st.sampled_from(["/proc/self/environ", "/etc/hostname", "01.md", "/nonexistent"]),
    ),
    max_size=2,
)


@settings(max_examples=120)
@given(_MANIFEST, mutated(LESSON), mutated(BLOCKS), _LINKS)
def test_fuzzed_packs_load_and_validate_without_a_traceback(manifest, one, two, links):
    root = _write({"pack.toml": manifest, "01.md": one, "02.md": two}, links)
    _check(root, deep=False)


@settings(max_examples=25)
@given(mutated(LESSON), mutated(BLOCKS))
def test_fuzzed_packs_survive_the_deep_checks(one, two):
    manifest = b'id = "f"\ntitle = "F"\nversion = "1"\n'
    root = _write({"pack.toml": manifest, "01.md": one, "02.md": two}, [])
    _check(root, deep=True)


@pytest.mark.parametrize("filler", [b"x", b"\x1b", b"\xff", b"\n", b"```exercise\n"])
def test_oversized_files_are_refused_whatever_they_hold(filler):
    manifest = b'id = "f"\ntitle = "F"\nversion = "1"\n'
    big = b"+++\nid = 'a'\ntitle = 'A'\n+++\n" + filler * (2_000_000 // len(filler))
    root = _write({"pack.toml": manifest, "01.md": big}, [])
    _check(root, deep=False)
