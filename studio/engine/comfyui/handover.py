"""Who owns the supervised ComfyUI: a small record in the data folder's run directory.

Whoever starts the local ComfyUI owns it and stops it. A command-line verb that started one
hands it over to the data folder's worker when that runs (the worker then stops it when it
stops), and stops it itself otherwise. The record says which process runs ComfyUI and which
process stops it, each with its start time so a reused pid is not mistaken for either. A
ComfyUI whose owner has gone (killed, crashed) is taken over by the next studio process that
finds it, so none is left running for ever.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studio.engine.comfyui.processes import ProcessStamp
from studio.engine.fsutil import atomic_write_text

RECORD_FILE = "comfyui.json"


@dataclass(frozen=True, slots=True)
class ComfyRecord:
    comfyui: ProcessStamp  # the ComfyUI process, leader of a process group of its own
    owner: ProcessStamp  # the process that stops it: its starter, or the one it was handed to
    url: str
    folder: str
    started_at: str  # ISO time, for people reading the file

    def claimable_by(self, me: ProcessStamp) -> bool:
        """True when ComfyUI still runs and its owner is ``me`` or is gone."""
        return self.comfyui.alive() and (self.owner == me or not self.owner.alive())


def record_path(run_dir: Path) -> Path:
    return run_dir / RECORD_FILE


def read_record(run_dir: Path) -> ComfyRecord | None:
    """The record, or None when there is none or it cannot be read (a half-written one is not)."""
    try:
        raw = json.loads(record_path(run_dir).read_text(encoding="utf-8"))
        return ComfyRecord(comfyui=_stamp(raw["comfyui"]), owner=_stamp(raw["owner"]),
                           url=str(raw["url"]), folder=str(raw["folder"]),
                           started_at=str(raw["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(run_dir: Path, record: ComfyRecord) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(record_path(run_dir), json.dumps({
        "comfyui": _raw(record.comfyui), "owner": _raw(record.owner), "url": record.url,
        "folder": record.folder, "started_at": record.started_at}, indent=2) + "\n")


def clear_record(run_dir: Path, comfyui_pid: int) -> None:
    """Removes the record when it names this ComfyUI (another one's record is left alone)."""
    record = read_record(run_dir)
    if record is None or record.comfyui.pid == comfyui_pid:
        record_path(run_dir).unlink(missing_ok=True)


def _stamp(raw: dict[str, object]) -> ProcessStamp:
    started = raw.get("started")
    return ProcessStamp(int(str(raw["pid"])), None if started is None else str(started))


def _raw(stamp: ProcessStamp) -> dict[str, object]:
    return {"pid": stamp.pid, "started": stamp.started}
