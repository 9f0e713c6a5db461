"""The secrets the studio knows, apart from the store: the command line lists them without
loading the keyring."""
from __future__ import annotations

# The publishing apps' client secrets (where the platform's token endpoint asks for one).
PUBLISH_SECRETS = ("publish.instagram.client_secret", "publish.tiktok.client_secret",
                   "publish.youtube.client_secret")
KNOWN_SECRETS = ("openrouter", "server.postgres", "server.redis", "server.s3", *PUBLISH_SECRETS)
