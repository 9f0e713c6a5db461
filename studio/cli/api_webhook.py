"""``api webhook add|list|remove|deliveries``: URLs told of the studio's events, signed."""
from __future__ import annotations

import argparse


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``webhook`` action group to ``api``."""
