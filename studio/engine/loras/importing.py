"""Importing a LoRA file made elsewhere (CivitAI, another trainer) into the studio's library.

The header is read without torch and must describe the whole file; the family comes from its
metadata. The file is copied into the studio's storage (``loras/<workspace>/``) so that it
appears whole or not at all, under its own name, or a numbered one when another LoRA already
has that name (ComfyUI lists LoRAs by file name). The same file imported twice is one LoRA.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.loras.family import family_of
from studio.engine.loras.safetensors import SUFFIX, read_header
from studio.engine.parts import StudioParts
from studio.engine.storage.local import LocalStore, sha256_file

SHOWN_PREFIXES = ("ss_", "sshs_", "modelspec.")
MAX_SHOWN = 2000  # characters per value: ss_tag_frequency and the like can be huge


def import_lora(studio: StudioParts, workspace_id: uuid.UUID, source: Path, *,
                influencer_id: uuid.UUID | None = None) -> LoraModel:
    """Copies ``source`` into the library and records it with its metadata and family."""
    header = read_header(source)
    digest = sha256_file(source)
    with studio.db.session() as session:  # trashed ones too: their files keep their names
        rows = session.scalars(select(LoraModel).where(LoraModel.workspace_id == workspace_id)).all()
    same = next((r for r in rows if r.deleted_at is None and (r.meta or {}).get("sha256") == digest), None)
    if same is not None:
        return same
    store = LocalStore(studio.paths.assets_dir)
    key = _free_key(workspace_id, source.name, {r.storage_key for r in rows}, store)
    stored = store.put_file(source, key)
    metadata = {k: v[:MAX_SHOWN] for k, v in header.metadata.items() if k.startswith(SHOWN_PREFIXES)}
    meta: dict[str, Any] = {
        "kind": "imported", "final": True, "imported_from": str(source), "file_name": key.rsplit("/", 1)[-1],
        "family": family_of(header.metadata, header.shapes), "size_bytes": stored.size_bytes, "sha256": stored.sha256,
        "tensors": header.tensors, "ss_metadata": metadata}
    name = header.metadata.get("modelspec.title") or header.metadata.get("ss_output_name") or source.stem
    with studio.db.session() as session:
        return Repository(session, workspace_id).add(LoraModel(
            name=name[:200], storage_key=key, influencer_id=influencer_id, meta=meta,
            base_model=header.metadata.get("ss_sd_model_name", "")[:200]))


def _free_key(workspace_id: uuid.UUID, name: str, taken: set[str], store: LocalStore) -> str:
    stem = name[: -len(SUFFIX)].replace("\\", "_")
    key, number = f"loras/{workspace_id}/{stem}{SUFFIX}", 1
    while key in taken or store.exists(key):
        number += 1
        key = f"loras/{workspace_id}/{stem}-{number}{SUFFIX}"
    return key
