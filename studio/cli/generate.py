"""``generate image|templates|list``: images through ComfyUI with the influencer's LoRA.

``generate image`` starts the supervised local ComfyUI when one is set and not up, checks the
workflow against ComfyUI, queues one job per image (--count), waits for each (Decision 5) and
prints the stored file paths. A ComfyUI it started is stopped when it ends, or handed to the
worker when one runs (which goes on using it and stops it when it stops).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.cli.comfy import local_comfyui
from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.influencer import find_influencer
from studio.cli.output import note, print_json, print_table, say
from studio.cli.waiting import exit_code, job_summary, wait_for_job

if TYPE_CHECKING:
    from studio.engine.comfyui.gallery import GalleryRow
    from studio.engine.comfyui.workflows import WorkflowTemplate
    from studio.engine.core import Studio
    from studio.engine.db.models import Influencer


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "generate", "images through ComfyUI: generate, templates, gallery")
    image = add_action(actions, "image", "generate images from a workflow template (jobs)",
                       generate_image, scoped=True)
    image.add_argument("--template", required=True, metavar="NAME", help="see `generate templates`")
    image.add_argument("--influencer", metavar="NAME", help="whose images these are")
    image.add_argument("--prompt", required=True, metavar="TEXT")
    image.add_argument("--negative", metavar="TEXT")
    image.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                       help="a template parameter: seed, steps, cfg, lora_name, input_image… "
                            "(repeatable)")
    image.add_argument("--count", type=int, default=1, metavar="N", help="images, one job each")
    image.add_argument("--no-wait", action="store_true", help="only queue the jobs and print their ids")
    add_action(actions, "templates", "list the workflow templates and their parameters",
               list_templates)
    listing = add_action(actions, "list", "list generated images, newest first", list_images,
                         scoped=True)
    listing.add_argument("--influencer", metavar="NAME")
    listing.add_argument("--min-identity", type=float, metavar="X",
                         help="only pictures that look like her at least this much, 0-1 "
                              "(0.5: the same person)")
    listing.add_argument("--sort", choices=("newest", "identity"), default="newest",
                         help="identity: most like her first")
    add = add_action(actions, "add-workflow", "add a workflow exported from ComfyUI with Export (API)",
                     add_workflow)
    add.add_argument("file", type=Path, metavar="WORKFLOW.json")
    add.add_argument("--name", help="its name in the studio (default: the file name)")
    add.add_argument("--map", dest="maps", action="append", default=[], metavar="PARAM=NODE.INPUT",
                     help="name a parameter yourself (repeatable); without it they are guessed")
    add.add_argument("--no-guess", action="store_true", help="no parameters: run it as exported")


def add_workflow(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.user_workflows import add_workflow as add
    mapping: dict[str, str | list[str]] | None = None
    if args.maps:
        mapping = {}
        for item in args.maps:
            param, sep, target = item.partition("=")
            if not sep or "." not in target:
                raise UsageError(f"--map takes PARAM=NODE.INPUT, not '{item}'.")
            mapping[param.strip()] = target.strip()
    if not args.file.is_file():
        raise UsageError(f"{args.file} does not exist or is not a file.")
    template = add(studio.paths, args.file, name=args.name, mapping=mapping, guess=not args.no_guess)
    if args.json:
        print_json({"name": template.name, "parameters": list(template.parameters)})
    else:
        say(f"added workflow '{template.name}' with parameters: "
              f"{', '.join(template.parameters) or 'none (it runs as exported)'}")
    return EXIT_OK


def generate_image(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.generation import JOB_TYPE, GenerationRequest, find_template, prepare_generation
    from studio.engine.comfyui.vram import estimate_for
    workspace, influencer = _who(studio, args)
    values: dict[str, object] = dict(parse_set(item) for item in args.sets)
    values["positive"] = args.prompt
    if args.negative is not None:
        values["negative"] = args.negative
    request = GenerationRequest(influencer_id=influencer.id if influencer else None,
                                template=args.template, values=values, count=args.count)
    local_comfyui(studio)  # says so when it starts one; this command stops it at exit (or hands it on)
    items = prepare_generation(studio, workspace.id, request)  # checked against ComfyUI first
    vram = estimate_for(find_template(args.template, studio.paths), values)
    if vram is not None:
        note(vram.line)  # on stderr: stdout keeps only the files (or --json)
    jobs = studio.jobs.submit_many(workspace.id, JOB_TYPE, items)
    if args.no_wait:
        if args.json:
            print_json([job_summary(job) for job in jobs])
        else:
            print("\n".join(str(job.id) for job in jobs))
        return EXIT_OK
    worst = EXIT_OK
    paths: list[str] = []
    for job in jobs:
        done = wait_for_job(studio, workspace.id, job.id)
        worst = max(worst, exit_code(done))
        paths += _paths(studio, workspace.id, (done.result or {}).get("assets") or [])
        if worst != EXIT_OK:
            break  # canceled or failed: the rest are left as they are in the queue
    if args.json:
        print_json({"jobs": [j.id for j in jobs], "files": paths})
    else:
        for path in paths:
            print(path)
    return worst


def list_templates(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.user_workflows import all_templates
    loaded = all_templates(studio.paths)
    return print_templates(list(loaded.templates.values()), loaded.errors, as_json=args.json)


def print_templates(templates: list[WorkflowTemplate], errors: list[str], *, as_json: bool) -> int:
    """The templates with their family (``base``), the VRAM their defaults need and their models."""
    from studio.engine.comfyui.vram import estimate_for
    from studio.engine.loras.family import FAMILY_TITLES
    rows = []
    for t in templates:
        vram = estimate_for(t, {})
        rows.append({"name": t.name, "title": t.title, "base": t.base,
                     "family": FAMILY_TITLES.get(t.base, t.base), "kind": t.kind,
                     "vram_gb": vram.gb if vram else None, "parameters": list(t.parameters),
                     "models": [{"key": key, "folder": slot.folder, "file": slot.file,
                                 "source": slot.source} for key, slot in t.models.items()]})
    if as_json:
        print_json({"templates": rows, "errors": errors})
    else:
        print_table(["name", "family", "base", "kind", "vram", "parameters"],
                    [[r["name"], r["family"], r["base"], r["kind"],
                      f"~{r['vram_gb']:.0f} GB" if r["vram_gb"] else "", r["parameters"]]
                     for r in rows], empty="no templates")
    return EXIT_OK


def list_images(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.gallery import GalleryFilter, gallery_rows
    workspace, influencer = _who(studio, args)
    if args.min_identity is not None and not 0 <= args.min_identity <= 1:
        raise UsageError(f"--min-identity is a score from 0 to 1, not {args.min_identity:g}.")
    spec = GalleryFilter(influencer_id=influencer.id if influencer else None,
                         min_identity=args.min_identity, sort=args.sort)
    rows = [_row(studio, r) for r in gallery_rows(studio, workspace_id=workspace.id, spec=spec)]
    if args.json:
        print_json(rows)
    else:
        print_table(["created", "rating", "fav", "identity", "seed", "lora", "template", "path"],
                    [[r["created_at"], r["rating"], "*" if r["favourite"] else "",
                      "" if r["identity"] is None else f"{r['identity']:.2f}", r["seed"],
                      r["lora"], r["template"], r["path"]] for r in rows],
                    empty="no generated images")
    return EXIT_OK


def parse_set(item: str) -> tuple[str, str]:
    """``steps=30``: the template converts the text to the parameter's type."""
    key, equals, value = item.partition("=")
    if not equals or not key.strip():
        raise UsageError(f"--set {item!r}: expected KEY=VALUE (a template parameter)")
    return key.strip(), value


def _who(studio: Studio, args: argparse.Namespace) -> tuple[Any, Influencer | None]:
    if args.influencer:
        return find_influencer(studio, args, args.influencer)
    return workspace_of(studio, args), None


def _paths(studio: Studio, workspace_id: Any, asset_ids: list[str]) -> list[str]:
    from studio.engine.comfyui.gallery import asset_path, get_image
    return [str(asset_path(studio, get_image(studio, workspace_id, a))) for a in asset_ids]


def _row(studio: Studio, row: GalleryRow) -> dict[str, Any]:
    return {"id": row.id, "created_at": row.created_at, "job_id": row.job_id,
            "influencer_id": row.influencer_id, "rating": row.rating, "favourite": row.favourite,
            "seed": row.seed, "lora": row.lora, "template": row.template, "width": row.width,
            "height": row.height, "prompt": row.prompt, "path": studio.asset_path(row.storage_key),
            "identity": row.identity, "identity_note": row.identity_note or None}
