"""A widget built over several event-loop turns: stages in order, one a turn, or all at once."""
from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from studio.ui.staged import Stage, StagedBuild, StagedWidget


def recording_stages(ran: list[str], names: tuple[str, ...]) -> list[Stage]:
    return [Stage(name, partial(ran.append, name)) for name in names]


def test_stages_run_in_order_on_later_turns_and_say_when_built(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    ran: list[str] = []
    build = StagedBuild(owner, recording_stages(ran, ("grid", "filters", "side")))
    assert ran == [] and not build.done  # nothing in the step that made it
    with qtbot.waitSignal(build.built, timeout=2000):
        pass
    assert ran == ["grid", "filters", "side"]
    assert build.done and set(build.took_ms) == {"grid", "filters", "side"}


def test_finish_runs_what_is_left_at_once_and_nothing_twice(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    ran: list[str] = []
    build = StagedBuild(owner, recording_stages(ran, ("a", "b", "c")))
    built: list[bool] = []
    build.built.connect(lambda: built.append(True))
    build.finish()
    assert ran == ["a", "b", "c"] and built == [True]
    qtbot.wait(20)  # the turns that would have run them
    assert ran == ["a", "b", "c"] and built == [True]


class Toy(StagedWidget):
    label: QLabel  # a late part: declared without a value
    kind = "toy"  # a class value, not a part

    def __init__(self, ran: list[str]) -> None:
        super().__init__()
        self.ran = ran
        self.start_stages([Stage("label", self._build_label)])

    def _build_label(self) -> None:
        self.ran.append("label")
        self.label = QLabel("built", self)


def test_a_late_part_asked_for_early_is_built_at_once(qtbot: QtBot) -> None:
    ran: list[str] = []
    toy = Toy(ran)
    qtbot.addWidget(toy)
    assert set(Toy.LATE_PARTS) == {"label"}
    assert toy.label.text() == "built" and ran == ["label"] and toy.stages.done
    qtbot.wait(20)
    assert ran == ["label"]  # its turn does not build it again


def test_an_unknown_attribute_still_fails_and_builds_nothing(qtbot: QtBot) -> None:
    ran: list[str] = []
    toy = Toy(ran)
    qtbot.addWidget(toy)
    assert not hasattr(toy, "no_such_part")
    assert ran == [] and not toy.stages.done
