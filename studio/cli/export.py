"""``export image``: pictures framed for a platform as sRGB JPEG, their metadata stripped.

Runs at once in this process (a picture takes a fraction of a second); the same presets as
``video presets``. Exit codes: 0 done, 1 failed, 2 usage error.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import print_json, say
from studio.cli.video import parse_focus
from studio.engine.errors import InvalidInput

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "export", "export: pictures framed for each platform")
    image = add_action(actions, "image", "frame pictures for a platform as sRGB JPEG", export_images)
    image.add_argument("inputs", nargs="+", type=Path, metavar="PICTURE")
    image.add_argument("--preset", required=True, metavar="NAME",
                       help="a platform frame, e.g. instagram-feed-4x5 (see `video presets`)")
    image.add_argument("--out", required=True, type=Path, metavar="DIR|FILE",
                       help="a folder (one JPEG per picture) or, for one picture, a .jpg file")
    image.add_argument("--fit", choices=("crop", "blur"), default="crop",
                       help="crop to fill around --focus (default), or fit on a blurred copy")
    image.add_argument("--focus", default="0.5,0.5", metavar="X,Y",
                       help="what a crop keeps in view, as fractions (default the centre)")
    image.add_argument("--keep-metadata", action="store_true",
                       help="keep EXIF (camera, GPS) and the generation recipe; stripped by default")


def export_images(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.media.presets import load_presets, user_presets_dir
    from studio.engine.media.still import export_still
    presets = load_presets(user_presets_dir(studio.paths.data_dir))
    if args.preset not in presets:
        raise UsageError(f"There is no preset '{args.preset}'; there are: {', '.join(sorted(presets))}.")
    single_file = len(args.inputs) == 1 and args.out.suffix.lower() in (".jpg", ".jpeg")
    if len(args.inputs) > 1 and args.out.suffix.lower() in (".jpg", ".jpeg"):
        raise UsageError("Several pictures need a folder for --out, not a file name.")
    focus = parse_focus(args.focus)
    done = []
    for source in args.inputs:
        if not source.is_file():
            raise InvalidInput(f"{source} does not exist or is not a file.")
        target = args.out if single_file else args.out / f"{source.stem}-{args.preset}.jpg"
        if target.resolve() == source.resolve():
            raise InvalidInput(f"{target} is the picture itself; choose another --out.")
        result = export_still(source, presets[args.preset], target, fit=args.fit, focus=focus,
                              keep_metadata=args.keep_metadata)
        done.append(result)
        if not args.json:
            say(f"{result.path} ({result.width}×{result.height}"
                  f"{', metadata kept' if result.metadata_kept else ''})")
    if args.json:
        print_json([{"path": str(r.path), "width": r.width, "height": r.height,
                     "metadata_kept": r.metadata_kept} for r in done])
    return EXIT_OK

