"""``settings get|set|list``: dotted keys such as comfyui.url; validated, then saved."""
from __future__ import annotations

import argparse

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import print_json, say, text
from studio.engine.core import Studio
from studio.engine.errors import SettingsError


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
    try:
        studio.settings.set(args.key, args.value)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    studio.save_settings()
    value = studio.settings.get(args.key)
    if args.json:
        print_json({"key": args.key, "value": value})
    else:
        say(f"{args.key} = {text(value)}")
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
