"""The Video page with real clips: the player loads and seeks, previews frame it for each
platform, subtitles show live, the export dialog runs a real export job."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtMultimedia import QMediaPlayer

from studio.engine.media.probe import probe
from studio.engine.media.subtitles import Cue
from studio.ui.context import StudioContext
from studio.ui.pages.video import VideoPage
from studio.ui.widgets.video_player import VideoPlayer
from tests.conftest import run_next_task
from tests.engine.media.conftest import ODD, make_clip
from tests.ui.helpers import make_generated


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    return make_clip(ffmpeg, tmp_path_factory.mktemp("ui") / ODD / "clip 'one'.mp4",
                     size="640x360", seconds=2.0)


def test_the_player_loads_a_real_file_and_seeks(qtbot, clip: Path) -> None:  # type: ignore[no-untyped-def]
    player = VideoPlayer()
    qtbot.addWidget(player)
    with qtbot.waitSignal(player.media_loaded, timeout=15_000) as loaded:
        player.load(clip, fps=25)
    assert loaded.args[0] == pytest.approx(2000, abs=100)
    assert player.player.isSeekable() and player.player.hasVideo() and player.player.hasAudio()
    with qtbot.waitSignal(player.position_changed, timeout=10_000,
                          check_params_cb=lambda ms: abs(ms - 1000) <= 40):
        player.seek(1000)
    assert player.scrub.value() == pytest.approx(1000, abs=40)
    assert player.time_label.text() == "0:01.0 / 0:02.0"
    with qtbot.waitSignal(player.position_changed, timeout=10_000,
                          check_params_cb=lambda ms: abs(ms - 1040) <= 20):
        player.step(1)  # one frame at 25 fps
    assert player.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState
    player.loop.setChecked(True)
    assert player.player.loops() == QMediaPlayer.Loops.Infinite
    player.volume.setValue(30)
    assert player.audio.volume() == pytest.approx(0.3, abs=0.01)


@pytest.fixture
def page(qtbot, context: StudioContext) -> VideoPage:  # type: ignore[no-untyped-def]
    widget = VideoPage(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 860)
    return widget


def test_previews_subtitles_and_export(qtbot, page: VideoPage, clip: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       context: StudioContext) -> None:
    qtbot.waitUntil(lambda: page.template.count() == 3, timeout=10_000)
    with qtbot.waitSignal(page.frame_shown, timeout=15_000):
        page.open_clip(clip)
    assert "640×360, 2.0 s, 25 fps, sound" in page.clip_label.text()
    reel = page.previews.previews["instagram-reel"]
    assert reel.frame is not None and reel.frame.width() == 640 and page.export_button.isEnabled()
    assert reel.width() / reel.height() == pytest.approx(9 / 16, abs=0.01)

    page.subtitles.set_cues([Cue(0.0, 1.5, "Hello from Lisbon"), Cue(1.5, 2.0, "Bye")])
    assert page.player.caption.text() == "Hello from Lisbon" and reel.caption == "Hello from Lisbon"
    page.subtitles.table.item(0, 2).setText("Edited line")
    assert page.player.caption.text() == "Edited line" and reel.caption == "Edited line"
    page.fit_choice.setCurrentIndex(1)
    page.focus_x.setValue(20)
    assert (reel.fit, reel.focus) == ("blur", (0.2, 0.5))

    dialog = page.open_export_dialog()
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(tmp_path / "exports"))
    dialog.preset.setCurrentIndex(dialog.preset.findData("tiktok"))
    dialog.loudness.setChecked(False)
    with qtbot.waitSignal(dialog.export_started, timeout=10_000) as started:
        dialog.export_button.click()
    job = context.studio.jobs.get(context.workspace_id, started.args[0])
    assert job.payload["cues"][0]["text"] == "Edited line" and job.payload["finish"]["fit"] == "blur"
    run_next_task(context.studio, "video")
    with qtbot.waitSignal(dialog.export_finished, timeout=15_000) as finished:
        pass
    exported = Path(finished.args[0])
    assert exported.parent == tmp_path / "exports" and dialog.show_button.isEnabled()
    info = probe(exported)
    assert info.video is not None and (info.video.width, info.video.height) == (1080, 1920)
    assert dialog.progress_bar.value() == 1000
    # The dialog heard it from the job hub, which now holds the finished job; it follows no more.
    snapshot = context.jobs.snapshot(started.args[0])
    assert snapshot is not None and snapshot.finished and dialog.follower.ids == []
    assert dialog.status.text().startswith(f"Saved {exported.name}")


def test_making_a_video_needs_an_image(page: VideoPage) -> None:
    page.make_button.click()
    assert page.make_status.text() == "Choose the image to animate first."


def test_the_image_to_animate_comes_from_the_gallery(qtbot, studio, context: StudioContext,  # type: ignore[no-untyped-def]
                                                     fake, mira) -> None:
    make_generated(studio, mira, [5, 6])
    page = VideoPage(context)
    qtbot.addWidget(page)
    qtbot.mouseClick(page.gallery_button, Qt.MouseButton.LeftButton)
    picker = page.gallery_picker
    qtbot.waitUntil(lambda: picker.model.rowCount() == 2, timeout=10_000)
    assert not picker.use_button.isEnabled()
    # What a list view does on focus-in: a current row, nothing chosen. Use stays off.
    picker.grid.selectionModel().setCurrentIndex(picker.model.index(0, 0),
                                                 QItemSelectionModel.SelectionFlag.NoUpdate)
    assert not picker.use_button.isEnabled()
    picker.select_position(0)
    newest = picker.model.row_at(0)
    with qtbot.waitSignal(picker.picked, timeout=10_000) as picked:
        qtbot.mouseClick(picker.use_button, Qt.MouseButton.LeftButton)
    path = picked.args[0]
    assert page.image_path.text() == str(path) and path.is_file()
    assert path.name == newest.name and not picker.isVisible()
