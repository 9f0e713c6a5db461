"""Every keyboard shortcut of the studio, in one table that the wiring and Help → Keyboard
shortcuts both read, so what the dialog lists is what the keys do.

A view binds an action by its name (``bind(self, "video.play-pause", self.toggle)``); the keys,
and where they apply, come from the table. Scoped shortcuts use Qt's
WidgetWithChildrenShortcut context: they work while the focus is inside the widget they are
bound to (a page, the gallery), so the same key can mean one thing per page.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

# The sidebar's pages in order; tests check this against the main window's PAGES.
PAGE_TITLES = ("Influencers", "Datasets", "Training", "Generate", "Video", "Queue", "Plans",
               "Settings")


@dataclass(frozen=True, slots=True)
class Shortcut:
    action: str  # the name views bind by
    keys: tuple[str, ...]  # portable key text; the first is the one named in menus
    where: str  # where it applies, as the user sees it
    description: str

    def sequences(self) -> list[QKeySequence]:
        return [QKeySequence(key) for key in self.keys]

    def label(self) -> str:
        native = QKeySequence.SequenceFormat.NativeText
        return " or ".join(dict.fromkeys(s.toString(native) for s in self.sequences()))


def _pages() -> tuple[Shortcut, ...]:
    return tuple(Shortcut(f"window.page-{number}", (f"Ctrl+{number}",), "Everywhere",
                          f"Show the {title} page")
                 for number, title in enumerate(PAGE_TITLES, start=1))


def _ratings() -> tuple[Shortcut, ...]:
    return tuple(Shortcut(f"gallery.rate-{stars}", (str(stars),), "Gallery",
                          f"Rate the selected pictures {stars} star{'s' if stars > 1 else ''}")
                 for stars in range(1, 6))


SHORTCUTS: tuple[Shortcut, ...] = (
    *_pages(),
    Shortcut("video.play-pause", ("Space",), "Video",
             "Play or pause the clip (a text field being typed in keeps its spaces)"),
    Shortcut("generate.queue", ("Ctrl+Return", "Ctrl+Enter"), "Generate",
             "Queue the pictures, as the Generate button does"),
    *_ratings(),
    Shortcut("gallery.rate-clear", ("0",), "Gallery", "Clear the rating of the selected pictures"),
    Shortcut("gallery.trash", ("Delete",), "Gallery",
             "Move the selected pictures to the trash (Undo brings them back)"),
    Shortcut("datasets.next", ("Ctrl+Return", "Ctrl+Enter", "PgDown"), "Datasets", "Next picture"),
    Shortcut("datasets.previous", ("PgUp",), "Datasets", "Previous picture"),
    Shortcut("datasets.next-uncaptioned", ("Ctrl+J",), "Datasets", "Next picture without a caption"),
    Shortcut("datasets.trash", ("Delete",), "Datasets",
             "Move the selected pictures to the trash (Undo brings them back)"),
    Shortcut("datasets.exclude", ("X",), "Datasets",
             "Exclude the selected pictures, or bring them back when all are excluded (undoable)"),
)
BY_ACTION: dict[str, Shortcut] = {shortcut.action: shortcut for shortcut in SHORTCUTS}


def bind(widget: QWidget, action: str, slot: Callable[[], object], *,
         context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut) -> QShortcut:
    """A QShortcut on ``widget`` for the table's ``action``; a name not in the table is a bug."""
    entry = BY_ACTION[action]
    shortcut = QShortcut(widget)
    shortcut.setObjectName(f"shortcut-{action}")
    shortcut.setKeys(entry.sequences())
    shortcut.setContext(context)
    shortcut.activated.connect(slot)
    return shortcut


def bind_pages(window: QWidget, show_row: Callable[[int], None]) -> list[QShortcut]:
    """Ctrl+1 … Ctrl+8 anywhere in the window show the sidebar's pages in order."""
    return [bind(window, f"window.page-{row + 1}", partial(show_row, row),
                 context=Qt.ShortcutContext.WindowShortcut) for row in range(len(PAGE_TITLES))]
