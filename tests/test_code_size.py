"""The studio's code stays small: modules up to 400 lines, functions and methods up to 40.

Small modules hold one concept and small functions read top to bottom; a file or function that
grows past these limits is split by responsibility, not squeezed. Alembic migrations are left
out: each is one ordered step, written once and never edited again.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDIO = ROOT / "studio"
EXCLUDED = (STUDIO / "engine" / "db" / "migrations",)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def studio_modules(root: Path = STUDIO) -> list[Path]:
    return [path for path in sorted(root.rglob("*.py"))
            if not any(path.is_relative_to(excluded) for excluded in EXCLUDED)]


def long_module(path: Path, base: Path = ROOT, limit: int = MAX_MODULE_LINES) -> str | None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if lines <= limit:
        return None
    return f"{path.relative_to(base)} has {lines} lines (at most {limit})"


def long_functions(path: Path, base: Path = ROOT,
                   limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Every function or method in ``path`` longer than ``limit`` lines, decorators left out."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
            length = node.end_lineno - node.lineno + 1
            if length > limit:
                found.append(f"{path.relative_to(base)}:{node.lineno} {node.name} has "
                             f"{length} lines (at most {limit})")
    return found


def test_the_checks_find_what_is_too_long(tmp_path: Path) -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(40))
    path = tmp_path / "sample.py"
    path.write_text(f"def short():\n    return 1\n\n\nclass A:\n    @property\n"
                    f"    def long(self):\n{body}\n", encoding="utf-8")
    assert long_module(path, tmp_path, limit=46) == "sample.py has 47 lines (at most 46)"
    assert long_module(path, tmp_path, limit=47) is None
    assert long_functions(path, tmp_path) == ["sample.py:7 long has 41 lines (at most 40)"]
    assert long_functions(path, tmp_path, limit=41) == []


def test_migrations_are_left_out() -> None:
    migrations = set((STUDIO / "engine" / "db" / "migrations").rglob("*.py"))
    modules = set(studio_modules())
    assert migrations and STUDIO / "engine" / "db" / "models.py" in modules
    assert migrations & modules == set()


def test_no_studio_module_is_over_400_lines() -> None:
    found = [line for path in studio_modules() if (line := long_module(path))]
    assert found == [], "split these modules by responsibility:\n" + "\n".join(found)


def test_no_studio_function_is_over_40_lines() -> None:
    found = [line for path in studio_modules() for line in long_functions(path)]
    assert found == [], "extract well-named helpers from:\n" + "\n".join(found)
