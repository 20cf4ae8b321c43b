"""Value answers: a number or a (nested) list, as a learner types it or Python prints it.

    8        -32, -40        [-32, -40]        [[1, 2], [3, 4]]        2*(20 - 24)
    [-16 -24]                  numpy's print: entries separated by spaces
    tensor(10.)   tensor([-32., -40.])   tensor([8.], dtype=torch.float64)   torch's print
    array([1., 2.])            numpy's repr

Each entry is a math-language expression without variables. The whole text must be
one answer: anything after it is refused with its column. No torch here: the result is
nested lists of floats, and the caller makes a tensor.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import mathlang
from .mathlang import MathError
from .sizes import MAX_VALUE_CHARS

MAX_LENGTH = MAX_VALUE_CHARS
MAX_DEPTH = 8
MAX_ENTRIES = 10_000
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WRAPPERS = ("tensor", "array")
_KEYWORDS = ("dtype", "requires_grad", "grad_fn", "device")

Value = float | list[Any]


def parse_value(text: str) -> Value:
    """The number or nested list of floats an answer stands for; raises MathError."""
    if not isinstance(text, str) or not text.strip():
        raise MathError("the answer is empty")
    if len(text) > MAX_LENGTH:
        raise MathError(f"the answer is too long ({len(text)} characters; at most {MAX_LENGTH})")
    return _Reader(text).answer()


def shape_of(value: Value) -> tuple[int, ...]:
    """The shape of a parsed value (rectangular by construction)."""
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.entries = 0

    # -- helpers -------------------------------------------------------------------

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def fail(self, message: str, at: int | None = None) -> MathError:
        col = (self.i if at is None else at) + 1
        return MathError(f"{message} (column {col})", col)

    def end(self) -> None:
        self.ws()
        if self.i < len(self.text):
            raise self.fail(
                f"unexpected `{self.text[self.i]}` after a complete answer; "
                "give one number or one list"
            )

    # -- grammar -------------------------------------------------------------------

    def answer(self) -> Value:
        self.ws()
        wrapped = self.wrapper()
        if wrapped is not None:
            self.end()
            return wrapped
        if self.peek() == "[":
            value = self.listing(0)
            self.end()
            return value
        # a bare list `-32, -40`, or one number
        items = [self.scalar(stop=",")]
        while self.peek() == ",":
            self.i += 1
            if not self.text[self.i :].strip():
                break  # a trailing comma
            items.append(self.scalar(stop=","))
        self.end()
        return items if len(items) > 1 else items[0]

    def wrapper(self) -> Value | None:
        """`tensor(...)` / `array(...)` as torch and numpy print them."""
        for name in _WRAPPERS:
            if (
                self.text.startswith(name, self.i)
                and self.text[self.i + len(name) :].lstrip()[:1] == "("
            ):
                self.i = self.text.index("(", self.i) + 1
                self.ws()
                value = self.listing(0) if self.peek() == "[" else self.scalar(stop=",)")
                self.ws()
                while self.peek() == ",":
                    self.i += 1
                    self.keyword()
                    self.ws()
                if self.peek() != ")":
                    raise self.fail(f"expected `)` to close `{name}(`")
                self.i += 1
                return value
        return None

    def keyword(self) -> None:
        """`dtype=torch.float64`, `requires_grad=True`, `grad_fn=<...>`: read and ignored."""
        self.ws()
        match = re.compile(r"([a-z_]+)\s*=").match(self.text, self.i)
        if not match or match.group(1) not in _KEYWORDS:
            raise self.fail(f"only {', '.join(_KEYWORDS)} may follow the numbers in tensor(...)")
        self.i = match.end()
        value = re.compile(r"\s*(<[^<>]*>|[A-Za-z0-9_.'\"]+)").match(self.text, self.i)
        if not value:
            raise self.fail(f"a value for `{match.group(1)}` was expected")
        self.i = value.end()

    def listing(self, depth: int) -> list[Any]:
        """`[a, b, ...]` (commas) or `[a b ...]` (numpy's spaces), nested."""
        if depth >= MAX_DEPTH:
            raise self.fail(f"the list is nested too deeply (at most {MAX_DEPTH} levels)")
        opened = self.i
        self.i += 1
        close = self._closing(opened)
        inner = self.text[self.i : close]
        if not inner.strip():
            raise self.fail("the list is empty", opened)
        spaced = not _top_level_has(inner, ",")
        items: list[Any] = []
        while True:
            self.ws()
            if self.i >= close:
                break
            if self.peek() == "[":
                items.append(self.listing(depth + 1))
            elif spaced:
                items.extend(self.spaced_entries(close))
                continue
            else:
                items.append(self.scalar(stop=",]"))
            self.ws()
            if self.peek() == ",":
                self.i += 1
                self.ws()
                if self.peek() == ",":
                    raise self.fail("an empty entry between two commas")
            elif self.i < close and not spaced:
                raise self.fail(f"expected `,` or `]`, found `{self.peek()}`")
        self.i = close + 1
        if not items:
            raise self.fail("the list is empty", opened)
        shapes = {shape_of(item) if isinstance(item, list) else () for item in items}
        if len(shapes) != 1:
            raise MathError("the rows of the list must have the same length")
        return items

    def spaced_entries(self, close: int) -> list[float]:
        """numpy's `[-16 -24]`: entries separated by spaces, when every one is a number.

        Anything else between the brackets is one expression (`[2 * 3]` is [6]).
        """
        start = self.i
        end = start
        while end < close and self.text[end] != "[":
            end += 1
        chunk = self.text[start:end]
        words = chunk.split()
        if len(words) > 1 and all(_NUMBER.fullmatch(w) for w in words):
            self.i = end
            self.count(len(words))
            return [float(w) for w in words]
        return [self.scalar(stop="]")]

    def scalar(self, stop: str) -> float:
        """One entry: text up to a top-level character of `stop`, as a math expression."""
        start = self.i
        depth = 0
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    if ")" in stop:
                        break
                    raise self.fail("`)` closes a parenthesis that was never opened")
                depth -= 1
            elif c in "[]" and depth == 0:
                if c == "]" and "]" in stop:
                    break
                raise self.fail(f"unexpected `{c}`")
            elif depth == 0 and c in stop:
                break
            self.i += 1
        chunk = self.text[start : self.i]
        if not chunk.strip():
            raise self.fail("a number was expected here", start)
        self.count(1)
        return _evaluate(chunk, start)

    def count(self, n: int) -> None:
        self.entries += n
        if self.entries > MAX_ENTRIES:
            raise MathError(f"the answer has too many numbers (at most {MAX_ENTRIES:,})")

    def _closing(self, opened: int) -> int:
        depth = 0
        for j in range(opened, len(self.text)):
            c = self.text[j]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    return j
        raise self.fail("the `[` opened here is never closed", opened)


def _top_level_has(text: str, char: str) -> bool:
    """Whether `char` occurs outside parentheses and nested brackets."""
    depth = 0
    for c in text:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == char and depth == 0:
            return True
    return False


def _evaluate(chunk: str, start: int) -> float:
    """A math-language expression without variables, as a float."""
    lead = len(chunk) - len(chunk.lstrip())
    try:
        node = mathlang.parse(chunk.strip(), frozenset())
    except MathError as exc:
        if exc.column is None:
            raise
        column = exc.column + start + lead
        message = exc.message.replace(f"column {exc.column}", f"column {column}")
        raise MathError(message, column) from None
    value = mathlang.evaluate_constant(node)
    if value is None or not math.isfinite(value):
        raise MathError(f"`{chunk.strip()}` is not a finite number")
    return value


def format_number(v: float) -> str:
    """A number as a learner writes it: `-32`, `0.25`, `6.01`, `1e-07`."""
    if not math.isfinite(v):
        return "undefined" if math.isnan(v) else ("∞" if v > 0 else "-∞")
    if v == int(v) and abs(v) < 1e12:
        return str(int(v))
    return f"{v:.6g}"


def format_value(value: Value) -> str:
    """A parsed value as it reads back: `[-32, -40]`, `10`."""
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return format_number(value)
