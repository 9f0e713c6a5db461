"""``api token create|list|revoke`` and ``api serve``'s refusals, in process; serving itself is
driven over HTTP in tests/engine/api/test_serve.py."""
from __future__ import annotations

from studio.engine.api.tokens import PREFIX, verify_token
from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line


def test_a_token_is_shown_once_and_works(cli: Cli, studio: Studio) -> None:
    made = cli("api", "token", "create", "n8n")
    assert made.code == 0, made.err
    token = made.out.strip()
    assert token.startswith(PREFIX)
    assert "shown only now" in made.err
    caller = verify_token(studio.db, token)
    assert caller is not None and caller.workspace_id == studio.workspace().id and not caller.read_only
    listed = cli("api", "token", "list")
    assert "n8n" in listed.out and "read-write" in listed.out and token not in listed.out


def test_read_only_tokens_workspaces_and_json(cli: Cli, studio: Studio) -> None:
    default = studio.workspace().name
    assert cli("workspace", "create", "Agency").code == 0
    made = cli("api", "token", "create", "reports", "--read-only", "--workspace", "Agency", "--json").json()
    assert (made["name"], made["workspace"], made["read_only"]) == ("reports", "Agency", True)
    caller = verify_token(studio.db, made["token"])
    assert caller is not None and caller.read_only and caller.workspace_id == studio.workspace("Agency").id
    listed = cli("api", "token", "list", "--workspace", "Agency", "--json").json()
    assert [(t["name"], t["read_only"], t["last_used_at"] is not None) for t in listed] == [("reports", True, True)]
    assert "token" not in listed[0]
    assert cli("api", "token", "list", "--workspace", default, "--json").json() == []  # its own tokens only


def test_revoke_ends_a_token(cli: Cli, studio: Studio) -> None:
    token = cli("api", "token", "create", "n8n").out.strip()
    again = cli("api", "token", "create", "n8n")
    assert again.code != 0 and "exists" in one_error_line(again.err)
    done = cli("api", "token", "revoke", "n8n")
    assert done.code == 0 and "revoked" in done.out
    assert verify_token(studio.db, token) is None
    missing = cli("api", "token", "revoke", "n8n")
    assert missing.code == 1 and "No API token named 'n8n'" in one_error_line(missing.err)


def test_serve_refuses_the_network_without_tls_or_insecure(cli: Cli) -> None:
    refused = cli("api", "serve", "--host", "192.0.2.10", "--port", "0")
    assert refused.code != 0
    assert "--insecure" in one_error_line(refused.err)
    bad = cli("api", "serve", "--port", "99999")
    assert bad.code != 0 and "not a port" in one_error_line(bad.err)
