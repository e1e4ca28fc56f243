"""Dependencies point one way: ui -> solver -> scheduler; the core never imports Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "scheduler": ("PySide6", "ortools", "solver", "ui"),
    "solver": ("PySide6", "sqlalchemy", "pandas", "ui", "scheduler.store", "scheduler.io"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden_layers(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package]):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_ui_holds_no_solver_internals() -> None:
    """The UI talks to the solver through its public API only (solve, SolveParams, results)."""
    offenders = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("solver.") and name not in ("solver.result", "solver.explain", "solver.explain_checks"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
            if name.startswith("ortools"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
