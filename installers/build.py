"""Builds the one-folder bundle with PyInstaller and, on Linux, packs it as a tarball.

    python installers/build.py          (what `make bundle` and CI run)

Writes dist/influencerai-studio/ (the bundle; on macOS also dist/InfluencerAI Studio.app) and on
Linux dist/influencerai-studio-VERSION-linux-ARCH.tar.gz with the .desktop file, the icon and
install.sh beside the executable. Prints the build time and the sizes.
"""
from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "installers" / "influencerai-studio.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
NAME = "influencerai-studio"
BUNDLE = DIST / NAME
LINUX_FILES = ROOT / "installers" / "linux"


def build() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level",
                    "WARN", "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)],
                   check=True, cwd=ROOT)
    return time.monotonic() - started


def add_linux_files(version: str) -> None:
    shutil.copy2(LINUX_FILES / f"{NAME}.desktop", BUNDLE / f"{NAME}.desktop")
    shutil.copy2(LINUX_FILES / "install.sh", BUNDLE / "install.sh")
    shutil.copy2(WORK / NAME / "icons" / "app.png", BUNDLE / f"{NAME}.png")  # PyInstaller adds the spec name
    (BUNDLE / "VERSION").write_text(f"{version}\n", encoding="utf-8")


def tarball(version: str) -> Path:
    """The bundle under one top folder; owners are not the build machine's."""
    target = DIST / f"{NAME}-{version}-linux-{platform.machine()}.tar.gz"
    partial = target.with_suffix(".partial")

    def anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(BUNDLE, arcname=f"{NAME}-{version}", filter=anonymous)
    partial.replace(target)
    return target


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(n: int) -> str:
    return f"{n / 1024**2:.0f} MiB"


def version() -> str:
    sys.path.insert(0, str(ROOT))
    import studio
    if studio.__version__ == "0.0.0":
        raise SystemExit("error: install the studio first (pip install -e '.[bundle]')")
    return studio.__version__


def main() -> int:
    found = version()
    seconds = build()
    print(f"bundle: {BUNDLE} ({mib(size(BUNDLE))}), built in {seconds:.0f} s")
    if sys.platform.startswith("linux"):
        add_linux_files(found)
        started = time.monotonic()
        packed = tarball(found)
        print(f"tarball: {packed} ({mib(size(packed))}), packed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
