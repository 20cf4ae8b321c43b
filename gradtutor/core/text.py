"""Text from outside (packs, answers, progress files) made safe for a terminal.

A C0 or C1 control character (U+0000-U+001F, U+007F-U+009F) written to a terminal is an
instruction, not a letter: ESC [2J clears the screen, OSC 52 writes the clipboard. Every
string that comes from a pack, an answer or a progress file passes through one of these
functions before it reaches Textual or standard output.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

CONTROL_NAMES = {
    "\t": "a TAB",
    "\n": "a newline",
    "\r": "a carriage return",
    "\x1b": "an ESC (escape)",
    "\x07": "a BEL",
    "\x08": "a backspace",
    "\x0c": "a form feed",
    "\x00": "a NUL",
    "\x7f": "a DEL",
}


def is_control(ch: str) -> bool:
    """Whether a character is a C0 or C1 control character (or DEL)."""
    return bool(_CONTROL.fullmatch(ch))


def describe_control(ch: str) -> str:
    """`an ESC (escape) (U+001B)`: a control character named for an error message."""
    name = CONTROL_NAMES.get(ch, "a control character")
    return f"{name} (U+{ord(ch):04X})"


def has_controls(text: str, keep: str = "") -> bool:
    """Whether `text` holds a control character other than those in `keep`."""
    if not keep:
        return _CONTROL.search(text) is not None
    return any(c not in keep for c in _CONTROL.findall(text))


def strip_controls(text: str) -> str:
    """Every control character removed (one-line text: titles, ids, labels)."""
    return _CONTROL.sub("", text)


def strip_controls_in_prose(text: str) -> str:
    """Control characters removed except newline and TAB, which Markdown lays out."""
    return _CONTROL_BUT_LAYOUT.sub("", text)


def one_line(text: str) -> str:
    """A single line: newlines and TABs become spaces, other control characters go."""
    return strip_controls(re.sub(r"[\t\n\r]+", " ", text))


def visible(text: str) -> str:
    """Control characters shown as `\\x1b`-style escapes (newline kept): for messages that
    quote outside text, where the learner or author must see what was there."""
    return _CONTROL_BUT_NEWLINE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeStream:
    """A text stream that writes control characters (except newline and TAB) as escapes.

    The command line wraps standard output and error in it, so that no message quoting
    a pack, an answer or a progress file can drive the terminal.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_CONTROL_BUT_LAYOUT.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
        return len(text)

    @property
    def unescaped(self) -> TextIO:
        """The stream underneath, for output whose text from files is already made
        safe and whose own escapes (rich's styles) must reach the terminal."""
        return self._stream

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding...
        return getattr(self._stream, name)


_NUMBER = re.compile(r"[-−]?\d+(?:[.,]\d+)?(?:e[-+]?\d+)?")


def mask_numbers(text: str) -> str:
    """The text with every number written as `#`: two messages that differ only in the
    numbers drawn for a learner (or a variant) read the same."""
    return _NUMBER.sub("#", text)


def listed(names: list[str]) -> str:
    """Names as a sentence lists them: `a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
