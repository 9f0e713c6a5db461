"""/jobs and /spend over HTTP, in-process; the queued jobs are run here, as a worker would."""
from __future__ import annotations

from fastapi.testclient import TestClient

from studio.engine.core import Studio
from studio.engine.jobs.status import JobStatus
from tests.conftest import run_next_task
from tests.engine.api.conftest import Tokens, bearer


def _analysis(client: TestClient) -> dict[str, str]:
    """A job: the analysis of an empty dataset (it completes at once when run)."""
    if not client.get("/influencers").json():
        client.post("/influencers", json={"name": "Mia"})
        client.post("/datasets", json={"influencer": "Mia", "name": "main"})
    return dict(client.post("/datasets/main/analyse").json())


def test_wait_answers_202_while_pending_and_the_job_once_finished(client: TestClient, studio: Studio) -> None:
    job = _analysis(client)
    pending = client.get(f"/jobs/{job['id']}/wait", params={"timeout": 0.3})
    assert pending.status_code == 202 and pending.json()["status"] == JobStatus.PENDING
    run_next_task(studio, job["queue"])
    done = client.get(f"/jobs/{job['id'][:8]}/wait", params={"timeout": 5})  # a prefix, as the CLI takes
    assert done.status_code == 200 and done.json()["status"] == JobStatus.COMPLETED
    assert client.get(f"/jobs/{job['id']}/wait", params={"timeout": 301}).status_code == 422


def test_list_filters_by_status_and_type(client: TestClient, studio: Studio) -> None:
    first, second = _analysis(client), _analysis(client)
    run_next_task(studio, first["queue"])
    assert [j["id"] for j in client.get("/jobs").json()] == [second["id"], first["id"]]
    assert [j["id"] for j in client.get("/jobs", params={"status": "completed"}).json()] == [first["id"]]
    assert client.get("/jobs", params={"type": "import-dataset"}).json() == []
    assert len(client.get("/jobs", params={"type": "analyze-dataset", "limit": 1}).json()) == 1
    assert client.get("/jobs", params={"status": "done"}).status_code == 422


def test_cancel_and_retry(client: TestClient, tokens: Tokens) -> None:
    job = _analysis(client)
    assert client.post(f"/jobs/{job['id']}/cancel", headers=bearer(tokens.reader)).status_code == 403
    canceled = client.post(f"/jobs/{job['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == JobStatus.CANCELED
    again = client.post(f"/jobs/{job['id']}/retry")
    assert again.status_code == 202 and again.json()["status"] == JobStatus.PENDING
    refused = client.post(f"/jobs/{job['id']}/retry")  # pending: nothing to retry
    assert refused.status_code == 422 and "can be retried" in refused.json()["detail"]
    assert client.get("/jobs/not-a-job").status_code == 404


def test_spend_and_budget(client: TestClient, tokens: Tokens) -> None:
    spend = client.get("/spend")
    assert spend.status_code == 200
    assert (spend.json()["spent_usd"], spend.json()["budget_usd"], spend.json()["by_model"]) == (0.0, None, [])
    assert client.get("/spend", params={"month": "2026-01"}).json()["month"] == "2026-01"
    assert client.get("/spend", params={"month": "2026-13"}).status_code == 422
    assert client.get("/spend", params={"month": "January"}).status_code == 422
    assert client.put("/spend/budget", json={"usd": 25}, headers=bearer(tokens.reader)).status_code == 403
    budget = client.put("/spend/budget", json={"usd": 25})
    assert budget.status_code == 200 and budget.json()["budget_usd"] == 25
    assert client.get("/spend").json()["budget_usd"] == 25
    assert client.put("/spend/budget", json={"usd": -1}).status_code == 422
    assert client.put("/spend/budget", json={"usd": None}).json()["budget_usd"] is None
