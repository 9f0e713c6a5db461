"""sd-scripts' saved training states (``--save_state``): which one a resume starts from.

States are folders beside the checkpoints: ``<name>-step00000500-state``,
``<name>-000003-state`` and, at the end, ``<name>-state``; each holds ``train_state.json``
with ``current_step``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "train_state.json"


@dataclass(frozen=True, slots=True)
class SavedState:
    path: Path
    step: int
    epoch: int | None


def saved_states(output_dir: Path, output_name: str) -> list[SavedState]:
    """Every readable state of this training, oldest step first."""
    if not output_dir.is_dir():
        return []
    found = []
    for folder in output_dir.glob(f"{output_name}*-state"):
        state = _read(folder)
        if state is not None:
            found.append(state)
    return sorted(found, key=lambda s: (s.step, s.path.name))


def latest_state(output_dir: Path, output_name: str) -> SavedState | None:
    states = saved_states(output_dir, output_name)
    return states[-1] if states else None


def _read(folder: Path) -> SavedState | None:
    try:
        data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        step = int(data["current_step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half-written (the trainer died while saving): not a state to resume from
    epoch = data.get("current_epoch")
    return SavedState(path=folder, step=step, epoch=int(epoch) if isinstance(epoch, int) else None)
