"""``api serve`` and ``api token create|list|revoke``: the local HTTP API and its bearer tokens.
``api webhook …`` comes from api_webhook."""
from __future__ import annotations

import argparse

from studio.cli import api_webhook
from studio.cli.common import add_group


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "api", "the local HTTP API: serve it, its tokens and webhooks")
    api_webhook.register(actions)
