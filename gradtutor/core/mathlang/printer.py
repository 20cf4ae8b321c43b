"""Trees back to text: `to_text`, which parses back to the same tree, and `pretty_text`,
the Unicode a preview shows, in the learner's own form (`2(3x + 1)` stays `2(3x + 1)`;
sympy would expand it to `6x + 2`)."""

from __future__ import annotations

from .functions import FUNCTIONS
from .tree import BinOp, Call, Const, Neg, Node, Num, Var

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


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _name(name: str) -> str:
    """`x_1` and `w1` as x₁ and w₁; other names as they are."""
    base, _, sub = name.partition("_")
    if sub.isdigit():
        return base + sub.translate(_SUBSCRIPT)
    stem = name.rstrip("0123456789")
    if stem and stem != name and len(stem) <= 2:
        return stem + name[len(stem) :].translate(_SUBSCRIPT)
    return name


def _number(node: Num) -> str:
    text = node.text or to_text(node)
    return text


def pretty_text(node: Node) -> str:
    """The tree in Unicode, as a person writes it: `−2x·exp(−x²)`, `2(3x + 1)`, `|x|`."""
    return _pretty(node)


def _integer_exponent(node: Node) -> str | None:
    if isinstance(node, Num) and node.value.denominator == 1:
        return str(node.value.numerator)
    if (
        isinstance(node, Neg)
        and isinstance(node.operand, Num)
        and node.operand.value.denominator == 1
    ):
        return "-" + str(node.operand.value.numerator)
    return None


def _pretty(node: Node) -> str:
    match node:
        case Num():
            return _number(node)
        case Var(name):
            return _name(name)
        case Const(name):
            return "π" if name == "pi" else "e"
        case Neg(operand):
            inner = _pretty(operand)
            return f"−({inner})" if _prec(operand) < 3 else f"−{inner}"
        case Call("abs", (arg,)):
            return f"|{_pretty(arg)}|"
        case Call("sqrt", (Var() | Num() | Const() as arg,)):
            return f"√{_pretty(arg)}"
        case Call(func, args):
            return f"{FUNCTIONS[func].shown}({', '.join(_pretty(a) for a in args)})"
        case BinOp("^", left, right):
            base = _pretty(left)
            if _prec(left) <= 4 or isinstance(left, Num) and left.value < 0:
                base = f"({base})"
            whole = _integer_exponent(right)
            if whole is not None:
                return base + whole.translate(_SUPERSCRIPT)
            exponent = _pretty(right)
            return f"{base}^({exponent})" if _prec(right) < 5 else f"{base}^{exponent}"
        case BinOp("*", left, right):
            return _product(left, right)
        case BinOp(op, left, right):
            lp, rp, p = _prec(left), _prec(right), _PREC[op]
            ls = f"({_pretty(left)})" if lp < p else _pretty(left)
            rs = f"({_pretty(right)})" if rp <= p else _pretty(right)
            sign = {"+": " + ", "-": " − ", "/": "/"}[op]
            return f"{ls}{sign}{rs}"
    raise TypeError(node)


def _product(left: Node, right: Node) -> str:
    """Side by side after a number (`2x`, `3x²`, `2(x + 1)`), with `·` otherwise."""
    ls = f"({_pretty(left)})" if _prec(left) < 2 else _pretty(left)
    rs = f"({_pretty(right)})" if _prec(right) <= 2 else _pretty(right)
    lead = left.operand if isinstance(left, Neg) else left
    if isinstance(lead, Num) and not isinstance(right, Num):
        head = right.left if isinstance(right, BinOp) and right.op == "^" else right
        if isinstance(head, Var | Const) or rs.startswith("("):
            return f"{ls}{rs}"
    if ls.endswith(")") and rs.startswith("("):  # (x + 1)(x − 1)
        return f"{ls}{rs}"
    return f"{ls}·{rs}"
