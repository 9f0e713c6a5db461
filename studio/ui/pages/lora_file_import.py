""""Import LoRA file…": a .safetensors LoRA made elsewhere into the library, read and copied in the
background; Generate offers it at once with the workflows of its family (the live state tells it)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from studio.engine.loras.family import FAMILY_TITLES
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background


@dataclass(frozen=True, slots=True)
class ImportedLora:
    name: str
    file_name: str
    family: str | None


def imported(context: StudioContext, path: Path) -> ImportedLora:
    from studio.engine.loras.importing import import_lora

    row = import_lora(context.studio, context.workspace_id, path)
    meta = row.meta or {}
    return ImportedLora(row.name, str(meta.get("file_name") or path.name), meta.get("family"))


def imported_text(lora: ImportedLora) -> str:
    if lora.family is None:
        return (f"Imported {lora.name} as {lora.file_name}; its file does not say which model it is "
                "for, so Generate offers it with every workflow.")
    family = FAMILY_TITLES.get(lora.family, lora.family)
    return f"Imported {lora.name} as {lora.file_name}; Generate offers it with {family} workflows."


def choose_and_import(parent: QWidget, context: StudioContext, show: Callable[[str], None]) -> None:
    """Asks for a file, then imports it in the background; ``show`` gets the outcome in one line."""
    path, _ = QFileDialog.getOpenFileName(parent, "Import a LoRA file", "",
                                          "LoRA files (*.safetensors);;All files (*)")
    if path:
        show(f"Importing {Path(path).name}…")
        run_in_background(lambda: imported(context, Path(path)), receiver=parent, lane="io",
                          on_done=lambda lora: show(imported_text(lora)),
                          on_error=lambda exc: show(one_line(exc)))
