"""Video jobs on the "video" queue (one at a time): "export-video" and "generate-video".

``submit_export`` checks everything a user can get wrong (files, preset, subtitles, where the
copy goes) before a job exists, and brings clips, pictures, subtitles and soundtracks from
outside the studio into its asset store, so the payload names them by key. The job renders straight into the asset store
(``videos/<workspace>/<job>/<name>.mp4``), records the probe of the result on the Asset, and
copies the file to the folder the user picked. Generating (image to video through ComfyUI)
lives in ``studio.engine.media.i2v``; its handler is registered here with the export's.
"""
from __future__ import annotations

import math
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from studio.engine.core import Studio
from studio.engine.db.models import Asset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_writer
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.inputs import import_input, studio_origin
from studio.engine.jobs.payloads import LOCAL_ONLY, AssetKey, result_of
from studio.engine.jobs.registry import job_type
from studio.engine.media.export import VIDEO_SUFFIXES, ExportResult, export_video
from studio.engine.media.finishing import Finish, timing_for
from studio.engine.media.frames import cover_frame
from studio.engine.media.i2v import GENERATE_JOB, VideoPayload, VideoResult, run_video_generation
from studio.engine.media.partials import sweep_tree
from studio.engine.media.presets import ExportPreset, find_preset, user_presets_dir
from studio.engine.media.probe import probe
from studio.engine.media.subtitles import Cue, read_srt, write_srt
from studio.engine.storage.local import LocalStore, sha256_file

EXPORT_JOB = "export-video"
_UNSAFE = re.compile(r"[^\w.() ,'+-]", re.UNICODE)
_RENDER_SHARE = 0.95  # the cover frame, the copy and the records take the rest


@dataclass(frozen=True, slots=True)
class ExportRequest:
    inputs: list[Path]  # clips or images, joined in this order
    preset: str  # slug, see `video presets`
    finish: Finish = field(default_factory=Finish)
    export_to: Path | None = None  # a folder, or a file ending in .mp4; None keeps it in the studio
    cues: list[Cue] | None = None  # subtitles edited in the app (instead of finish.subtitles)
    cover_at_s: float | None = None  # a JPEG cover frame taken at this time
    influencer_id: uuid.UUID | None = None
    name: str = ""  # the file's name; default "<first input>-<preset>.mp4"
    extra: dict[str, Any] = field(default_factory=dict)  # recorded on the Asset as it is


@dataclass(frozen=True, slots=True)
class ExportPayload:
    inputs: tuple[AssetKey, ...]
    preset: str
    name: str
    finish: Finish = field(default_factory=Finish)  # its subtitles and soundtrack: the keys below
    subtitles: AssetKey | None = None
    soundtrack: AssetKey | None = None
    cues: tuple[Cue, ...] | None = None
    cover_at_s: float | None = None
    export_to: Path | None = field(default=None, metadata=LOCAL_ONLY)  # the user's copy, a path
    origin: str = ""  # the submitting studio (studio_origin): export_to is its path
    influencer_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    assets: tuple[uuid.UUID, ...]
    output: AssetKey  # the video in the studio
    exported_to: Path | None  # the user's copy, when this machine wrote it
    deliver_to: Path | None  # the user's copy, for the submitting studio to write (team mode)
    notes: tuple[str, ...]
    duration_s: float


def submit_export(studio: Studio, workspace_id: uuid.UUID, request: ExportRequest) -> Job:
    preset = find_preset(request.preset, user_presets_dir(studio.paths.data_dir))
    inputs = [Path(p).expanduser().absolute() for p in request.inputs]
    if not inputs:
        raise InvalidInput("Nothing to export: give at least one clip or image.")
    for path in inputs:
        if probe(path).video is None:  # also says plainly when it is missing or not media
            raise InvalidInput(f"{path.name} has no picture to export.")
    if request.cues is not None and request.finish.subtitles is not None:
        raise InvalidInput("Give subtitles as a file or as edited lines, not both.")
    finish = _checked_finish(request.finish)
    _check_cover(request.cover_at_s, inputs, preset, finish)
    name = output_name(request.name or f"{inputs[0].stem}-{preset.slug}.mp4")
    export_to = _export_target(request.export_to, name, inputs)

    def key(path: Path | None) -> AssetKey | None:
        return None if path is None else import_input(studio.paths.assets_dir, workspace_id, path)

    payload = ExportPayload(
        inputs=tuple(import_input(studio.paths.assets_dir, workspace_id, p) for p in inputs),
        preset=preset.slug, name=name, finish=replace(finish, subtitles=None, soundtrack=None),
        subtitles=key(finish.subtitles), soundtrack=key(finish.soundtrack),
        cues=tuple(request.cues) if request.cues is not None else None,
        cover_at_s=request.cover_at_s, export_to=export_to, origin=studio_origin(studio.paths),
        influencer_id=request.influencer_id, extra=request.extra)
    return studio.jobs.submit(workspace_id, EXPORT_JOB, payload,
                              title=f"Export {name} for {preset.title}")


def output_name(name: str) -> str:
    """A plain file name ending in .mp4 (no folders; characters every file system takes)."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .") or "video"
    return base if Path(base).suffix.lower() in VIDEO_SUFFIXES else f"{base}.mp4"


def finish_to_payload(finish: Finish) -> dict[str, Any]:
    data = asdict(finish)
    for key in ("subtitles", "soundtrack"):
        data[key] = str(data[key]) if data[key] is not None else None
    data["focus"] = list(finish.focus)
    return data


def _checked_finish(finish: Finish) -> Finish:
    """Files named by the finish as absolute paths, each checked now."""
    changes: dict[str, Any] = {}
    if finish.subtitles is not None:
        path = Path(finish.subtitles).expanduser().absolute()
        read_srt(path)
        changes["subtitles"] = path
    if finish.soundtrack is not None:
        path = Path(finish.soundtrack).expanduser().absolute()
        if probe(path).audio is None:
            raise InvalidInput(f"{path.name} has no sound to use as the soundtrack.")
        changes["soundtrack"] = path
    return replace(finish, **changes)


def _check_cover(at_s: float | None, inputs: list[Path], preset: ExportPreset, finish: Finish) -> None:
    """A cover time outside the finished clip is refused now, not after the render."""
    if at_s is None:
        return
    if not math.isfinite(at_s) or at_s < 0:
        raise InvalidInput("The cover time must be a number of seconds, 0 or later.")
    soundtrack = probe(finish.soundtrack) if finish.soundtrack is not None else None
    length = timing_for([probe(p) for p in inputs], preset, finish, soundtrack).output_s
    if at_s > length:
        raise InvalidInput(f"The cover time {at_s:g} s is past the end of the exported clip "
                           f"({length:g} s); choose a time from 0 to {length:g} s.")


def _export_target(export_to: Path | None, name: str, inputs: list[Path]) -> Path | None:
    """The file the copy goes to: ``export_to`` itself when it names an .mp4, else inside it."""
    if export_to is None:
        return None
    target = Path(export_to).expanduser().absolute()
    if target.suffix and target.suffix.lower() not in VIDEO_SUFFIXES and not target.is_dir():
        raise InvalidInput(f"Export to an .mp4 file or a folder, not '{target.name}'.")
    if target.suffix.lower() not in VIDEO_SUFFIXES or target.is_dir():
        target = target / name
    if target.parent.exists() and not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is a file, not a folder.")
    if target in inputs:
        raise InvalidInput("The export would overwrite its own input; choose another file name.")
    return target


# Running ----------------------------------------------------------------------------------------

@job_type(EXPORT_JOB, queue="video", payload=ExportPayload, result=ExportOutcome)
def run_export(ctx: JobContext, payload: ExportPayload) -> ExportOutcome:
    preset = find_preset(payload.preset, user_presets_dir(ctx.paths.data_dir))
    store = LocalStore(ctx.paths.assets_dir)
    finish = _finish_here(store, payload)
    folder = f"videos/{ctx.workspace_id}/{ctx.job_id}"
    sweep_tree(store.path(f"videos/{ctx.workspace_id}"), 1)  # left by killed exports
    if payload.cues is not None:  # edited in the app: kept beside the video
        srt = _ensure(store.path(f"{folder}/subtitles.srt"))
        finish = replace(finish, subtitles=write_srt(list(payload.cues), srt))
    name = output_name(payload.name or "video.mp4")
    target = store.path(f"{folder}/{name}")
    result = export_video(
        ctx.settings, [store.path(key) for key in payload.inputs], preset, finish, target,
        on_progress=lambda f, stage, message: ctx.progress(f * _RENDER_SHARE, stage=stage,
                                                           message=message),
        cancel=ctx.is_canceled)
    ctx.progress(_RENDER_SHARE, stage="Saving", message=name)
    cover = _cover(ctx, store, folder, Path(name).stem, target, payload.cover_at_s)
    # Queued at a desk and run on another machine (team mode): the desk's folder is not here;
    # the desk copies the file there itself when it sees the job done (deliver_export).
    elsewhere = bool(payload.origin) and payload.origin != studio_origin(ctx.paths)
    exported = None if elsewhere else _copy_out(target, payload.export_to)
    ids = _record(ctx, payload, store, f"{folder}/{name}", result, preset, finish, exported, cover)
    return ExportOutcome(assets=tuple(ids), output=AssetKey(f"{folder}/{name}"),
                         exported_to=exported, deliver_to=payload.export_to if elsewhere else None,
                         notes=tuple(result.plan.notes), duration_s=result.info.duration_s)


def _finish_here(store: LocalStore, payload: ExportPayload) -> Finish:
    """The finish with its subtitles and soundtrack read from this machine's asset store."""
    finish = payload.finish
    if payload.subtitles is not None:
        finish = replace(finish, subtitles=store.path(payload.subtitles))
    if payload.soundtrack is not None:
        finish = replace(finish, soundtrack=store.path(payload.soundtrack))
    return finish


def deliver_export(studio: Studio, job: Job) -> Path | None:
    """Where the finished export is for the user: the folder they chose, copied there now when
    the job ran on another machine (from the bucket when this machine lacks the file)."""
    result = result_of(job, ExportOutcome)
    if result is None or result.exported_to or not result.deliver_to:
        return result.exported_to if result is not None else None
    output = studio.asset_path(result.output)
    if not output.is_file():
        from studio.engine.server.assets import team_store
        store = team_store(studio.settings, studio.paths, studio.secrets)
        if store is None or not store.exists(result.output):
            raise InvalidInput(f"The export was made on another machine and {output.name} cannot "
                               "be fetched here; it is kept in the studio.")
        store.get_file(result.output, output)
    return _copy_out(output, result.deliver_to)


def _cover(ctx: JobContext, store: LocalStore, folder: str, stem: str, video: Path,
           at_s: float | None) -> Path | None:
    if at_s is None:
        return None
    return cover_frame(ctx.settings, video, at_s, store.path(f"{folder}/{stem}-cover.jpg"))


def _copy_out(source: Path, export_to: Path | None) -> Path | None:
    """The user's copy: written beside its final name and renamed, so it is whole or absent."""
    if export_to is None:
        return None
    target = export_to
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(target) as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
    except OSError as exc:
        raise InvalidInput(f"The video was made but cannot be written to {target}: "
                           f"{exc.strerror or exc}. It is kept in the studio.") from None
    return target


def _record(ctx: JobContext, payload: ExportPayload, store: LocalStore, key: str,
            result: ExportResult, preset: ExportPreset, finish: Finish, exported: Path | None,
            cover: Path | None) -> list[uuid.UUID]:
    video = result.info.video
    meta = {**result.meta(), "preset": preset.slug, "finish": finish_to_payload(finish),
            "sources": list(payload.inputs), "exported_to": str(exported) if exported else None,
            "width": video.width if video else 0, "height": video.height if video else 0,
            "path": str(result.output), **payload.extra}
    assets = [Asset(kind="video", storage_key=key, job_id=ctx.job_id,
                    influencer_id=payload.influencer_id,
                    sha256=sha256_file(result.output), size_bytes=result.info.size_bytes, meta=meta)]
    if cover is not None:
        cover_key = f"{key.rsplit('/', 1)[0]}/{cover.name}"
        assets.append(Asset(kind="cover", storage_key=cover_key, job_id=ctx.job_id,
                            influencer_id=assets[0].influencer_id, sha256=sha256_file(cover),
                            size_bytes=cover.stat().st_size,
                            meta={"video": key, "at_s": payload.cover_at_s,
                                  "path": str(store.path(cover_key))}))
    with ctx.db.session() as session:
        repo = Repository(session, ctx.workspace_id)
        for asset in assets:
            repo.add(asset)
        return [a.id for a in assets]


def _ensure(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@job_type(GENERATE_JOB, queue="video", payload=VideoPayload, result=VideoResult)
def run_generate_video(ctx: JobContext, payload: VideoPayload) -> VideoResult:
    return run_video_generation(ctx, payload)
