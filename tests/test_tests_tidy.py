"""The test suite's own order: what tests share lives in conftest.py files and helper modules.

A test module that imports from another test module runs that module's fixtures and tests where
they do not belong and ties two files together by accident; shared parts go to the nearest
conftest.py (fixtures) or to a plain helper module (functions, constants).
"""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imported_test_modules(path: Path) -> list[tuple[int, str]]:
    """Every test module under ``tests`` that the file imports, with the line of the import."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if is_test_module(node.module):
                found.append((node.lineno, node.module))
            else:
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                          if is_test_module(a.name)]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if is_test_module(a.name)]
    return [(line, name) for line, name in found if name.startswith("tests.")]


def imports_of_test_modules(root: Path) -> list[str]:
    return [f"{path.relative_to(root.parent)} imports {name}"
            for path in sorted(root.rglob("*.py")) for _, name in imported_test_modules(path)]


def test_no_file_under_tests_imports_a_test_module() -> None:
    assert imports_of_test_modules(TESTS) == [], "move what is shared to a conftest.py or a helper module"


def test_the_check_sees_both_import_forms(tmp_path: Path) -> None:
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "test_b.py").write_text(
        "from tests.ui.test_a import fake\nimport tests.engine.test_c\nfrom tests.ui import helpers\n"
        "from tests.ui import test_d\n")
    assert imports_of_test_modules(folder) == [
        "tests/test_b.py imports tests.ui.test_a",
        "tests/test_b.py imports tests.engine.test_c",
        "tests/test_b.py imports tests.ui.test_d",
    ]
