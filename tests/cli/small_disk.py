"""Runs the command line on a real small or read-only disk: a tmpfs mounted in a private mount
namespace (``unshare --mount``), so nothing changes for the rest of the machine and the mount
goes away with the process. Needs root (or CAP_SYS_ADMIN), as the test machines run.

    python -m tests.cli.small_disk MOUNT SIZE_KB rw|ro|full SOURCE_DATA COPY_BACK -- VERB ARGS...

copies SOURCE_DATA onto the tmpfs at MOUNT/data, remounts it read-only (ro) or fills what is
left with a file (full) when asked, runs the verb against it, then copies the data folder back
to COPY_BACK for the test to read.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

UNSHARE = shutil.which("unshare")
MOUNT = shutil.which("mount")


def can_mount() -> bool:
    """Whether this machine lets the tests mount a tmpfs in a private namespace."""
    if UNSHARE is None or MOUNT is None:
        return False
    probe = subprocess.run([UNSHARE, "--mount", "--propagation", "private", MOUNT, "-t", "tmpfs",
                            "tmpfs", "/mnt"], capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


def run_on_small_disk(tmp_path: Path, data_dir: Path, *args: str, size_kb: int, mode: str = "rw",
                      timeout: float = 120) -> subprocess.CompletedProcess[str]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    assert UNSHARE is not None
    command = [UNSHARE, "--mount", "--propagation", "private", sys.executable, "-m", "tests.cli.small_disk",
               str(mount), str(size_kb), mode, str(data_dir),
               str(tmp_path / "after"), "--", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout, cwd=ROOT)


def _inside(argv: list[str]) -> int:
    mount, size_kb, mode, source, copy_back = argv[:5]
    verb = argv[argv.index("--") + 1:]
    assert MOUNT is not None
    subprocess.run([MOUNT, "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", mount], check=True)
    data = Path(mount) / "data"
    shutil.copytree(source, data)
    if mode == "ro":
        subprocess.run([MOUNT, "-o", "remount,ro", mount], check=True)
    if mode == "full":
        _fill(Path(mount) / "filler")
    from studio.cli.main import main
    code = main(["--data-dir", str(data), *verb])
    shutil.copytree(data, copy_back, ignore=shutil.ignore_patterns("*.lock"))
    return code


def _fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:  # ENOSPC: the disk is full now
        pass
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(_inside(sys.argv[1:]))
