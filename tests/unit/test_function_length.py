"""Functions short enough to read at once: none in src/insilico over 80 lines (nested functions and
plot functions included), measured with ast as end_lineno - lineno + 1."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "insilico"
LIMIT = 80


def long_functions(source: str, limit: int = LIMIT) -> dict[str, int]:
    """{qualified name: lines} of every function longer than ``limit`` lines."""
    found = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                lines = child.end_lineno - child.lineno + 1
                if not isinstance(child, ast.ClassDef) and lines > limit:
                    found[name] = lines
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def package_long_functions() -> dict[str, int]:
    return {
        f"{path.relative_to(PACKAGE).as_posix()}:{name}": lines
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, lines in long_functions(path.read_text()).items()
    }


def test_no_function_over_80_lines():
    too_long = package_long_functions()
    assert too_long == {}, f"split these (lines): {too_long}"


def test_nested_and_method_lengths_are_measured():
    body = "\n".join(f"        x{i} = {i}" for i in range(LIMIT))
    source = f"class A:\n    def method(self):\n{body}\n\ndef short():\n    def inner():\n{body}\n"
    assert long_functions(source) == {"A.method": LIMIT + 1, "short": LIMIT + 2, "short.inner": 81}
