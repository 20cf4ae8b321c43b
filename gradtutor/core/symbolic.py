"""Derivatives and simplification on math-language trees, in plain Python.

`differentiate` applies the rules a person applies (sum, product, quotient, power, the
derivative of each function of the table); `simplify` brings a tree to the form a person
would write: numbers multiplied out, like factors merged into powers, like terms added,
`x^-1` written as a division. Neither expands products of sums: `6x(x² + 1)²` stays as it
is. sympy stays the judge of equality; this only has to be right and readable.
"""

from __future__ import annotations

from fractions import Fraction

from .mathlang import BinOp, Call, Const, MathError, Neg, Node, Num, Var, to_text, variables

ZERO, ONE, TWO = Num(Fraction(0)), Num(Fraction(1)), Num(Fraction(2))


def num(value: Fraction | int) -> Node:
    """A number as a tree (a negative one as `Neg`, as the parser makes it)."""
    value = Fraction(value)
    return Neg(Num(-value)) if value < 0 else Num(value)


# ----------------------------------------------------------------------------- rules

# d/du f(u), in terms of u, for the functions of one argument
_OUTER: dict[str, tuple[str, str]] = {
    "exp": ("exp(u)", "the exponential is its own derivative"),
    "log": ("1/u", "d/du log u = 1/u"),
    "sqrt": ("1/(2*sqrt(u))", "√u = u^(1/2): the power rule gives 1/(2√u)"),
    "sin": ("cos(u)", "d/du sin u = cos u"),
    "cos": ("-sin(u)", "d/du cos u = −sin u"),
    "tan": ("sec(u)^2", "d/du tan u = sec² u"),
    "sec": ("sec(u)*tan(u)", "d/du sec u = sec u tan u"),
    "csc": ("-csc(u)*cot(u)", "d/du csc u = −csc u cot u"),
    "cot": ("-csc(u)^2", "d/du cot u = −csc² u"),
    "asin": ("1/sqrt(1 - u^2)", "d/du arcsin u = 1/√(1 − u²)"),
    "acos": ("-1/sqrt(1 - u^2)", "d/du arccos u = −1/√(1 − u²)"),
    "atan": ("1/(1 + u^2)", "d/du arctan u = 1/(1 + u²)"),
    "asec": ("1/(abs(u)*sqrt(u^2 - 1))", "d/du arcsec u = 1/(|u|√(u² − 1))"),
    "acsc": ("-1/(abs(u)*sqrt(u^2 - 1))", "d/du arccsc u = −1/(|u|√(u² − 1))"),
    "acot": ("-1/(1 + u^2)", "d/du arccot u = −1/(1 + u²)"),
    "asinh": ("1/sqrt(u^2 + 1)", "d/du arsinh u = 1/√(u² + 1)"),
    "acosh": ("1/sqrt(u^2 - 1)", "d/du arcosh u = 1/√(u² − 1)"),
    "atanh": ("1/(1 - u^2)", "d/du artanh u = 1/(1 − u²)"),
    "cbrt": ("cbrt(u)/(3*u)", "∛u = u^(1/3): the power rule gives 1/(3∛u²)"),
    "sinh": ("cosh(u)", "d/du sinh u = cosh u"),
    "cosh": ("sinh(u)", "d/du cosh u = sinh u"),
    "tanh": ("1 - tanh(u)^2", "d/du tanh u = 1 − tanh² u"),
    "sigmoid": ("sigmoid(u)*(1 - sigmoid(u))", "σ′(u) = σ(u)(1 − σ(u))"),
    "relu": ("Heaviside(u)", "relu has slope 1 where u > 0 and 0 where u < 0 (0 at 0, as PyTorch)"),
    "abs": ("sign(u)", "|u| has slope sign(u): −1 left of 0, 1 right of it"),
    "sign": ("0", "sign is flat away from 0"),
    "Heaviside": ("0", "the step is flat away from 0"),
}
_OUTER_TREES: dict[str, Node] = {}


def _outer(func: str, arg: Node) -> Node:
    if func not in _OUTER_TREES:
        from .mathlang import parse

        _OUTER_TREES[func] = parse(_OUTER[func][0], {"u"})
    return _substitute(_OUTER_TREES[func], {"u": arg})


def _substitute(node: Node, values: dict[str, Node]) -> Node:
    match node:
        case Var(name) if name in values:
            return values[name]
        case BinOp(op, left, right):
            return BinOp(op, _substitute(left, values), _substitute(right, values))
        case Neg(operand):
            return Neg(_substitute(operand, values))
        case Call(func, args):
            return Call(func, tuple(_substitute(a, values) for a in args))
    return node


def substitute(node: Node, values: dict[str, Node]) -> Node:
    """The tree with each named variable replaced by a tree."""
    return _substitute(node, values)


def rule_of(node: Node, wrt: str) -> str:
    """The rule that differentiates the top of `node` with respect to `wrt`, in words."""
    match node:
        case Var():
            return "a variable's derivative with respect to itself is 1"
        case Neg():
            return "a minus sign stays in front"
        case BinOp("+" | "-"):
            return "the sum rule: each term on its own"
        case BinOp("*", left, right):
            if wrt in variables(left) and wrt in variables(right):
                return "the product rule: (fg)′ = f′g + fg′"
            if variables(left) and variables(right):
                return "the product rule, one factor at a time: the other factor multiplies"
            return "a constant factor stays in front"
        case BinOp("/", left, right):
            if wrt in variables(right) and wrt in variables(left):
                return "the quotient rule: (f/g)′ = (f′g − fg′)/g²"
            if wrt in variables(right):
                return "the quotient rule, by the denominator: d/dg (f/g) = −f/g²"
            if variables(right):
                return "a quotient, by its numerator: 1 over the denominator"
            return "dividing by a constant: the constant stays"
        case BinOp("^", left, right):
            if wrt not in variables(right):
                return "the power rule: d/du uⁿ = n·uⁿ⁻¹"
            if wrt not in variables(left):
                return "an exponential with a constant base: d/du aᵘ = aᵘ·log a"
            return "a variable power: write uᵛ as exp(v·log u)"
        case Call(func, _) if func in _OUTER:
            return _OUTER[func][1]
        case Call("max" | "min"):
            return "max and min follow whichever argument is chosen"
        case Call("nthroot"):
            return "the n-th root is the power 1/n: the power rule"
    return "a constant has derivative 0"


def differentiate(node: Node, wrt: str) -> Node:
    """d node / d wrt as a tree, simplified."""
    return simplify(_d(node, wrt))


def _d(node: Node, wrt: str) -> Node:
    if wrt not in variables(node):
        return ZERO
    match node:
        case Var():
            return ONE
        case Neg(operand):
            return Neg(_d(operand, wrt))
        case BinOp("+" | "-" as op, left, right):
            return BinOp(op, _d(left, wrt), _d(right, wrt))
        case BinOp("*", left, right):
            return BinOp("+", BinOp("*", _d(left, wrt), right), BinOp("*", left, _d(right, wrt)))
        case BinOp("/", left, right):
            if wrt not in variables(right):
                return BinOp("/", _d(left, wrt), right)
            return BinOp(
                "/",
                BinOp("-", BinOp("*", _d(left, wrt), right), BinOp("*", left, _d(right, wrt))),
                BinOp("^", right, TWO),
            )
        case BinOp("^", base, exponent):
            if wrt not in variables(exponent):
                lowered = BinOp("-", exponent, ONE)
                return BinOp("*", BinOp("*", exponent, BinOp("^", base, lowered)), _d(base, wrt))
            # d/dx b^e = b^e (e' log b + e b'/b)
            return BinOp(
                "*",
                node,
                BinOp(
                    "+",
                    BinOp("*", _d(exponent, wrt), Call("log", (base,))),
                    BinOp("/", BinOp("*", exponent, _d(base, wrt)), base),
                ),
            )
        case Call("max" | "min" as func, (a, b)):
            first = BinOp("-", a, b) if func == "max" else BinOp("-", b, a)
            second = BinOp("-", b, a) if func == "max" else BinOp("-", a, b)
            return BinOp(
                "+",
                BinOp("*", Call("Heaviside", (first,)), _d(a, wrt)),
                BinOp("*", Call("Heaviside", (second,)), _d(b, wrt)),
            )
        case Call("nthroot", (arg, n)) if not variables(n):
            # the real n-th root: (1/n) u^(1/n - 1) = nthroot(u, n) / (n u)
            return BinOp("*", BinOp("/", node, BinOp("*", n, arg)), _d(arg, wrt))
        case Call(func, (arg,)):
            return BinOp("*", _outer(func, arg), _d(arg, wrt))
    raise MathError(f"cannot differentiate {to_text(node)}")


# ----------------------------------------------------------------------------- simplify

# A term is a coefficient and factors; a factor is a base (a tree that is not a product)
# with a rational exponent. Bases are keyed by their text, so equal bases merge.
Factors = dict[str, tuple[Node, Fraction]]
Term = tuple[Fraction, Factors]


def simplify(node: Node) -> Node:
    """The tree as a person would write it (see the module docstring)."""
    return _from_terms(_terms(node))


def _terms(node: Node) -> list[Term]:
    match node:
        case Num(value):
            return [(value, {})] if value else []
        case Neg(operand):
            return [(-c, f) for c, f in _terms(operand)]
        case BinOp("+", left, right):
            return _add(_terms(left), _terms(right))
        case BinOp("-", left, right):
            return _add(_terms(left), [(-c, f) for c, f in _terms(right)])
        case BinOp("*", left, right):
            return _multiply(_terms(left), _terms(right))
        case BinOp("/", left, right):
            return _multiply(_terms(left), _power(_terms(right), Fraction(-1)))
        case BinOp("^", base, exponent):
            power = _terms(exponent)
            if not power:
                return [(Fraction(1), {})]
            if len(power) == 1 and not power[0][1]:
                return _power(_terms(base), power[0][0])
            return [(Fraction(1), _factor(BinOp("^", simplify(base), _from_terms(power))))]
        case Call(func, args):
            return [(Fraction(1), _factor(Call(func, tuple(simplify(a) for a in args))))]
    return [(Fraction(1), _factor(node))]


def _factor(base: Node, exponent: Fraction = Fraction(1)) -> Factors:
    return {to_text(base): (base, exponent)}


def _key(factors: Factors) -> tuple[tuple[str, Fraction], ...]:
    return tuple(sorted((k, e) for k, (_, e) in factors.items()))


def _add(a: list[Term], b: list[Term]) -> list[Term]:
    out: list[Term] = []
    index: dict[tuple[tuple[str, Fraction], ...], int] = {}
    for coef, factors in a + b:
        key = _key(factors)
        if key in index:
            i = index[key]
            out[i] = (out[i][0] + coef, out[i][1])
        else:
            index[key] = len(out)
            out.append((coef, factors))
    return [(c, f) for c, f in out if c != 0]


def _merge(a: Factors, b: Factors) -> Factors:
    out = dict(a)
    for key, (base, exponent) in b.items():
        total = out[key][1] + exponent if key in out else exponent
        if total == 0:
            out.pop(key, None)
        else:
            out[key] = (base, total)
    return out


def _multiply(a: list[Term], b: list[Term]) -> list[Term]:
    if not a or not b:
        return []
    if len(a) == 1 and len(b) == 1:
        return [(a[0][0] * b[0][0], _merge(a[0][1], b[0][1]))]
    # a product of sums stays a product: one side becomes a factor
    single, other = (a, b) if len(a) == 1 else (b, a) if len(b) == 1 else (None, None)
    if single is None or other is None:
        return [(Fraction(1), _merge(_as_factor(a), _as_factor(b)))]
    coef, factors = single[0]
    if not factors:  # a number times a sum: 1·(1 + x²) is 1 + x²
        return [(coef * c, f) for c, f in other]
    content = _content(other)
    return [(coef * content, _merge(factors, _as_factor([(c / content, f) for c, f in other])))]


def _content(terms: list[Term]) -> Fraction:
    """The number a sum's terms share, so that 2x + 4 becomes 2(x + 2); its sign follows
    the first term, so that −x − 1 becomes −(x + 1)."""
    from math import gcd

    content = Fraction(1)
    if all(c.denominator == 1 for c, _ in terms):
        g = 0
        for c, _ in terms:
            g = gcd(g, abs(c.numerator))
        content = Fraction(g)
    return -content if terms[0][0] < 0 else content


def _as_factor(terms: list[Term]) -> Factors:
    if len(terms) == 1 and terms[0][0] == 1:
        return terms[0][1]
    return _factor(_from_terms(terms))


def _power(terms: list[Term], exponent: Fraction) -> list[Term]:
    if not terms:
        if exponent <= 0:
            raise MathError("division by zero")
        return []
    if len(terms) == 1:
        coef, factors = terms[0]
        new = {k: (b, e * exponent) for k, (b, e) in factors.items()}
        if exponent.denominator == 1:
            return [(coef**exponent.numerator, new)]
        if coef == 1:
            return [(Fraction(1), new)]
        return [(Fraction(1), _merge(new, _factor(num(coef), exponent)))]
    content = _content(terms)
    inner = [(c / content, f) for c, f in terms]
    base = _factor(_from_terms(inner), exponent)
    if exponent.denominator == 1:
        return [(content**exponent.numerator, base)]
    if content == 1:
        return [(Fraction(1), base)]
    return [(Fraction(1), _merge(base, _factor(num(content), exponent)))]


def _from_terms(terms: list[Term]) -> Node:
    if not terms:
        return ZERO
    out: Node | None = None
    for coef, factors in terms:
        if out is None:
            out = _term_node(coef, factors)
        else:
            out = BinOp("-" if coef < 0 else "+", out, _term_node(abs(coef), factors))
    assert out is not None
    return out


def _rank(base: Node) -> int:
    """Variables and their powers first, then functions, then sums: 2x·cos(x²)·(x + 1)."""
    if isinstance(base, Var | Const):
        return 0
    if isinstance(base, BinOp) and base.op == "^":
        return _rank(base.left)
    return 1 if isinstance(base, Call) else 2


def _term_node(coef: Fraction, factors: Factors) -> Node:
    """coef times the factors: the number first (its sign on the first factor, so that
    the text reads `-4*x*exp(x)`), then the factors with positive exponents, over the
    ones with negative exponents."""
    up: list[Node] = []
    down: list[Node] = []
    ordered = sorted(factors.values(), key=lambda be: _rank(be[0]))
    for base, exponent in ordered:
        target = up if exponent > 0 else down
        e = abs(exponent)
        target.append(base if e == 1 else BinOp("^", base, _exponent_node(e)))
    size = abs(coef)
    if size.numerator != 1 or not up:
        up.insert(0, Num(Fraction(size.numerator)))
    if coef < 0:
        up[0] = Neg(up[0])
    if size.denominator != 1:
        down.insert(0, Num(Fraction(size.denominator)))
    top = _product(up)
    if not down:
        return top
    return BinOp("/", top, _product(down))


def _exponent_node(e: Fraction) -> Node:
    if e.denominator == 1:
        return Num(e)
    return BinOp("/", Num(Fraction(e.numerator)), Num(Fraction(e.denominator)))


def _product(nodes: list[Node]) -> Node:
    out = nodes[0]
    for n in nodes[1:]:
        out = BinOp("*", out, n)
    return out


__all__ = ["differentiate", "num", "rule_of", "simplify", "substitute"]
