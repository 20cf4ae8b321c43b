"""The tensor language: Python-like expressions walked as a syntax tree, never evaluated.

`ast.parse` gives the tree; `validate` walks it against a whitelist (names, numbers, list
literals, `+ - * / ** @`, unary minus, one comparison, `.T`, `NAME.g`, the methods
`t sum mean unsqueeze squeeze float clamp reshape view pow` and the functions `relu
sigmoid tanh exp log mse`); `evaluate` interprets it with torch. Each evaluation runs
first on "meta" tensors, which have shapes but no data, so that shapes and sizes are
checked before anything is computed. Lesson tensors are never modified: no in-place
method is allowed, and every name is bound to a copy.
"""

from __future__ import annotations

import ast
import math
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any, NoReturn

from .mathlang import LanguageError
from .sizes import MAX_TENSOR_CHARS

MAX_LENGTH = MAX_TENSOR_CHARS
MAX_DEPTH = 40
MAX_ELEMENTS = 20_000_000
MAX_LIST_ELEMENTS = 10_000
METHODS = {
    "t": (0, 0),
    "sum": (0, 1),
    "mean": (0, 1),
    "unsqueeze": (1, 1),
    "squeeze": (0, 1),
    "float": (0, 0),
    "clamp": (0, 2),
    "reshape": (1, 4),
    "view": (1, 4),
    "pow": (1, 1),
}
METHOD_KEYWORDS = {"sum": {"dim", "keepdim"}, "mean": {"dim", "keepdim"}, "clamp": {"min", "max"}}
FUNCTIONS = {"relu": 1, "sigmoid": 1, "tanh": 1, "exp": 1, "log": 1, "mse": 2}
GRAD_NAMES = {"out", "l2", "l1"}  # `out.g` means the upstream gradient `out_g`
_TRANSLATE = str.maketrans({"−": "-", "·": "*", "×": "*", "⋅": "*"})
_OPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.MatMult: "@",
}
_CMPS = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}


class TensorLangError(LanguageError):
    """An expression that could not be understood or computed, with its column."""


@dataclass(frozen=True)
class TensorExpr:
    """A validated expression: the tree and the source text."""

    tree: ast.expr
    text: str


def _col(node: ast.AST, text: str) -> int:
    lines = text.splitlines() or [""]
    line = lines[min(getattr(node, "lineno", 1), len(lines)) - 1]
    raw = line.encode()[: getattr(node, "col_offset", 0)]
    return len(raw.decode(errors="ignore")) + 1


def parse(text: str, names: set[str] | frozenset[str]) -> TensorExpr:
    """Parse and validate an expression over `names`; raises TensorLangError."""
    if not isinstance(text, str):
        raise TensorLangError("the answer must be text")
    if len(text) > MAX_LENGTH:
        raise TensorLangError(
            f"the expression is too long ({len(text)} characters; at most {MAX_LENGTH})"
        )
    text = text.translate(_TRANSLATE)
    if not text.strip():
        raise TensorLangError("the answer is empty")
    for i, ch in enumerate(text):
        if ch in " \t":
            continue
        if unicodedata.category(ch).startswith("C"):
            raise TensorLangError(
                f"a control character (U+{ord(ch):04X}) at column {i + 1} is not allowed", i + 1
            )
        if not ch.isascii():
            name = unicodedata.name(ch, f"U+{ord(ch):04X}").title()
            raise TensorLangError(
                f"'{ch}' at column {i + 1} ({name}) is not part of the tensor language", i + 1
            )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = exc.offset
        raise TensorLangError(f"not a valid expression: {exc.msg} (column {col})", col) from None
    except (RecursionError, MemoryError, ValueError):
        raise TensorLangError("the expression is nested too deeply") from None
    _Validator(text.strip(), frozenset(names)).check(tree.body, 0)
    return TensorExpr(tree.body, text.strip())


class _Validator:
    def __init__(self, text: str, names: frozenset[str]) -> None:
        self.text = text
        self.names = names

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        col = _col(node, self.text)
        raise TensorLangError(f"{message} (column {col})", col)

    def check(self, node: ast.AST, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.fail(node, f"the expression is nested too deeply (at most {MAX_DEPTH} levels)")
        d = depth + 1
        match node:
            case ast.Constant(value=v):
                if isinstance(v, bool) or not isinstance(v, int | float):
                    self.fail(node, f"{v!r} is not a number")
                if isinstance(v, int) and abs(v) > 10**15:
                    self.fail(node, "the number is too large")
            case ast.Name(id=name):
                self.check_name(node, name)
            case ast.BinOp(left=left, op=op, right=right):
                if type(op) not in _OPS:
                    self.fail(
                        node,
                        f"the operator `{ast.unparse(node)[:20]}` is not allowed; use + - * / ** @",
                    )
                self.check(left, d)
                self.check(right, d)
            case ast.UnaryOp(op=op, operand=operand):
                if not isinstance(op, ast.USub | ast.UAdd):
                    self.fail(node, "only unary minus and plus are allowed")
                self.check(operand, d)
            case ast.Compare(left=left, ops=ops, comparators=comps):
                if len(ops) != 1 or type(ops[0]) not in _CMPS:
                    self.fail(node, "use one comparison at a time: > < >= <= == !=")
                self.check(left, d)
                self.check(comps[0], d)
            case ast.List(elts=elts):
                if not elts:
                    self.fail(node, "an empty list has no values")
                for e in elts:
                    if not isinstance(e, ast.List | ast.Constant | ast.UnaryOp):
                        self.fail(e, "list literals may contain only numbers")
                    self.check(e, d)
            case ast.Attribute(value=value, attr=attr):
                if attr == "T":
                    self.check(value, d)
                elif attr == "g" and isinstance(value, ast.Name) and value.id in GRAD_NAMES:
                    self.check_name(node, f"{value.id}_g")
                else:
                    self.fail(
                        node,
                        f"the attribute `.{attr}` is not allowed (only `.T` and `out.g`, `l2.g`, `l1.g`)",
                    )
            case ast.Call(func=func, args=args, keywords=keywords):
                self.check_call(node, func, args, keywords, d)
            case ast.Tuple(elts=elts):
                self.fail(node, "a tuple is only allowed as the shape given to reshape or view")
            case _:
                what = type(node).__name__
                self.fail(
                    node, f"`{ast.unparse(node)[:30]}` ({what}) is not part of the tensor language"
                )

    def check_name(self, node: ast.AST, name: str) -> None:
        if "__" in name:
            self.fail(node, f"`{name}` is not allowed")
        if name not in self.names:
            if name in FUNCTIONS or name in METHODS:
                self.fail(node, f"`{name}` is a function: call it, like `{name}(...)`")
            known = ", ".join(sorted(self.names))
            self.fail(node, f"`{name}` is not a name here (the names are: {known})")

    def check_call(
        self,
        node: ast.Call,
        func: ast.expr,
        args: list[ast.expr],
        keywords: list[ast.keyword],
        depth: int,
    ) -> None:
        if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in keywords):
            self.fail(node, "`*` and `**` unpacking are not allowed")
        if isinstance(func, ast.Name):
            if func.id not in FUNCTIONS:
                self.fail(
                    node,
                    f"`{func.id}(...)` is not a function of the tensor language ({', '.join(FUNCTIONS)})",
                )
            if keywords or len(args) != FUNCTIONS[func.id]:
                self.fail(node, f"`{func.id}` takes {FUNCTIONS[func.id]} argument(s)")
            for a in args:
                self.check(a, depth)
            return
        if not isinstance(func, ast.Attribute):
            self.fail(node, "only named functions and methods can be called")
        method = func.attr
        if method not in METHODS:
            self.fail(
                node, f"the method `.{method}()` is not allowed (allowed: {', '.join(METHODS)})"
            )
        lo, hi = METHODS[method]
        if not lo <= len(args) <= hi:
            self.fail(node, f"`.{method}()` takes {lo} to {hi} argument(s)")
        allowed_kw = METHOD_KEYWORDS.get(method, set())
        for k in keywords:
            if k.arg not in allowed_kw:
                self.fail(node, f"`.{method}()` takes no keyword `{k.arg}`")
            if k.arg == "keepdim":
                if not (isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool)):
                    self.fail(k.value, "keepdim must be True or False")
            else:
                self.check(k.value, depth)
        self.check(func.value, depth)
        for a in args:
            if isinstance(a, ast.Tuple) and method in ("reshape", "view"):
                for e in a.elts:
                    self.check(e, depth)
            else:
                self.check(a, depth)


# ----------------------------------------------------------------------------- evaluation


def _shape(t: Any) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


class _Interpreter:
    def __init__(self, expr: TensorExpr, env: dict[str, Any], device: str) -> None:
        import torch

        self.torch = torch
        self.text = expr.text
        self.env = env
        self.device = device

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        col = _col(node, self.text)
        raise TensorLangError(f"{message} (column {col})", col)

    def number(self, v: float) -> Any:
        return self.torch.tensor(float(v), dtype=self.torch.float64, device=self.device)

    def sized(self, node: ast.AST, t: Any) -> Any:
        if t.numel() > MAX_ELEMENTS:
            self.fail(
                node,
                f"this step would make a tensor of shape {_shape(t)}: {t.numel():,} numbers, "
                f"about {t.numel() * 8 / 1e9:.1f} GB; too large to compute",
            )
        return t

    def int_arg(self, node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.int_arg(node.operand)
        self.fail(node, "a dimension must be a whole number")
        raise AssertionError

    def scalar_arg(self, node: ast.AST) -> float:
        t = self.visit(node)
        if t.numel() != 1:
            self.fail(node, "expected a single number here")
        return float(t.item()) if self.device != "meta" else 0.0

    def visit(self, node: ast.AST) -> Any:
        torch = self.torch
        match node:
            case ast.Constant():
                return self.number(self.constant(node))
            case ast.Name(id=name):
                return self.env[name]
            case ast.List():
                values = self.literal(node)
                t = torch.tensor(values, dtype=torch.float64, device=self.device)
                if t.numel() > MAX_LIST_ELEMENTS:
                    self.fail(node, "the list is too long")
                return t
            case ast.UnaryOp(op=op, operand=operand):
                v = self.visit(operand)
                if isinstance(op, ast.UAdd):
                    return v
                if v.dtype == torch.bool:
                    self.fail(
                        node, "a boolean mask cannot be negated; convert it with .float() first"
                    )
                return -v
            case ast.BinOp(left=left, op=op, right=right):
                return self.binop(node, _OPS[type(op)], self.visit(left), self.visit(right))
            case ast.Compare(left=left, ops=[op], comparators=[right]):
                a, b = self.visit(left), self.visit(right)
                self.broadcast(node, a, b)
                sym = _CMPS[type(op)]
                result = {
                    ">": torch.gt,
                    "<": torch.lt,
                    ">=": torch.ge,
                    "<=": torch.le,
                    "==": torch.eq,
                    "!=": torch.ne,
                }[sym](a, b)
                return self.sized(node, result)
            case ast.Attribute(value=value, attr="T"):
                v = self.visit(value)
                return v.permute(*reversed(range(v.dim()))) if v.dim() > 1 else v
            case ast.Attribute(value=ast.Name(id=name), attr="g"):
                return self.env[f"{name}_g"]
            case ast.Call():
                return self.call(node)
        self.fail(node, "not part of the tensor language")

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, ast.List):
            items = [self.literal(e) for e in node.elts]
            shapes = {repr(_nested_shape(i)) for i in items}
            if len(shapes) != 1:
                self.fail(node, "the rows of a list literal must have the same length")
            return items
        if isinstance(node, ast.UnaryOp):
            v = self.literal(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant):
            return self.constant(node)
        self.fail(node, "list literals may contain only numbers")

    def constant(self, node: ast.Constant) -> float:
        """A number literal (the validator has refused every other constant)."""
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            self.fail(node, f"{node.value!r} is not a number")
        return float(node.value)

    def broadcast(self, node: ast.AST, a: Any, b: Any) -> None:
        try:
            shape = self.torch.broadcast_shapes(a.shape, b.shape)
        except RuntimeError:
            self.fail(node, f"shapes {_shape(a)} and {_shape(b)} do not broadcast together")
        n = math.prod(shape)
        if n > MAX_ELEMENTS:
            self.fail(
                node,
                f"shapes {_shape(a)} and {_shape(b)} broadcast to {tuple(shape)}: {n:,} numbers, "
                f"about {n * 8 / 1e9:.1f} GB; too large to compute",
            )

    def binop(self, node: ast.AST, op: str, a: Any, b: Any) -> Any:
        torch = self.torch
        if op == "@":
            if a.dim() == 0 or b.dim() == 0:
                self.fail(
                    node, "`@` needs tensors with at least one dimension; use `*` for numbers"
                )
            inner_a = a.shape[-1]
            inner_b = b.shape[0] if b.dim() == 1 else b.shape[-2]
            if inner_a != inner_b:
                self.fail(
                    node,
                    f"shapes {_shape(a)} and {_shape(b)} cannot be multiplied with @ "
                    f"({inner_a} ≠ {inner_b})",
                )
            a, b = self.float(a), self.float(b)
            return self.sized(node, torch.matmul(a, b))
        self.broadcast(node, a, b)
        if op in "+-" and torch.bool in (a.dtype, b.dtype) and a.dtype == b.dtype:
            a, b = self.float(a), self.float(b)
        fn = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow}[op]
        return self.sized(node, fn(a, b))

    def float(self, t: Any) -> Any:
        return t.to(self.torch.float64) if t.dtype != self.torch.float64 else t

    def call(self, node: ast.Call) -> Any:
        torch = self.torch
        func = node.func
        if isinstance(func, ast.Name):
            args = [self.float(self.visit(a)) for a in node.args]
            if func.id == "mse":
                out, y = args
                if out.dim() == 0:
                    self.fail(node, "mse needs a prediction with at least one dimension")
                squeezed = out.squeeze(-1)
                self.broadcast(node, squeezed, y)
                return (squeezed - y).pow(2).mean()
            fn = {
                "relu": torch.relu,
                "sigmoid": torch.sigmoid,
                "tanh": torch.tanh,
                "exp": torch.exp,
                "log": torch.log,
            }[func.id]
            return fn(args[0])
        assert isinstance(func, ast.Attribute)
        target = self.visit(func.value)
        method = func.attr
        kw = {k.arg: k.value for k in node.keywords}
        if method == "t":
            if target.dim() > 2:
                self.fail(node, ".t() works on tensors of at most 2 dimensions")
            return target.t()
        if method == "float":
            return self.float(target)
        if method in ("sum", "mean"):
            dim_node = node.args[0] if node.args else kw.get("dim")
            keepdim = bool(kw["keepdim"].value) if "keepdim" in kw else False  # type: ignore[attr-defined]
            t = self.float(target)
            if dim_node is None:
                return t.sum() if method == "sum" else t.mean()
            dim = self.dim(node, dim_node, target.dim())
            return t.sum(dim, keepdim=keepdim) if method == "sum" else t.mean(dim, keepdim=keepdim)
        if method == "unsqueeze":
            return target.unsqueeze(self.dim(node, node.args[0], target.dim() + 1))
        if method == "squeeze":
            if not node.args:
                return target.squeeze()
            return target.squeeze(self.dim(node, node.args[0], max(target.dim(), 1)))
        if method == "clamp":
            lo = node.args[0] if node.args else kw.get("min")
            hi = node.args[1] if len(node.args) > 1 else kw.get("max")
            return target.clamp(
                min=None if lo is None else self.scalar_arg(lo),
                max=None if hi is None else self.scalar_arg(hi),
            )
        if method == "pow":
            return self.binop(node, "**", target, self.visit(node.args[0]))
        # reshape / view
        dims_nodes = (
            node.args[0].elts
            if len(node.args) == 1 and isinstance(node.args[0], ast.Tuple)
            else node.args
        )
        dims = [self.int_arg(d) for d in dims_nodes]
        try:
            return target.reshape(*dims)
        except RuntimeError:
            self.fail(
                node, f"a tensor of shape {_shape(target)} cannot be reshaped to {tuple(dims)}"
            )

    def dim(self, node: ast.AST, dim_node: ast.AST, ndim: int) -> int:
        d = self.int_arg(dim_node)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            self.fail(node, f"dimension {d} is out of range for a tensor with {ndim} dimension(s)")
        return d


def _nested_shape(v: Any) -> tuple[Any, ...]:
    if isinstance(v, list):
        return (len(v), _nested_shape(v[0]) if v else ())
    return ()


def evaluate(expr: TensorExpr, env: dict[str, Any]) -> Any:
    """Evaluate over `env` (name -> tensor): first on meta tensors (shapes only), then for real.

    The tensors in env are not modified; the result may share no storage with them
    that a caller could write through (callers treat it as read-only).
    """

    meta_env = {k: v.detach().to("meta") for k, v in env.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _Interpreter(expr, meta_env, "meta").visit(expr.tree)
            return _Interpreter(expr, env, "cpu").visit(expr.tree)
        except TensorLangError:
            raise
        except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
            raise TensorLangError(
                f"could not compute this: {str(exc).splitlines()[0][:200]}"
            ) from None


def describe_shape(t: Any) -> str:
    """A shape as the learner would write it: (5, 1), (5,), () for a number."""
    return _shape(t)
