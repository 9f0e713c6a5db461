"""``secret set|delete|list``: API keys and passwords, read from stdin and never echoed."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import print_json, print_table
from studio.engine.secret_names import KNOWN_SECRETS

if TYPE_CHECKING:
    from studio.engine.core import Studio

_MAX_VALUE = 64 * 1024  # far beyond any key or password; a larger pipe is not a secret


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    names = ", ".join(KNOWN_SECRETS)
    actions = add_group(verbs, "secret", f"store API keys and passwords ({names})")
    put = add_action(actions, "set", "store a secret; the value is read from standard input",
                     set_secret)
    put.add_argument("name", help=names)
    delete = add_action(actions, "delete", "remove a stored secret", delete_secret)
    delete.add_argument("name", help=names)
    add_action(actions, "list", "which secrets are set, and where they are kept", list_secrets)


def set_secret(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.secrets import env_name, value_problem
    name = _known(args.name)
    value = _read_value(name)
    if not value:
        raise UsageError("No value given; nothing stored.")
    if len(value) > _MAX_VALUE:
        raise UsageError(f"'{name}' was not stored: more than {_MAX_VALUE // 1024} KB came in, "
                         "which is no key or password.")
    problem = value_problem(value)
    if problem:
        raise UsageError(f"'{name}' was not stored: a secret {problem}.")
    studio.secrets.set(name, value)
    info = studio.secrets.info()
    print(f"stored '{name}' in the {info.description}")
    if os.environ.get(env_name(name), "").strip():
        print(f"note: {env_name(name)} is set and overrides the stored value", file=sys.stderr)
    return EXIT_OK


def delete_secret(studio: Studio, args: argparse.Namespace) -> int:
    name = _known(args.name)
    studio.secrets.delete(name)
    print(f"deleted '{name}'")
    return EXIT_OK


def list_secrets(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.secrets import env_is_empty, env_name
    info = studio.secrets.info()
    rows = [{"name": n, "set": studio.secrets.get(n) is not None,
             "from_environment": bool(os.environ.get(env_name(n), "").strip()),
             "environment_empty": env_is_empty(n)} for n in KNOWN_SECRETS]
    if args.json:
        print_json({"backend": info.kind, "description": info.description, "secrets": rows})
        return EXIT_OK
    print_table(["name", "state"],
                [[r["name"], _state(r)] for r in rows])
    print(f"kept in: {info.description}")
    return EXIT_OK


def _state(row: dict[str, object]) -> str:
    from studio.engine.secrets import env_name
    variable = env_name(str(row["name"]))
    if row["from_environment"]:
        return f"set (from {variable})"
    state = "set" if row["set"] else "not set"
    return f"{state} ({variable} is empty, so it is ignored)" if row["environment_empty"] else state


def _known(name: str) -> str:
    if name not in KNOWN_SECRETS:
        raise UsageError(f"Unknown secret '{name}'; known: {', '.join(KNOWN_SECRETS)}.")
    return name


def _read_value(name: str) -> str:
    """A terminal gets a prompt without echo; a pipe gives all it holds, so that a value of
    several lines is refused rather than cut to its first (one final line break is dropped)."""
    from studio.engine.secrets import one_line
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Value for {name} (not shown): ")
    return one_line(sys.stdin.read(_MAX_VALUE + 1)) if sys.stdin is not None else ""
