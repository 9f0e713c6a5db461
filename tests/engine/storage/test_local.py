from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.storage.local import LocalStore


def test_put_file_copies_bytes_and_hashes(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"\x00\x01" * 100_000)
    stored = LocalStore(tmp_path / "assets").put_file(source, "images/ws/job/out.bin")
    assert stored.path.read_bytes() == source.read_bytes()
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert stored.size_bytes == 200_000


@pytest.mark.parametrize("key", ["../escape.png", "/etc/passwd", "a/../../b", "", "a\\b", "nul\x00"])
def test_keys_cannot_escape_the_store(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInput):
        LocalStore(tmp_path).path(key)


def test_put_bytes_stores_exactly_the_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    stored = LocalStore(tmp_path).put_bytes(data, "datasets/ws/ds/abc.png")
    assert stored.path.read_bytes() == data and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert [p.name for p in stored.path.parent.iterdir()] == ["abc.png"]  # no temporary left
