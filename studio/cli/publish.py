"""``publish connect|accounts|post|status``: posting plan items through the platforms' APIs."""
from __future__ import annotations

import argparse

from studio.cli.common import add_group


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_group(verbs, "publish", "post plan items to Instagram, TikTok and YouTube")
