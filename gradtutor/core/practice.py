"""Practice blocks: endless generated chain-rule exercises (LESSON_FORMAT.md).

The k-th exercise of a block composes `depth_of(k)` functions from the block's list
around a line `a·x + b`, each with a small integer coefficient, drawn from variant k's
random source, so that `show` and `check --variant K` reproduce it. A draw is kept only
when the function is defined, finite and of moderate size on a domain, and its
derivative is nonzero at most points there; otherwise it is drawn again (from the same
source, so still a pure function of k). The derivative is built by the chain rule
itself, layer by layer: it is the generated exercise's `answer`, shown as its solution.
Plain Python throughout: a practice exercise is generated when the lesson shows it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from .draws import Variant, variant_rng
from .mathlang import BinOp, Call, Neg, Node, Num, Var, pretty_text, to_text
from .packs import DerivativeExercise, PracticeExercise

DOMAINS = ((-2.0, 2.0), (-1.0, 1.0), (0.5, 2.0), (0.1, 1.0))
POINTS = 41
MAX_SIZE = 1e4
MIN_NONZERO = 0.8
"""The share of sample points at which the derivative must be clearly nonzero."""
TRIES = 500
_UNDOING = {("exp", "log"), ("log", "exp"), ("power", "sqrt"), ("sqrt", "power"), ("relu", "relu")}


@dataclass(frozen=True)
class Layer:
    """One function of the chain: f(c·u), or u^n for `power`."""

    function: str
    number: int
    """The coefficient c, or the exponent n of `power`."""


def _sigmoid(t: float) -> float:
    return 1 / (1 + math.exp(-t)) if t > -700 else 0.0


def _value(f: str, n: int, u: float) -> float:
    t = n * u
    match f:
        case "exp":
            return math.exp(t)
        case "log":
            return math.log(t)
        case "sin":
            return math.sin(t)
        case "cos":
            return math.cos(t)
        case "tanh":
            return math.tanh(t)
        case "sigmoid":
            return _sigmoid(t)
        case "relu":
            return max(t, 0.0)
        case "sqrt":
            return math.sqrt(t)
    return float(u**n)  # power


def _slope(f: str, n: int, u: float) -> float:
    """d/du of the layer at u (the coefficient included)."""
    t = n * u
    match f:
        case "exp":
            return n * math.exp(t)
        case "log":
            return n / t
        case "sin":
            return n * math.cos(t)
        case "cos":
            return -n * math.sin(t)
        case "tanh":
            return n * (1 - math.tanh(t) ** 2)
        case "sigmoid":
            s = _sigmoid(t)
            return n * s * (1 - s)
        case "relu":
            return float(n) if t > 0 else 0.0
        case "sqrt":
            return n / (2 * math.sqrt(t))
    return float(n * u ** (n - 1))  # power


def _fits(a: int, b: int, chain: list[Layer], domain: tuple[float, float]) -> bool:
    lo, hi = domain
    nonzero = 0
    for i in range(POINTS):
        x = lo + (hi - lo) * i / (POINTS - 1)  # the ends too: the checker samples them
        u, d = a * x + b, float(a)
        try:
            for layer in chain:
                d *= _slope(layer.function, layer.number, u)
                u = _value(layer.function, layer.number, u)
        except (ValueError, ZeroDivisionError, OverflowError):
            return False
        if not (math.isfinite(u) and math.isfinite(d)) or max(abs(u), abs(d)) > MAX_SIZE:
            return False
        nonzero += abs(d) > 1e-3
    return nonzero >= MIN_NONZERO * POINTS


def _draw_chain(functions: tuple[str, ...], depth: int, rng: random.Random) -> list[Layer]:
    chain: list[Layer] = []
    for _ in range(depth):
        options = [f for f in functions if not chain or (chain[-1].function, f) not in _UNDOING]
        f = rng.choice(options or list(functions))
        number = rng.choice((2, 3)) if f == "power" else rng.choice((1, 1, 2, 3))
        chain.append(Layer(f, number))
    return chain


def draw_exercise(
    functions: tuple[str, ...], depth: int, rng: random.Random
) -> tuple[int, int, list[Layer], tuple[float, float]]:
    """(a, b, chain, domain) of one generated exercise."""
    for _ in range(TRIES):
        a = rng.choice((-3, -2, -1, 1, 2, 3))
        b = rng.randint(-2, 2)
        chain = _draw_chain(functions, depth, rng)
        for domain in DOMAINS:
            if _fits(a, b, chain, domain):
                return a, b, chain, domain
    # Every list has a function that fits somewhere; this line is never expected to run.
    return 1, 1, [Layer("power", 2)] * depth, (0.5, 2.0)


def _int(n: int | Fraction) -> Node:
    value = Fraction(n)
    num = Num(abs(value), str(abs(value)))
    return Neg(num) if value < 0 else num


def _times(left: Node, right: Node) -> Node:
    return BinOp("*", left, right)


def _apply(layer: Layer, u: Node) -> Node:
    if layer.function == "power":
        return BinOp("^", u, _int(layer.number))
    inner = u if layer.number == 1 else _times(_int(layer.number), u)
    return Call(layer.function, (inner,))


def _derivative(layer: Layer, u: Node) -> tuple[Fraction, Node | None]:
    """(constant factor, the rest) of d/du of the layer at u."""
    f, n = layer.function, layer.number
    t = u if n == 1 or f == "power" else _times(_int(n), u)
    match f:
        case "exp":
            return Fraction(n), Call("exp", (t,))
        case "log":  # d/du log(n·u) = 1/u: the coefficient cancels
            return Fraction(1), BinOp("/", _int(1), u)
        case "sin":
            return Fraction(n), Call("cos", (t,))
        case "cos":
            return Fraction(-n), Call("sin", (t,))
        case "tanh":
            return Fraction(n), BinOp("-", _int(1), BinOp("^", Call("tanh", (t,)), _int(2)))
        case "sigmoid":
            s = Call("sigmoid", (t,))
            return Fraction(n), _times(s, BinOp("-", _int(1), s))
        case "relu":
            return Fraction(n), Call("Heaviside", (t,))
        case "sqrt":
            return Fraction(n), BinOp("/", _int(1), _times(_int(2), Call("sqrt", (t,))))
    rest = u if n == 2 else BinOp("^", u, _int(n - 1))
    return Fraction(n), rest  # power


def build(a: int, b: int, chain: list[Layer]) -> tuple[Node, Node, list[Node]]:
    """The function, its derivative, and the argument of each layer (innermost first)."""
    ax: Node = Var("x") if a == 1 else Neg(Var("x")) if a == -1 else _times(_int(a), Var("x"))
    u: Node = ax if b == 0 else BinOp("+" if b > 0 else "-", ax, _int(abs(b)))
    factor, parts, arguments = Fraction(a), [], []
    for layer in chain:
        arguments.append(u)
        c, rest = _derivative(layer, u)
        factor *= c
        if rest is not None:
            parts.append(rest)
        u = _apply(layer, u)
    # outermost first, as the chain rule is read; one product, left to right
    terms = list(reversed(parts))
    if factor not in (1, -1) or not terms:
        terms.insert(0, _int(factor) if factor >= 0 or terms else _int(factor))
    derivative = terms[0]
    for term in terms[1:]:
        derivative = _times(derivative, term)
    if factor == -1 and parts:
        derivative = Neg(derivative)
    return u, derivative, arguments


_TABLE = {
    "exp": "the derivative of e^t is e^t",
    "log": "the derivative of log t is 1/t",
    "sin": "the derivative of sin t is cos t",
    "cos": "the derivative of cos t is −sin t",
    "tanh": "the derivative of tanh t is 1 − tanh² t",
    "sigmoid": "the derivative of σ(t) is σ(t)(1 − σ(t))",
    "relu": "relu t has slope 1 where t > 0 and 0 where t < 0",
    "sqrt": "the derivative of √t is 1/(2√t)",
}
"""The first lesson's table, for the outer function of a generated exercise."""


def _hints(chain: list[Layer], function: Node, arguments: list[Node]) -> tuple[str, ...]:
    outer = chain[-1]
    inner = arguments[-1]
    name = "a power" if outer.function == "power" else outer.function
    rule = _TABLE.get(
        outer.function, f"the derivative of t^{outer.number} is {outer.number}t^{outer.number - 1}"
    )
    first = (
        f"The outer function is {name}; inside it is u = {pretty_text(inner)}. "
        f"So f = {pretty_text(_apply(outer, Var('u')))}, and from the table, {rule}."
    )
    if len(chain) == 1:
        second = "Chain rule: f′(x) = (the outer function's derivative at u) · u′(x)."
    else:
        second = (
            f"Chain rule, from the outside in: f′ = (derivative of the outer function at u) · u′, "
            f"and u = {pretty_text(inner)} is itself a composition: differentiate it the "
            f"same way, down to the line {pretty_text(arguments[0])}."
        )
    return first, second


def generate(ex: PracticeExercise, k: int) -> Variant:
    """The k-th generated exercise of a practice block, as a derivative exercise."""
    depth = ex.depth_of(k)
    a, b, chain, domain = draw_exercise(ex.functions, depth, variant_rng(ex.address, k))
    function, derivative, arguments = build(a, b, chain)
    shown = pretty_text(function)
    fixed = DerivativeExercise(
        id=ex.id,
        prompt=f"Differentiate f(x) = {shown} with respect to x.",
        hints=_hints(chain, function, arguments),
        solution=f"f′(x) = {pretty_text(derivative)}",
        function=to_text(function),
        wrt="x",
        answer=to_text(derivative),
        domain=(("x", domain[0], domain[1]),),
        line=ex.line,
        key_lines=ex.key_lines,
        pack_id=ex.pack_id,
        lesson_id=ex.lesson_id,
    )
    return Variant(k, {"depth": depth}, fixed)
