"""The functions of the math language: one row each.

A row says everything the language knows about a function: its names, how many
arguments it takes, how torch computes it (float64, differentiable wherever the function
is), how sympy writes it, its value on plain floats, how a preview shows it, and whether
it has a kink or jump (sampling stays away from those points). Adding a function to the
language is adding a row here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Function:
    """One function of the math language."""

    name: str
    """The canonical name, as `to_text` writes it."""
    arity: int
    torch: Callable[..., Any]
    """(torch module, *tensors) -> tensor."""
    sympy: Callable[..., Any]
    """(sympy module, *expressions) -> expression."""
    math: Callable[..., float]
    """Floats -> float; for numbers without variables (value answers)."""
    display: str = ""
    """How a preview names it (default: the name)."""
    kinked: bool = False
    """Not differentiable at one point (relu, abs, step, sign, max, min)."""
    aliases: tuple[str, ...] = ()
    """Other names learners type for it."""

    @property
    def shown(self) -> str:
        """The name a preview uses."""
        return self.display or self.name


def _sigmoid(t: float) -> float:
    return 1 / (1 + math.exp(-t)) if t > -700 else 0.0


def _step(t: float) -> float:
    return 1.0 if t > 0 else 0.5 if t == 0 else 0.0


def _heaviside_torch(torch: Any, t: Any) -> Any:
    # built from comparisons, so that autograd sees a zero derivative away from the jump
    return (t > 0).to(torch.float64) + 0.5 * (t == 0).to(torch.float64)


TABLE: tuple[Function, ...] = (
    Function("exp", 1, lambda t, x: t.exp(x), lambda s, x: s.exp(x), math.exp),
    Function("log", 1, lambda t, x: t.log(x), lambda s, x: s.log(x), math.log, aliases=("ln",)),
    Function("sqrt", 1, lambda t, x: t.sqrt(x), lambda s, x: s.sqrt(x), math.sqrt, "√"),
    Function("sin", 1, lambda t, x: t.sin(x), lambda s, x: s.sin(x), math.sin),
    Function("cos", 1, lambda t, x: t.cos(x), lambda s, x: s.cos(x), math.cos),
    Function("tan", 1, lambda t, x: t.tan(x), lambda s, x: s.tan(x), math.tan),
    Function("sec", 1, lambda t, x: 1 / t.cos(x), lambda s, x: s.sec(x), lambda v: 1 / math.cos(v)),
    Function("csc", 1, lambda t, x: 1 / t.sin(x), lambda s, x: s.csc(x), lambda v: 1 / math.sin(v)),
    Function(
        "cot",
        1,
        lambda t, x: t.cos(x) / t.sin(x),
        lambda s, x: s.cot(x),
        lambda v: math.cos(v) / math.sin(v),
    ),
    # inverse trigonometric and hyperbolic functions (principal values, as sympy's)
    Function(
        "asin",
        1,
        lambda t, x: t.asin(x),
        lambda s, x: s.asin(x),
        math.asin,
        "arcsin",
        aliases=("arcsin",),
    ),
    Function(
        "acos",
        1,
        lambda t, x: t.acos(x),
        lambda s, x: s.acos(x),
        math.acos,
        "arccos",
        aliases=("arccos",),
    ),
    Function(
        "atan",
        1,
        lambda t, x: t.atan(x),
        lambda s, x: s.atan(x),
        math.atan,
        "arctan",
        aliases=("arctan",),
    ),
    Function(
        "asec",
        1,
        lambda t, x: t.acos(1 / x),
        lambda s, x: s.asec(x),
        lambda v: math.acos(1 / v),
        "arcsec",
        aliases=("arcsec",),
    ),
    Function(
        "acsc",
        1,
        lambda t, x: t.asin(1 / x),
        lambda s, x: s.acsc(x),
        lambda v: math.asin(1 / v),
        "arccsc",
        aliases=("arccsc",),
    ),
    Function(
        "acot",
        1,
        lambda t, x: t.atan(1 / x),
        lambda s, x: s.acot(x),
        lambda v: math.atan(1 / v),
        "arccot",
        aliases=("arccot",),
    ),
    Function(
        "asinh",
        1,
        lambda t, x: t.asinh(x),
        lambda s, x: s.asinh(x),
        math.asinh,
        "arsinh",
        aliases=("arsinh", "arcsinh"),
    ),
    Function(
        "acosh",
        1,
        lambda t, x: t.acosh(x),
        lambda s, x: s.acosh(x),
        math.acosh,
        "arcosh",
        aliases=("arcosh", "arccosh"),
    ),
    Function(
        "atanh",
        1,
        lambda t, x: t.atanh(x),
        lambda s, x: s.atanh(x),
        math.atanh,
        "artanh",
        aliases=("artanh", "arctanh"),
    ),
    # real roots: cbrt(-8) = -2
    Function(
        "cbrt",
        1,
        lambda t, x: t.sign(x) * t.abs(x) ** (1 / 3),
        lambda s, x: s.real_root(x, 3),
        lambda v: math.copysign(abs(v) ** (1 / 3), v),
        "∛",
    ),
    Function(
        "nthroot",
        2,
        lambda t, x, n: t.sign(x) * t.abs(x) ** (1 / n),
        lambda s, x, n: s.real_root(x, n),
        lambda v, n: math.copysign(abs(v) ** (1 / n), v),
        aliases=("root",),
    ),
    Function("sinh", 1, lambda t, x: t.sinh(x), lambda s, x: s.sinh(x), math.sinh),
    Function("cosh", 1, lambda t, x: t.cosh(x), lambda s, x: s.cosh(x), math.cosh),
    Function("tanh", 1, lambda t, x: t.tanh(x), lambda s, x: s.tanh(x), math.tanh),
    Function(
        "sigmoid",
        1,
        lambda t, x: t.sigmoid(x),
        lambda s, x: 1 / (1 + s.exp(-x)),
        _sigmoid,
        "σ",
        aliases=("σ",),
    ),
    Function(
        "relu",
        1,
        lambda t, x: t.relu(x),
        lambda s, x: s.Max(0, x),
        lambda v: max(0.0, v),
        kinked=True,
    ),
    Function("abs", 1, lambda t, x: t.abs(x), lambda s, x: s.Abs(x), abs, kinked=True),
    Function(
        "sign",
        1,
        lambda t, x: t.sign(x),
        lambda s, x: s.sign(x),
        lambda v: float((v > 0) - (v < 0)),
        kinked=True,
    ),
    Function(
        "Heaviside",
        1,
        _heaviside_torch,
        lambda s, x: s.Heaviside(x),
        _step,
        "step",
        kinked=True,
        aliases=("step", "heaviside"),
    ),
    Function(
        "max", 2, lambda t, a, b: t.maximum(a, b), lambda s, a, b: s.Max(a, b), max, kinked=True
    ),
    Function(
        "min", 2, lambda t, a, b: t.minimum(a, b), lambda s, a, b: s.Min(a, b), min, kinked=True
    ),
)

FUNCTIONS: dict[str, Function] = {f.name: f for f in TABLE}
"""Canonical name -> function."""
NAMES: dict[str, str] = {
    **{f.name: f.name for f in TABLE},
    **{alias: f.name for f in TABLE for alias in f.aliases},
}
"""Every name a learner may type -> the canonical name."""
KINKED = frozenset(f.name for f in TABLE if f.kinked)
INVERSES = {
    "sin": "asin",
    "cos": "acos",
    "tan": "atan",
    "sec": "asec",
    "csc": "acsc",
    "cot": "acot",
    "sinh": "asinh",
    "cosh": "acosh",
    "tanh": "atanh",
}
"""`sin^-1(x)` and `sin^(-1) x` are read as these (the usual notation), not as 1/sin."""
CONSTANTS = ("pi", "e")


def canonical(name: str) -> str | None:
    """The canonical name of a function, or None when `name` is not one."""
    return NAMES.get(name)
