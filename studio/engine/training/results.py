"""Saved checkpoints as LoraModel rows, and reading a LoRA file's ss_* metadata back.

A .safetensors file starts with an 8-byte little-endian header length and a JSON header whose
``__metadata__`` holds string values (sd-scripts' ``ss_*``); a file is complete when its size
is the header plus the end of the last tensor's data. sd-scripts announces a checkpoint before
it writes it, so only complete files are taken.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from studio.engine.db.database import Database
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.loras.family import family_of
from studio.engine.loras.safetensors import read_raw_header
from studio.engine.storage.local import LocalStore

SHOWN_KEYS = ("ss_output_name", "ss_network_module", "ss_network_dim", "ss_network_alpha",
              "ss_base_model_version", "ss_learning_rate", "ss_unet_lr", "ss_num_train_images",
              "ss_num_epochs", "ss_max_train_steps", "ss_seed", "ss_training_started_at",
              "ss_training_finished_at", "ss_steps", "ss_epoch", "ss_mixed_precision",
              "ss_optimizer", "sshs_model_hash", "ss_sd_model_name", "modelspec.architecture",
              "modelspec.title", "modelspec.resolution")
_STEP = re.compile(r"-step(\d{8})$")
_EPOCH = re.compile(r"-(\d{6})$")


@dataclass(frozen=True, slots=True)
class LoraFile:
    metadata: dict[str, str]
    tensors: int
    complete: bool


def read_lora_file(path: Path) -> LoraFile:
    """The header of a .safetensors file; ``complete`` is False while it is still being written."""
    raw = read_raw_header(path)
    if raw is None:
        return LoraFile({}, 0, False)
    return LoraFile(metadata=raw.metadata, tensors=len(raw.tensors), complete=raw.size_bytes >= raw.data_end)


def checkpoint_kind(path: Path, output_name: str) -> tuple[str, int | None]:
    """("final", None), ("step", 500) or ("epoch", 3) from sd-scripts' file names."""
    stem = path.name.removesuffix(".safetensors")
    if stem == output_name:
        return "final", None
    rest = stem[len(output_name):] if stem.startswith(output_name) else stem
    if found := _STEP.search(rest):
        return "step", int(found.group(1))
    if found := _EPOCH.search(rest):
        return "epoch", int(found.group(1))
    return "other", None


@dataclass(frozen=True, slots=True)
class TrainingRef:
    """What a checkpoint row records about the training it came from."""

    workspace_id: uuid.UUID
    job_id: uuid.UUID
    influencer_id: uuid.UUID | None
    output_name: str
    base_model: str
    config: dict[str, Any]
    dataset_id: str
    dataset_version: str
    preset: str


def register_checkpoint(db: Database, store: LocalStore, ref: TrainingRef, path: Path) -> LoraModel | None:
    """Copies a complete checkpoint into ``loras/<workspace>/`` and records it (once; the same
    file seen again after a resume updates its row). None while the file is incomplete."""
    info = read_lora_file(path)
    if not info.complete:
        return None
    kind, number = checkpoint_kind(path, ref.output_name)
    key = f"loras/{ref.workspace_id}/{path.name}"
    stored = store.put_file(path, key)
    meta = {"kind": kind, "final": kind == "final",
            "step": _int(info.metadata.get("ss_steps")) or (number if kind == "step" else None),
            "epoch": _epoch(kind, number, info.metadata.get("ss_epoch")),
            "size_bytes": stored.size_bytes, "sha256": stored.sha256, "file_name": path.name,
            "output_name": ref.output_name, "preset": ref.preset, "config": ref.config,
            "dataset_id": ref.dataset_id, "dataset_version": ref.dataset_version,
            "ss_metadata": {k: info.metadata[k] for k in SHOWN_KEYS if k in info.metadata},
            "family": ref.config.get("family") or family_of(info.metadata) or "sd15"}  # the preset's own first
    with db.session() as session:
        repo = Repository(session, ref.workspace_id)
        row = repo.find(LoraModel, storage_key=key)
        if row is None:
            return repo.add(LoraModel(name=_label(ref.output_name, meta), storage_key=key,
                                      base_model=ref.base_model, training_job_id=ref.job_id,
                                      influencer_id=ref.influencer_id, meta=meta))
        keep = {k: row.meta[k] for k in ("active", "identity") if k in (row.meta or {})}
        return repo.update(row, meta={**meta, **keep}, training_job_id=ref.job_id)


def checkpoints_of(db: Database, workspace_id: uuid.UUID, *, job_id: uuid.UUID | None = None,
                   influencer_id: uuid.UUID | None = None) -> Sequence[LoraModel]:
    """A training's (or an influencer's) LoRAs, in training order (steps, then the final)."""
    with db.session() as session:
        query = select(LoraModel).where(LoraModel.workspace_id == workspace_id,
                                        LoraModel.deleted_at.is_(None))
        if job_id is not None:
            query = query.where(LoraModel.training_job_id == job_id)
        if influencer_id is not None:
            query = query.where(LoraModel.influencer_id == influencer_id)
        rows = session.scalars(query).all()
    return sorted(rows, key=_order)


def set_active(db: Database, workspace_id: uuid.UUID, lora_id: uuid.UUID | str) -> LoraModel:
    """Marks a LoRA as its influencer's active one; the previous active one is unmarked."""
    with db.session() as session:
        repo = Repository(session, workspace_id)
        chosen = repo.get(LoraModel, lora_id)
        if chosen.influencer_id is None:
            raise InvalidInput(f"The LoRA '{chosen.name}' belongs to no influencer.")
        for row in repo.list(LoraModel, influencer_id=chosen.influencer_id):
            if row.id != chosen.id and (row.meta or {}).get("active"):
                repo.update(row, meta={**row.meta, "active": False})
        return repo.update(chosen, meta={**(chosen.meta or {}), "active": True})


def active_lora(db: Database, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> LoraModel | None:
    with db.session() as session:
        rows = Repository(session, workspace_id).list(LoraModel, influencer_id=influencer_id)
        return next((r for r in rows if (r.meta or {}).get("active")), None)


def _order(row: LoraModel) -> tuple[int, int, str]:
    meta = row.meta or {}
    return (1 if meta.get("final") else 0, int(meta.get("step") or 0), row.name)


def _label(output_name: str, meta: dict[str, Any]) -> str:
    if meta["kind"] == "final":
        return f"{output_name} (final, step {meta['step']})" if meta.get("step") else f"{output_name} (final)"
    if meta["kind"] == "epoch":
        return f"{output_name} epoch {meta['epoch']}"
    return f"{output_name} step {meta['step']}"


def _epoch(kind: str, number: int | None, ss_epoch: str | None) -> int | None:
    """The epoch counted from 1. sd-scripts writes the running epoch's 0-based index into a step
    checkpoint's ss_epoch (0 in the first epoch), and the 1-based epoch into epoch and final ones."""
    recorded = _int(ss_epoch)
    if kind == "step":
        return recorded + 1 if recorded is not None else None
    return recorded or (number if kind == "epoch" else None)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
