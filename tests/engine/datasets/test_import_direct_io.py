"""Staged copies written and read around the page cache keep every byte, whatever the size, and
the plain way is taken where direct I/O is missing or refused."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from studio.engine.datasets import direct_io
from studio.engine.datasets.direct_io import BLOCK, read_all, write_all

SIZES = [1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * 2**20 + 17]


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


@pytest.mark.parametrize("size", SIZES)
def test_every_byte_comes_back_and_nothing_more(tmp_path: Path, size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    _write(tmp_path / "copy", data)
    assert (tmp_path / "copy").read_bytes() == data  # the padding of a direct write is cut off
    assert read_all(tmp_path / "copy") == data


def test_a_larger_file_after_a_smaller_one_and_back(tmp_path: Path) -> None:
    """The reused buffer grows for a large file and is let go after it."""
    small, large = b"s" * 5000, b"L" * (direct_io.KEPT_UP_TO + BLOCK + 3)
    for name, data in (("a", small), ("b", large), ("c", small)):
        _write(tmp_path / name, data)
        assert read_all(tmp_path / name) == data
    assert direct_io._buffers.memory is None or len(direct_io._buffers.memory) <= direct_io.KEPT_UP_TO


def test_without_direct_io_the_plain_way_gives_the_same(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "O_DIRECT", raising=False)  # as on Windows and macOS
    data = b"\xff\xd8" + bytes(range(256)) * 40
    _write(tmp_path / "copy", data)
    assert (tmp_path / "copy").read_bytes() == data and read_all(tmp_path / "copy") == data


def test_a_disk_that_refuses_a_direct_write_gets_a_plain_one(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    refused: list[int] = []

    def picky(fd: int, data: bytes | memoryview) -> int:
        if len(data) % BLOCK == 0 and not refused:  # the padded direct write
            refused.append(fd)
            raise OSError(22, "Invalid argument")
        return real_write(fd, data)
    monkeypatch.setattr(os, "write", picky)
    data = b"x" * (BLOCK + 10)
    _write(tmp_path / "copy", data)
    assert refused and (tmp_path / "copy").read_bytes() == data
