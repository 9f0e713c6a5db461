"""``train``: LoRA training with kohya sd-scripts.

    train --influencer Mia --dataset main --preset sd15-likeness-12gb --sd-scripts ~/sd-scripts \\
          --set base_model=~/models/sd15.safetensors --set max_train_steps=1200
    train --dry-run …            the exact command line and dataset_config.toml, nothing run
    train presets | list | checkpoints | resume JOB | reorder JOB… | grid | activate LORA
    train import-lora FILE [--influencer NAME]   a LoRA made elsewhere, into the library
"""
from __future__ import annotations

import argparse
import shlex
import uuid
from typing import TYPE_CHECKING, Any

from studio.cli.common import COMMON, EXIT_OK, SCOPED, Actions, UsageError, add_action, workspace_of
from studio.cli.influencer import find_influencer
from studio.cli.lora_import import register_import
from studio.cli.output import note, print_json, print_table, say
from studio.cli.waiting import exit_code, finish, wait_for_job
from studio.engine.jobs.status import JobStatus

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: Actions) -> None:
    train = _register_start(verbs)
    actions = train.add_subparsers(dest="action", metavar="ACTION")
    _register_listings(actions)
    _register_queue(actions)
    _register_grid(actions)
    active = add_action(actions, "activate", "make a LoRA its influencer's active LoRA", activate,
                        scoped=True)
    active.add_argument("lora", metavar="LORA")
    register_import(actions)


def _register_start(verbs: Actions) -> argparse.ArgumentParser:
    """``train`` itself starts a training; its actions are added to the parser this returns."""
    help_ = "LoRA training with kohya sd-scripts: train, presets, checkpoints, test grid"
    train = verbs.add_parser("train", help=help_, description=help_, parents=[COMMON, SCOPED])
    train.set_defaults(func=start_training)
    train.add_argument("--influencer", metavar="NAME")
    train.add_argument("--dataset", metavar="NAME")
    train.add_argument("--preset", metavar="NAME", help="see `train presets`")
    train.add_argument("--sd-scripts", metavar="DIR", default="",
                       help="the sd-scripts checkout (default: setting sdscripts.folder)")
    train.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                       help="any option of the chosen sd-scripts script, checked against its own "
                            "parser (learning_rate, network_dim, max_train_steps, lowram…; a flag takes "
                            "true or false) or base_model (repeatable)")
    train.add_argument("--name", default="", help="the LoRA's file name (default <trigger>-<dataset>-vN)")
    train.add_argument("--hand-off", action="store_true", help="place the final LoRA in ComfyUI's loras folder")
    train.add_argument("--dry-run", action="store_true",
                       help="print the command line and dataset_config.toml; run nothing")
    train.add_argument("--no-wait", action="store_true", help="only queue the training and print its id")
    return train


def _register_listings(actions: Actions) -> None:
    add_action(actions, "presets", "list the training presets", list_presets)
    add_action(actions, "list", "list trainings, the queue first", list_trainings, scoped=True)
    checkpoints = add_action(actions, "checkpoints", "list saved LoRAs with their identity score and ss_* metadata",
                             list_checkpoints, scoped=True)
    checkpoints.add_argument("--influencer", metavar="NAME")
    checkpoints.add_argument("--job", metavar="ID", help="only this training's checkpoints")


def _register_queue(actions: Actions) -> None:
    again = add_action(actions, "resume", "resume a failed or canceled training from its last state",
                       resume, scoped=True)
    again.add_argument("job", metavar="JOB")
    again.add_argument("--no-wait", action="store_true")
    order = add_action(actions, "reorder", "set the order of waiting trainings", reorder, scoped=True)
    order.add_argument("jobs", nargs="+", metavar="JOB")


def _register_grid(actions: Actions) -> None:
    grid = add_action(actions, "grid", "queue a test grid (prompts × checkpoints × strengths) and "
                      "make a contact sheet", test_grid, scoped=True)
    grid.add_argument("--job", required=True, metavar="ID", help="the training whose checkpoints to compare")
    grid.add_argument("--checkpoint", dest="checkpoints", action="append", default=[], metavar="LORA",
                      help="a checkpoint id or file name (repeatable; default: up to 4, final included)")
    grid.add_argument("--strengths", default="0.6,0.8,1.0", metavar="LIST")
    grid.add_argument("--prompt", dest="prompts", action="append", default=[], metavar="TEXT",
                      help="{trigger} is replaced (repeatable; default: the training's sample prompts)")
    grid.add_argument("--seed", type=int, default=1234)
    grid.add_argument("--steps", type=int, default=25)
    grid.add_argument("--no-wait", action="store_true")


# Starting ----------------------------------------------------------------------------------------

def start_training(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.lookup import find_dataset
    from studio.engine.training.jobs import submit_training
    from studio.engine.training.plan import plan_training
    missing = [f"--{n}" for n in ("influencer", "dataset", "preset") if not getattr(args, n)]
    if missing:
        raise UsageError(f"train needs {', '.join(missing)} (or an action: presets, list, "
                         "checkpoints, resume, reorder, grid, activate).")
    found = find_dataset(studio, influencer=args.influencer, dataset=args.dataset,
                         workspace=args.workspace)
    workspace = found.workspace
    request = _request(args, found.influencer.id, found.dataset.id)
    if args.dry_run:
        plan = plan_training(studio, workspace.id, request)
        _print_plan(args, plan)
        plan.findings.raise_if_any()
        return EXIT_OK
    job = submit_training(studio, workspace.id, request)
    for warning in job.payload.get("warnings") or []:
        note(f"warning: {warning}")
    if args.no_wait:
        return finish(studio, args, job, wait=False)
    done = wait_for_job(studio, workspace.id, job.id)
    if args.json:
        print_json({"job": done.id, "status": done.status, "result": done.result})
    elif done.status == JobStatus.COMPLETED:
        for row in _checkpoint_rows(studio, workspace.id, job_id=done.id):
            say(f"{row['kind']:<6} {row['path']}")
    return exit_code(done)


def _request(args: argparse.Namespace, influencer_id: uuid.UUID, dataset_id: uuid.UUID) -> Any:
    from studio.engine.training.plan import TrainingRequest
    overrides: dict[str, object] = {}
    for item in args.sets:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"--set {item!r}: expected KEY=VALUE (an sd-scripts option or base_model)")
        key = key.strip().lstrip("-").replace("-", "_")
        if key == "pretrained_model_name_or_path":
            key = "base_model"  # sd-scripts' own name works too
        overrides[key] = value
    return TrainingRequest(influencer_id=influencer_id, dataset_id=dataset_id, preset=args.preset,
                           overrides=overrides, sd_scripts=args.sd_scripts, name=args.name,
                           hand_off=args.hand_off)


def _print_plan(args: argparse.Namespace, plan: Any) -> None:
    if args.json:
        print_json({"argv": plan.argv, "cwd": plan.launch.folder, "folder": plan.files.root,
                    "dataset_config": plan.dataset_config, "sample_prompts": plan.sample_prompts,
                    "total_steps": plan.steps.total_steps, "epochs": plan.steps.epochs,
                    "images": plan.source.images, "estimate_s": round(plan.estimate_s),
                    "problems": plan.findings.problems, "warnings": plan.findings.warnings,
                    "config": plan.config.to_dict(),
                    "stages": [{"stage": s.key, "title": s.title, "argv": list(s.argv)}
                               for s in getattr(plan, "stages", ())]})
        return
    print(f"# in {plan.launch.folder}")
    stages = getattr(plan, "stages", ())  # musubi-tuner: one command per stage, in order
    for stage in stages:
        print(f"# {stage.title}\n{shlex.join(stage.argv)}")
    if not stages:
        print(shlex.join(plan.argv))
    print(f"\n# {plan.files.dataset_config}")
    print(plan.dataset_config, end="")
    if plan.sample_prompts:
        print(f"\n# {plan.files.sample_prompts}")
        print(plan.sample_prompts, end="")
    steps = plan.steps
    print(f"\n# {plan.source.images} images × {plan.config.num_repeats or plan.source.repeats} repeats, "
          f"{steps.epochs} epochs of {steps.steps_per_epoch} steps: {steps.total_steps} steps, "
          f"≈ {_hours(plan.estimate_s)}")
    for warning in plan.findings.warnings:
        note(f"warning: {warning}")


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(minutes, 1)} min"


# Listing -----------------------------------------------------------------------------------------

def list_presets(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.training.config import load_presets
    presets = load_presets()
    if args.json:
        print_json([{"slug": p.slug, "title": p.title, "description": p.description,
                     "family": p.config.family, "vram_gb": p.config.vram_gb, "steps": _steps(p.config),
                     "models": {role: m.to_dict() for role, m in p.models.items()},
                     "settings": p.config.to_dict()} for p in presets.values()])
        return EXIT_OK
    print_table(["slug", "family", "vram", "steps", "dim", "title"],
                [[p.slug, p.config.family, f"{p.config.vram_gb} GB", _steps(p.config), p.config.network_dim,
                  p.title] for p in presets.values()], empty="no presets")
    return EXIT_OK


def _steps(config: Any) -> str:
    return (f"{config.max_train_epochs} epochs" if config.max_train_epochs
            else str(config.max_train_steps or 1600))  # sd-scripts' own default


def list_trainings(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.training.jobs import JOB_TYPE, queued_trainings
    workspace = workspace_of(studio, args)
    queued = queued_trainings(studio, workspace.id)
    others = [j for j in studio.jobs.list(workspace.id, limit=200)
              if j.type == JOB_TYPE and j not in queued and j.id not in {q.id for q in queued}]
    rows = [{"id": j.id, "status": j.status, "progress": round(j.progress * 100, 1), "title": j.title,
             "message": j.message, "error": (j.error or "").split("\n")[0]} for j in [*queued, *others]]
    if args.json:
        print_json(rows)
    else:
        print_table(["id", "status", "%", "title", "message"],
                    [[r["id"], r["status"], r["progress"], r["title"], r["error"] or r["message"]]
                     for r in rows], empty="no trainings")
    return EXIT_OK


def list_checkpoints(studio: Studio, args: argparse.Namespace) -> int:
    workspace = workspace_of(studio, args)
    influencer_id = None
    if args.influencer:
        workspace, influencer = find_influencer(studio, args, args.influencer)
        influencer_id = influencer.id
    job_id = studio.jobs.get(workspace.id, args.job).id if args.job else None
    rows = _checkpoint_rows(studio, workspace.id, job_id=job_id, influencer_id=influencer_id)
    if args.json:
        print_json(rows)
    else:
        print_table(["id", "family", "kind", "step", "epoch", "active", "identity", "size", "name"],
                    [[r["id"], r["family"] or "unknown", r["kind"], r["step"], r["epoch"], "*" if r["active"] else "",
                      _identity_cell(r), f"{(r['size_bytes'] or 0) / 1e6:.1f} MB", r["name"]] for r in rows],
                    empty="no saved LoRAs")
    return EXIT_OK


def _identity_cell(row: dict[str, Any]) -> str:
    """``0.83 (4) suggested``: the median identity of its samples (how many), the suggestion marked."""
    if row["identity"] is None:
        return "-"
    text = f"{row['identity']:.2f} ({row['identity_samples']})"
    return f"{text} suggested" if row["suggested"] else (f"{text} overfitted?" if row["overfitted"] else text)


def _checkpoint_rows(studio: Studio, workspace_id: uuid.UUID, **where: Any) -> list[dict[str, Any]]:
    from studio.engine.training.identity import suggestions
    from studio.engine.training.results import checkpoints_of
    loras = checkpoints_of(studio.db, workspace_id, **where)
    marks = suggestions([(lora.training_job_id, (lora.meta or {}).get("identity")) for lora in loras])
    rows = []
    for lora, (suggested, overfitted) in zip(loras, marks, strict=True):
        meta = lora.meta or {}
        identity = meta.get("identity") or {}
        rows.append({"id": lora.id, "name": lora.name, "family": meta.get("family"), "kind": meta.get("kind"),
                     "step": meta.get("step"),
                     "epoch": meta.get("epoch"), "final": bool(meta.get("final")),
                     "active": bool(meta.get("active")), "size_bytes": meta.get("size_bytes"),
                     "sha256": meta.get("sha256"), "dataset_version": meta.get("dataset_version"),
                     "training_job_id": lora.training_job_id, "base_model": lora.base_model,
                     "path": studio.asset_path(lora.storage_key),
                     "ss_metadata": meta.get("ss_metadata") or {},
                     "identity": identity.get("median"), "identity_samples": int(identity.get("samples") or 0),
                     "suggested": suggested, "overfitted": overfitted})
    return rows


# Acting on trainings ---------------------------------------------------------------------------

def resume(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.training.jobs import resume_training
    workspace = workspace_of(studio, args)
    job = resume_training(studio, workspace.id, args.job)
    note(job.message)
    return finish(studio, args, job, wait=not args.no_wait)


def reorder(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.training.jobs import reorder_trainings
    workspace = workspace_of(studio, args)
    ids = [studio.jobs.get(workspace.id, j).id for j in args.jobs]
    reorder_trainings(studio, workspace.id, ids)
    print("waiting trainings will run in this order: " + ", ".join(str(i) for i in ids))
    return EXIT_OK


def activate(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.training.results import set_active
    workspace = workspace_of(studio, args)
    lora = set_active(studio.db, workspace.id, _lora_id(studio, workspace.id, args.lora))
    say(f"active LoRA: {lora.name}")
    return EXIT_OK


def test_grid(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.training.grid import GridRequest, submit_test_grid
    workspace = workspace_of(studio, args)
    job = studio.jobs.get(workspace.id, args.job)
    try:
        strengths = tuple(float(s) for s in args.strengths.split(",") if s.strip())
    except ValueError:
        raise UsageError(f"--strengths takes numbers separated by commas, not {args.strengths!r}.") from None
    request = GridRequest(training_job_id=job.id,
                          lora_ids=tuple(_lora_id(studio, workspace.id, c) for c in args.checkpoints),
                          prompts=tuple(args.prompts), strengths=strengths, seed=args.seed, steps=args.steps)
    grid = submit_test_grid(studio, workspace.id, request)
    note(f"queued {len(grid.generation_jobs)} images and the contact sheet (job {grid.sheet_job.id})")
    if args.no_wait:
        return finish(studio, args, grid.sheet_job, wait=False)
    for job_id in grid.generation_jobs:
        wait_for_job(studio, workspace.id, job_id)
    done = wait_for_job(studio, workspace.id, grid.sheet_job.id)
    if done.status == JobStatus.COMPLETED and not args.json:
        print(studio.asset_path(str((done.result or {}).get("key", ""))))
    elif args.json:
        print_json({"job": done.id, "status": done.status, "result": done.result})
    return exit_code(done)


def _lora_id(studio: Studio, workspace_id: uuid.UUID, ref: str) -> uuid.UUID:
    from studio.engine.lookup import find_lora
    return find_lora(studio, workspace_id=workspace_id, ref=ref).id
