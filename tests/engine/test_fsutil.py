from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.fsutil import atomic_write_text, atomic_writer


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "settings.toml"
    atomic_write_text(target, "old = 1\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"new = ")
        raise RuntimeError("killed half way")
    assert target.read_text() == "old = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.toml"]
