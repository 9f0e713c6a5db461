"""Which FFmpeg is used, and what is said when it cannot do the job."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from studio.engine.config import Settings
from studio.engine.doctor import find_ffmpeg as doctor_find
from studio.engine.media.ffmpeg import FFmpegUnavailable, bundled_ffmpeg, find_ffmpeg, inspect_build, locate

LISTING = '''
arg = sys.argv[-1]
if arg == "-version":
    print("ffmpeg version 5.1.6-0+deb12u1")
elif arg == "-encoders":
    print(" V....D libx264              libx264 H.264 / AVC")
elif arg == "-filters":
    print(" ... subtitles         V->V       Render text subtitles onto input video using libass.")
'''


def fake_ffmpeg(folder: Path, body: str = LISTING) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ffmpeg"
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_bundled_build_has_everything_the_studio_uses() -> None:
    exe = bundled_ffmpeg()
    assert exe is not None and Path(exe).is_file()
    build = inspect_build(exe)
    assert build.lacking == () and build.error == "" and build.version.startswith("ffmpeg version")


def test_order_setting_then_path_then_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    settings = Settings()
    assert locate(settings) == (bundled_ffmpeg(), "imageio-ffmpeg")
    on_path = fake_ffmpeg(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert locate(settings) == (str(on_path), "PATH")
    settings.ffmpeg.path = str(fake_ffmpeg(tmp_path / "mine"))
    assert locate(settings) == (str(tmp_path / "mine" / "ffmpeg"), "ffmpeg.path")


def test_doctor_and_media_agree(studio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert doctor_find(studio) == locate(studio.settings)
    studio.settings.ffmpeg.path = str(fake_ffmpeg(tmp_path))
    assert doctor_find(studio) == locate(studio.settings) == (str(tmp_path / "ffmpeg"), "ffmpeg.path")


def test_a_build_without_loudnorm_is_named(tmp_path: Path) -> None:
    settings = Settings()
    settings.ffmpeg.path = str(fake_ffmpeg(tmp_path))
    with pytest.raises(FFmpegUnavailable, match=r"lacks loudnorm; set ffmpeg.path"):
        find_ffmpeg(settings)


def test_missing_or_broken(tmp_path: Path) -> None:
    settings = Settings()
    settings.ffmpeg.path = str(tmp_path / "nowhere" / "ffmpeg")
    with pytest.raises(FFmpegUnavailable, match="does not exist"):
        find_ffmpeg(settings)
    settings.ffmpeg.path = str(fake_ffmpeg(tmp_path, 'sys.stderr.write("libfoo.so: cannot open\\n"); sys.exit(127)'))
    with pytest.raises(FFmpegUnavailable, match="does not run: libfoo.so: cannot open"):
        find_ffmpeg(settings)
