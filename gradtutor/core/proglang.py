"""The program language: the body of a function, in the tensor language with statements.

A learner's program (a `program` exercise, LESSON_FORMAT.md "Program exercises") is
parsed by `ast.parse` and walked against a whitelist, never run as Python. The
statements are assignment to a name or to `NAME.g`, augmented assignment (`+= -= *= /=`),
`return`, `pass` and calls of the functions the exercise may use (the learner's own
earlier programs); no loops, no `if`, at most `MAX_STATEMENTS`. The expressions are the
tensor language's (`tensorlang`) plus what such code needs: `NAME.g` for any name,
`.shape[i]`, indexing and slicing, `clamp_min`, `clamp_max`, and calls of those
functions. Every program runs twice, first on "meta" tensors (shapes only, so that
nothing too large is ever computed), then for real; a run is bounded in statements,
call depth and time.

Tensors are shared, as in Python: a `.g` set inside a called function is seen by the
caller. `+=` on a name makes a new tensor (it never changes one in place); on `.g` it
adds to the gradient already there (none counts as 0).
"""

from __future__ import annotations

import ast
import textwrap
import time
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from . import tensorlang
from .sizes import MAX_PROGRAM_CHARS
from .tensorlang import TensorExpr, TensorLangError, _Interpreter, _Validator

if TYPE_CHECKING:
    from .packs.model import LibraryFunction

MAX_STATEMENTS = 40
MAX_CALL_DEPTH = 8
TIME_LIMIT = 10.0
"""Seconds one check may spend running programs (a bound, never reached by honest code)."""
EXTRA_METHODS = {"clamp_min": (1, 1), "clamp_max": (1, 1)}
_AUGMENTED = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_REFUSED = {
    ast.For: ("a loop", "use tensor operations on whole tensors instead"),
    ast.While: ("a loop", "use tensor operations on whole tensors instead"),
    ast.If: ("`if`", "a mask such as `(t > 0).float()` chooses per entry"),
    ast.FunctionDef: ("a function definition", "write only the body; the header is given"),
    ast.ClassDef: ("a class definition", "write only the body of the function"),
    ast.Import: ("an import", "torch's operations are already there"),
    ast.ImportFrom: ("an import", "torch's operations are already there"),
    ast.AnnAssign: ("an annotated assignment", "leave out the type"),
}


class ProgramError(TensorLangError):
    """A program that could not be read or run: the line and column where it went wrong."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message, column)
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Header:
    """`def lin_grad(inp, out, w, b):`: the function's name and its parameters."""

    name: str
    params: tuple[str, ...]

    @property
    def text(self) -> str:
        """The header as written in Python."""
        return f"def {self.name}({', '.join(self.params)}):"


def parse_header(text: str) -> Header:
    """Read a function header; raises ProgramError."""
    try:
        tree = ast.parse(text.strip() + "\n    pass\n")
    except SyntaxError as exc:
        raise ProgramError(f"the header is not `def NAME(ARGS):` ({exc.msg})") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise ProgramError("the header must be one `def NAME(ARGS):` line")
    fn = tree.body[0]
    args = fn.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs:
        raise ProgramError("the header takes plain parameters only: `def f(a, b):`")
    params = tuple(a.arg for a in args.args)
    for name in (fn.name, *params):
        if "__" in name or not name.isidentifier():
            raise ProgramError(f"`{name}` is not allowed in a header")
    if len(set(params)) != len(params):
        raise ProgramError("a parameter is named twice")
    return Header(fn.name, params)


def headers_of(texts: Iterable[str]) -> dict[str, Header]:
    """Function headers by the function's name; raises ProgramError."""
    headers = [parse_header(text) for text in texts]
    return {h.name: h for h in headers}


@dataclass(frozen=True)
class Program:
    """A validated function body, ready to run."""

    header: Header
    body: tuple[ast.stmt, ...]
    text: str
    calls: frozenset[str] = frozenset()
    """The functions it calls."""

    @property
    def statements(self) -> int:
        """How many statements it has."""
        return len(self.body)


def parse_program(
    header: Header, text: str, library: Mapping[str, Header] | None = None
) -> Program:
    """Parse and validate a function body (a pasted `def` line matching the header is
    accepted too); `library` names the functions it may call. Raises ProgramError."""
    library = dict(library or {})
    if not isinstance(text, str):
        raise ProgramError("the program must be text")
    if len(text) > MAX_PROGRAM_CHARS:
        raise ProgramError(
            f"the program is too long ({len(text):,} characters; at most {MAX_PROGRAM_CHARS:,})"
        )
    text = text.replace("\t", "    ").translate(tensorlang._TRANSLATE)
    _check_characters(text)
    source = textwrap.dedent(text).strip("\n")
    if not source.strip():
        raise ProgramError("the program is empty: write the body of the function")
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ProgramError(f"not valid code: {exc.msg}", exc.lineno, exc.offset) from None
    except (RecursionError, MemoryError, ValueError):
        raise ProgramError("the program is nested too deeply") from None
    body = tree.body
    if len(body) == 1 and isinstance(body[0], ast.FunctionDef):
        body = _pasted_function(body[0], header)
    if len(body) > MAX_STATEMENTS:
        raise ProgramError(
            f"the program has {len(body)} statements; at most {MAX_STATEMENTS}",
            body[MAX_STATEMENTS].lineno,
        )
    checker = _StatementChecker(source, set(header.params), library, header.name)
    for stmt in body:
        checker.statement(stmt)
    return Program(header, tuple(body), source, frozenset(checker.called))


def _check_characters(text: str) -> None:
    line = 1
    column = 0
    for ch in text:
        column += 1
        if ch == "\n":
            line, column = line + 1, 0
            continue
        if ch == " ":
            continue
        if unicodedata.category(ch).startswith("C"):
            raise ProgramError(
                f"a control character (U+{ord(ch):04X}) is not allowed", line, column
            )
        if not ch.isascii():
            name = unicodedata.name(ch, f"U+{ord(ch):04X}").title()
            raise ProgramError(f"'{ch}' ({name}) is not part of the language", line, column)


def _pasted_function(fn: ast.FunctionDef, header: Header) -> list[ast.stmt]:
    if fn.name != header.name or tuple(a.arg for a in fn.args.args) != header.params:
        raise ProgramError(
            f"write only the body; the header is given: {header.text}", fn.lineno, fn.col_offset + 1
        )
    if fn.decorator_list or fn.returns:
        raise ProgramError("write only the body of the function", fn.lineno)
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]  # a docstring
    return body


class _ExprChecker(_Validator):
    """The tensor language's whitelist, widened for programs (see the module docstring)."""

    def __init__(self, text: str, names: set[str], library: Mapping[str, Header]) -> None:
        super().__init__(text, frozenset(names))
        self.library = library
        self.called: set[str] = set()

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        line = getattr(node, "lineno", None)
        col = tensorlang._col(node, self.text) if line is not None else None
        raise ProgramError(message, line, col)

    def check(self, node: ast.AST, depth: int) -> None:
        if depth > tensorlang.MAX_DEPTH:
            self.fail(node, f"the expression is nested too deeply (at most {tensorlang.MAX_DEPTH})")
        match node:
            case ast.Attribute(value=ast.Name(id=name), attr="g"):
                self.check_name(node, name)
            case ast.Attribute(attr="g"):
                self.fail(node, "`.g` belongs to a name: write `NAME.g`")
            case ast.Attribute(attr="shape"):
                self.fail(node, "`.shape` is read one dimension at a time: `t.shape[0]`")
            case ast.Subscript(value=ast.Attribute(value=inner, attr="shape"), slice=index):
                self.check(inner, depth + 1)
                if not _is_int(index):
                    self.fail(node, "`.shape[i]` takes a whole number i")
            case ast.Subscript(value=value, slice=index):
                self.check(value, depth + 1)
                self.check_index(index)
            case ast.Call(func=ast.Name(id=fname), args=args, keywords=keywords) if (
                fname in self.library
            ):
                header = self.library[fname]
                if keywords or any(isinstance(a, ast.Starred) for a in args):
                    self.fail(node, f"call `{fname}` with its arguments in order, no keywords")
                if len(args) != len(header.params):
                    self.fail(
                        node,
                        f"`{fname}` takes {len(header.params)} argument(s): {header.text}",
                    )
                for a in args:
                    self.check(a, depth + 1)
                self.called.add(fname)
            case ast.Call(func=ast.Attribute(value=value, attr=method), args=args) if (
                method in EXTRA_METHODS
            ):
                if node.keywords or len(args) != 1:
                    self.fail(node, f"`.{method}()` takes one number")
                self.check(value, depth + 1)
                self.check(args[0], depth + 1)
            case ast.Constant(value=None):
                self.fail(node, "`None` is not a value here")
            case ast.Attribute(attr=attr) if attr != "T":
                self.fail(
                    node,
                    f"the attribute `.{attr}` is not allowed (only `.T`, `NAME.g` and `.shape[i]`)",
                )
            case _:
                super().check(node, depth)

    def check_index(self, index: ast.AST) -> None:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        for part in parts:
            if isinstance(part, ast.Slice):
                for bound in (part.lower, part.upper, part.step):
                    if bound is not None and not _is_int(bound):
                        self.fail(part, "slice bounds must be whole numbers")
            elif not (
                _is_int(part)
                or isinstance(part, ast.Constant)
                and (part.value is None or part.value is Ellipsis)
            ):
                self.fail(part, "index with whole numbers, slices (`:`, `1:`), `None` or `...`")


def _is_int(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) < 10**9


class _StatementChecker:
    def __init__(self, text: str, names: set[str], library: Mapping[str, Header], own: str) -> None:
        self.text = text
        self.names = names
        self.library = {k: v for k, v in library.items() if k != own}
        self.own = own
        self.called: set[str] = set()

    def expr(self, node: ast.AST) -> None:
        checker = _ExprChecker(self.text, self.names, self.library)
        checker.check(node, 0)
        self.called |= checker.called

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        _ExprChecker(self.text, self.names, self.library).fail(node, message)

    def target(self, node: ast.AST, augmented: bool) -> None:
        match node:
            case ast.Name(id=name):
                if "__" in name:
                    self.fail(node, f"`{name}` is not allowed")
                if name in self.library or name in tensorlang.FUNCTIONS:
                    self.fail(node, f"`{name}` is a function; choose another name")
                if augmented and name not in self.names:
                    self.fail(node, f"`{name}` has no value yet; use `=` first")
            case ast.Attribute(value=ast.Name(id=name), attr="g"):
                if name not in self.names:
                    self.fail(node, f"`{name}` is not a name here")
            case _:
                self.fail(node, "assign to a name (`t = ...`) or to a gradient (`t.g = ...`)")

    def statement(self, stmt: ast.stmt) -> None:
        match stmt:
            case ast.Assign(targets=targets, value=value):
                if len(targets) != 1 or isinstance(targets[0], ast.Tuple | ast.List):
                    self.fail(stmt, "assign one target at a time")
                self.expr(value)
                self.target(targets[0], augmented=False)
                if isinstance(targets[0], ast.Name):
                    self.names.add(targets[0].id)
            case ast.AugAssign(target=target, op=op, value=value):
                if type(op) not in _AUGMENTED:
                    self.fail(stmt, "only += -= *= /= are allowed")
                self.expr(value)
                self.target(target, augmented=True)
            case ast.Return(value=value):
                if value is not None:
                    self.expr(value)
            case ast.Expr(value=ast.Call(func=ast.Name(id=fname)) as call) if fname in self.library:
                self.expr(call)
            case ast.Expr(value=ast.Call(func=ast.Name(id=fname))) if fname == self.own:
                self.fail(stmt, f"`{fname}` cannot call itself")
            case ast.Expr(value=ast.Constant(value=str())):
                pass  # a comment written as a string
            case ast.Expr():
                self.fail(stmt, "this line computes something and throws it away: assign it")
            case ast.Pass():
                pass
            case _:
                what, advice = _REFUSED.get(
                    type(stmt), (f"`{ast.unparse(stmt).splitlines()[0][:20]}`", "")
                )
                self.fail(
                    stmt,
                    f"{what} is not part of the program language"
                    + (f"; {advice}" if advice else ""),
                )


# ----------------------------------------------------------------------------- running


@dataclass
class RunState:
    """What one check's runs share: the deadline, and which `.g` were set twice with `=`."""

    deadline: float = field(default_factory=lambda: time.monotonic() + TIME_LIMIT)
    set_twice: set[str] = field(default_factory=set)
    """Names whose `.g` was replaced by `=` after it had been set in the same run."""


class _Runner(_Interpreter):
    def __init__(
        self,
        program: Program,
        env: dict[str, Any],
        device: str,
        library: Mapping[str, Program],
        state: RunState,
        depth: int,
    ) -> None:
        super().__init__(TensorExpr(ast.Constant(0), program.text), env, device)
        self.program = program
        self.library = library
        self.state = state
        self.depth = depth
        self.assigned: dict[int, str] = {}

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        line = getattr(node, "lineno", None)
        col = tensorlang._col(node, self.text) if line is not None else None
        raise ProgramError(message, line, col)

    def run(self) -> Any:
        for stmt in self.program.body:
            if time.monotonic() > self.state.deadline:
                self.fail(stmt, "the program took too long to run")
            match stmt:
                case ast.Assign(targets=[target], value=value):
                    self.assign(target, self.value(value))
                case ast.AugAssign(target=target, op=op, value=value):
                    current = (
                        self.grad_or_zero(target)
                        if isinstance(target, ast.Attribute)
                        else self.visit(target)
                    )
                    self.assign(
                        target,
                        self.binop(stmt, _AUGMENTED[type(op)], current, self.value(value)),
                        True,
                    )
                case ast.Return(value=value):
                    return None if value is None else self.value(value)
                case ast.Expr(value=ast.Call() as call):
                    self.call_function(call)
        return None

    def value(self, node: ast.AST) -> Any:
        v = self.visit(node)
        if v is None:
            self.fail(node, "this function returns nothing; it sets gradients instead")
        return v

    def grad_or_zero(self, target: ast.Attribute) -> Any:
        tensor = self.visit(target.value)
        g = getattr(tensor, "g", None)
        return g if g is not None else self.torch.zeros_like(tensor, dtype=self.torch.float64)

    def assign(self, target: ast.AST, value: Any, augmented: bool = False) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
            return
        assert isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
        tensor = self.visit(target.value)
        if value.dtype == self.torch.bool:
            value = value.to(self.torch.float64)
        if not augmented and getattr(tensor, "g", None) is not None and id(tensor) in self.assigned:
            self.state.set_twice.add(target.value.id)
        self.assigned[id(tensor)] = target.value.id
        tensor.g = value

    def visit(self, node: ast.AST) -> Any:
        match node:
            case ast.Attribute(value=ast.Name(id=name), attr="g"):
                g = getattr(self.env[name], "g", None)
                if g is None:
                    self.fail(node, f"`{name}.g` is not set yet")
                return g
            case ast.Subscript(value=ast.Attribute(value=inner, attr="shape"), slice=index):
                t = self.visit(inner)
                i = self.int_arg(index)
                if not -t.dim() <= i < t.dim():
                    self.fail(
                        node, f"`.shape[{i}]` of a tensor of shape {tensorlang.describe_shape(t)}"
                    )
                return self.number(t.shape[i])
            case ast.Subscript(value=value, slice=index):
                return self.index(node, self.visit(value), index)
            case ast.Call(func=ast.Name(id=fname)) if fname in self.library:
                return self.call_function(node)
            case ast.Call(func=ast.Attribute(value=value, attr=method), args=[arg]) if (
                method in EXTRA_METHODS
            ):
                t = self.float(self.visit(value))
                bound = self.scalar_arg(arg)
                return t.clamp(min=bound) if method == "clamp_min" else t.clamp(max=bound)
        return super().visit(node)

    def index(self, node: ast.AST, t: Any, index: ast.AST) -> Any:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        key: list[Any] = []
        for part in parts:
            if isinstance(part, ast.Slice):
                key.append(
                    slice(
                        *(
                            None if b is None else self.int_arg(b)
                            for b in (part.lower, part.upper, part.step)
                        )
                    )
                )
            elif isinstance(part, ast.Constant) and part.value is None:
                key.append(None)
            elif isinstance(part, ast.Constant) and part.value is Ellipsis:
                key.append(Ellipsis)
            else:
                key.append(self.int_arg(part))
        if any(isinstance(k, slice) and k.step is not None and k.step <= 0 for k in key):
            self.fail(node, "a slice's step must be positive")
        try:
            return t[tuple(key)]
        except (IndexError, RuntimeError, ValueError) as exc:
            self.fail(
                node,
                f"this index does not fit a tensor of shape {tensorlang.describe_shape(t)}: {str(exc).splitlines()[0][:80]}",
            )

    def call_function(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        fname = node.func.id
        if self.depth + 1 > MAX_CALL_DEPTH:
            self.fail(node, f"calls nest more than {MAX_CALL_DEPTH} deep")
        callee = self.library[fname]
        args = [self.visit(a) for a in node.args]
        if any(a is None for a in args):
            self.fail(node, "an argument has no value")
        env = dict(zip(callee.header.params, args, strict=True))
        try:
            return _Runner(callee, env, self.device, self.library, self.state, self.depth + 1).run()
        except ProgramError as exc:
            bound = ", ".join(
                f"{p} = {ast.unparse(a)}"
                for p, a in zip(callee.header.params, node.args, strict=True)
                if ast.unparse(a) != p
            )
            called = f"in `{fname}`, called here" + (f" with {bound}" if bound else "")
            raise ProgramError(
                f"{called}: {exc}", node.lineno, tensorlang._col(node, self.text)
            ) from None


def execute(program: Program, env: dict[str, Any]) -> Any:
    """Run a program's statements on `env` itself, on the CPU, without the meta pass: an
    exercise's own `forward`, whose names the caller reads afterwards and whose tensors
    autograd records (an author's code, validated like a learner's)."""
    return _Runner(program, env, "cpu", {}, RunState(), 0).run()


def library_programs(
    library: Sequence[LibraryFunction], accepted: Mapping[str, str] | None = None
) -> tuple[dict[str, Program], list[str]]:
    """The functions of a library, by name: the learner's accepted code for each (by the
    address of the exercise that defines it), else that exercise's solution_code; and
    the names that run the reference instead. Raises ProgramError for a library whose
    reference does not parse."""
    accepted = dict(accepted or {})
    headers = headers_of(f.header for f in library)
    programs: dict[str, Program] = {}
    notes = []
    for function in library:
        header = parse_header(function.header)
        code = accepted.get(function.exercise)
        earlier = {k: v for k, v in headers.items() if k != header.name}
        if code is not None:
            try:
                programs[header.name] = parse_program(header, code, earlier)
                continue
            except ProgramError:
                pass  # an accepted program that no longer parses: the reference runs
        programs[header.name] = parse_program(header, function.solution_code, earlier)
        notes.append(header.name)
    return programs, notes


def run_program(
    program: Program,
    args: Mapping[str, Any],
    library: Mapping[str, Program] | None = None,
    state: RunState | None = None,
) -> Any:
    """Run a program on `args` (name -> tensor, `.g` set where an upstream gradient is
    given): first on meta copies (shapes only), then on `args` themselves, whose `.g`
    the program sets. Returns what it returns (None if nothing). Raises ProgramError."""
    library = dict(library or {})
    state = state or RunState()
    meta: dict[str, Any] = {}
    for name, t in args.items():
        m = t.detach().to("meta")
        if getattr(t, "g", None) is not None:
            m.g = t.g.detach().to("meta")
        meta[name] = m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _Runner(program, meta, "meta", library, RunState(state.deadline), 0).run()
            return _Runner(program, dict(args), "cpu", library, state, 0).run()
        except ProgramError:
            raise
        except TensorLangError as exc:
            raise ProgramError(exc.message, None, exc.column) from None
        except (RuntimeError, ValueError, TypeError, OverflowError, IndexError) as exc:
            raise ProgramError(
                f"could not compute this: {str(exc).splitlines()[0][:200]}"
            ) from None
        except RecursionError:
            raise ProgramError("the program is nested too deeply") from None
