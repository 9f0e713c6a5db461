"""/publish over the real app (TestClient): accounts, posting an item as a job (once per
platform), its status per platform; read-only tokens and other workspaces kept out."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from studio.engine.core import Studio
from tests.conftest import run_next_task
from tests.engine.api.conftest import Tokens, bearer
from tests.engine.publish.produced import ScriptedPlatform, connect_account, produced_item


@pytest.fixture
def platform(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> ScriptedPlatform:
    scripted = ScriptedPlatform()
    monkeypatch.setattr("studio.engine.publish.clients.client_for", lambda _studio, _account: scripted)
    connect_account(studio)
    return scripted


def test_an_item_is_posted_once_through_the_api(client: TestClient, studio: Studio,
                                                platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    queued = client.post(f"/publish/items/{item.id}")
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert (job["type"], job["status"], job["payload"]["platform"]) == ("publish-post", "pending", "instagram")
    busy = client.post(f"/publish/items/{item.id}", json={"platform": "instagram"})
    assert busy.status_code == 409 and busy.json() == {"detail": "Already being posted to Instagram."}
    run_next_task(studio, "general")
    [post] = client.get(f"/publish/items/{item.id}").json()
    assert (post["platform"], post["status"], post["url"]) == (
        "instagram", "published", "https://www.instagram.com/p/C0ffee/")
    assert post["job_id"] == job["id"] and post["published_at"]
    again = client.post(f"/publish/items/{item.id}")
    assert again.status_code == 409
    assert again.json()["detail"] == "Already published on Instagram: https://www.instagram.com/p/C0ffee/"
    assert len(platform.posts) == 1


def test_accounts_are_listed_without_their_tokens(client: TestClient, studio: Studio) -> None:
    connect_account(studio, "youtube", name="Mira Travels")
    [account] = client.get("/publish/accounts").json()
    assert (account["platform"], account["name"], account["scopes"]) == ("youtube", "Mira Travels", ["publish"])
    assert set(account) == {"platform", "account_id", "name", "scopes", "expires_at", "connected_at"}


def test_refusals_are_plain(client: TestClient, studio: Studio, tokens: Tokens, platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    read_only = client.post(f"/publish/items/{item.id}", headers=bearer(tokens.reader))
    assert read_only.status_code == 403
    elsewhere = client.get(f"/publish/items/{item.id}", headers=bearer(tokens.other))
    assert elsewhere.status_code == 404
    assert client.post(f"/publish/items/{item.id}", headers=bearer(tokens.other)).status_code == 404
    no_account = client.post(f"/publish/items/{item.id}", json={"platform": "tiktok"})
    assert no_account.status_code == 422
    assert no_account.json()["detail"].startswith("No TikTok account is connected")
    assert client.post(f"/publish/items/{item.id}", json={"platform": "myspace"}).status_code == 422
    assert client.get(f"/publish/items/{item.id}").json() == []
