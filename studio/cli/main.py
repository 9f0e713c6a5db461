"""Parses the command line and runs one verb; every error a user can cause is one line.

Building the parser loads no engine: `--version` and `--help` answer at once, and each verb's
handler loads only what it uses (tests/cli/test_cli_start.py keeps it so). A simple read verb
(`workspace list`) of a solo studio is answered from its SQLite file without SQLAlchemy by its
``quick`` handler; where that cannot be sure of the answer, the full way gives it.
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from studio.cli import (
    api,
    comfy,
    dataset,
    doctor,
    export,
    generate,
    influencer,
    jobs,
    plan,
    publish,
    secret,
    server,
    settings,
    spend,
    train,
    trash,
    video,
    worker,
    workspace,
)
from studio.cli.common import EXIT_CANCELED, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Parser, UsageError, global_options
from studio.cli.output import UploadNotes, note
from studio.engine.errors import InvalidInput, StudioError

if TYPE_CHECKING:
    from studio.engine.core import Studio

__all__ = ["EXIT_CANCELED", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

VERB_GROUPS = (workspace, influencer, dataset, train, jobs, comfy, generate, video, export, plan,
               publish, spend, settings, secret, trash, doctor, worker, server, api)


class _Version(argparse.Action):
    """--version, looked up only when asked for (reading the package metadata is slow)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from studio import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="influencerai-studio", parents=[global_options(suppress=False)],
                    description="InfluencerAI Studio: datasets, LoRA training, generation, video, "
                                "plans. Without a verb, the app starts.",
                    epilog="--data-dir and --json work before or after the verb. Exit codes: "
                           "0 done, 1 failed, 2 usage error, 130 canceled.")
    parser.add_argument("--version", action=_Version, nargs=0, default=argparse.SUPPRESS,
                        help="show program's version number and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for group in VERB_GROUPS:
        group.register(verbs)
    return parser


def _app(args: argparse.Namespace) -> int:
    # The app's collector turns automatic collection off once its QApplication exists (see
    # studio.ui.collector). Off from here, the imports before it, which build only long-lived
    # modules and classes, no longer pay for full collections: about 200 ms of a start here.
    gc.disable()
    from studio.ui.app import run_app
    return run_app(data_dir=args.data_dir)


def _quick(args: argparse.Namespace) -> int | None:
    """A read verb answered from a solo studio's SQLite file without SQLAlchemy (the verb's
    ``quick`` handler, db/quick_read.py); None when the verb or this studio needs the full way."""
    quick = getattr(args, "quick_func", None)
    if quick is None:
        return None
    from studio.engine.db.quick_read import solo_profile
    from studio.engine.logs import setup_logging

    profile = solo_profile(args.data_dir)
    if profile is None:
        return None
    # As the full way does (which sets it up again when the quick way declines): a bug below is
    # logged there, not shown as a traceback on stderr.
    setup_logging(profile.paths.logs_dir, process=getattr(args, "log_process", "cli"))
    answer: int | None = quick(profile, args)
    return answer


def _run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from studio.engine.core import Studio
    from studio.engine.disk_errors import disk_error
    from studio.engine.jobs.inputs import reporting_uploads
    from studio.engine.logs import setup_logging

    studio = Studio.open(args.data_dir)
    try:
        for problem in studio.settings_read.problems:  # the verb goes on with defaults for those
            note(f"warning: {problem}")
        setup_logging(studio.paths.logs_dir, process=getattr(args, "log_process", "cli"))
        with reporting_uploads(UploadNotes()):  # team mode sends desk files before a job
            return int(args.func(studio, args) or EXIT_OK)
    except (OSError, SQLAlchemyError) as exc:  # a read-only or full data folder: one plain line
        plain = disk_error(exc, studio.paths.data_dir)
        if plain is None:
            raise
        raise plain from exc
    finally:
        _release_comfyui(studio)  # a ComfyUI this command started is not left behind
        studio.close()


def _release_comfyui(studio: Studio) -> None:
    # Every ComfyUI this process owns is registered in the supervisor module; a verb that never
    # loaded it owns none, and skips loading the worker to find that out.
    if "studio.engine.comfyui.supervisor" in sys.modules:
        from studio.engine.worker.comfyui_owner import release_local_comfyui

        release_local_comfyui(studio.paths)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.verb is None:
            return _app(args)
        code = _quick(args)
        if code is None:
            code = _run(args)
        sys.stdout.flush()  # here, not at exit: a reader gone by now (`… | head -1`) is caught below
        return code
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except (UsageError, InvalidInput) as exc:
        note(f"error: {exc}")  # note() redacts and escapes: a message may quote a name or a server
        return EXIT_USAGE
    except StudioError as exc:
        note(f"error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("canceled", file=sys.stderr)
        return EXIT_CANCELED
    except BrokenPipeError:  # the reader went away (`… | head`): nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush is quiet
        return EXIT_OK
    except Exception as exc:  # last resort: a bug still prints one line, details go to the log
        logging.getLogger("studio.cli").exception("unexpected error")
        note(f"error: unexpected {type(exc).__name__}: {exc} (details in the log folder)")
        return EXIT_FAILED
