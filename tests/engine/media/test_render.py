"""Running FFmpeg: progress as it prints it, cancel, failure, no partial output left behind."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from studio.engine.jobs.errors import JobCanceled
from studio.engine.media.render import RenderFailed, RenderProgress, progress_blocks, run_ffmpeg, to_progress

# What `-progress pipe:1` printed for a short encode (PROTOCOLS.md, FFmpeg).
RECORDED = """frame=0
fps=0.00
stream_0_0_q=0.0
bitrate=N/A
total_size=48
out_time_us=N/A
out_time_ms=N/A
out_time=N/A
dup_frames=0
drop_frames=0
speed=N/A
progress=continue
frame=58
fps=57.63
stream_0_0_q=28.0
bitrate=  98.4kbits/s
total_size=28672
out_time_us=2321995
out_time_ms=2321995
out_time=00:00:02.321995
dup_frames=0
drop_frames=0
speed=4.64x
progress=end
"""


def test_progress_blocks_as_numbers() -> None:
    blocks = list(progress_blocks(RECORDED.splitlines()))
    assert len(blocks) == 2 and blocks[1]["bitrate"] == "98.4kbits/s"
    early, last = (to_progress(b, 4.0) for b in blocks)
    assert early == RenderProgress(0.0, 0, 0.0, 0.0, 0.0, False)
    assert last.out_time_s == pytest.approx(2.321995) and last.speed == pytest.approx(4.64)
    assert last.frame == 58 and last.done and last.fraction == 1.0
    assert to_progress({**blocks[1], "progress": "continue"}, 4.0).fraction == pytest.approx(0.5805, abs=1e-3)


def _render(ffmpeg: str, seconds: float, out: Path, *, realtime: bool = False) -> list[str]:
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", *(["-re"] if realtime else []), "-f", "lavfi",
            "-i", f"testsrc2=size=160x120:rate=25:duration={seconds}", "-c:v", "libx264",
            "-preset", "ultrafast", "-progress", "pipe:1", "-nostats", str(out)]


def test_a_render_reports_progress_and_appears_whole(ffmpeg: str, tmp_path: Path) -> None:
    out = tmp_path / "out, 'x'.mp4"
    seen: list[RenderProgress] = []
    run_ffmpeg(_render(ffmpeg, 1.0, out), total_s=1.0, output=out, on_progress=seen.append)
    assert out.is_file() and out.stat().st_size > 0
    assert seen[-1].done and seen[-1].fraction == 1.0 and seen[-1].frame == 25
    assert list(tmp_path.iterdir()) == [out]  # the hidden partial file is gone


def _ffmpeg_processes(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(pid))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_cancel_kills_ffmpeg_and_leaves_nothing(ffmpeg: str, tmp_path: Path) -> None:
    out = tmp_path / "cancel-me-4711.mp4"
    started = threading.Event()
    stop = threading.Event()

    def on_progress(step: RenderProgress) -> None:
        if step.frame > 0:
            started.set()

    def cancel() -> bool:
        return stop.is_set()

    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_ffmpeg(_render(ffmpeg, 60, out, realtime=True), total_s=60, output=out,
                       on_progress=on_progress, cancel=cancel)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(20), "FFmpeg never reported progress"
    assert _ffmpeg_processes("cancel-me-4711"), "FFmpeg should be running now"
    assert any(p.name.startswith(".cancel-me-4711") for p in tmp_path.iterdir())
    begun = time.monotonic()
    stop.set()
    thread.join(15)
    assert not thread.is_alive() and time.monotonic() - begun < 5
    assert len(errors) == 1 and isinstance(errors[0], JobCanceled)
    assert _ffmpeg_processes("cancel-me-4711") == []
    assert list(tmp_path.iterdir()) == []  # no partial output, hidden or not


def test_a_failure_names_the_cause_and_leaves_nothing(ffmpeg: str, tmp_path: Path) -> None:
    out = tmp_path / "broken.mp4"
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=duration=1",
            "-vf", "scale=w=-7:h=oops", str(out)]
    with pytest.raises(RenderFailed, match="FFmpeg failed: .*(scale|Invalid|oops|Error)"):
        run_ffmpeg(argv, output=out)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RenderFailed, match=r"No such file|does not exist"):
        run_ffmpeg([ffmpeg, "-nostdin", "-i", str(tmp_path / "none.mp4"), str(out)], output=out)
