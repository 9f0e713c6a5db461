"""The secrets the studio knows, apart from the store: the command line lists them without
loading the keyring."""
from __future__ import annotations

KNOWN_SECRETS = ("openrouter", "server.postgres", "server.redis", "server.s3")
