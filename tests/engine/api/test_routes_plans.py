"""/plans over the real app (TestClient): a plan written by the LLM stand-in through the API,
its items read, edited and approved, production started; budget, validation and workspace walls."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.budget import set_budget
from tests.engine.api.conftest import Tokens, bearer
from tests.engine.plans.helpers import make_mia, plan_answer, run
from tests.fakes.openai_server import FakeOpenAI

START = date(2026, 12, 1)


@pytest.fixture
def llm(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.plan_model = "openai/gpt-4o-mini"
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-api-test")
        yield fake


@pytest.fixture
def mia(studio: Studio) -> Influencer:
    return make_mia(studio)


def made_plan(client: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI, days: int = 2) -> str:
    """A plan generated through POST /plans, its job run here as a worker would; its id."""
    llm.success_json(plan_answer(START, days))
    answer = client.post("/plans", json={"influencer_id": str(mia.id), "start": START.isoformat(),
                                      "days": days, "platforms": ["instagram"]})
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert (queued["type"], queued["status"]) == ("generate-plan", JobStatus.PENDING)
    done = run(studio, studio.jobs.get(mia.workspace_id, queued["id"]))
    assert done.status == JobStatus.COMPLETED, done.error
    return str((done.result or {})["plan_id"])


def test_a_plan_is_generated_listed_edited_approved_and_run(client: TestClient, studio: Studio,
                                                            mia: Influencer, llm: FakeOpenAI) -> None:
    plan_id = made_plan(client, studio, mia, llm)
    [listed] = client.get("/plans").json()
    assert (listed["id"], listed["influencer"], listed["items"], listed["approved"]) == (plan_id, "Mia", 2, 0)
    shown = client.get(f"/plans/{plan_id}").json()
    assert [i["status"] for i in shown["item_list"]] == ["draft", "draft"]
    first, second = client.get(f"/plans/{plan_id}/items").json()
    assert first["scheduled_at"] < second["scheduled_at"] and first["hashtags"]

    edited = client.patch(f"/plans/items/{first['id']}", json={"hook": "A new hook", "hashtags": ["a", "#b"],
                                                            "version": first["version"]})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["hook"], edited.json()["hashtags"]) == ("A new hook", ["#a", "#b"])
    stale = client.patch(f"/plans/items/{first['id']}", json={"hook": "x", "version": first["version"]})
    assert stale.status_code == 409 and "changed elsewhere" in stale.json()["detail"]

    approved = client.post(f"/plans/{plan_id}/approve", json={"item_ids": [first["id"]]}).json()
    assert [i["status"] for i in approved] == ["approved"]
    assert client.get(f"/plans/items/{second['id']}").json()["status"] == "draft"
    run_answer = client.post(f"/plans/{plan_id}/run")  # no body: every approved item
    assert run_answer.status_code == 202, run_answer.text
    [job] = run_answer.json()["jobs"]
    assert (job["type"], job["status"], job["payload"]["item_id"]) == ("run-pipeline", "pending", first["id"])
    assert client.get(f"/plans/items/{first['id']}").json()["status"] == "producing"
    pipeline = client.get(f"/plans/items/{first['id']}/pipeline").json()
    assert pipeline["state"] == "running"
    assert [s["name"] for s in pipeline["steps"]] == ["image", "export", "publish"]
    again = client.post(f"/plans/items/{first['id']}/run")
    assert again.status_code == 422 and again.json()["detail"] == "This post's pipeline is already running."
    nothing = client.post(f"/plans/{plan_id}/run", json={"item_ids": [second["id"]]})
    assert nothing.status_code == 422
    assert nothing.json()["detail"] == ("Nothing of this plan can be produced: Only an approved post can "
                                        "be produced; this one is draft.")


def test_approve_without_ids_takes_the_whole_plan_and_undo_sets_it_back(
        client: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    plan_id = made_plan(client, studio, mia, llm, days=3)
    assert [i["status"] for i in client.post(f"/plans/{plan_id}/approve").json()] == ["approved"] * 3
    assert client.get("/plans").json()[0]["approved"] == 3
    undone = client.post(f"/plans/{plan_id}/approve", json={"undo": True}).json()
    assert [i["status"] for i in undone] == ["draft"] * 3


def test_another_workspace_sees_nothing_of_the_plan(client: TestClient, studio: Studio, mia: Influencer,
                                                   llm: FakeOpenAI, tokens: Tokens) -> None:
    plan_id = made_plan(client, studio, mia, llm)
    item_id = client.get(f"/plans/{plan_id}/items").json()[0]["id"]
    theirs = bearer(tokens.other)
    assert client.get("/plans", headers=theirs).json() == []
    assert client.get("/plans", params={"influencer_id": str(mia.id)}, headers=theirs).status_code == 404
    for method, path, body in (("GET", f"/plans/{plan_id}", None), ("GET", f"/plans/{plan_id}/items", None),
                               ("GET", f"/plans/items/{item_id}", None),
                               ("PATCH", f"/plans/items/{item_id}", {"hook": "mine now"}),
                               ("POST", f"/plans/{plan_id}/approve", {}),
                               ("POST", f"/plans/{plan_id}/run", {}),
                               ("POST", f"/plans/items/{item_id}/run", None),
                               ("POST", "/plans", {"influencer_id": str(mia.id), "start": "2026-12-01",
                                                   "days": 1})):
        answer = client.request(method, path, json=body, headers=theirs)
        assert answer.status_code == 404, (method, path, answer.text)
    assert client.get(f"/plans/items/{item_id}").json()["hook"] != "mine now"
    other_item = str(uuid.uuid4())
    refused = client.post(f"/plans/{plan_id}/approve", json={"item_ids": [other_item]})
    assert refused.status_code == 404 and other_item in refused.json()["detail"]


def test_bad_input_is_422_with_the_field_names(client: TestClient, mia: Influencer) -> None:
    answer = client.post("/plans", json={"influencer_id": "not-an-id", "start": "soon", "days": 0,
                                      "platforms": ["myspace"], "colour": "red"})
    assert answer.status_code == 422
    fields = {tuple(e["loc"][1:]) for e in answer.json()["detail"]}
    assert fields >= {("influencer_id",), ("start",), ("days",), ("platforms", 0), ("colour",)}
    assert client.get("/plans/items/123").status_code == 422
    empty = client.patch(f"/plans/items/{uuid.uuid4()}", json={})
    assert empty.status_code == 422 and empty.json()["detail"].startswith("Nothing to change")


def test_a_used_up_budget_refuses_the_plan_before_anything_is_queued(
        client: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    set_budget(studio.db, mia.workspace_id, 0.0)
    answer = client.post("/plans", json={"influencer_id": str(mia.id), "start": START.isoformat(), "days": 1})
    assert answer.status_code == 409
    assert "budget" in answer.json()["detail"] and "used up" in answer.json()["detail"]
    assert studio.jobs.list(mia.workspace_id) == []


def test_a_read_only_token_reads_but_changes_nothing(client: TestClient, studio: Studio, mia: Influencer,
                                                     llm: FakeOpenAI, tokens: Tokens) -> None:
    plan_id = made_plan(client, studio, mia, llm)
    reader = bearer(tokens.reader)
    assert client.get(f"/plans/{plan_id}/items", headers=reader).status_code == 200
    assert client.post(f"/plans/{plan_id}/approve", json={}, headers=reader).status_code == 403
    assert client.get(f"/plans/{plan_id}").json()["approved"] == 0


def test_the_openapi_document_describes_the_plan_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    generate = document["paths"]["/plans"]["post"]
    assert generate["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PlanIn")
    assert {"202", "404", "409", "422"} <= set(generate["responses"])
    assert "409" in document["paths"]["/plans/items/{item_id}"]["patch"]["responses"]
    assert {"influencer_id", "start", "days", "platforms", "per_day", "brief"} <= set(
        document["components"]["schemas"]["PlanIn"]["properties"])
    assert {"/plans/{plan_id}/items", "/plans/{plan_id}/approve", "/plans/{plan_id}/run",
            "/plans/items/{item_id}", "/plans/items/{item_id}/pipeline"} <= set(document["paths"])


def test_what_a_pipeline_made_is_listed_and_downloaded_but_only_from_the_asset_store(
        client: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI, tokens: Tokens,
        tmp_path: Path) -> None:
    plan_id = made_plan(client, studio, mia, llm, days=1)
    [item] = client.get(f"/plans/{plan_id}/items").json()
    picture = studio.asset_path(f"images/{tokens.workspace_id}/made/post.png")
    picture.parent.mkdir(parents=True)
    picture.write_bytes(b"\x89PNG a picture")
    outside = tmp_path / "elsewhere.jpg"
    outside.write_bytes(b"not the studio's")
    with studio.db.session() as session:  # as the pipeline records its steps (pipelines/run.py)
        repo = Repository(session, tokens.workspace_id)
        repo.update(repo.get(PlanItem, item["id"]), pipeline={
            "image": {"done": True, "files": [str(picture)], "detail": "post.png"},
            "export": {"done": True, "files": [str(outside)], "detail": "instagram-feed-4x5"}})
    steps = {s["name"]: s for s in client.get(f"/plans/items/{item['id']}/pipeline").json()["steps"]}
    assert (steps["image"]["status"], steps["publish"]["status"]) == ("done", "waiting")
    [made] = steps["image"]["files"]
    assert made == {"name": "post.png", "url": f"/plans/items/{item['id']}/files/image/0"}
    download = client.get(made["url"])
    assert download.status_code == 200 and download.content == b"\x89PNG a picture"
    assert client.get(steps["export"]["files"][0]["url"]).status_code == 404
    assert client.get(f"/plans/items/{item['id']}/files/image/1").status_code == 404
    assert client.get(made["url"], headers=bearer(tokens.other)).status_code == 404
    assert str(tmp_path) not in client.get(f"/plans/items/{item['id']}/pipeline").text


def test_an_item_is_written_anew_with_an_instruction(client: TestClient, studio: Studio, mia: Influencer,
                                                    llm: FakeOpenAI) -> None:
    plan_id = made_plan(client, studio, mia, llm, days=1)
    [item] = client.get(f"/plans/{plan_id}/items").json()
    fresh = {k: v for k, v in plan_answer(START, 1)["items"][0].items() if k not in ("date", "time", "platform")}
    llm.success_json({**fresh, "hook": "An evening hook"})
    answer = client.post(f"/plans/items/{item['id']}/regenerate", json={"instruction": "an evening post"})
    assert answer.status_code == 202, answer.text
    assert (answer.json()["type"], answer.json()["payload"]["instruction"]) == ("regenerate-plan-item",
                                                                                "an evening post")
    done = run(studio, studio.jobs.get(mia.workspace_id, answer.json()["id"]))
    assert done.status == JobStatus.COMPLETED, done.error
    assert client.get(f"/plans/items/{item['id']}").json()["hook"] == "An evening hook"
    assert "an evening post" in " ".join(llm.received[-1].text_parts())
