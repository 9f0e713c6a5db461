"""LoRA hand-off: a LoRA the studio holds is placed in ComfyUI's loras folder when a job needs it.

Only possible when that folder is known (a supervised ComfyUI, or comfyui.loras_dir). ComfyUI has
no API to upload models: its server's upload routes (/upload/image, /upload/mask) write only into
its input, temp and output folders, /userdata only into the user's folder, and its model listing
(/experiment/models) only reads. So otherwise the user is told what to copy where, or, for a
ComfyUI on this machine, which setting names its folder. On the same disk the file is hard-linked
(no second copy of hundreds of MB); across disks it is copied so that it appears whole or not at all.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from studio.engine.comfyui.supervisor import comfy_url
from studio.engine.config import Settings
from studio.engine.db.models import LoraModel
from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_writer
from studio.engine.parts import StudioParts
from studio.engine.storage.local import LocalStore, sha256_file

CHUNK = 1024 * 1024


def loras_folder(settings: Settings) -> Path | None:
    if settings.comfyui.loras_dir:
        return Path(settings.comfyui.loras_dir).expanduser()
    if settings.comfyui.folder:
        return Path(settings.comfyui.folder).expanduser() / "models" / "loras"
    return None


def studio_lora(studio: StudioParts, workspace_id: uuid.UUID, lora_name: str) -> LoraModel | None:
    """The workspace's LoRA whose file is called ``lora_name`` (as ComfyUI would list it)."""
    with studio.db.session() as session:
        rows = session.scalars(select(LoraModel).where(LoraModel.workspace_id == workspace_id,
                                                       LoraModel.deleted_at.is_(None))).all()
    return next((r for r in rows if PurePosixPath(r.storage_key).name == lora_name), None)


def hand_off(studio: StudioParts, workspace_id: uuid.UUID, lora_name: str) -> Path | None:
    """Places the studio's LoRA called ``lora_name`` in ComfyUI's loras folder; None when the
    studio has no such LoRA. A same-content file already there is left as it is."""
    lora = studio_lora(studio, workspace_id, lora_name)
    if lora is None:
        return None
    source = LocalStore(studio.paths.assets_dir).path(lora.storage_key)
    if not source.is_file():
        raise InvalidInput(f"The LoRA '{lora_name}' is in the library but its file is missing: {source}.")
    folder = loras_folder(studio.settings)
    if folder is None:
        raise InvalidInput(_no_folder(studio.settings, lora_name, source))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / lora_name
    if _same_file(source, target):
        return target
    try:
        os.link(source, target)  # same disk: no copy of a file of hundreds of MB
    except OSError:
        with atomic_writer(target) as out, source.open("rb") as src:
            while chunk := src.read(CHUNK):
                out.write(chunk)
        stat = source.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return target


def place_for_job(studio: StudioParts, workspace_id: uuid.UUID, values: dict[str, object]) -> list[Path]:
    """At job time, on the machine that runs it: the studio's LoRAs the job names (lora_name, and
    a Wan low-noise expert's own lora_name_low) are put (back) in this machine's ComfyUI loras
    folder, so a retry, a later run or a worker beside another ComfyUI finds them. Nothing when
    this machine knows no such folder or a LoRA is not the studio's."""
    names = [str(values.get(key) or "") for key in ("lora_name", "lora_name_low")]
    if loras_folder(studio.settings) is None:
        return []
    return [path for name in names if name and (path := hand_off(studio, workspace_id, name))]


def _same_file(source: Path, target: Path) -> bool:
    """Already placed: the same file (a hard link), or a copy with the same content (a copy keeps
    the source's modification time, so an unchanged one is known without reading it)."""
    if not target.is_file():
        return False
    if os.path.samefile(source, target):
        return True
    mine, theirs = source.stat(), target.stat()
    if mine.st_size != theirs.st_size:
        return False
    return mine.st_mtime_ns == theirs.st_mtime_ns or sha256_file(target) == sha256_file(source)


def _no_folder(settings: Settings, lora_name: str, source: Path) -> str:
    """What to do when ComfyUI lacks the LoRA and the studio knows no loras folder to put it in."""
    from studio.engine.comfyui.job import is_local  # job.py places LoRAs through this module
    url = comfy_url(settings)
    if is_local(url):  # on this machine: its folder is simply not set
        return (f"ComfyUI at {url} does not have the LoRA '{lora_name}' and the studio does not know "
                f"its folder: set comfyui.folder (the ComfyUI checkout) or comfyui.loras_dir (its "
                f"models/loras), or copy {source} there.")
    return (f"ComfyUI does not have the LoRA '{lora_name}' and runs elsewhere ({url}): copy "
            f"{source} into its models/loras folder, or set comfyui.loras_dir.")
