"""Import hygiene: the core never imports Textual; the start path imports no torch or sympy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

CORE = ROOT / "gradtutor" / "core"


def _loaded_after(code: str) -> set[str]:
    probe = (
        code + "\nimport sys, json\nprint(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    import json

    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_every_core_module_loads_no_textual():
    modules = sorted(
        ".".join(p.relative_to(CORE).with_suffix("").parts).removesuffix(".__init__")
        for p in CORE.rglob("*.py")
    )
    code = "\n".join(f"import gradtutor.core.{m}" if m != "__init__" else "" for m in modules)
    loaded = _loaded_after(code)
    assert "textual" not in loaded


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_source_never_names_textual(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "textual" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] != "textual"


def test_start_path_imports_neither_torch_nor_sympy():
    loaded = _loaded_after(
        "import gradtutor.cli, gradtutor.app\n"
        "import gradtutor.screens.browser, gradtutor.screens.lesson\n"
        "from gradtutor.app import create_app\n"
        "from gradtutor.core.paths import builtin_pack_dir\n"
        "app = create_app(pack_dirs=[builtin_pack_dir()])\n"
        "app.load()\n"
    )
    assert "textual" in loaded
    assert "torch" not in loaded and "sympy" not in loaded


@pytest.mark.parametrize("name", ["eval", "exec", "sympify", "parse_expr", "lambdify"])
def test_no_dangerous_calls_anywhere_in_the_package(name):
    for path in (ROOT / "gradtutor").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                assert called != name, f"{path}:{node.lineno} calls {name}"


EXERCISE_CLASSES = {
    "DerivativeExercise",
    "ValueExercise",
    "TensorExercise",
    "ChoiceExercise",
    "PracticeExercise",
}


def _switches_on_exercise_class(tree: ast.AST) -> list[int]:
    """Lines of `isinstance(x, SomeExercise)` that branch (not an assert that narrows)."""
    asserted = {id(n.test) for n in ast.walk(tree) if isinstance(n, ast.Assert)}
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
            and id(node) not in asserted
        ):
            names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            if names & EXERCISE_CLASSES:
                lines.append(node.lineno)
    return lines


def test_only_the_kind_registry_tells_exercise_kinds_apart():
    """One place per kind: outside `core/kinds/` and the pack reader, nothing branches on
    an exercise's class (each kind's behaviour is a field of its `Kind`)."""
    allowed = {CORE / "kinds", CORE / "packs"}
    found = []
    for path in sorted((ROOT / "gradtutor").rglob("*.py")):
        if any(parent in allowed for parent in path.parents):
            continue
        for line in _switches_on_exercise_class(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(ROOT)}:{line}")
    assert found == []


def test_no_module_is_over_600_lines():
    """Modules split along their seams (issue 2/6 of the third edition): none grows past
    600 lines unnoticed."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "gradtutor").rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}
