"""``doctor``: what works here and what to do about what does not. A report: exit 0."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio.cli.common import COMMON, EXIT_OK
from studio.cli.output import print_json, say

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = verbs.add_parser("doctor", parents=[COMMON], help="check this machine's setup",
                              description="Check Python, Qt, GPU, ComfyUI, sd-scripts, FFmpeg, "
                                          "secrets, database, disk space and the worker.")
    parser.add_argument("--quick", action="store_true", help="skip the slow checks (GPU)")
    parser.set_defaults(func=doctor)


def doctor(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.doctor import run_checks
    checks = run_checks(studio, quick=args.quick)
    if args.json:
        print_json(checks)
        return EXIT_OK
    width = max(len(c.label) for c in checks)
    for check in checks:
        say(f"{check.status:<8}{check.label.ljust(width)}  {check.detail}")
        if check.fix:
            say(f"{'':<8}{'':<{width}}  fix: {check.fix}")
    return EXIT_OK
