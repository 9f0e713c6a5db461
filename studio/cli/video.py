"""``video export|presets|generate|cover``: finish clips for the platforms, make clips from images.

``video export`` queues an export-video job, waits for it with progress on stderr (Decision 5)
and prints where the file went. Exit codes: 0 done, 1 failed, 2 usage error, 130 canceled.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.generate import parse_set
from studio.cli.influencer import find_influencer
from studio.cli.output import note as note_line
from studio.cli.output import print_json, print_table
from studio.cli.waiting import exit_code, job_summary, wait_for_job
from studio.engine.jobs.status import JobStatus

if TYPE_CHECKING:
    from studio.engine.comfyui.workflows import WorkflowTemplate
    from studio.engine.core import Studio
    from studio.engine.db.models import Influencer, Job, Workspace
    from studio.engine.media.presets import ExportPreset


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "video", "video: finish clips for each platform, image to video")
    export = add_action(actions, "export", "finish a clip (or image) for a platform (a job)",
                        export_video, scoped=True)
    export.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                        help="a clip or an image; several are joined in order")
    export.add_argument("--preset", required=True, metavar="NAME", help="see `video presets`")
    export.add_argument("--out", required=True, type=Path, metavar="FILE",
                        help="where the finished .mp4 goes (or a folder for it)")
    export.add_argument("--subtitles", type=Path, metavar="FILE.srt", help="burn these in")
    export.add_argument("--loudness", default=None, metavar="LUFS",
                        help="loudness target, default the preset's (-14); 'off' keeps the sound")
    export.add_argument("--fit", choices=("crop", "blur"), default="crop",
                        help="crop to fill the frame, or fit it whole over a blurred copy")
    export.add_argument("--focus", default="0.5,0.5", metavar="X,Y",
                        help="what the crop keeps, as fractions of the frame (default centre)")
    export.add_argument("--too-long", choices=("trim", "refuse"), default="trim",
                        help="a clip longer than the platform takes: trim it or refuse")
    export.add_argument("--soundtrack", type=Path, metavar="AUDIO",
                        help="replace the sound (a still image becomes a video this long)")
    export.add_argument("--still", type=float, default=5.0, metavar="SECONDS",
                        help="how long an image shows without a soundtrack")
    export.add_argument("--cover", type=float, metavar="SECONDS",
                        help="also write a JPEG cover frame taken at this time")
    export.add_argument("--draft", action="store_true", help="encode fast, at lower quality")
    export.add_argument("--influencer", metavar="NAME", help="whose video this is")
    export.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")
    add_action(actions, "presets", "list the export presets", list_presets)
    add_action(actions, "templates", "list the video templates: family, frames, fps, parameters",
               list_video_templates)
    _register_generate(actions)


def _register_generate(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    generate = add_action(actions, "generate", "turn an image into a clip through ComfyUI (a job)",
                          generate_video, scoped=True)
    generate.add_argument("image", type=Path, metavar="IMAGE", help="the picture to animate")
    generate.add_argument("--template", default="i2v-svd", metavar="NAME",
                          help="an image-to-video template (default i2v-svd; `video templates` "
                               "lists them with their parameters)")
    generate.add_argument("--prompt", metavar="TEXT",
                          help="for AnimateDiff and Wan: what moves and how")
    generate.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                          help="a template parameter: frames, fps, motion, seed, steps… (repeatable; "
                               "see `video templates`)")
    generate.add_argument("--influencer", metavar="NAME")
    generate.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")


def list_video_templates(studio: Studio, args: argparse.Namespace) -> int:
    """Each template with its family and the clip it makes by default (frames, fps, size)."""
    from studio.engine.media.i2v import video_templates
    rows = [_template_row(t) for t in video_templates().values()]
    if args.json:
        print_json({"templates": rows, "errors": []})
    else:
        print_table(["name", "family", "kind", "frames", "fps", "size", "vram", "parameters"],
                    [[r["name"], r["base"], r["kind"], r["frames"], r["fps"], r["size"],
                      f"~{r['vram_gb']:.0f} GB" if r["vram_gb"] else "", r["parameters"]]
                     for r in rows], empty="no templates")
    return EXIT_OK


def _template_row(template: WorkflowTemplate) -> dict[str, object]:
    def default(name: str) -> object:
        param = template.parameters.get(name)
        return param.default if param is not None else None

    from studio.engine.comfyui.vram import estimate_for
    from studio.engine.media.i2v import DEFAULT_FPS
    width, height = default("width"), default("height")
    vram = estimate_for(template, {})
    # A template that saves frames has no rate of its own: the studio joins them at DEFAULT_FPS.
    fps = default("fps") if "fps" in template.parameters else int(DEFAULT_FPS)
    return {"name": template.name, "title": template.title, "base": template.base,
            "kind": template.kind, "frames": default("frames"), "fps": fps,
            "size": f"{width}x{height}" if width and height else "",
            "vram_gb": vram.gb if vram else None, "parameters": list(template.parameters)}


def export_video(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.media.finishing import Finish
    from studio.engine.media.jobs import ExportRequest, submit_export
    workspace, influencer = _who(studio, args)
    finish = Finish(fit=args.fit, focus=parse_focus(args.focus), over_length=args.too_long,
                    subtitles=args.subtitles, loudness=_loudness(studio, args),
                    soundtrack=args.soundtrack, still_s=args.still,
                    speed="veryfast" if args.draft else None)
    request = ExportRequest(inputs=list(args.inputs), preset=args.preset, finish=finish,
                            export_to=args.out, cover_at_s=args.cover,
                            influencer_id=influencer.id if influencer else None,
                            name=args.out.name if args.out.suffix else "")
    return _finish(studio, args, submit_export(studio, workspace.id, request))


def generate_video(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.vram import estimate_for
    from studio.engine.media.i2v import VideoRequest, find_video_template, submit_video
    workspace, influencer = _who(studio, args)
    values: dict[str, object] = dict(parse_set(item) for item in args.sets)
    if args.prompt is not None:
        values["positive"] = args.prompt
    request = VideoRequest(image=args.image, template=args.template, values=values,
                           influencer_id=influencer.id if influencer else None)
    job = submit_video(studio, workspace.id, request)  # checked against ComfyUI first
    vram = estimate_for(find_video_template(args.template), values)
    if vram is not None:
        note_line(vram.line)  # on stderr: stdout keeps only the file (or --json)
    return _finish(studio, args, job)


def list_presets(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.media.presets import load_presets, user_presets_dir
    presets = load_presets(user_presets_dir(studio.paths.data_dir)).values()
    rows = [{"name": p.slug, "title": p.title, "width": p.width, "height": p.height,
             "aspect": p.aspect_label, "fps": p.fps, "min_s": p.min_duration_s,
             "max_s": None if math.isinf(p.max_duration_s) else p.max_duration_s,
             "crf": p.crf, "maxrate_kbps": p.maxrate_kbps, "loudness_lufs": p.loudness_lufs}
            for p in presets]
    if args.json:
        print_json(rows)
    else:
        print_table(["name", "title", "size", "aspect", "fps", "length", "crf", "max rate"],
                    [_preset_row(p) for p in presets], empty="no presets")
    return EXIT_OK


def _finish(studio: Studio, args: argparse.Namespace, job: Job) -> int:
    if args.no_wait:
        if args.json:
            print_json(job_summary(job))
        else:
            print(job.id)
        return EXIT_OK
    done = wait_for_job(studio, job.workspace_id, job.id)
    result = dict(done.result or {})
    if result.get("output"):  # an asset key: the file in this studio's asset folder
        result["output"] = str(studio.asset_path(str(result["output"])))
    if done.status == JobStatus.COMPLETED and result.get("deliver_to"):  # made on another machine
        from studio.engine.media.jobs import deliver_export
        delivered = deliver_export(studio, done)
        result["exported_to"] = str(delivered) if delivered else None
    if args.json:
        print_json({**job_summary(done), "file": result.get("exported_to") or result.get("output")})
    elif done.status == JobStatus.COMPLETED:
        for note in result.get("notes") or []:
            note_line(f"note: {note}")
        print(result.get("exported_to") or result.get("output"))
    return exit_code(done)


def _preset_row(preset: ExportPreset) -> list[object]:
    high = None if math.isinf(preset.max_duration_s) else preset.max_duration_s
    return [preset.slug, preset.title, f"{preset.width}x{preset.height}", preset.aspect_label,
            f"{preset.fps:g}", _length(preset.min_duration_s, high), preset.crf,
            f"{preset.maxrate_kbps / 1000:g} Mb/s"]


def _length(low: float, high: float | None) -> str:
    return f"{low:g}-{high:g} s" if high is not None else f"from {low:g} s"


def _who(studio: Studio, args: argparse.Namespace) -> tuple[Workspace, Influencer | None]:
    if getattr(args, "influencer", None):
        return find_influencer(studio, args, args.influencer)
    return workspace_of(studio, args), None


def parse_focus(text: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--focus takes X,Y as fractions, like 0.5,0.3; not '{text}'.") from None
    return x, y


def _loudness(studio: Studio, args: argparse.Namespace) -> float | None:
    if args.loudness is None:
        from studio.engine.media.presets import find_preset, user_presets_dir
        return find_preset(args.preset, user_presets_dir(studio.paths.data_dir)).loudness_lufs
    if str(args.loudness).lower() in ("off", "none", "no"):
        return None
    try:
        return float(args.loudness)
    except ValueError:
        raise UsageError(f"--loudness takes a LUFS value like -14, or 'off'; not "
                         f"'{args.loudness}'.") from None
