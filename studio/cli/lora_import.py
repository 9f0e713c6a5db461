"""``train import-lora FILE``: a LoRA made elsewhere into the library, its family read from the file.

    train import-lora ~/Downloads/mia_sdxl.safetensors [--influencer Mia]
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, Actions, add_action, workspace_of
from studio.cli.output import print_json, say

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register_import(actions: Actions) -> None:
    parser = add_action(actions, "import-lora", "add a .safetensors LoRA made elsewhere to the library",
                        import_lora_file, scoped=True)
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument("--influencer", metavar="NAME", default=None,
                        help="the influencer the LoRA belongs to (optional)")


def import_lora_file(studio: Studio, args: argparse.Namespace) -> int:
    from studio.cli.influencer import find_influencer
    from studio.engine.loras.importing import import_lora

    workspace = workspace_of(studio, args)
    influencer_id = None
    if args.influencer:
        workspace, influencer = find_influencer(studio, args, args.influencer)
        influencer_id = influencer.id
    lora = import_lora(studio, workspace.id, args.file.expanduser(), influencer_id=influencer_id)
    meta = lora.meta or {}
    if args.json:
        print_json({"id": lora.id, "name": lora.name, "file": meta.get("file_name"),
                    "family": meta.get("family"), "size_bytes": meta.get("size_bytes")})
    else:
        say(f"imported {lora.name} as {meta.get('file_name')} (family: {meta.get('family') or 'unknown'})")
    return EXIT_OK
