"""What the user last had open survives a restart; a damaged state file is ignored, logged."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.ui_state import STATE_FILE, UiState


def test_remembered_values_survive_a_restart(qtbot, studio: Studio) -> None:
    first = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
    first.remember("training/form", {"base_model": "sd15.safetensors", "network_dim": 16})
    first.remember("datasets/last", "abc")
    assert first.recall("datasets/last") == "abc"  # at once, from memory
    first.stop()  # the app closes: what is pending is written
    path = studio.paths.data_dir / STATE_FILE
    assert json.loads(path.read_text())["datasets/last"] == "abc"

    again = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
    assert again.recall("training/form") == {"base_model": "sd15.safetensors", "network_dim": 16}
    assert again.recall("nothing here", 7) == 7
    again.stop()


def test_a_change_is_written_after_a_pause_off_the_ui_thread(qtbot, tmp_path: Path) -> None:
    state = UiState(tmp_path / STATE_FILE)
    state.remember("generate/prompt", "a")
    state.remember("generate/prompt", "ab")  # typing: one write for both
    assert not (tmp_path / STATE_FILE).exists() and state.pending()
    qtbot.waitUntil(lambda: not state.pending(), timeout=5000)
    assert json.loads((tmp_path / STATE_FILE).read_text()) == {"generate/prompt": "ab"}
    state.remember("generate/prompt", None)  # forgotten
    state.flush()
    assert json.loads((tmp_path / STATE_FILE).read_text()) == {}


def test_recall_hands_out_a_copy(qtbot, tmp_path: Path) -> None:
    state = UiState(tmp_path / STATE_FILE)
    state.remember("training/form", {"steps": 10})
    state.recall("training/form")["steps"] = 99
    assert state.recall("training/form") == {"steps": 10}
    with pytest.raises(TypeError):
        state.remember("bad", object())  # JSON could not hold it: refused here, not at the write


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_damaged_state_file_is_ignored_with_a_log_line(qtbot, caplog, tmp_path: Path, text: str) -> None:
    (tmp_path / STATE_FILE).write_text(text)
    with caplog.at_level(logging.WARNING, logger="studio.ui.ui_state"):
        state = UiState(tmp_path / STATE_FILE)
    assert state.recall("influencers/last/x") is None
    assert len(caplog.records) == 1 and "starting fresh" in caplog.records[0].getMessage()
    state.remember("influencers/last/x", "y")
    state.flush()  # the damaged file is replaced by a good one
    assert json.loads((tmp_path / STATE_FILE).read_text()) == {"influencers/last/x": "y"}
