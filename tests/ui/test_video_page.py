"""The Video page with real clips: the player loads and seeks, previews frame it for each
platform, subtitles show live, the export dialog runs a real export job."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QFileDialog

from studio.engine.media.i2v import video_templates
from studio.engine.media.probe import probe
from studio.engine.media.subtitles import Cue
from studio.ui.context import StudioContext
from studio.ui.pages.video import VideoPage
from studio.ui.widgets.video_player import VideoPlayer
from studio.ui.widgets.video_subtitles import SHORTEST_S, line_span
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
    qtbot.waitUntil(lambda: page.template.count() == len(video_templates()), timeout=10_000)
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
    dialog.choose(["tiktok"])
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


def test_a_loaded_clip_shows_its_first_frame_paused(qtbot, clip: Path) -> None:  # type: ignore[no-untyped-def]
    player = VideoPlayer()
    qtbot.addWidget(player)
    player.show()
    player.load(clip, fps=25)
    sink = player.video.videoSink()
    qtbot.waitUntil(lambda: sink.videoFrame().isValid(), timeout=15_000)
    assert player.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    assert player.player.position() < 100 and sink.videoFrame().width() == 640


def test_space_plays_and_pauses_and_never_opens_a_file_dialog(qtbot, monkeypatch, page: VideoPage,  # type: ignore[no-untyped-def]
                                                              clip: Path) -> None:
    def no_dialog(*_args: object) -> tuple[str, str]:
        raise AssertionError("Space opened a file dialog")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", no_dialog)
    page.show()
    page.activateWindow()
    qtbot.waitActive(page)
    with qtbot.waitSignal(page.player.media_loaded, timeout=15_000):
        page.open_clip(clip)
    state = page.player.player.playbackState
    qtbot.waitUntil(lambda: state() == QMediaPlayer.PlaybackState.PausedState, timeout=10_000)
    page.open_button.setFocus()
    assert page.open_button.hasFocus()
    qtbot.keyClick(page.open_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state() == QMediaPlayer.PlaybackState.PlayingState, timeout=5_000)
    qtbot.keyClick(page.open_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state() == QMediaPlayer.PlaybackState.PausedState, timeout=5_000)
    # A click on the button does not keep the focus there: Space stays with the player.
    assert page.open_button.focusPolicy() == Qt.FocusPolicy.TabFocus
    # In a text field Space types a space; the clip stays paused.
    page.make_box.prompt.setFocus()
    qtbot.keyClicks(page.make_box.prompt, "slow pan")
    assert page.make_box.prompt.text() == "slow pan"
    assert state() == QMediaPlayer.PlaybackState.PausedState


def test_a_subtitle_line_is_added_at_the_playhead_and_ends_with_the_clip(qtbot, page: VideoPage,  # type: ignore[no-untyped-def]
                                                                         clip: Path) -> None:
    with qtbot.waitSignal(page.player.media_loaded, timeout=15_000):
        page.open_clip(clip)
    with qtbot.waitSignal(page.player.position_changed, timeout=10_000,
                          check_params_cb=lambda ms: abs(ms - 500) <= 40):
        page.player.seek(500)
    page.subtitles.add_line()
    [middle] = page.subtitles.cues()
    assert middle.start_s == pytest.approx(0.5, abs=0.05) and middle.end_s == pytest.approx(2.0, abs=0.05)
    with qtbot.waitSignal(page.player.position_changed, timeout=10_000,
                          check_params_cb=lambda ms: ms >= 1900):
        page.player.seek(1980)
    page.subtitles.add_line()
    cues = page.subtitles.cues()
    duration = page.info.duration_s
    assert len(cues) == 2 and all(cue.end_s <= duration for cue in cues)
    assert cues[1].start_s == pytest.approx(duration - SHORTEST_S, abs=0.05)
    assert page.subtitles.table.currentRow() == 1  # the new line is selected, ready to type


def test_line_span_clamps_into_the_clip() -> None:
    assert line_span(1.0, 10.0) == (1.0, 3.0)
    assert line_span(9.9, 10.0) == (9.5, 10.0)
    assert line_span(-3.0, 10.0) == (0.0, 2.0)
    assert line_span(4.0, 0.0) == (4.0, 6.0)  # length unknown: nothing to clamp to
    assert line_span(0.2, 0.3) == (0.0, 0.3)  # a clip shorter than a line


def test_one_export_for_several_platforms_with_one_progress(qtbot, page: VideoPage, ffmpeg: str,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path,
                                                            context: StudioContext) -> None:
    short = make_clip(ffmpeg, tmp_path / "short.mp4", size="320x240", seconds=1.0)
    with qtbot.waitSignal(page.frame_shown, timeout=15_000):
        page.open_clip(short)
    dialog = page.open_export_dialog()
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(tmp_path / "out"))
    dialog.choose(["tiktok", "youtube-16x9", "instagram-feed-1x1"])
    dialog.loudness.setChecked(False)
    with qtbot.waitSignals([dialog.export_started] * 3, timeout=10_000):
        dialog.export_button.click()
    assert not dialog.export_button.isEnabled()
    for _ in range(3):
        run_next_task(context.studio, "video")
    with qtbot.waitSignal(dialog.all_finished, timeout=30_000) as finished:
        pass
    sizes = {path.name: (probe(path).video.width, probe(path).video.height)  # type: ignore[union-attr]
             for path in finished.args[0]}
    assert sizes == {"short-tiktok.mp4": (1080, 1920), "short-youtube-16x9.mp4": (1920, 1080),
                     "short-instagram-feed-1x1.mp4": (1080, 1080)}
    assert all(path.parent == tmp_path / "out" for path in finished.args[0])
    assert dialog.progress_bar.value() == 1000 and dialog.export_button.isEnabled()
    assert dialog.status.text().startswith("Saved 3 files: ")


def test_no_platform_chosen_exports_nothing(qtbot, page: VideoPage, clip: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(page.frame_shown, timeout=15_000):
        page.open_clip(clip)
    dialog = page.open_export_dialog()
    qtbot.addWidget(dialog)
    dialog.choose([])
    assert not dialog.export_button.isEnabled()
    dialog.choose(["youtube-shorts"])
    assert dialog.export_button.isEnabled() and dialog.chosen_presets() == ["youtube-shorts"]
