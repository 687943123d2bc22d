"""No function in the package is longer than 80 lines (numba kernels and migrations aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import stockyard

SOURCE = Path(stockyard.__file__).parent
LIMIT = 80


def _is_kernel(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("jit" in ast.unparse(d) for d in node.decorator_list)


def test_no_function_is_longer_than_80_lines() -> None:
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if "_migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_kernel(node):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > LIMIT:
                    offenders.append(f"{relative}:{node.lineno} {node.name} ({length} lines)")
    assert not offenders, "functions over 80 lines:\n" + "\n".join(offenders)
