"""``dataset create|list|import|analyze|captions|autocaption|export``: training sets of an influencer."""
from __future__ import annotations

import argparse
import importlib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from studio.cli.common import EXIT_OK, Actions, UsageError, add_action, add_group, workspace_of
from studio.cli.influencer import find_influencer
from studio.cli.output import fields_of, note, print_json, print_table, say
from studio.cli.waiting import exit_code, finish, job_summary, wait_for_job
from studio.engine.datasets.sorts import SORTS
from studio.engine.errors import StudioError
from studio.engine.jobs.status import JobStatus
from studio.engine.training.config import FAMILIES

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.datasets import checks
    from studio.engine.db.models import Dataset, Influencer, Job, Workspace

CAPTION_ACTIONS = ("check", "tags", "undo", "redo")
IMAGE_FIELDS = ("id", "name", "width", "height", "caption", "excluded", "near_dup_group",
                "sharpness", "blurry", "dark", "bright", "crop", "crop_manual", "created_at")


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "dataset", "training sets: import, analyze, captions, export")
    _register_create_edit(actions)
    _register_listing(actions)
    _register_import_analyze(actions)
    _register_captions(actions)
    _register_export(actions)


def _register_create_edit(actions: Actions) -> None:
    create = add_action(actions, "create", "create a dataset for an influencer", create_dataset,
                        scoped=True)
    create.add_argument("--influencer", required=True, metavar="NAME")
    create.add_argument("name")
    create.add_argument("--class", dest="class_token", default="", metavar="TOKEN",
                        help='class token of the kohya folder, e.g. "woman" in 10_mia woman')
    create.add_argument("--repeats", type=int, default=10, metavar="N")
    create.add_argument("--separator", default=",", metavar="SEP", help="between tags (default ',')")
    edit = add_action(actions, "edit", "change the class token, repeats or tag separator",
                      edit_dataset, scoped=True)
    _target(edit)
    edit.add_argument("--class", dest="class_token", metavar="TOKEN")
    edit.add_argument("--repeats", type=int, metavar="N")
    edit.add_argument("--separator", metavar="SEP")


def _register_listing(actions: Actions) -> None:
    listing = add_action(actions, "list", "list datasets", list_datasets, scoped=True)
    listing.add_argument("--influencer", metavar="NAME")
    images = add_action(actions, "images", "list a dataset's images, filtered and sorted",
                        list_images, scoped=True)
    _target(images)
    _filter_options(images)


def _register_import_analyze(actions: Actions) -> None:
    imp = add_action(actions, "import", "import files, folders and .zip archives (a job)",
                     import_files, scoped=True)
    _target(imp)
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    imp.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")
    analyze = add_action(actions, "analyze", "hashes, duplicates, quality, faces, identity, crops (a job)",
                         analyze_dataset, scoped=True)
    _target(analyze)
    analyze.add_argument("--force", action="store_true", help="analyze images already analyzed")
    analyze.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")


def _register_captions(actions: Actions) -> None:
    caps = add_action(actions, "captions", "check captions, count tags, undo or redo an edit",
                      caption_command, scoped=True)
    _target(caps)
    caps.add_argument("what", nargs="?", choices=CAPTION_ACTIONS, default="check")
    caps.add_argument("--family", choices=FAMILIES,
                      help="check the length against this model family's text encoder "
                           "(default: the influencer's last training's family, else sd15's CLIP)")
    auto = add_action(actions, "autocaption", "caption images with a vision model (a job)",
                      autocaption, scoped=True)
    _target(auto)
    auto.add_argument("--all", action="store_true", help="every image, not only the uncaptioned")
    auto.add_argument("--model", help="model id (default: settings llm.model)")
    auto.add_argument("--prompt", help="prompt template; may use {trigger}, {tags}, {name}")
    auto.add_argument("--style", choices=("tags", "sentences"),
                      help="tags (SD 1.5/SDXL) or natural sentences (FLUX.1, SD 3.5, Qwen-Image, Wan); "
                           "default: the style of the influencer's last training's family, else tags")
    auto.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")


def _register_export(actions: Actions) -> None:
    export = add_action(actions, "export", "write a kohya sd-scripts training folder", export_dataset,
                        scoped=True)
    _target(export)
    export.add_argument("--format", choices=("kohya",), default="kohya")
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    export.add_argument("--include-duplicates", action="store_true",
                        help="also export all but the first image of each near-duplicate group")
    export.add_argument("--include-excluded", action="store_true", help="also export excluded images")
    export.add_argument("--caption-style", choices=("tags", "sentences"),
                        help="write captions as tags (SD 1.5/SDXL) or sentences (FLUX.1, SD 3.5, Qwen-Image, "
                             "Wan); default: as they are")


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--influencer", required=True, metavar="NAME")
    parser.add_argument("--dataset", required=True, metavar="NAME")


def _filter_options(parser: argparse.ArgumentParser) -> None:
    """The Datasets page's filters, with the same meanings (``ImageFilter``)."""
    parser.add_argument("--text", default="", help="in the file name or caption")
    parser.add_argument("--tag", default="", help="a whole tag of the caption")
    parser.add_argument("--caption", choices=("any", "with", "without"), default="any")
    parser.add_argument("--faces", choices=("any", "none", "one", "many"), default="any")
    parser.add_argument("--excluded", choices=("any", "only", "hide"), default="any")
    parser.add_argument("--exposure", choices=("any", "dark", "bright"), default="any")
    parser.add_argument("--blurry", action="store_true", help="only images found blurry")
    parser.add_argument("--duplicates", action="store_true", help="only near-duplicates")
    parser.add_argument("--below", type=int, default=0, metavar="PX",
                        help="only images whose shorter side is under PX pixels")
    parser.add_argument("--sort", choices=SORTS, default="date")


def create_dataset(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets import service
    workspace, influencer = find_influencer(studio, args, args.influencer)
    dataset = service.create_dataset(studio, workspace.id, influencer.id, args.name,
                                     class_token=args.class_token, repeats=args.repeats,
                                     tag_separator=args.separator)
    if args.json:
        print_json(_row(studio, dataset, influencer))
    else:
        say(f"created dataset '{dataset.name}' for {influencer.name}")
    return EXIT_OK


def edit_dataset(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets import service
    if args.class_token is None and args.repeats is None and args.separator is None:
        raise UsageError("Give at least one of --class, --repeats, --separator.")
    workspace, influencer, dataset = _find(studio, args)
    dataset = service.update_dataset(studio, workspace.id, dataset.id, class_token=args.class_token,
                                     repeats=args.repeats, tag_separator=args.separator)
    if args.json:
        print_json(_row(studio, dataset, influencer))
    else:
        say(f"dataset '{dataset.name}': folder {_row(studio, dataset, influencer)['folder']}, "
              f"tags separated by '{dataset.tag_separator}'")
    return EXIT_OK


def list_datasets(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets import service
    if args.influencer:
        workspace, only = find_influencer(studio, args, args.influencer)
        people = [only]
    else:
        workspace = workspace_of(studio, args)
        people = list(_influencers(studio, workspace))
    by_id = {i.id: i for i in people}
    rows = [_row(studio, d, by_id[d.influencer_id])
            for i in people for d in service.list_datasets(studio, workspace.id, i.id)]
    if args.json:
        print_json(rows)
    else:
        print_table(["influencer", "name", "images", "folder", "id"],
                    [[r["influencer"], r["name"], r["images"], r["folder"], r["id"]] for r in rows],
                    empty="no datasets")
    return EXIT_OK


def list_images(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets.filters import ImageFilter, filtered, image_rows, tag_splitter
    _, _, dataset = _find(studio, args)
    spec = ImageFilter(text=args.text, tag=args.tag, caption=args.caption,
                       near_duplicates=args.duplicates, blurry=args.blurry, exposure=args.exposure,
                       faces=args.faces, excluded=args.excluded, below_target=args.below,
                       sort=args.sort, tag_split=tag_splitter(dataset.tag_separator))
    rows = filtered(image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id), spec)
    if args.json:
        print_json([{**fields_of(r, IMAGE_FIELDS), "faces": r.face_count} for r in rows])
    else:
        print_table(["name", "size", "faces", "excluded", "caption", "id"],
                    [[r.name, f"{r.width}x{r.height}", r.face_count if r.analyzed else "",
                      "*" if r.excluded else "", r.caption[:48], r.id] for r in rows],
                    empty="no images match")
    return EXIT_OK


def import_files(studio: Studio, args: argparse.Namespace) -> int:
    submit_import = _dataset_jobs().submit_import
    _, _, dataset = _find(studio, args)
    paths = [p.expanduser().absolute() for p in args.paths]
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"Not found: {', '.join(missing)}")
    job = submit_import(studio, dataset, paths)
    if args.no_wait:
        return finish(studio, args, job, wait=False)
    done = wait_for_job(studio, job.workspace_id, job.id)
    if done.status == JobStatus.COMPLETED:
        _print_report(args, done.result or {})
    return exit_code(done)


def analyze_dataset(studio: Studio, args: argparse.Namespace) -> int:
    submit_analysis = _dataset_jobs().submit_analysis
    _, _, dataset = _find(studio, args)
    job = submit_analysis(studio, dataset, force=args.force)
    if args.no_wait:
        return finish(studio, args, job, wait=False)
    done = wait_for_job(studio, job.workspace_id, job.id)
    _print_analysis(studio, args, done, dataset)
    return exit_code(done)


def _print_analysis(studio: Studio, args: argparse.Namespace, done: Job, dataset: Dataset) -> None:
    """The job, a summary line with the identity counts, and with --json each picture's verdict."""
    from studio.engine.identity.dataset import LABELS, verdict_rows
    completed = done.status == JobStatus.COMPLETED
    if args.json:
        print_json({**job_summary(done), "images": verdict_rows(studio, dataset.id) if completed else []})
        return
    if not completed:
        return
    result = done.result or {}
    faces, identity = result.get("faces") or {}, result.get("identity") or {}
    say(f"analyzed {result.get('analyzed', 0)}, skipped {result.get('skipped', 0)}; faces: "
        + ", ".join(f"{k} {faces.get(k, 0)}" for k in ("none", "one", "several")) + "; identity: "
        + ", ".join(f"{label} {identity.get(flag, 0)}" for flag, label in LABELS.items()))


def caption_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets import captions, checks
    from studio.engine.datasets.caption_style import last_training_family
    _, _, dataset = _find(studio, args)
    if args.what == "check":
        family = args.family or last_training_family(studio, dataset.workspace_id, dataset.influencer_id)
        return _print_checks(args, checks.caption_checks(studio, dataset, family or ""))
    if args.what == "tags":
        frequency = captions.tag_frequency(studio, dataset)
        if args.json:
            print_json([{"tag": tag, "images": count} for tag, count in frequency])
        else:
            print_table(["images", "tag"], [[count, tag] for tag, count in frequency],
                        empty="no tags")
        return EXIT_OK
    label = captions.undo(studio, dataset) if args.what == "undo" else captions.redo(studio, dataset)
    if args.json:
        print_json({args.what: label})
    else:
        say(f"{args.what}: {label}" if label else f"nothing to {args.what}")
    return EXIT_OK


def autocaption(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets.autocaption import submit_autocaption
    from studio.engine.datasets.caption_style import default_style
    from studio.engine.datasets.filters import ImageFilter, filtered, image_rows
    _, _, dataset = _find(studio, args)
    spec = ImageFilter(caption="any" if args.all else "without")
    rows = image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id)
    chosen = [r.id for r in filtered(rows, spec)]
    if not chosen:
        raise UsageError("Every image already has a caption; use --all to caption them again.")
    job = submit_autocaption(studio, dataset, chosen, model=args.model, prompt_template=args.prompt,
                             style=args.style or default_style(studio, dataset))
    return finish(studio, args, job, wait=not args.no_wait)


def export_dataset(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.datasets.export import export_kohya
    _, _, dataset = _find(studio, args)
    result = export_kohya(studio, dataset, args.out, include_near_duplicates=args.include_duplicates,
                          include_excluded=args.include_excluded, caption_style=args.caption_style)
    if args.json:
        print_json(result)
    else:
        say(f"exported {result.images} images ({result.captions} captions) to {result.image_dir}")
        say(result.caption_report)
        say(f"config: {result.config_file}")
        if result.skipped_excluded or result.skipped_duplicates:
            print(f"left out: {result.skipped_excluded} excluded, "
                  f"{result.skipped_duplicates} near-duplicates")
    return EXIT_OK


def _dataset_jobs() -> ModuleType:
    try:
        return importlib.import_module("studio.engine.datasets.jobs")
    except ImportError as exc:  # only while the import and analysis jobs are not installed
        raise StudioError(f"Dataset import and analysis are not available: {exc}.") from exc


def _find(studio: Studio, args: argparse.Namespace) -> tuple[Workspace, Influencer, Dataset]:
    from studio.engine.lookup import find_dataset
    found = find_dataset(studio, influencer=args.influencer, dataset=args.dataset,
                         workspace=args.workspace)
    return found.workspace, found.influencer, found.dataset


def _influencers(studio: Studio, workspace: Workspace) -> list[Influencer]:
    from studio.engine.db.models import Influencer
    from studio.engine.db.repositories import Repository
    with studio.db.session() as session:
        return list(Repository(session, workspace.id).list(Influencer, order_by=Influencer.name))


def _row(studio: Studio, dataset: Dataset, influencer: Influencer) -> dict[str, Any]:
    from studio.engine.datasets.export import folder_name
    from studio.engine.db.models import DatasetImage
    from studio.engine.db.repositories import Repository
    with studio.db.session() as session:
        count = Repository(session, dataset.workspace_id).count(DatasetImage, dataset_id=dataset.id)
    return {"id": dataset.id, "name": dataset.name, "influencer": influencer.name, "images": count,
            "class_token": dataset.class_token, "repeats": dataset.repeats,
            "tag_separator": dataset.tag_separator,
            "folder": folder_name(dataset.repeats, influencer.trigger_word, dataset.class_token,
                                  dataset.name)}


def _print_report(args: argparse.Namespace, report: dict[str, Any]) -> None:
    if args.json:
        print_json(report)
        return
    rows = report.get("rows") or []
    counts = Counter(str(r.get("status", "")) for r in rows)
    say(f"imported {counts.get('imported', 0)}, duplicate {counts.get('duplicate', 0)}, "
          f"refused {counts.get('refused', 0)}")
    for row in rows:
        if row.get("status") == "refused":
            say(f"refused  {row.get('source', '')}: {row.get('reason', '')}")
        elif row.get("note"):  # imported, with its caption cleaned or left out
            say(f"note     {row.get('source', '')}: {row.get('note')}")


def _print_checks(args: argparse.Namespace, issues: list[checks.CaptionIssue]) -> int:
    if args.json:
        print_json(issues)
    elif not issues:
        print("captions look fine")
    else:
        for issue in issues:
            say(f"{issue.severity:<7}  {issue.kind:<15}  {issue.message}")
        note(f"{len(issues)} caption problems")
    return EXIT_OK
