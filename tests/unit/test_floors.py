"""The layers of DESIGN.md §1: a package imports only the floors below (or beside) it."""

from __future__ import annotations

import ast
from pathlib import Path

import stockyard

FLOORS = {
    "core": 0,
    "obs": 1,
    "resilience": 1,
    "config": 1,
    "data": 2,
    "bus": 2,
    "store": 2,
    "health": 2,
    "execution": 3,
    "portfolio": 3,
    "risk": 3,
    "strategy": 3,
    "engine": 4,
    "backtest": 4,
    "orchestrator": 5,
    "sandbox": 5,
    "services": 6,
    "api": 7,
    "dashboard": 7,
    "mcp": 7,
    "client": 7,
    "bench": 7,
    "cli": 8,
}
SOURCE = Path(stockyard.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                found.append(
                    (node.lineno, ".".join([*base, *([node.module] if node.module else [])]))
                )
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "stockyard" else None


def test_every_subpackage_sits_on_a_known_floor() -> None:
    packages = {p.name for p in SOURCE.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert packages <= set(FLOORS), f"unknown layers: {packages - set(FLOORS)}"


def test_no_package_imports_a_higher_floor() -> None:
    upward: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        here = _layer(".".join(path.relative_to(SOURCE.parent).with_suffix("").parts))
        if here not in FLOORS:
            continue
        for line, module in _imports(path):
            there = _layer(module)
            if there in FLOORS and FLOORS[there] > FLOORS[here]:
                upward.append(f"{path.relative_to(SOURCE)}:{line} ({here}) imports {module}")
    assert not upward, "imports go up the floors:\n" + "\n".join(upward)


def test_core_imports_nothing_of_ours() -> None:
    ours = [
        f"{path.name}: {module}"
        for path in (SOURCE / "core").rglob("*.py")
        for _, module in _imports(path)
        if _layer(module) not in (None, "core")
    ]
    assert not ours


FACES = ("api", "dashboard", "mcp", "client", "bench")


def test_nothing_below_the_faces_imports_one_and_nothing_imports_the_cli() -> None:
    offenders = []
    for path in SOURCE.rglob("*.py"):
        here = _layer(".".join(path.relative_to(SOURCE.parent).with_suffix("").parts))
        for _, module in _imports(path):
            there = _layer(module)
            if there == here or there is None or here == "__main__":
                continue
            below_faces = here in FLOORS and FLOORS[here] < FLOORS["api"]
            if there == "cli" or (there in FACES and below_faces):
                offenders.append(f"{path.relative_to(SOURCE)} imports {module}")
    assert not offenders


def test_no_two_packages_import_each_other() -> None:
    edges: set[tuple[str, str]] = set()
    for path in SOURCE.rglob("*.py"):
        here = _layer(".".join(path.relative_to(SOURCE.parent).with_suffix("").parts))
        for _, module in _imports(path):
            there = _layer(module)
            if here in FLOORS and there in FLOORS and there != here:
                edges.add((here, there))
    cycles = sorted(f"{a} <-> {b}" for a, b in edges if (b, a) in edges and a < b)
    assert not cycles, "packages that import each other: " + ", ".join(cycles)
