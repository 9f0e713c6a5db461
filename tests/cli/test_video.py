"""``video export|presets|templates`` in process: the job runs inline (no worker), real FFmpeg."""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from studio.engine.media.probe import probe
from studio.engine.media.subtitles import Cue, write_srt
from tests.cli.conftest import Cli, one_error_line
from tests.conftest import ROOT, studio_command
from tests.engine.media.conftest import ODD, make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    return make_clip(ffmpeg, tmp_path_factory.mktemp("src") / ODD / "my clip, 'take 1'.mp4",
                     seconds=1.0)


def test_presets_are_listed(cli: Cli) -> None:
    table = cli("video", "presets")
    assert table.code == 0 and "instagram-reel" in table.out and "1080x1920" in table.out
    rows = cli("video", "presets", "--json").json()
    assert {r["name"] for r in rows} >= {"tiktok", "youtube-shorts", "youtube-16x9"}


def test_video_templates_are_listed(cli: Cli) -> None:
    rows = cli("video", "templates", "--json").json()["templates"]
    assert {"i2v-svd", "i2v-animatediff-sd15"} <= {r["name"] for r in rows}
    assert {r["kind"] for r in rows} == {"img2video", "flf2video"}
    assert "i2v-svd" in cli("video", "templates").out


def test_video_generate_help_points_at_the_listing_of_video_templates(cli: Cli) -> None:
    shown = cli("video", "generate", "--help")
    assert shown.code == 0
    text = " ".join(shown.out.split())  # argparse wraps the help to the terminal's width
    assert "`video templates`" in text and "`generate templates`" not in text
    assert "default i2v-svd" in text
    listed = {r["name"] for r in cli("video", "templates", "--json").json()["templates"]}
    assert "i2v-svd" in listed  # the default is one the listing shows
    assert "`generate templates`" in " ".join(cli("generate", "image", "--help").out.split())


def test_export_waits_and_prints_the_file(cli: Cli, clip: Path, tmp_path: Path, data_dir: Path) -> None:
    srt = write_srt([Cue(0, 1, "Hi: it's me")], tmp_path / ODD / "sub's.srt")
    out = tmp_path / "exports" / "ready, 'for' tiktok.mp4"
    done = cli("video", "export", str(clip), "--preset", "youtube-shorts", "--out", str(out),
               "--subtitles", str(srt), "--fit", "blur", "--draft", "--cover", "0.5")
    assert done.code == 0, done.err
    assert Path(done.out.strip()) == out
    info = probe(out)
    assert info.video is not None and (info.video.width, info.video.height) == (1080, 1920)
    assert info.faststart and info.audio is not None and info.audio.sample_rate == 48000
    assert "Measuring loudness" in done.err and "completed  100.0%" in done.err
    stored = list((data_dir / "assets" / "videos").rglob("*.mp4"))
    assert len(stored) == 1 and stored[0].read_bytes() == out.read_bytes()
    assert list((data_dir / "assets" / "videos").rglob("*-cover.jpg"))


def test_export_errors_are_one_line(cli: Cli, clip: Path, tmp_path: Path) -> None:
    unknown = cli("video", "export", str(clip), "--preset", "vine", "--out", str(tmp_path / "o.mp4"))
    assert unknown.code == 2 and "no export preset 'vine'" in one_error_line(unknown.err)
    missing = cli("video", "export", str(tmp_path / "nope.mp4"), "--preset", "tiktok",
                  "--out", str(tmp_path / "o.mp4"))
    assert missing.code == 2 and "does not exist" in one_error_line(missing.err)
    loud = cli("video", "export", str(clip), "--preset", "tiktok", "--out", str(tmp_path / "o.mp4"),
               "--loudness", "loud")
    assert loud.code == 2 and "--loudness takes" in one_error_line(loud.err)
    avi = cli("video", "export", str(clip), "--preset", "tiktok", "--out", str(tmp_path / "o.avi"))
    assert avi.code == 2 and ".mp4 file or a folder" in one_error_line(avi.err)
    short = cli("video", "export", str(clip), "--preset", "tiktok", "--out", str(tmp_path / "o.mp4"),
                "--too-long", "refuse", "--loudness", "off", "--draft")
    assert short.code == 0, short.err  # 1 s is under the limit: held to 3 s, never refused
    assert "note: last frame held 2.0 s" in short.err
    assert not (tmp_path / "o.avi").exists()


def test_ctrl_c_cancels_the_export(studio, clip: Path, tmp_path: Path, ffmpeg: str) -> None:  # type: ignore[no-untyped-def]
    long_clip = make_clip(ffmpeg, tmp_path / "long.mp4", seconds=30, size="640x360")
    out = tmp_path / "never.mp4"
    proc = subprocess.Popen(studio_command(studio.paths.data_dir, "video", "export", str(long_clip),
                                           "--preset", "youtube-16x9", "--out", str(out),
                                           "--loudness", "off"),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    seen = ""
    while "Encoding" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline() if proc.stderr else ""
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert not out.exists() and not list(tmp_path.glob(".never*"))


def test_generate_turns_an_image_into_a_clip(cli: Cli, ffmpeg: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from tests.fakes.comfyui_server import FakeComfyUI
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    clip = make_clip(ffmpeg, tmp_path / "c.mp4", size="64x112", seconds=1.0, audio=False)
    image = tmp_path / "me.png"
    Image.new("RGB", (64, 112), (10, 200, 30)).save(image)
    with FakeComfyUI(checkpoints=["svd_xt_1_1.safetensors"],
                     output_bytes={"mp4": clip.read_bytes()}) as fake:
        assert cli("settings", "set", "comfyui.url", fake.base_url).code == 0
        done = cli("video", "generate", str(image), "--set", "frames=14", "--set", "fps=10")
        assert done.code == 0, done.err
        assert probe(Path(done.out.strip())).video is not None
        bad = cli("video", "generate", str(image), "--set", "motion=5000")
        assert bad.code == 2 and "motion must be between 1 and 1023" in one_error_line(bad.err)


def test_a_cover_past_the_end_is_refused_before_anything_is_rendered(
        cli: Cli, clip: Path, tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "o.mp4"
    late = cli("video", "export", str(clip), "--preset", "tiktok", "--out", str(out), "--cover", "30")
    assert late.code == 2
    assert one_error_line(late.err).startswith(
        "error: The cover time 30 s is past the end of the exported clip (")
    for value in ("nan", "-1"):
        odd = cli("video", "export", str(clip), "--preset", "tiktok", "--out", str(out), "--cover", value)
        assert odd.code == 2 and "0 or later" in one_error_line(odd.err)
    assert cli("jobs", "list", "--json").json() == []  # refused before a job was queued
    assert not out.exists() and not (data_dir / "assets" / "videos").exists()
