"""A widget built over several event-loop turns instead of in one long step.

A page with many parts took 20–40 ms of the UI thread to build in one go: two or three frames
at 60 Hz in which nothing moves. ``StagedBuild`` runs one part a turn, so that the events in
between (painting, a timer, input) are handled after each; what the first screen needs is built
before, by the widget's constructor. ``finish`` builds what is left at once, for code that needs
a part before its turn came; ``StagedWidget`` does that by itself when such a part is asked for.
"""
from __future__ import annotations

import inspect
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from studio.ui.timers import single_shot_timer


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    build: Callable[[], None]


class StagedBuild(QObject):
    """Runs ``stages`` in order, one per event-loop turn, from the turn after it is made."""

    built = Signal()  # every stage has run

    def __init__(self, parent: QObject, stages: Sequence[Stage]) -> None:
        super().__init__(parent)
        self._left = deque(stages)
        self.took_ms: dict[str, float] = {}  # each stage's time on the UI thread, for bench/grid.py
        # A zero timer fires once the events already queued (a paint, the meter's tick) are handled.
        self._timer = single_shot_timer(self, interval_ms=0)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    @property
    def done(self) -> bool:
        return not self._left

    def finish(self) -> None:
        """Builds every stage still waiting, now."""
        self._timer.stop()
        while self._left:
            self._run_next()

    def _on_timer_timeout(self) -> None:
        if self._left:
            self._run_next()
        if self._left:
            self._timer.start()

    def _run_next(self) -> None:
        stage = self._left.popleft()  # first: a stage that asks for a later part finishes the rest
        began = time.perf_counter()
        stage.build()
        self.took_ms[stage.name] = (time.perf_counter() - began) * 1000
        if not self._left:
            self.built.emit()


class StagedWidget(QWidget):
    """A widget whose later parts are built by its stages. A subclass declares them in its class
    body without a value (``pane: ImagePane``); one of them asked for before its turn (by a test,
    or a signal that came early) builds every stage left at once."""

    LATE_PARTS: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = inspect.get_annotations(cls)  # its own, not its bases
        cls.LATE_PARTS = frozenset(name for name in declared if name not in cls.__dict__)

    def start_stages(self, stages: Sequence[Stage]) -> None:
        self.stages = StagedBuild(self, stages)

    def finish_build(self) -> None:
        """Builds the parts still waiting for their turn, now."""
        self.stages.finish()

    if not TYPE_CHECKING:  # mypy keeps checking attribute names: subclasses declare their parts
        def __getattr__(self, name: str) -> Any:
            stages = self.__dict__.get("stages")
            if name in self.LATE_PARTS and stages is not None and not stages.done:
                stages.finish()
                return super().__getattribute__(name)
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
