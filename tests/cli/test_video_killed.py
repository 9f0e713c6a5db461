"""kill -9 of a command line in the middle of `video export`: no FFmpeg keeps running, and the next
command (a worker starting) runs the export once more, to the end, and leaves no partial file."""
from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Asset, Job
from tests.conftest import ROOT, WorkerProcess, studio_command, wait_until
from tests.engine.media.conftest import make_clip


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid``, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rfind(")") + 2:].split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"  # a zombie has ended


def _ffmpeg_children(pid: int) -> list[int]:
    def is_ffmpeg(child: int) -> bool:
        try:
            return "ffmpeg" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            return False
    return [child for child in children_of(pid) if is_ffmpeg(child)]


def _the_job(studio: Studio) -> Job | None:
    jobs = studio.jobs.list(studio.workspace().id)
    return jobs[0] if jobs else None


def _partials(studio: Studio) -> list[Path]:
    return list((studio.paths.assets_dir / "videos").glob("*/*/.*.partial-*"))


def test_kill_9_during_export_leaves_no_ffmpeg_and_no_partial(
        studio: Studio, tmp_path: Path, ffmpeg: str,
        worker_factory: Callable[..., WorkerProcess]) -> None:
    source = make_clip(ffmpeg, tmp_path / "long.mp4", seconds=20, size="640x360")
    out = tmp_path / "out" / "final.mp4"
    cli = subprocess.Popen(studio_command(studio.paths.data_dir, "video", "export", str(source),
                                          "--preset", "youtube-16x9", "--out", str(out),
                                          "--loudness", "off", "--draft"),
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: (job := _the_job(studio)) is not None and job.stage == "Encoding",
                   timeout=60, what="the export to be encoding")
        encoders = wait_until(lambda: _ffmpeg_children(cli.pid), what="FFmpeg under the CLI")
        assert isinstance(encoders, list)
        wait_until(lambda: _partials(studio), what="FFmpeg's hidden partial file")
    finally:
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=10)
    wait_until(lambda: not any(running(pid) for pid in encoders), what="FFmpeg to die with the CLI")
    assert [p.name.split(".partial-")[1].split("-")[0] for p in _partials(studio)] == [str(cli.pid)]

    worker = worker_factory()  # the next command: recovers the export and runs it again
    wait_until(lambda: (job := _the_job(studio)) is not None and job.status == "completed",
               timeout=180, what="the export to finish in the worker")
    job = _the_job(studio)
    assert job is not None and job.attempts == 2
    assert _partials(studio) == []
    assert out.is_file() and not list(out.parent.glob(".*"))
    with studio.db.session() as session:
        videos = session.query(Asset).filter(Asset.job_id == job.id, Asset.kind == "video").count()
    assert videos == 1
    assert worker.stop() == 0
