"""The syntax tree of the math language, and the error every part of it raises."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction


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


@dataclass(frozen=True)
class Num:
    """A number literal, kept exact."""

    value: Fraction
    text: str = field(default="", compare=False)
    """As typed (`0.5`, `1e-3`); decides whether the learner wrote a decimal."""


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
    """A function of the language, by its canonical name (ln -> log, step -> Heaviside)."""

    func: str
    args: tuple[Node, ...]


Node = Num | Var | Const | BinOp | Neg | Call


def variables(node: Node) -> set[str]:
    """The variable names in a tree."""
    return {n.name for n in walk(node) if isinstance(n, Var)}


def walk(node: Node) -> Iterator[Node]:
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


def has_decimal(node: Node) -> bool:
    """Whether a number in the tree was written as a decimal (`0.333`, `1e-3`)."""
    return any(isinstance(n, Num) and any(c in n.text for c in ".eE") for n in walk(node))
