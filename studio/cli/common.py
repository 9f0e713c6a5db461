"""What every verb module shares: exit codes, the parser class, global options, workspace lookup."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from studio.engine.errors import StudioError

if TYPE_CHECKING:  # the parser is built without the engine; handlers load what they use
    from studio.engine.core import Studio
    from studio.engine.db.models import Workspace
    from studio.engine.db.quick_read import SoloProfile

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELED = 0, 1, 2, 130

Handler: TypeAlias = "Callable[[Studio, argparse.Namespace], int]"
# A read verb's answer from a solo studio's file without the engine (db/quick_read.py); None
# before anything is printed sends the verb the full way, to its Handler.
QuickHandler: TypeAlias = "Callable[[SoloProfile, argparse.Namespace], int | None]"
# A verb group's actions; quoted because argparse's class is not subscriptable at run time.
Actions: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(StudioError):
    """The command line asked for something malformed; exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """--data-dir and --json. Verbs repeat them with suppressed defaults, so they work after the
    verb too without resetting a value given before it."""
    default: object = argparse.SUPPRESS if suppress else None
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--data-dir", default=default, metavar="DIR",
                         help="data folder of this profile (default: the platform's; "
                              "also $INFLUENCERAI_DATA_DIR)")
    options.add_argument("--json", action="store_true",
                         default=argparse.SUPPRESS if suppress else False,
                         help="machine-readable output (JSON on standard output)")
    return options


COMMON = global_options(suppress=True)


def workspace_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--workspace", metavar="NAME",
                         help="workspace to act in (default: the current one, see `workspace use`)")
    return options


SCOPED = workspace_options()


def add_group(verbs: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str,
              ) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """A verb group such as ``workspace``; its actions are added to what this returns."""
    group = verbs.add_parser(name, help=help_, description=help_, parents=[COMMON])
    return group.add_subparsers(dest="action", metavar="ACTION", required=True)


def add_action(actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str,
               func: Handler, *, scoped: bool = False, quick: QuickHandler | None = None,
               ) -> argparse.ArgumentParser:
    parents = [COMMON, SCOPED] if scoped else [COMMON]
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_, description=help_,
                                                         parents=parents)
    parser.set_defaults(func=func, quick_func=quick)  # not "quick": `doctor --quick` has that
    return parser


def workspace_of(studio: Studio, args: argparse.Namespace) -> Workspace:
    """--workspace when given, else the current workspace."""
    return studio.workspace(getattr(args, "workspace", None) or None)
