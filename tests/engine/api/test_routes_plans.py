"""/plans over the real app (TestClient): a plan written by the LLM stand-in through the API,
its items read, edited and approved, production started; budget, validation and workspace walls."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from studio.engine.api.app import create_app
from studio.engine.api.tokens import create_token
from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.budget import set_budget
from tests.engine.plans.helpers import make_mia, plan_answer, run
from tests.fakes.openai_server import FakeOpenAI

START = date(2026, 12, 1)


@pytest.fixture
def api(studio: Studio) -> Iterator[TestClient]:
    token = create_token(studio.db, studio.workspace().id, "tests")
    with TestClient(create_app(studio), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


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


def stranger(studio: Studio) -> dict[str, str]:
    """The headers of a token of another workspace of the same studio."""
    other = studio.workspace("Elsewhere", create=True)
    return {"Authorization": f"Bearer {create_token(studio.db, other.id, 'theirs')}"}


def made_plan(api: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI, days: int = 2) -> str:
    """A plan generated through POST /plans, its job run here as a worker would; its id."""
    llm.success_json(plan_answer(START, days))
    answer = api.post("/plans", json={"influencer_id": str(mia.id), "start": START.isoformat(),
                                      "days": days, "platforms": ["instagram"]})
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert (queued["type"], queued["status"]) == ("generate-plan", JobStatus.PENDING)
    done = run(studio, studio.jobs.get(mia.workspace_id, queued["id"]))
    assert done.status == JobStatus.COMPLETED, done.error
    return str((done.result or {})["plan_id"])


def test_a_plan_is_generated_listed_edited_approved_and_run(api: TestClient, studio: Studio,
                                                            mia: Influencer, llm: FakeOpenAI) -> None:
    plan_id = made_plan(api, studio, mia, llm)
    [listed] = api.get("/plans").json()
    assert (listed["id"], listed["influencer"], listed["items"], listed["approved"]) == (plan_id, "Mia", 2, 0)
    shown = api.get(f"/plans/{plan_id}").json()
    assert [i["status"] for i in shown["item_list"]] == ["draft", "draft"]
    first, second = api.get(f"/plans/{plan_id}/items").json()
    assert first["scheduled_at"] < second["scheduled_at"] and first["hashtags"]

    edited = api.patch(f"/plans/items/{first['id']}", json={"hook": "A new hook", "hashtags": ["a", "#b"],
                                                            "version": first["version"]})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["hook"], edited.json()["hashtags"]) == ("A new hook", ["#a", "#b"])
    stale = api.patch(f"/plans/items/{first['id']}", json={"hook": "x", "version": first["version"]})
    assert stale.status_code == 409 and "changed elsewhere" in stale.json()["detail"]

    approved = api.post(f"/plans/{plan_id}/approve", json={"item_ids": [first["id"]]}).json()
    assert [i["status"] for i in approved] == ["approved"]
    assert api.get(f"/plans/items/{second['id']}").json()["status"] == "draft"
    run_answer = api.post(f"/plans/{plan_id}/run", json={})
    assert run_answer.status_code == 202, run_answer.text
    [job] = run_answer.json()["jobs"]
    assert (job["type"], job["status"], job["payload"]["item_id"]) == ("run-pipeline", "pending", first["id"])
    assert api.get(f"/plans/items/{first['id']}").json()["status"] == "producing"
    pipeline = api.get(f"/plans/items/{first['id']}/pipeline").json()
    assert pipeline["state"] == "running"
    assert [s["name"] for s in pipeline["steps"]] == ["image", "export", "publish"]
    again = api.post(f"/plans/items/{first['id']}/run")
    assert again.status_code == 422 and again.json()["detail"] == "This post's pipeline is already running."
    nothing = api.post(f"/plans/{plan_id}/run", json={"item_ids": [second["id"]]})
    assert nothing.status_code == 422
    assert nothing.json()["detail"] == ("Nothing of this plan can be produced: Only an approved post can "
                                        "be produced; this one is draft.")


def test_approve_without_ids_takes_the_whole_plan_and_undo_sets_it_back(
        api: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    plan_id = made_plan(api, studio, mia, llm, days=3)
    assert [i["status"] for i in api.post(f"/plans/{plan_id}/approve", json={}).json()] == ["approved"] * 3
    assert api.get("/plans").json()[0]["approved"] == 3
    undone = api.post(f"/plans/{plan_id}/approve", json={"undo": True}).json()
    assert [i["status"] for i in undone] == ["draft"] * 3


def test_another_workspace_sees_nothing_of_the_plan(api: TestClient, studio: Studio, mia: Influencer,
                                                   llm: FakeOpenAI) -> None:
    plan_id = made_plan(api, studio, mia, llm)
    item_id = api.get(f"/plans/{plan_id}/items").json()[0]["id"]
    theirs = stranger(studio)
    assert api.get("/plans", headers=theirs).json() == []
    for method, path, body in (("GET", f"/plans/{plan_id}", None), ("GET", f"/plans/{plan_id}/items", None),
                               ("GET", f"/plans/items/{item_id}", None),
                               ("PATCH", f"/plans/items/{item_id}", {"hook": "mine now"}),
                               ("POST", f"/plans/{plan_id}/approve", {}),
                               ("POST", f"/plans/{plan_id}/run", {}),
                               ("POST", f"/plans/items/{item_id}/run", None),
                               ("POST", "/plans", {"influencer_id": str(mia.id), "start": "2026-12-01",
                                                   "days": 1})):
        answer = api.request(method, path, json=body, headers=theirs)
        assert answer.status_code == 404, (method, path, answer.text)
    assert api.get(f"/plans/items/{item_id}").json()["hook"] != "mine now"
    other_item = str(uuid.uuid4())
    refused = api.post(f"/plans/{plan_id}/approve", json={"item_ids": [other_item]})
    assert refused.status_code == 404 and other_item in refused.json()["detail"]


def test_bad_input_is_422_with_the_field_names(api: TestClient, mia: Influencer) -> None:
    answer = api.post("/plans", json={"influencer_id": "not-an-id", "start": "soon", "days": 0,
                                      "platforms": ["myspace"], "colour": "red"})
    assert answer.status_code == 422
    fields = {tuple(e["loc"][1:]) for e in answer.json()["detail"]}
    assert fields >= {("influencer_id",), ("start",), ("days",), ("platforms", 0), ("colour",)}
    assert api.get("/plans/items/123").status_code == 422
    empty = api.patch(f"/plans/items/{uuid.uuid4()}", json={})
    assert empty.status_code == 422 and empty.json()["detail"].startswith("Nothing to change")


def test_a_used_up_budget_refuses_the_plan_before_anything_is_queued(
        api: TestClient, studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    set_budget(studio.db, mia.workspace_id, 0.0)
    answer = api.post("/plans", json={"influencer_id": str(mia.id), "start": START.isoformat(), "days": 1})
    assert answer.status_code == 409
    assert "budget" in answer.json()["detail"] and "used up" in answer.json()["detail"]
    assert studio.jobs.list(mia.workspace_id) == []


def test_a_read_only_token_reads_but_changes_nothing(api: TestClient, studio: Studio, mia: Influencer,
                                                     llm: FakeOpenAI) -> None:
    plan_id = made_plan(api, studio, mia, llm)
    reader = {"Authorization": f"Bearer {create_token(studio.db, mia.workspace_id, 'ro', read_only=True)}"}
    assert api.get(f"/plans/{plan_id}/items", headers=reader).status_code == 200
    assert api.post(f"/plans/{plan_id}/approve", json={}, headers=reader).status_code == 403
    assert api.get(f"/plans/{plan_id}").json()["approved"] == 0
