"""The math language: our own tokenizer and precedence-climbing parser.

Text becomes a small syntax tree (`Node`), which is then built into sympy objects or
torch operations directly. Nothing here runs Python on the text: no eval, exec, sympify,
parse_expr or lambdify. Limits on length, tokens, depth, digits and the size of exact
powers refuse hostile input at once.

    lexer.py      text -> tokens (typographic forms, superscripts)
    parser.py     tokens -> tree (the grammar is in its docstring)
    functions.py  the table of functions: one row each
    numbers.py    literals, sizes, the value of a tree without variables
    printer.py    tree -> text that parses back, and the Unicode a preview shows
    sympy_backend.py, torch_backend.py   tree -> sympy, tree -> torch
    analysis.py   kinks and inner functions, for the checker
"""

from .analysis import inner_functions, kink_arguments
from .functions import CONSTANTS, FUNCTIONS, KINKED, TABLE, Function, canonical
from .lexer import MAX_DIGITS, MAX_LENGTH, MAX_TOKENS, Token, tokenize
from .numbers import MAX_EXPONENT, MAX_LOG10, evaluate_constant
from .parser import MAX_DEPTH, is_equation, parse
from .printer import pretty_text, to_text
from .sympy_backend import to_sympy
from .torch_backend import to_torch
from .tree import (
    BinOp,
    Call,
    Const,
    LanguageError,
    MathError,
    Neg,
    Node,
    Num,
    Var,
    has_decimal,
    variables,
    walk,
)

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "KINKED",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_LOG10",
    "MAX_TOKENS",
    "TABLE",
    "BinOp",
    "Call",
    "Const",
    "Function",
    "LanguageError",
    "MathError",
    "Neg",
    "Node",
    "Num",
    "Token",
    "Var",
    "canonical",
    "evaluate_constant",
    "has_decimal",
    "inner_functions",
    "is_equation",
    "kink_arguments",
    "parse",
    "pretty_text",
    "to_sympy",
    "to_text",
    "to_torch",
    "tokenize",
    "variables",
    "walk",
]
