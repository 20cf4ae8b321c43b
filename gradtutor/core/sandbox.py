"""The long-lived child process that runs time-bounded sympy work.

Threads cannot be stopped, and the interface runs checks in threads, so sympy's
simplification (which can run for minutes on an unlucky input) runs in a child process
instead: one JSON request per line on its stdin, one JSON reply per line on its stdout.
A request that overruns its time limit gets the child killed and restarted; the memory
limit is set with `RLIMIT_AS`. The child receives our own normalised text and parses it
with `mathlang`: it never evaluates text as Python either.

Requests::

    {"op": "equivalent", "function": F, "wrt": V, "answer": A, "vars": [...]}
        -> {"status": "equal" | "different" | "unknown", "detail": str}
    {"op": "derivative", "function": F, "wrt": V, "vars": [...]}
        -> {"status": "ok", "pretty": str, "text": str (in the math language)}
    {"op": "pretty", "text": T, "vars": [...]} -> {"status": "ok", "pretty": str}
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

TIME_LIMIT = 2.0
MEMORY_LIMIT = 2 * 1024**3  # bytes of address space for the child
START_LIMIT = 30.0  # importing sympy on a cold, busy machine


def _limit_memory() -> None:  # runs in the child before exec
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass


class SymbolicSandbox:
    """A child process for sympy work, restarted whenever it overruns or dies."""

    def __init__(self, time_limit: float = TIME_LIMIT) -> None:
        self.time_limit = time_limit
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._ready = False
        self.restarts = 0

    def start(self) -> None:
        """Start the child now (it imports sympy while the caller does other work)."""
        with self._lock:
            self._ensure()

    def warm(self) -> None:
        """Start the child and run one representative check, so sympy's caches are warm."""
        self.request(
            {
                "op": "equivalent",
                "function": "sin(x)^2*relu(x)",
                "wrt": "x",
                "answer": "2*sin(x)*cos(x)*relu(x) + sin(x)^2*Heaviside(x)",
                "vars": ["x"],
            }
        )

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "gradtutor.core.sandbox"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                preexec_fn=_limit_memory if os.name == "posix" else None,  # noqa: PLW1509
                env=env,
            )
            self._ready = False
        return self._proc

    def request(self, payload: dict[str, Any], time_limit: float | None = None) -> dict[str, Any]:
        """Send one request; {"status": "timeout"} when it overruns (the child is replaced)."""
        limit = self.time_limit if time_limit is None else time_limit
        with self._lock:
            proc = self._ensure()
            # The first request also waits for the child to import sympy.
            deadline_extra = 0.0 if self._ready else START_LIMIT
            try:
                assert proc.stdin is not None
                proc.stdin.write((json.dumps(payload) + "\n").encode())
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._kill()
                return {"status": "error", "detail": "the symbolic checker stopped"}
            line = self._read_line(proc, time.monotonic() + limit + deadline_extra)
            if line is None:
                self._kill()
                self.restarts += 1
                return {"status": "timeout", "detail": f"sympy took longer than {limit:g} s"}
            self._ready = True
            try:
                reply = json.loads(line)
            except ValueError:
                reply = None
            if isinstance(reply, dict):
                return reply
            self._kill()  # garbage, or not an object: the child is no longer trustworthy
            return {"status": "error", "detail": "the symbolic checker answered garbage"}

    @staticmethod
    def _read_line(proc: subprocess.Popen[bytes], deadline: float) -> bytes | None:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                return None
            line = proc.stdout.readline()
            return line or None

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            with contextlib.suppress(Exception):
                self._proc.wait(timeout=5)
            for stream in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(Exception):
                    stream.close()  # type: ignore[union-attr]
        self._proc = None

    def close(self) -> None:
        """Stop the child."""
        with self._lock:
            self._kill()


_shared: SymbolicSandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> SymbolicSandbox:
    """The process-wide sandbox, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SymbolicSandbox()
            atexit.register(_shared.close)
        return _shared


# ----------------------------------------------------------------------------- the child


def _is_zero_by_algebra(expr: Any) -> bool:
    """Cheap proofs that an expression is 0: rational algebra, then trigonometric expansion."""
    import sympy

    if sympy.expand(sympy.together(expr)) == 0:
        return True
    if expr.has(sympy.sin, sympy.cos, sympy.tan, sympy.tanh):
        return bool(sympy.expand(sympy.together(sympy.expand_trig(expr))) == 0)
    return False


def _zero_by_signs(expr: Any) -> bool:
    """Whether an expression with kinks is 0 for every sign of the kinks' arguments.

    relu, abs, step, max and min become plain algebra once the sign of their argument is
    fixed: x*Heaviside(x) - Max(0, x) is 0 - 0 where x < 0 and x - x where x > 0. Each
    distinct argument (up to its sign) takes both signs, so impossible combinations are
    checked too: a True answer is a proof; a False one only sends the check on to sympy's
    slower tools.
    """
    import itertools

    import sympy

    kinds = (sympy.Heaviside, sympy.Abs, sympy.sign, sympy.Max, sympy.Min)
    kinks = list(expr.atoms(*kinds))
    arguments: list[Any] = []

    def argument(f: Any) -> Any:
        if f.func in (sympy.Max, sympy.Min):
            if len(f.args) != 2:
                raise ValueError
            return f.args[0] - f.args[1]
        return f.args[0]

    try:
        for f in kinks:
            g = argument(f)
            if g.has(*kinds):
                return False  # a kink inside a kink: leave it to sympy
            g = -g if g.could_extract_minus_sign() else g
            if g not in arguments:
                arguments.append(g)
    except ValueError:
        return False
    if not arguments or len(arguments) > 4:
        return False
    for signs in itertools.product((1, -1), repeat=len(arguments)):
        positive = dict(zip(arguments, signs, strict=True))

        def sign_of(g: Any, positive: dict[Any, int] = positive) -> int:
            return positive[g] if g in positive else -positive[-g]

        mapping = {}
        for f in kinks:
            s = sign_of(argument(f))
            if f.func is sympy.Heaviside:
                mapping[f] = 1 if s > 0 else 0
            elif f.func is sympy.Abs:
                mapping[f] = s * f.args[0]
            elif f.func is sympy.sign:
                mapping[f] = s
            elif f.func is sympy.Max:
                mapping[f] = f.args[0] if s > 0 else f.args[1]
            else:
                mapping[f] = f.args[1] if s > 0 else f.args[0]
        if not _is_zero_by_algebra(expr.xreplace(mapping)):
            return False
    return True


def _zero_on_every_interval(expr: Any) -> bool:
    """Whether a piecewise expression is 0 wherever a piece holds on an interval.

    A piece applies where its condition holds and no earlier one did; pieces left with
    no width (the kink x = 0 itself, impossible combinations) are skipped, because a
    derivative need not agree at a single point. Conditions in several variables have no
    set form here, so their pieces are always checked.
    """
    import sympy

    pieces: Any = expr.args if isinstance(expr, sympy.Piecewise) else ((expr, True),)
    covered = sympy.EmptySet
    for piece, condition in pieces:
        try:
            region = (
                sympy.S.Reals if condition in (True, sympy.true) else condition.as_set()
            ) - covered
            covered = covered | region
            if region.measure == 0:
                continue
        except Exception:  # no set form (several variables): check the piece
            pass
        if not _is_zero_by_algebra(piece):
            return False
    return True


def _as_math(expr: Any) -> str:
    """A sympy expression written in the math language (best effort: the caller parses it)."""
    import re

    import sympy

    text = sympy.sstr(expr)
    for theirs, ours in (("Abs(", "abs("), ("Max(", "max("), ("Min(", "min(")):
        text = text.replace(theirs, ours)
    return re.sub(r"\bE\b", "e", text)


def _handle(request: dict[str, Any]) -> dict[str, Any]:
    import sympy

    from .mathlang import MathError, parse, to_sympy
    from .pretty import pretty

    variables = set(request.get("vars") or ()) or None
    op = request.get("op")
    try:
        if op == "sleep":  # lets the tests prove that an overrun is killed
            time.sleep(float(request.get("seconds", 0)))
            return {"status": "ok"}
        if op == "pretty":
            return {"status": "ok", "pretty": pretty(parse(request["text"], variables))}
        symbols: dict[str, Any] = {}
        function = to_sympy(parse(request["function"], variables), symbols)
        wrt = symbols.get(request["wrt"]) or sympy.Symbol(request["wrt"], real=True)
        derivative = sympy.diff(function, wrt)
        if op == "derivative":
            return {"status": "ok", "pretty": pretty(derivative), "text": _as_math(derivative)}
        if op != "equivalent":
            return {"status": "error", "detail": f"unknown op {op!r}"}
        answer = to_sympy(parse(request["answer"], variables), symbols)
        difference = derivative - answer
        # Cheapest first: most right answers differ from sympy's derivative by algebra only.
        if _is_zero_by_algebra(difference):
            return {"status": "equal", "detail": "expand"}
        kinked = difference.has(sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.sign)
        if kinked:
            if _zero_by_signs(difference):
                return {"status": "equal", "detail": "by signs"}
            # Piece by piece: relu(x) against x*Heaviside(x) is algebra on each side of 0.
            folded = sympy.piecewise_fold(difference.rewrite(sympy.Piecewise))
            if _zero_on_every_interval(folded):
                return {"status": "equal", "detail": "piecewise"}
            simplified = sympy.simplify(folded)
        else:
            simplified = sympy.simplify(difference)
        if simplified == 0:
            return {"status": "equal", "detail": "simplify"}
        if simplified.is_number and simplified.is_zero is False:
            return {"status": "different", "detail": f"they differ by the constant {simplified}"}
        return {"status": "unknown", "detail": "sympy could not decide"}
    except MathError as exc:
        return {"status": "error", "detail": str(exc)}
    except Exception as exc:  # sympy can raise nearly anything on odd input
        return {"status": "unknown", "detail": f"sympy failed: {type(exc).__name__}"}


def main() -> None:
    """Serve requests until stdin closes."""
    import sympy  # noqa: F401  -- import once, before the first request

    for line in sys.stdin:
        try:
            request = json.loads(line)
            reply = _handle(request) if isinstance(request, dict) else {"status": "error"}
        except ValueError:
            reply = {"status": "error", "detail": "bad request"}
        except MemoryError:
            reply = {"status": "unknown", "detail": "out of memory"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
