"""The engine never imports Qt: it must import and work with PySide6 blocked."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCK_QT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'):
            raise ImportError(f'{name} is blocked for this test')
sys.meta_path.insert(0, Block())
"""


def test_engine_imports_and_runs_with_pyside6_blocked(tmp_path: Path) -> None:
    code = BLOCK_QT + f"""
import pkgutil, importlib, studio.engine
for mod in pkgutil.walk_packages(studio.engine.__path__, 'studio.engine.'):
    if '.migrations' not in mod.name:
        importlib.import_module(mod.name)
from studio.engine.core import Studio
s = Studio.open({str(tmp_path / 'd')!r})
print(s.workspace().name, len(s.jobs.list(s.workspace().id)))
assert not any(m.startswith('PySide6') for m in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                                            "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "My studio 0"


def test_blocking_really_blocks() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCK_QT + "import PySide6"], check=False, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode != 0 and "blocked for this test" in done.stderr


def test_import_linter_contract_holds() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter)], check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The engine never imports Qt or the UI KEPT" in done.stdout
