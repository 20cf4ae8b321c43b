"""Text to tokens, accepting what learners type and paste.

Typographic forms become their ASCII operators (`−` `·` `×` `÷`), full-width forms their
ASCII letters, superscript digits a power (`x²` is `x^2`), `σ` and `π` their names. Every
refusal names the character and its column.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..sizes import MAX_MATH_CHARS
from .tree import MathError

MAX_LENGTH = MAX_MATH_CHARS
MAX_TOKENS = 300
MAX_DIGITS = 30

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))
_OPERATOR_FORMS = {
    "−": "-",
    "–": "-",
    "‐": "-",
    "·": "*",
    "⋅": "*",
    "×": "*",
    "∗": "*",
    "÷": "/",
    "∣": "|",
}
_GREEK_NAMES = {"σ": "sigmoid", "π": "pi", "√": "sqrt", "∛": "cbrt"}
"""Symbols read as a name: what the preview prints reads back (`√x`, `∛x`)."""
GREEK_VARIABLES = frozenset("αβγδεζηθλμξρτφχψω")
"""Greek letters that name variables. σ (the sigmoid) and π (the constant) keep their
meanings; letters that look like Latin ones (ο, ν, κ, ι, υ) are refused as look-alikes."""
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
OPERATORS = "+-*/^(),|[]"


@dataclass(frozen=True)
class Token:
    """One token: `num`, `name`, `op` or `end`, with its 1-based column."""

    kind: str
    text: str
    col: int


def _normal(c: str) -> str:
    """A character with its typographic or full-width form undone."""
    if "\uff01" <= c <= "\uff5e":  # full-width forms typed on some keyboards
        return chr(ord(c) - 0xFEE0)
    if c == "\u3000":
        return " "
    if c in _SUBSCRIPTS:  # `x₁`, as the preview prints it, is the name x1
        return _SUBSCRIPTS[c]
    return _OPERATOR_FORMS.get(c, c)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.raw = text
        self.text = "".join(_normal(c) for c in text)
        self.i = 0
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        n = len(self.text)
        while self.i < n:
            c = self.text[self.i]
            if c in " \t":
                self.i += 1
            elif c.isascii() and (c.isdigit() or (c == "." and self._digit_at(self.i + 1))):
                self.number()
            elif c.isascii() and c.isalpha():
                self.name()
            elif c in _GREEK_NAMES:
                self.emit("name", _GREEK_NAMES[c], 1)
            elif c in GREEK_VARIABLES:
                self.emit("name", c, 1)  # θ, α, λ: a variable of its own
            elif self.raw[self.i] in _SUPERSCRIPTS:
                self.superscript()
            elif self.text.startswith("**", self.i):
                self.emit("op", "^", 2)
            elif c in OPERATORS:
                self.emit("op", c, 1)
            else:
                raise MathError(_unexpected_char(c, self.i + 1), self.i + 1)
        if len(self.tokens) > MAX_TOKENS:
            raise MathError(
                f"the answer is too long ({len(self.tokens)} symbols; at most {MAX_TOKENS})"
            )
        self.tokens.append(Token("end", "", n + 1))
        return self.tokens

    def emit(self, kind: str, text: str, width: int) -> None:
        self.tokens.append(Token(kind, text, self.i + 1))
        self.i += width

    def _digit_at(self, k: int) -> bool:
        return k < len(self.text) and self.text[k].isascii() and self.text[k].isdigit()

    def _digits(self, k: int) -> int:
        while self._digit_at(k):
            k += 1
        return k

    def number(self) -> None:
        start = self.i
        j = self._digits(start)
        if j < len(self.text) and self.text[j] == ".":
            j = self._digits(j + 1)
        if j < len(self.text) and self.text[j] in "eE":
            k = j + 1
            if k < len(self.text) and self.text[k] in "+-":
                k += 1
            if self._digit_at(k):
                j = self._digits(k)
        literal = self.text[start:j]
        if sum(ch.isdigit() for ch in literal) > MAX_DIGITS:
            raise MathError(
                f"the number at column {start + 1} has too many digits (at most {MAX_DIGITS})",
                start + 1,
            )
        self.tokens.append(Token("num", literal, start + 1))
        self.i = j

    def name(self) -> None:
        start = self.i
        j = start
        while (
            j < len(self.text)
            and self.text[j].isascii()
            and (self.text[j].isalnum() or self.text[j] == "_")
        ):
            j += 1
        self.tokens.append(Token("name", self.text[start:j], start + 1))
        self.i = j

    def superscript(self) -> None:
        start = self.i
        j = start
        while j < len(self.raw) and self.raw[j] in _SUPERSCRIPTS:
            j += 1
        digits = "".join(_SUPERSCRIPTS[self.raw[k]] for k in range(start, j))
        if not digits.lstrip("-").isdigit() or digits.count("-") > 1:
            raise MathError(
                f"the superscript at column {start + 1} is not a whole number", start + 1
            )
        self.tokens.append(Token("op", "^", start + 1))
        if digits.startswith("-"):
            self.tokens.append(Token("op", "-", start + 1))
            digits = digits[1:]
        self.tokens.append(Token("num", digits, start + 1))
        self.i = j


def tokenize(text: str) -> list[Token]:
    """Split text into tokens, accepting the typographic forms of the language."""
    if len(text) > MAX_LENGTH:
        raise MathError(f"the answer is too long ({len(text)} characters; at most {MAX_LENGTH})")
    return _Lexer(text).run()


def _describe_char(ch: str, col: int) -> str:
    if unicodedata.category(ch).startswith("C"):
        return f"a control character (U+{ord(ch):04X}) at column {col} is not part of the math language"
    name = unicodedata.name(ch, f"U+{ord(ch):04X}").title()
    if ch.isalpha() and not ch.isascii():
        return f"'{ch}' at column {col} is the {name}, not a Latin letter; retype it"
    return f"'{ch}' at column {col} is not part of the math language"


def _unexpected_char(c: str, col: int) -> str:
    if c == "=":
        return "write one expression, or one equation such as `dy/dx = 2x` (only one `=`)"
    if c == "_":
        return f"a name cannot start with `_` (column {col})"
    if c == "'":
        return f"`'` at column {col} is not part of the math language; write the derivative itself"
    if c in "{}":
        return f"`{c}` at column {col} is not part of the math language; group with ( ) or [ ]"
    if c == ".":
        return f"`.` at column {col} is not part of the math language (write functions as `sin(x)`)"
    return _describe_char(c, col)
