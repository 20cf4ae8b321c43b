"""Tokens to a tree: a precedence-climbing parser of the notation learners write.

Grammar (highest binding last)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary | implicit-product unary)*
    unary   := ("-" | "+") unary | power
    power   := atom (("^" | "**") unary)?          right associative: 2^3^2 = 2^9
    atom    := NUMBER | NAME | call | "(" expr ")" | "[" expr "]" | "|" expr "|"
    call    := FUNCTION [^ N] ( "(" expr ("," expr)* ")" | bare-argument )

So `-x^2` is `-(x^2)`, `2x^2` is `2*(x^2)` and `x^2 y` is `(x^2)*y`. A product may be
written as on paper, by putting factors side by side (`2x`, `2(x+1)`, `(x+1)(x-1)`,
`w x`, `pi x`, `2x exp(-x^2)`); a number never follows another factor that way (`x 2`
is refused), and `xy` is one name. A function of a single name or number needs no
parentheses: the argument is that name or number with its power (`sin x` is `sin(x)`,
`sin x^2` is `sin(x^2)`); anything more (`sin x y`) is refused. `sin^2(x)` and `sin²(x)`
are `sin(x)^2`; `|x|` is `abs(x)`.
"""

from __future__ import annotations

from fractions import Fraction

from .functions import CONSTANTS, FUNCTIONS, INVERSES, NAMES, canonical
from .lexer import Token, tokenize
from .numbers import check_power_size, number
from .tree import BinOp, Call, Const, MathError, Neg, Node, Num, Var

MAX_DEPTH = 40


class _Parser:
    def __init__(self, tokens: list[Token], allowed: frozenset[str] | None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.allowed = allowed  # None: any name is a variable (authors' `function`)
        self.depth = 0
        self.bars = 0  # open `|` of absolute values

    # -- helpers -------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def ahead(self, k: int = 1) -> Token:
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    @staticmethod
    def show(tok: Token) -> str:
        return "the end of the answer" if tok.kind == "end" else f"`{tok.text}` at column {tok.col}"

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathError(
                f"the expression is nested too deeply (at most {MAX_DEPTH} levels)", self.tok.col
            )

    def is_function(self, tok: Token) -> bool:
        return tok.kind == "name" and canonical(tok.text) is not None

    def starts_factor(self, tok: Token) -> bool:
        """Whether `tok` can begin the right factor of a product written side by side."""
        return (
            tok.kind in ("num", "name")
            or tok.text in ("(", "[")
            or (tok.text == "|" and not self.bars)
        )

    def expect_close(self, opener: Token, close: str = ")") -> None:
        if self.tok.text == close:
            self.advance()
            return
        what = {")": "parenthesis", "]": "square bracket"}.get(close, "absolute value `|`")
        if self.tok.kind == "end":
            raise MathError(f"the {what} opened at column {opener.col} is never closed", opener.col)
        raise MathError(
            f"expected `{close}` to close the {what} at column {opener.col}, found {self.show(self.tok)}",
            self.tok.col,
        )

    # -- grammar -------------------------------------------------------------------

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise MathError("the answer is empty")
        node = self.expr()
        if self.tok.kind != "end":
            tok = self.tok
            if tok.text == ")":
                raise MathError(
                    f"`)` at column {tok.col} closes a parenthesis that was never opened", tok.col
                )
            if tok.text == ",":
                raise MathError(
                    f"`,` at column {tok.col} is only used between the arguments of max and min",
                    tok.col,
                )
            raise MathError(f"unexpected {self.show(tok)}", tok.col)
        return node

    def expr(self) -> Node:
        self.nest()
        node, _ = self.term()
        while self.tok.text in ("+", "-"):
            op = self.advance().text
            right, _ = self.term()
            node = BinOp(op, node, right)
        self.depth -= 1
        return node

    def term(self) -> tuple[Node, str]:
        node, kind = self.unary()
        while True:
            tok = self.tok
            if tok.text in ("*", "/"):
                self.advance()
                right, kind = self.unary()
                node = BinOp(tok.text, node, right)
            elif self.starts_factor(tok):
                if tok.kind == "num":
                    if kind == "num":
                        message = f"two numbers in a row at column {tok.col}; put an operator between them"
                    else:
                        message = f"missing operator before the number at column {tok.col}"
                    raise MathError(message, tok.col)
                right, kind = self.power()
                node = BinOp("*", node, right)
            else:
                return node, kind

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
        if self.tok.text != "^":
            return base, kind
        caret = self.advance()
        if self.tok.kind == "end":
            raise MathError(f"`^` at column {caret.col} needs an exponent after it", caret.col)
        self.nest()
        exponent, _ = self.unary()
        self.depth -= 1
        node = BinOp("^", base, exponent)
        check_power_size(node, caret.col)
        return node, "power"

    def atom(self) -> tuple[Node, str]:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return number(tok), "num"
        if tok.text in ("(", "["):  # square brackets group too: 2[z - (x + 1)]
            close = ")" if tok.text == "(" else "]"
            self.advance()
            if self.tok.text == close:
                what = "parentheses" if close == ")" else "square brackets"
                raise MathError(f"empty {what} at column {tok.col}", tok.col)
            inner = self.expr()
            self.expect_close(tok, close)
            return inner, "paren"
        if tok.text == "|":
            self.advance()
            self.bars += 1  # `||x| - 1|`: a bar right after an opening one opens another
            inner = self.expr()
            self.expect_close(tok, "|")
            self.bars -= 1
            return Call("abs", (inner,)), "paren"
        if tok.kind == "name":
            return self.name(), "name"
        if tok.kind == "end":
            raise MathError(
                f"the answer ends at column {tok.col} where a number, name or `(` was expected",
                tok.col,
            )
        raise MathError(
            f"unexpected {self.show(tok)}; a number, name or `(` was expected here", tok.col
        )

    def name(self) -> Node:
        tok = self.tok
        if self.is_function(tok):
            return self.call()
        self.advance()
        name = tok.text
        if name in CONSTANTS and (self.allowed is None or name not in self.allowed):
            return Const(name)
        if self.allowed is not None and name not in self.allowed:
            if len(name) > 1 and all(c in self.allowed for c in name):
                # letters typed together, each a variable, none a name of its own: a
                # product, as on paper (`wx`, `xyz`; `sin xy` is sin(x·y))
                node: Node = Var(name[0])
                for letter in name[1:]:
                    node = BinOp("*", node, Var(letter))
                return node
            raise MathError(_unknown_name(tok, self.allowed), tok.col)
        if name.startswith("_") or "__" in name:
            raise MathError(f"`{name}` is not a usable name (column {tok.col})", tok.col)
        return Var(name)

    # -- function calls ------------------------------------------------------------

    def inverse_power(self) -> bool:
        """After `sin^`: `-1` or `(-1)`, the usual notation of the inverse function
        (consumed when found)."""
        texts = [self.ahead(k).text for k in range(4)]
        if texts[:2] == ["-", "1"]:
            self.advance()
            self.advance()
            return True
        if texts[:4] == ["(", "-", "1", ")"]:
            for _ in range(4):
                self.advance()
            return True
        return False

    def call(self) -> Node:
        tok = self.advance()
        func = FUNCTIONS[canonical(tok.text) or tok.text]
        power = self.function_power(tok)
        if power is not None and power.value == -1:
            inverse = INVERSES.get(func.name)
            if inverse is None:
                raise MathError(
                    f"`{tok.text}^-1` would be an inverse function the math language does not "
                    f"have; for a power, write `{tok.text}(x)^-1` (column {tok.col})",
                    tok.col,
                )
            func, power = FUNCTIONS[inverse], None
        if self.tok.text == "(":
            node: Node = self.arguments(tok, func.name, func.arity)
        elif (
            func.arity == 1 and self.tok.kind in ("num", "name") and not self.is_function(self.tok)
        ):
            node = Call(func.name, (self.bare_argument(tok),))
        else:
            arg = "..." if func.arity == 1 else "a, b"
            raise MathError(
                f"`{tok.text}` at column {tok.col} is a function: give it its argument, "
                f"`{tok.text}({arg})`" + (f" or `{tok.text} x`" if func.arity == 1 else ""),
                tok.col,
            )
        return BinOp("^", node, power) if power is not None else node

    def function_power(self, tok: Token) -> Num | None:
        """`sin^2(x)` and `sin²(x)`: the power written after the function's name."""
        if self.tok.text != "^":
            return None
        caret = self.advance()
        if self.inverse_power():
            return Num(Fraction(-1))  # `call` turns it into the inverse function
        if self.tok.text == "-":
            raise MathError(
                f"after `{tok.text}^` only a whole number, or -1 for the inverse function, may "
                f"come before the argument; for a power of {tok.text}, write `{tok.text}(x)^-2` "
                f"(column {caret.col})",
                caret.col,
            )
        if self.tok.kind != "num" or not self.tok.text.isdigit():
            raise MathError(
                f"after `{tok.text}^` only a whole number may come before the argument, as in "
                f"`{tok.text}^2(x)`; otherwise write `{tok.text}(x)^(...)` (column {caret.col})",
                caret.col,
            )
        return number(self.advance())

    def arguments(self, tok: Token, name: str, arity: int) -> Node:
        opener = self.advance()
        args = [self.expr()]
        while self.tok.text == ",":
            self.advance()
            args.append(self.expr())
        self.expect_close(opener)
        if len(args) != arity:
            want = "one argument" if arity == 1 else "two arguments, like max(a, b)"
            raise MathError(f"`{tok.text}` takes {want} (column {tok.col})", tok.col)
        return Call(name, tuple(args))

    def bare_argument(self, tok: Token) -> Node:
        """`sin x`, `sin x^2`, `exp 2`: a single name or number, with its power."""
        arg, _ = self.atom()
        if self.tok.text == "^":
            caret = self.advance()
            self.nest()
            exponent, _ = self.unary()
            self.depth -= 1
            arg = BinOp("^", arg, exponent)
            check_power_size(arg, caret.col)
        nxt = self.tok
        if self.starts_factor(nxt) and not self.is_function(nxt):
            raise MathError(
                f"`{tok.text}` at column {tok.col} takes a single name or number without "
                f"parentheses; for more, put its argument in parentheses, like "
                f"`{tok.text}(x y)` or `{tok.text}(x)·y`",
                tok.col,
            )
        return arg


def _unknown_name(tok: Token, allowed: frozenset[str]) -> str:
    text, col = tok.text, tok.col
    listed = ", ".join(sorted(allowed)) if allowed else "none: the answer is a number"
    if text == "C" and allowed:
        return (
            f"`C` at column {col}: a derivative has no constant of integration; drop the `+ C`"
            " (that is for antiderivatives)"
        )
    split = _split_into(text, allowed)
    if split:
        return f"`{text}` at column {col} is not a variable here; did you mean {'*'.join(split)}?"
    lower = {a.lower(): a for a in allowed}
    if text.lower() in lower:
        return f"`{text}` at column {col}: names are case-sensitive; did you mean {lower[text.lower()]}?"
    joined = _function_joined(text, allowed)
    if joined:
        return f"`{text}` at column {col} is read as one name; did you mean {joined}?"
    lowered = {f.lower(): f for f in FUNCTIONS}
    if text.lower() in lowered:
        return f"`{text}` at column {col}: did you mean the function {lowered[text.lower()]}?"
    return (
        f"`{text}` at column {col} is not a variable in this exercise (the variables are: {listed})"
    )


def _function_joined(name: str, allowed: frozenset[str]) -> str | None:
    """`sinx` -> `sin(x)`, `xsin` -> `x·sin(...)`: a function name run into a variable."""
    for length in range(min(len(name) - 1, 9), 1, -1):
        head, rest = name[:length], name[length:]
        if canonical(head) and (rest in allowed or rest in CONSTANTS or rest.isdigit()):
            return f"{head}({rest}) (or `{head} {rest}`)"
        tail, lead = name[-length:], name[:-length]
        if canonical(tail) and lead in allowed:
            return f"{lead}·{tail}(...)"
    return None


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


def is_equation(text: str) -> bool:
    """Whether an answer is written as an equation (`dy/dx = 2x`): one `=`."""
    return isinstance(text, str) and text.count("=") == 1


def parse(
    text: str,
    variables: set[str] | frozenset[str] | None = None,
    *,
    equation: bool = False,
    known: frozenset[str] = frozenset(),
) -> Node:
    """Parse text into a tree. `variables`: the names allowed (None: any name is a
    variable: an author's function, `check --of`, `explain`). There, a name written
    directly before `(` must be a function, one of the names `known` (an exercise's
    parameters), or a name the text also uses as a variable elsewhere (`2a(a x + b)`):
    otherwise it is an error at its column (`atan(x)` is never `atan·x` by accident).

    With `equation`, an answer written as an equation (`dy/dx = 2x`, `f'(x) = 2x`) is read
    by its right-hand side. Raises MathError with a message that says what was not
    understood and where.
    """
    if not isinstance(text, str):
        raise MathError("the answer must be text")
    if equation and is_equation(text):
        left, _, right = text.partition("=")
        if not right.strip():
            raise MathError(
                f"nothing follows the `=` at column {len(left) + 1}; write the expression after it",
                len(left) + 1,
            )
        text = " " * (len(left) + 1) + right  # columns stay those of the text typed
    allowed = frozenset(variables) if variables is not None else None
    tokens = tokenize(text)
    if allowed is None:
        _no_unknown_calls(tokens, known)
    return _Parser(tokens, allowed).parse()


def _no_unknown_calls(tokens: list[Token], known: frozenset[str]) -> None:
    """Refuse `name(` where `name` is not a function and not otherwise a variable."""

    def opens_call(i: int) -> bool:
        tok, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
        return nxt is not None and nxt.text == "(" and nxt.col == tok.col + len(tok.text)

    names = [(i, t) for i, t in enumerate(tokens) if t.kind == "name"]
    plain = {t.text for i, t in names if not opens_call(i)}
    for i, tok in names:
        name = tok.text
        if not opens_call(i) or canonical(name) is not None or name in CONSTANTS:
            continue
        if name in known or name in plain:
            continue
        import difflib

        close = difflib.get_close_matches(name, list(FUNCTIONS) + list(NAMES), n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}(`? " if close else ""
        raise MathError(
            f"`{name}(` at column {tok.col}: `{name}` is not a function of the math language; "
            f"{hint}for a product, write `{name}*(...)`",
            tok.col,
        )
