"""/influencers: the influencer verbs over HTTP, in-process."""
from __future__ import annotations

from fastapi.testclient import TestClient

from studio.engine import influencers
from studio.engine.core import Studio
from tests.engine.api.conftest import Tokens, bearer


def test_create_show_update_and_delete(client: TestClient, studio: Studio, tokens: Tokens) -> None:
    made = client.post("/influencers", json={"name": " Mia ", "trigger_word": "mia", "topics": ["fit"]})
    assert made.status_code == 201
    mia = made.json()
    assert (mia["name"], mia["trigger_word"], mia["topics"], mia["version"]) == ("Mia", "mia", ["fit"], 1)
    assert client.get(f"/influencers/{mia['id']}").json()["name"] == "Mia"
    assert client.get("/influencers/Mia").json()["id"] == mia["id"]  # by name, as the CLI
    changed = client.patch(f"/influencers/{mia['id']}", json={"tone": "warm", "version": 1})
    assert changed.status_code == 200
    assert (changed.json()["tone"], changed.json()["trigger_word"], changed.json()["version"]) == ("warm", "mia", 2)
    # the engine saw the same change the CLI would make
    assert influencers.get_influencer(studio, tokens.workspace_id, "Mia").tone == "warm"
    assert client.delete(f"/influencers/{mia['id']}").status_code == 200
    assert client.get("/influencers").json() == []
    assert client.get(f"/influencers/{mia['id']}").status_code == 404


def test_a_stale_version_is_a_conflict(client: TestClient) -> None:
    mia = client.post("/influencers", json={"name": "Mia"}).json()
    assert client.patch(f"/influencers/{mia['id']}", json={"tone": "a"}).status_code == 200
    stale = client.patch(f"/influencers/{mia['id']}", json={"tone": "b", "version": 1})
    assert stale.status_code == 409
    assert client.get(f"/influencers/{mia['id']}").json()["tone"] == "a"


def test_validation_errors_name_the_field(client: TestClient) -> None:
    missing = client.post("/influencers", json={"trigger_word": "x"})
    assert missing.status_code == 422
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", "name"]]
    unknown = client.post("/influencers", json={"name": "Mia", "colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "colour"]


def test_a_taken_name_is_refused_in_one_line(client: TestClient) -> None:
    assert client.post("/influencers", json={"name": "Mia"}).status_code == 201
    again = client.post("/influencers", json={"name": "Mia"})
    assert again.status_code == 409
    assert "Mia" in again.json()["detail"] and "\n" not in again.json()["detail"]


def test_a_read_only_token_reads_but_never_writes(client: TestClient, tokens: Tokens) -> None:
    mia = client.post("/influencers", json={"name": "Mia"}).json()
    reader = bearer(tokens.reader)
    assert client.get(f"/influencers/{mia['id']}", headers=reader).status_code == 200
    assert client.post("/influencers", json={"name": "Zoe"}, headers=reader).status_code == 403
    assert client.patch(f"/influencers/{mia['id']}", json={"tone": "x"}, headers=reader).status_code == 403
    assert client.delete(f"/influencers/{mia['id']}", headers=reader).status_code == 403
    assert [i["name"] for i in client.get("/influencers").json()] == ["Mia"]


def test_a_revoked_token_is_refused(client: TestClient, studio: Studio, tokens: Tokens) -> None:
    from studio.engine.api.tokens import revoke_token

    assert client.get("/influencers").status_code == 200
    revoke_token(studio.db, tokens.workspace_id, "rw")
    assert client.get("/influencers").status_code == 401
