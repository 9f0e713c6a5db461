"""``settings get|set|list``: dotted keys such as comfyui.url; validated, then saved. ``set`` also
repairs a damaged settings file, keeping a copy of it."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import note, print_json, say, text
from studio.engine.errors import SettingsError

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "settings", "read and change settings (secrets: see `secret`)")
    get = add_action(actions, "get", "print one setting", get_setting)
    get.add_argument("key", help="dotted key, e.g. comfyui.url")
    put = add_action(actions, "set", "change one setting and save", set_setting)
    put.add_argument("key")
    put.add_argument("value")
    add_action(actions, "list", "print every setting", list_settings)


def get_setting(studio: Studio, args: argparse.Namespace) -> int:
    value = _get(studio, args.key)
    if args.json:
        print_json({"key": args.key, "value": value})
    else:
        print(text(value))
    return EXIT_OK


def set_setting(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.settings_file import shown_lost
    try:
        studio.settings.set(args.key, args.value)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    lost = [key for key in studio.settings_read.lost if key != args.key]
    kept = studio.save_settings()
    value = studio.settings.get(args.key)
    if args.json:
        print_json({"key": args.key, "value": value, "damaged_copy": str(kept) if kept else None})
    else:
        say(f"{args.key} = {text(value)}")
    if kept is not None:  # on stderr beside the warning that named the damage
        note(f"repaired {studio.paths.settings_file}; the damaged file is kept as {kept.name}"
             + (f"; at their defaults now: {', '.join(map(shown_lost, lost))}" if lost else ""))
    return EXIT_OK


def list_settings(studio: Studio, args: argparse.Namespace) -> int:
    keys = studio.settings.keys()  # Settings is not a mapping; keys() lists 'section.name'
    values = {key: studio.settings.get(key) for key in keys}
    if args.json:
        print_json(values)
    else:
        width = max(len(k) for k in values)
        for key, value in values.items():
            say(f"{key.ljust(width)}  {text(value)}")
        print(f"(file: {studio.paths.settings_file})")
    return EXIT_OK


def _get(studio: Studio, key: str) -> object:
    try:
        return studio.settings.get(key)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
