"""The math language: our own tokenizer and precedence-climbing parser.

Text becomes a small syntax tree (`Node`), which is then built into sympy objects or torch
operations directly. Nothing here runs Python on the text: no eval, exec, sympify,
parse_expr or lambdify. Limits on length, tokens, depth, digits and the size of exact
powers refuse hostile input at once.

Grammar (highest binding last)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary | implicit-product)*
    unary   := ("-" | "+") unary | power
    power   := atom (("^" | "**") unary)?          right associative: 2^3^2 = 2^9
    atom    := NUMBER | NAME | FUNCTION "(" expr ("," expr)* ")" | "(" expr ")"

So `-x^2` is `-(x^2)`, and `2x^2` is `2*(x^2)`. Implicit products: a number before a
name or a parenthesis (`2x`, `2(x+1)`), a parenthesis before a parenthesis or a name
(`(x+1)(x-1)`), a variable before a parenthesis (`x1(y - b)`), and anything before a
function call (`2x exp(-x^2)`). `xy` is one name; `x y` is refused (write `x*y`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

MAX_LENGTH = 500
MAX_TOKENS = 300
MAX_DEPTH = 40
MAX_DIGITS = 30
MAX_EXPONENT = 1000
MAX_LOG10 = 300  # exact constants beyond 10^300 are refused (they do not fit a float)

FUNCTIONS: dict[str, int] = {
    "exp": 1,
    "log": 1,
    "ln": 1,
    "sqrt": 1,
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "tanh": 1,
    "sigmoid": 1,
    "relu": 1,
    "abs": 1,
    "Heaviside": 1,
    "step": 1,
    "max": 2,
    "min": 2,
}
# Functions that are not differentiable at one point; sampling stays away from it.
KINKED = {"relu", "abs", "Heaviside", "max", "min"}
_ALIASES = {"ln": "log", "step": "Heaviside", "heaviside": "Heaviside", "σ": "sigmoid"}
CONSTANTS = ("pi", "e")

_SUPERSCRIPTS = {
    "⁰": "0",
    "¹": "1",
    "²": "2",
    "³": "3",
    "⁴": "4",
    "⁵": "5",
    "⁶": "6",
    "⁷": "7",
    "⁸": "8",
    "⁹": "9",
    "⁻": "-",
}
_OPERATOR_FORMS = {
    "−": "-",
    "–": "-",
    "‐": "-",
    "·": "*",
    "⋅": "*",
    "×": "*",
    "∗": "*",
    "÷": "/",
}


class LanguageError(ValueError):
    """Text that could not be understood, with the column (1-based) where it went wrong."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        if self.column is None or "column" in self.message:
            return self.message
        return f"{self.message} (column {self.column})"


class MathError(LanguageError):
    """An answer in the math language that could not be understood."""


# ----------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Num:
    """A number literal, kept exact."""

    value: Fraction
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class Var:
    """A variable of the exercise."""

    name: str


@dataclass(frozen=True)
class Const:
    """`pi` or `e`."""

    name: str


@dataclass(frozen=True)
class BinOp:
    """`+ - * / ^`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True)
class Call:
    """A function of the language (names normalised: ln -> log, step -> Heaviside)."""

    func: str
    args: tuple[Node, ...]


Node = Num | Var | Const | BinOp | Neg | Call


def variables(node: Node) -> set[str]:
    """The variable names in a tree."""
    match node:
        case Var(name):
            return {name}
        case BinOp(_, left, right):
            return variables(left) | variables(right)
        case Neg(operand):
            return variables(operand)
        case Call(_, args):
            return set().union(*(variables(a) for a in args))
    return set()


def walk(node: Node):
    """Every node of the tree, parents before children."""
    yield node
    match node:
        case BinOp(_, left, right):
            yield from walk(left)
            yield from walk(right)
        case Neg(operand):
            yield from walk(operand)
        case Call(_, args):
            for arg in args:
                yield from walk(arg)


# ----------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    col: int  # 1-based column in the original text


def _describe_char(ch: str, col: int) -> str:
    if unicodedata.category(ch).startswith("C"):
        return f"a control character (U+{ord(ch):04X}) at column {col} is not part of the math language"
    name = unicodedata.name(ch, f"U+{ord(ch):04X}").title()
    if ch.isalpha() and not ch.isascii():
        return f"'{ch}' at column {col} is the {name}, not a Latin letter; retype it"
    return f"'{ch}' at column {col} is not part of the math language"


def tokenize(text: str) -> list[Token]:
    """Split text into tokens, accepting the typographic forms of the language."""
    if len(text) > MAX_LENGTH:
        raise MathError(f"the answer is too long ({len(text)} characters; at most {MAX_LENGTH})")
    tokens: list[Token] = []
    i, n = 0, len(text)

    def char(k: int) -> str:
        c = text[k]
        if "\uff01" <= c <= "\uff5e":  # full-width forms typed on some keyboards
            return chr(ord(c) - 0xFEE0)
        if c == "\u3000":
            return " "
        return _OPERATOR_FORMS.get(c, c)

    while i < n:
        c = char(i)
        col = i + 1
        if c in " \t":
            i += 1
            continue
        if c.isascii() and (c.isdigit() or (c == "." and i + 1 < n and char(i + 1).isdigit())):
            j = i
            while j < n and char(j).isascii() and char(j).isdigit():
                j += 1
            if j < n and char(j) == ".":
                j += 1
                while j < n and char(j).isascii() and char(j).isdigit():
                    j += 1
            if j < n and char(j) in "eE":
                k = j + 1
                if k < n and char(k) in "+-":
                    k += 1
                if k < n and char(k).isascii() and char(k).isdigit():
                    while k < n and char(k).isascii() and char(k).isdigit():
                        k += 1
                    j = k
            literal = "".join(char(k) for k in range(i, j))
            if sum(ch.isdigit() for ch in literal) > MAX_DIGITS:
                raise MathError(
                    f"the number at column {col} has too many digits (at most {MAX_DIGITS})", col
                )
            tokens.append(Token("num", literal, col))
            i = j
            continue
        if c.isascii() and (c.isalpha()):
            j = i
            while j < n and char(j).isascii() and (char(j).isalnum() or char(j) == "_"):
                j += 1
            tokens.append(Token("name", "".join(char(k) for k in range(i, j)), col))
            i = j
            continue
        if c in ("σ", "π"):
            tokens.append(Token("name", "sigmoid" if c == "σ" else "pi", col))
            i += 1
            continue
        if c in _SUPERSCRIPTS:
            j = i
            while j < n and text[j] in _SUPERSCRIPTS:
                j += 1
            digits = "".join(_SUPERSCRIPTS[text[k]] for k in range(i, j))
            if not digits.lstrip("-").isdigit() or digits.count("-") > 1:
                raise MathError(f"the superscript at column {col} is not a whole number", col)
            tokens.append(Token("op", "^", col))
            if digits.startswith("-"):
                tokens.append(Token("op", "-", col))
                digits = digits[1:]
            tokens.append(Token("num", digits, col))
            i = j
            continue
        if c == "*" and i + 1 < n and char(i + 1) == "*":
            tokens.append(Token("op", "^", col))
            i += 2
            continue
        if c in "+-*/^(),":
            tokens.append(Token("op", c, col))
            i += 1
            continue
        raise MathError(_unexpected_char(c, text, i), col)
    if len(tokens) > MAX_TOKENS:
        raise MathError(f"the answer is too long ({len(tokens)} symbols; at most {MAX_TOKENS})")
    tokens.append(Token("end", "", n + 1))
    return tokens


def _unexpected_char(c: str, text: str, i: int) -> str:
    col = i + 1
    if c == "=":
        return "write only the expression, without `=` (for example `2*x`, not `dy/dx = 2*x`)"
    if c == "_":
        return f"a name cannot start with `_` (column {col})"
    if c == "'":
        return f"`'` at column {col} is not part of the math language; write the derivative itself"
    if c in "[]{}":
        return f"`{c}` at column {col} is not part of the math language; group with ( and )"
    if c == ".":
        return f"`.` at column {col} is not part of the math language (write functions as `sin(x)`)"
    return _describe_char(c, col)


# ----------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, tokens: list[Token], allowed: frozenset[str] | None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.allowed = allowed  # None: any name is a variable (authors' `function`)
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect_close(self, opener: Token) -> None:
        if self.tok.text == ")":
            self.advance()
            return
        if self.tok.kind == "end":
            raise MathError(
                f"the parenthesis opened at column {opener.col} is never closed", opener.col
            )
        raise MathError(
            f"expected `)` to close the parenthesis at column {opener.col}, found {self.show(self.tok)}",
            self.tok.col,
        )

    @staticmethod
    def show(tok: Token) -> str:
        return "the end of the answer" if tok.kind == "end" else f"`{tok.text}` at column {tok.col}"

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathError(
                f"the expression is nested too deeply (at most {MAX_DEPTH} levels)", self.tok.col
            )

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise MathError("the answer is empty")
        node = self.expr()
        if self.tok.kind != "end":
            if self.tok.text == ")":
                raise MathError(
                    f"`)` at column {self.tok.col} closes a parenthesis that was never opened",
                    self.tok.col,
                )
            if self.tok.text == ",":
                raise MathError(
                    f"`,` at column {self.tok.col} is only used between the arguments of max and min",
                    self.tok.col,
                )
            raise MathError(f"unexpected {self.show(self.tok)}", self.tok.col)
        return node

    def expr(self) -> Node:
        self.nest()
        node = self.term()
        while self.tok.text in ("+", "-"):
            op = self.advance().text
            node = BinOp(op, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node, kind = self.unary()
        while True:
            tok = self.tok
            if tok.text in ("*", "/"):
                self.advance()
                right, kind = self.unary()
                node = BinOp(tok.text, node, right)
            elif tok.kind in ("num", "name") or tok.text == "(":
                right, kind = self.implicit(kind, tok)
                node = BinOp("*", node, right)
            else:
                return node

    def implicit(self, left_kind: str, tok: Token) -> tuple[Node, str]:
        """The right factor of an implicit product, when the language allows one here."""
        if left_kind == "num" and tok.kind == "num":
            raise MathError(
                f"two numbers in a row at column {tok.col}; put an operator between them", tok.col
            )
        function_next = tok.kind == "name" and _ALIASES.get(tok.text, tok.text) in FUNCTIONS
        if left_kind in ("name", "num_power") and tok.kind in ("name", "num") and not function_next:
            raise MathError(
                f"missing operator before `{tok.text}` at column {tok.col}; "
                "write `*` for a product (`w*x`, not `w x`)",
                tok.col,
            )
        if left_kind == "paren" and tok.kind == "num":
            raise MathError(f"missing operator before the number at column {tok.col}", tok.col)
        return self.power()

    def unary(self) -> tuple[Node, str]:
        if self.tok.text in ("-", "+"):
            op = self.advance()
            self.nest()
            operand, kind = self.unary()
            self.depth -= 1
            return (Neg(operand) if op.text == "-" else operand), kind
        return self.power()

    def power(self) -> tuple[Node, str]:
        base, kind = self.atom()
        if self.tok.text == "^":
            caret = self.advance()
            if self.tok.kind == "end":
                raise MathError(f"`^` at column {caret.col} needs an exponent after it", caret.col)
            self.nest()
            exponent, _ = self.unary()
            self.depth -= 1
            node = BinOp("^", base, exponent)
            _check_size(node, caret.col)
            # `x^2 y` must not read as x^(2y): after a power, only explicit operators
            return node, "num_power" if kind != "paren" else "paren"
        return base, kind

    def atom(self) -> tuple[Node, str]:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return _number(tok), "num"
        if tok.text == "(":
            self.advance()
            if self.tok.text == ")":
                raise MathError(f"empty parentheses at column {tok.col}", tok.col)
            inner = self.expr()
            self.expect_close(tok)
            return inner, "paren"
        if tok.kind == "name":
            return self.name()
        if tok.kind == "end":
            raise MathError(
                f"the answer ends at column {tok.col} where a number, name or `(` was expected",
                tok.col,
            )
        raise MathError(
            f"unexpected {self.show(tok)}; a number, name or `(` was expected here", tok.col
        )

    def name(self) -> tuple[Node, str]:
        tok = self.advance()
        name = _ALIASES.get(tok.text, tok.text)
        if name in FUNCTIONS:
            if self.tok.text != "(":
                arg = self.tok.text if self.tok.kind in ("name", "num") else "..."
                raise MathError(
                    f"functions need parentheses: write `{tok.text}({arg})` (column {tok.col})",
                    tok.col,
                )
            opener = self.advance()
            args = [self.expr()]
            while self.tok.text == ",":
                self.advance()
                args.append(self.expr())
            self.expect_close(opener)
            arity = FUNCTIONS[name]
            if len(args) != arity:
                want = "one argument" if arity == 1 else "two arguments, like max(a, b)"
                raise MathError(f"`{tok.text}` takes {want} (column {tok.col})", tok.col)
            return Call(name, tuple(args)), "paren"
        if name in CONSTANTS and (self.allowed is None or name not in self.allowed):
            return Const(name), "name"
        if self.allowed is not None and name not in self.allowed:
            raise MathError(_unknown_name(tok, self.allowed), tok.col)
        if tok.text.startswith("_") or "__" in tok.text:
            raise MathError(f"`{tok.text}` is not a usable name (column {tok.col})", tok.col)
        return Var(name), "name"


def _unknown_name(tok: Token, allowed: frozenset[str]) -> str:
    listed = ", ".join(sorted(allowed)) if allowed else "none: the answer is a number"
    split = _split_into(tok.text, allowed)
    if split:
        return f"`{tok.text}` at column {tok.col} is not a variable here; did you mean {'*'.join(split)}?"
    lower = {a.lower(): a for a in allowed}
    if tok.text.lower() in lower:
        return f"`{tok.text}` at column {tok.col}: names are case-sensitive; did you mean {lower[tok.text.lower()]}?"
    lowered = {f.lower(): f for f in FUNCTIONS}
    if tok.text.lower() in lowered:
        return f"`{tok.text}` at column {tok.col}: did you mean the function {lowered[tok.text.lower()]}?"
    return f"`{tok.text}` at column {tok.col} is not a variable in this exercise (the variables are: {listed})"


def _split_into(name: str, allowed: frozenset[str]) -> list[str] | None:
    """`xy` -> [x, y] when both are variables (longest names first)."""
    if len(name) > 40:
        return None
    best: dict[int, list[str]] = {0: []}
    for i in range(len(name)):
        if i not in best:
            continue
        for v in allowed | set(CONSTANTS):
            if name.startswith(v, i) and i + len(v) not in best:
                best[i + len(v)] = [*best[i], v]
    parts = best.get(len(name))
    return parts if parts and len(parts) > 1 else None


_LITERAL = re.compile(r"(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")


def _number(tok: Token) -> Num:
    """A literal, kept exact; refused when it is beyond 10^±MAX_LOG10 (before it is built:
    `1e99999999` would otherwise be a number with a hundred million digits)."""
    match = _LITERAL.fullmatch(tok.text)
    if match is None:
        raise MathError(f"`{tok.text}` at column {tok.col} is not a number", tok.col)
    whole, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3) or 0)
    digits = (whole + fraction).lstrip("0")
    if digits:
        if whole.lstrip("0"):
            magnitude = exponent + len(whole.lstrip("0")) - 1
        else:
            magnitude = exponent - (len(fraction) - len(fraction.lstrip("0")) + 1)
        if abs(magnitude) > MAX_LOG10:
            size = "large" if magnitude > 0 else "small"
            raise MathError(
                f"`{tok.text}` at column {tok.col} is too {size} to work with "
                f"(numbers must lie between 1e-{MAX_LOG10} and 1e{MAX_LOG10})",
                tok.col,
            )
    try:
        value = Fraction(tok.text)
    except (ValueError, ZeroDivisionError) as exc:
        raise MathError(f"`{tok.text}` at column {tok.col} is not a number", tok.col) from exc
    return Num(value, tok.text)


def _const_log10(node: Node) -> float | None:
    """log10 of |value| for a constant subtree (None when it has variables or is zero)."""
    match node:
        case Num(value):
            return math.log10(abs(value)) if value else None
        case Const(name):
            return math.log10(math.pi) if name == "pi" else math.log10(math.e)
        case Neg(operand):
            return _const_log10(operand)
        case BinOp(op, left, right):
            a, b = _const_log10(left), _const_log10(right)
            if a is None or b is None:
                return None
            if op == "*":
                return a + b
            if op == "/":
                return a - b
            if op in "+-":
                return max(a, b) + 0.31
            exponent = _const_value(right)
            return None if exponent is None else a * exponent
    return None


def _const_value(node: Node) -> float | None:
    """The float value of a small constant subtree, or None."""
    match node:
        case Num(value):
            return float(value)
        case Neg(operand):
            v = _const_value(operand)
            return None if v is None else -v
        case Const(name):
            return math.pi if name == "pi" else math.e
        case BinOp(op, left, right):
            a, b = _const_value(left), _const_value(right)
            if a is None or b is None:
                return None
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b if b else None
                result = a**b
                return result if isinstance(result, float | int) else None
            except (OverflowError, ZeroDivisionError):
                return None
    return None


_MATH_FUNCTIONS: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "tanh": math.tanh,
    "sigmoid": lambda t: 1 / (1 + math.exp(-t)) if t > -700 else 0.0,
    "relu": lambda t: max(0.0, t),
    "abs": abs,
    "Heaviside": lambda t: 1.0 if t > 0 else 0.5 if t == 0 else 0.0,
    "max": max,
    "min": min,
}


def evaluate_constant(node: Node) -> float | None:
    """The float value of a tree without variables; None where it is undefined.

    Plain `math`, no torch: value answers are read with it, on the start path too.
    """
    match node:
        case Num(value):
            return float(value)
        case Const(name):
            return math.pi if name == "pi" else math.e
        case Neg(operand):
            v = evaluate_constant(operand)
            return None if v is None else -v
        case BinOp(op, left, right):
            a, b = evaluate_constant(left), evaluate_constant(right)
            if a is None or b is None:
                return None
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b
                result = a**b
                return result if isinstance(result, float | int) else None
            except (OverflowError, ZeroDivisionError):
                return None
        case Call(func, args):
            values = [evaluate_constant(a) for a in args]
            if any(v is None for v in values):
                return None
            try:
                return float(_MATH_FUNCTIONS[func](*values))
            except (OverflowError, ValueError, ZeroDivisionError, KeyError):
                return None
    return None


def _check_size(node: BinOp, col: int) -> None:
    exponent = _const_value(node.right)
    if exponent is None:
        if _const_log10(node.right) is not None:  # a constant too large to evaluate
            raise MathError(f"the power at column {col} is too large to work with", col)
        return
    if abs(exponent) > MAX_EXPONENT:
        raise MathError(f"the exponent at column {col} is too large (at most {MAX_EXPONENT})", col)
    magnitude = _const_log10(node)
    if magnitude is not None and abs(magnitude) > MAX_LOG10:
        raise MathError(f"the power at column {col} is too large to work with", col)


def parse(text: str, variables: set[str] | frozenset[str] | None = None) -> Node:
    """Parse text into a tree. `variables`: the names allowed (None: any name is a variable).

    Raises MathError with a message that says what was not understood and where.
    """
    if not isinstance(text, str):
        raise MathError("the answer must be text")
    allowed = frozenset(variables) if variables is not None else None
    return _Parser(tokenize(text), allowed).parse()


# ----------------------------------------------------------------------------- printing

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def _prec(node: Node) -> int:
    if isinstance(node, BinOp):
        return _PREC[node.op]
    if isinstance(node, Neg):
        return _PREC["neg"]
    return 5


def to_text(node: Node) -> str:
    """Plain text that parses back to the same tree (minimal parentheses)."""
    match node:
        case Num(value, text):
            if value.denominator == 1:
                return str(value.numerator)
            return text or str(float(value))
        case Var(name) | Const(name):
            return name
        case Neg(operand):
            inner = to_text(operand)
            return f"-({inner})" if _prec(operand) < 3 else f"-{inner}"
        case Call(func, args):
            return f"{func}({', '.join(to_text(a) for a in args)})"
        case BinOp(op, left, right):
            lp, rp, p = _prec(left), _prec(right), _PREC[op]
            if op == "^":
                ls = (
                    f"({to_text(left)})"
                    if lp <= 4 or isinstance(left, Num) and left.value < 0
                    else to_text(left)
                )
                rs = f"({to_text(right)})" if rp < 4 else to_text(right)
                return f"{ls}^{rs}"
            ls = f"({to_text(left)})" if lp < p else to_text(left)
            rs = f"({to_text(right)})" if rp <= p else to_text(right)
            sep = " " if p == 1 else ""
            return f"{ls}{sep}{op}{sep}{rs}"
    raise TypeError(node)


# ----------------------------------------------------------------------------- sympy


_DISPLAY_NAMES = {"sigmoid": "σ", "relu": "relu", "Heaviside": "step", "max": "max", "min": "min"}


def to_sympy(node: Node, symbols: dict[str, Any] | None = None, display: bool = False):
    """Build the sympy expression for a tree (variables as real symbols).

    With `display`, sigmoid, relu, step, max and min stay named, unevaluated functions,
    so that a preview reads like the answer typed (sympy would expand sigmoid and write
    Heaviside as θ); such an expression is for printing only.
    """
    import sympy

    symbols = symbols if symbols is not None else {}

    def build(n: Node):
        match n:
            case Num(value):
                return sympy.Rational(value.numerator, value.denominator)
            case Var(name):
                if name not in symbols:
                    symbols[name] = sympy.Symbol(name, real=True)
                return symbols[name]
            case Const(name):
                return sympy.pi if name == "pi" else sympy.E
            case Neg(operand):
                return -build(operand)
            case BinOp(op, left, right):
                a, b = build(left), build(right)
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b
                return a**b
            case Call(func, args):
                xs = [build(a) for a in args]
                if display and func in _DISPLAY_NAMES:
                    return sympy.Function(_DISPLAY_NAMES[func])(*xs)
                match func:
                    case "sigmoid":
                        return 1 / (1 + sympy.exp(-xs[0]))
                    case "relu":
                        return sympy.Max(0, xs[0])
                    case "abs":
                        return sympy.Abs(xs[0])
                    case "Heaviside":
                        return sympy.Heaviside(xs[0])
                    case "max":
                        return sympy.Max(*xs)
                    case "min":
                        return sympy.Min(*xs)
                    case _:
                        return getattr(sympy, func)(xs[0], evaluate=not display)
        raise TypeError(n)

    return build(node)


# ----------------------------------------------------------------------------- torch


def to_torch(node: Node, env: dict[str, Any]):
    """Evaluate a tree with torch operations (float64) over the tensors in `env`.

    Differentiable wherever the function is; `Heaviside` is built from comparisons so
    that autograd sees a zero derivative away from its jump.
    """
    import torch

    def const(v: float):
        return torch.tensor(v, dtype=torch.float64)

    def build(n: Node):
        match n:
            case Num(value):
                return const(float(value))
            case Var(name):
                return env[name]
            case Const(name):
                return const(math.pi if name == "pi" else math.e)
            case Neg(operand):
                return -build(operand)
            case BinOp(op, left, right):
                a, b = build(left), build(right)
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b
                return torch.pow(a, b)
            case Call(func, args):
                xs = [build(a) for a in args]
                t = xs[0]
                match func:
                    case "exp":
                        return torch.exp(t)
                    case "log":
                        return torch.log(t)
                    case "sqrt":
                        return torch.sqrt(t)
                    case "sin":
                        return torch.sin(t)
                    case "cos":
                        return torch.cos(t)
                    case "tan":
                        return torch.tan(t)
                    case "tanh":
                        return torch.tanh(t)
                    case "sigmoid":
                        return torch.sigmoid(t)
                    case "relu":
                        return torch.relu(t)
                    case "abs":
                        return torch.abs(t)
                    case "Heaviside":
                        return (t > 0).to(torch.float64) + 0.5 * (t == 0).to(torch.float64)
                    case "max":
                        return torch.maximum(t, xs[1])
                    case "min":
                        return torch.minimum(t, xs[1])
        raise TypeError(n)

    return build(node)


def kink_arguments(node: Node) -> list[Node]:
    """The expressions whose zero is a kink or jump (relu, abs, Heaviside, max, min)."""
    out = []
    for n in walk(node):
        if isinstance(n, Call) and n.func in KINKED:
            out.append(n.args[0] if len(n.args) == 1 else BinOp("-", n.args[0], n.args[1]))
    return out


def inner_functions(node: Node, wrt: str) -> list[Node]:
    """Inner functions of the chain: arguments of calls and bases of powers that are
    more than the bare variable and depend on it."""
    out: list[Node] = []
    for n in walk(node):
        candidates: tuple[Node, ...] = ()
        if isinstance(n, Call):
            candidates = n.args
        elif isinstance(n, BinOp) and n.op == "^":
            candidates = (n.left, n.right)
        for c in candidates:
            if c != Var(wrt) and wrt in variables(c) and c not in out:
                out.append(c)
    return out
