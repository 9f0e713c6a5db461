"""``influencer list|show|create|edit|delete|avatar|references``: the characters of a workspace."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.cli.common import EXIT_OK, add_action, add_group, workspace_of
from studio.cli.output import fields_of, note, print_fields, print_json, print_table, say
from studio.cli.waiting import finish
from studio.engine.errors import StudioError

if TYPE_CHECKING:
    from studio.engine import influencers
    from studio.engine.core import Studio
    from studio.engine.db.models import Influencer, Workspace

FIELDS = ("id", "name", "trigger_word", "tone", "style", "voice", "topics", "language", "notes",
          "avatar_asset_id", "created_at", "updated_at", "version")


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "influencer", "manage influencers (persona, trigger word, portrait)")
    add_action(actions, "list", "list the influencers of a workspace", list_influencers, scoped=True)
    show = add_action(actions, "show", "show one influencer", show_influencer, scoped=True)
    show.add_argument("name")
    create = add_action(actions, "create", "create an influencer", create_influencer, scoped=True)
    create.add_argument("name")
    _persona_options(create)
    edit = add_action(actions, "edit", "change an influencer's persona", edit_influencer, scoped=True)
    edit.add_argument("name")
    edit.add_argument("--name", dest="new_name", metavar="NEW", help="rename the influencer")
    _persona_options(edit)
    delete = add_action(actions, "delete", "move an influencer to the trash", delete_influencer,
                        scoped=True)
    delete.add_argument("name")
    avatar = add_action(actions, "avatar", "set the portrait and make its thumbnails (a job)",
                        set_avatar, scoped=True)
    avatar.add_argument("name")
    avatar.add_argument("image", type=Path)
    avatar.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")
    _register_references(actions)


def _register_references(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    refs = add_action(actions, "references", "her reference faces, which identity scores measure against",
                      references_command, scoped=True)
    refs.add_argument("--influencer", required=True, metavar="NAME")
    change = refs.add_mutually_exclusive_group()
    change.add_argument("--add", type=Path, metavar="IMAGE",
                        help="add the biggest face in a picture file (only its descriptor is kept)")
    change.add_argument("--from-dataset", metavar="NAME",
                        help="use the largest cluster of faces in one of her datasets")
    change.add_argument("--portrait", action="store_true", help="add her portrait (one face)")
    change.add_argument("--remove", type=int, metavar="N", help="remove reference N (as listed)")
    change.add_argument("--auto", action="store_true",
                        help="back to the default: the largest cluster of faces across her datasets")


def _persona_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trigger", metavar="WORD", help="trigger word used in prompts and training")
    parser.add_argument("--tone")
    parser.add_argument("--style")
    parser.add_argument("--voice")
    parser.add_argument("--topics", help='comma-separated, e.g. "fitness, travel"')
    parser.add_argument("--language", metavar="CODE", help="e.g. en, de, it")
    parser.add_argument("--notes")


def list_influencers(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine import influencers
    workspace = workspace_of(studio, args)
    rows = influencers.list_influencers(studio, workspace.id)
    if args.json:
        print_json([fields_of(i, FIELDS) for i in rows])
    else:
        print_table(["name", "trigger", "language", "topics", "id"],
                    [[i.name, i.trigger_word, i.language, i.topics, i.id] for i in rows],
                    empty=f"no influencers in workspace '{workspace.name}'")
    return EXIT_OK


def show_influencer(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine import influencers
    workspace, influencer = find_influencer(studio, args, args.name)
    values = {**fields_of(influencer, FIELDS), "workspace": workspace.name}
    avatar = influencers.avatar_path(studio, workspace.id, influencer)
    values["avatar"] = str(avatar[0]) if avatar else ""
    if args.json:
        print_json(values)
    else:
        print_fields(values)
    return EXIT_OK


def create_influencer(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine import influencers
    workspace = workspace_of(studio, args)
    persona = _apply(influencers.Persona(name=args.name), args)
    influencer = influencers.create_influencer(studio, workspace.id, persona)
    _report(args, influencer, f"created influencer '{influencer.name}' in workspace '{workspace.name}'")
    return EXIT_OK


def edit_influencer(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine import influencers
    workspace, influencer = find_influencer(studio, args, args.name)
    persona = influencers.Persona(
        name=args.new_name or influencer.name, trigger_word=influencer.trigger_word,
        tone=influencer.tone, style=influencer.style, voice=influencer.voice,
        topics=list(influencer.topics), language=influencer.language, notes=influencer.notes)
    updated = influencers.update_influencer(studio, workspace.id, influencer.id, _apply(persona, args),
                                            expected_version=influencer.version)
    _report(args, updated, f"updated influencer '{updated.name}'")
    return EXIT_OK


def delete_influencer(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine import influencers
    workspace, influencer = find_influencer(studio, args, args.name)
    influencers.trash_influencer(studio, workspace.id, influencer.id)
    if args.json:
        print_json({"id": influencer.id, "name": influencer.name, "trashed": True})
    else:
        say(f"moved '{influencer.name}' to the trash (undo: trash restore {influencer.id})")
    return EXIT_OK


def set_avatar(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine import influencers
    workspace, influencer = find_influencer(studio, args, args.name)
    job = influencers.set_avatar(studio, workspace.id, influencer.id, args.image.expanduser())
    return finish(studio, args, job, wait=not args.no_wait)


def references_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.identity import model, references
    workspace, influencer = find_influencer(studio, args, args.influencer)
    try:
        if args.add is not None:
            added = references.add_file_reference(studio, influencer.id, args.add.expanduser())
            if added.note:
                note(added.note)
        elif args.from_dataset is not None:
            from studio.engine.lookup import find_dataset
            dataset = find_dataset(studio, influencer=influencer.name, dataset=args.from_dataset,
                                   workspace=workspace.name).dataset
            references.use_dataset_cluster(studio, influencer.id, dataset.id)
        elif args.portrait:
            references.add_portrait_reference(studio, influencer.id)
        elif args.remove is not None:
            references.remove_reference(studio, influencer.id, args.remove - 1)
        elif args.auto:
            references.use_largest_cluster(studio, influencer.id)
    except model.ModelUnavailable as exc:
        raise StudioError(f"Identity is not available: {exc}.") from None
    _print_references(args, influencer.name, references.identity_of(studio, influencer.id))
    return EXIT_OK


def _print_references(args: argparse.Namespace, name: str, identity: dict[str, Any]) -> None:
    rows = [{"number": n, "source": r.get("source"), "name": r.get("name"), "image_id": r.get("image_id")}
            for n, r in enumerate(identity.get("references") or [], start=1)]
    if args.json:
        print_json({"influencer": name, "auto": identity.get("auto"), "revision": identity.get("revision"),
                    "centroid": bool(identity.get("centroid")), "references": rows})
        return
    mode = "auto (the largest cluster of faces in her datasets)" if identity.get("auto") else "chosen"
    say(f"references of {name}: {mode}; centroid revision {identity.get('revision', 0)}")
    print_table(["#", "source", "name"], [[r["number"], r["source"], r["name"]] for r in rows],
                empty="no reference faces yet (analyse a dataset of hers, or add a picture with --add)")


def find_influencer(studio: Studio, args: argparse.Namespace, name: str) -> tuple[Workspace, Influencer]:
    """The engine's lookup by name (Decision 5) with this verb's --workspace."""
    from studio.engine import lookup
    found = lookup.find_influencer(studio, name=name, workspace=getattr(args, "workspace", None))
    return found.workspace, found.influencer


def _apply(persona: influencers.Persona, args: argparse.Namespace) -> influencers.Persona:
    """Options given on the command line replace the persona's fields; others stay."""
    for option, attribute in (("trigger", "trigger_word"), ("tone", "tone"), ("style", "style"),
                              ("voice", "voice"), ("language", "language"), ("notes", "notes")):
        value = getattr(args, option)
        if value is not None:
            setattr(persona, attribute, value)
    if args.topics is not None:
        persona.topics = [t.strip() for t in args.topics.split(",") if t.strip()]
    return persona


def _report(args: argparse.Namespace, influencer: Influencer, message: str) -> None:
    if args.json:
        print_json(fields_of(influencer, FIELDS))
    else:
        say(message)
