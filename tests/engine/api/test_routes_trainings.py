"""/trainings over the real app (TestClient) against the sd-scripts stand-in: presets, a training
started through the API and run as a worker runs it (status with its loss, checkpoints), a running
training canceled and resumed; refusals, validation and workspace walls."""
from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from studio.engine.jobs.status import JobStatus
from studio.engine.training.command import TrainingFiles
from tests.conftest import wait_until
from tests.engine.api.conftest import Tokens, bearer
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, Setup, no_gpu_here, setup  # noqa: F401 - fixtures


@pytest.fixture
def api(setup: Setup, client: TestClient) -> TestClient:  # noqa: F811 - the fixture imported above
    """The app, with the fake sd-scripts as the setting: the API names no folder of the machine."""
    setup.studio.settings.sdscripts.folder = str(FAKE_SD_SCRIPTS)
    setup.studio.save_settings()
    return client


def body(setup: Setup, **overrides: object) -> dict[str, Any]:  # noqa: F811
    values: dict[str, object] = {"base_model": str(setup.base_model), "max_train_steps": 12,
                                 "save_every_n_steps": 4, "sample_every_n_steps": 6}
    values.update(overrides)
    return {"influencer_id": str(setup.influencer.id), "dataset_id": str(setup.dataset.id),
            "preset": "sd15-fast-test", "overrides": values}


def test_presets_are_listed_by_slug_with_their_settings(api: TestClient) -> None:
    presets = {p["slug"]: p for p in api.get("/trainings/presets").json()}
    assert {"sd15-likeness-12gb", "sdxl-likeness-24gb", "sd15-fast-test"} <= set(presets)
    assert presets["sdxl-likeness-24gb"]["family"] == "sdxl"
    assert "learning_rate" in presets["sd15-fast-test"]["settings"]


def test_a_training_started_through_the_api_runs_and_shows_its_loss_and_checkpoints(
        api: TestClient, setup: Setup, tmp_path: Any) -> None:  # noqa: F811
    answer = api.post("/trainings", json=body(setup, **{"network-dim": 4, "lowram": True}))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["type"], job["queue"], job["status"]) == ("train-lora", "training", JobStatus.PENDING)
    assert job["payload"]["config"]["network_dim"] == 4 and job["payload"]["total_steps"] == 12
    assert [t["id"] for t in api.get("/trainings").json()] == [job["id"]]
    setup.run_next()
    shown = api.get(f"/trainings/{job['id']}").json()
    assert shown["job"]["status"] == JobStatus.COMPLETED, shown["job"]["error"]
    loss = shown["loss"]
    assert (loss["points"], loss["last_step"], loss["total_steps"]) == (12, 12, 12)
    assert loss["min_loss"] <= loss["last_loss"] and len(loss["recent"]) == 12
    assert shown["checkpoints"] == 4
    saved = api.get(f"/trainings/{job['id']}/checkpoints").json()
    assert [(c["kind"], c["step"], c["final"]) for c in saved] == [
        ("step", 4, False), ("step", 8, False), ("step", 12, False), ("final", 12, True)]
    assert saved[-1]["file_name"] == "mia-main-v1.safetensors" and saved[-1]["size_bytes"] > 0
    assert saved[-1]["ss_metadata"]["ss_output_name"] == "mia-main-v1"
    everyone = api.get("/trainings/checkpoints", params={"influencer_id": str(setup.influencer.id)})
    assert [c["id"] for c in everyone.json()] == [c["id"] for c in saved]
    for text in (api.get(f"/trainings/{job['id']}").text, api.get(f"/trainings/{job['id']}/checkpoints").text):
        assert str(setup.studio.paths.data_dir) not in text and str(tmp_path) not in text


def test_a_running_training_is_canceled_and_resumed(api: TestClient, setup: Setup,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_HANG_AT", "6")
    job = api.post("/trainings", json=body(setup, max_train_steps=30)).json()
    files = TrainingFiles(setup.studio.paths.data_dir / "training" / str(setup.workspace_id) / "mia-main-v1")
    runner = threading.Thread(target=setup.run_next)
    runner.start()
    wait_until((files.output_dir / "fake-child.pid").exists, timeout=30, what="the fake trainer to hang")
    canceled = api.post(f"/trainings/{job['id']}/cancel")
    assert canceled.status_code == 200, canceled.text
    runner.join(timeout=30)
    assert not runner.is_alive()
    shown = api.get(f"/trainings/{job['id']}").json()
    assert shown["job"]["status"] == JobStatus.CANCELED and shown["checkpoints"] == 1
    loss = shown["loss"]  # the steps before the hang (the one it hung in may count, as it ended)
    assert 4 <= loss["last_step"] < 6 and loss["points"] == loss["last_step"]
    resumed = api.post(f"/trainings/{job['id']}/resume")
    assert resumed.status_code == 202, resumed.text
    assert (resumed.json()["status"], resumed.json()["message"]) == (JobStatus.PENDING, "Will resume from step 4.")
    again = api.post(f"/trainings/{job['id']}/resume")
    assert again.status_code == 422 and "Only a failed or canceled training" in again.json()["detail"]


def test_refusals_are_422_with_the_reason_or_the_field_names(api: TestClient, setup: Setup) -> None:  # noqa: F811
    unknown = api.post("/trainings", json=body(setup, full_fp61=True))
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == ("'full_fp61' is not an option of sd-scripts' train_network.py; "
                                        "did you mean full_fp16, full_bf16?")
    wrong = api.post("/trainings", json=body(setup, resolution=500))
    assert wrong.status_code == 422 and "not divisible by 64" in wrong.json()["detail"]
    preset = api.post("/trainings", json={**body(setup), "preset": "sd15-huge"})
    assert preset.status_code == 422 and "There is no training preset 'sd15-huge'" in preset.json()["detail"]
    fields = api.post("/trainings", json={"dataset_id": "x", "preset": "", "overrides": [], "extra": 1})
    assert fields.status_code == 422
    assert {e["loc"][1] for e in fields.json()["detail"]} >= {"influencer_id", "dataset_id", "preset",
                                                             "overrides", "extra"}
    assert setup.studio.jobs.list(setup.workspace_id) == []


def test_another_workspace_gets_404_and_a_waiting_training_cancels_at_once(
        api: TestClient, setup: Setup, tokens: Tokens) -> None:  # noqa: F811
    job = api.post("/trainings", json=body(setup)).json()
    theirs = bearer(tokens.other)
    assert api.get("/trainings", headers=theirs).json() == []
    mia = {"influencer_id": str(setup.influencer.id)}
    assert api.get("/trainings/checkpoints", params=mia, headers=theirs).status_code == 404
    for method, path in (("GET", f"/trainings/{job['id']}"), ("POST", f"/trainings/{job['id']}/cancel"),
                         ("GET", f"/trainings/{job['id']}/checkpoints"),
                         ("POST", f"/trainings/{job['id']}/resume")):
        assert api.request(method, path, headers=theirs).status_code == 404, (method, path)
    assert api.post("/trainings", json=body(setup), headers=theirs).status_code == 404
    assert api.post(f"/trainings/{job['id']}/cancel", headers=bearer(tokens.reader)).status_code == 403
    assert api.get(f"/trainings/{uuid.uuid4()}").status_code == 404
    assert api.get(f"/trainings/{job['id']}").json()["job"]["status"] == JobStatus.PENDING
    canceled = api.post(f"/trainings/{job['id']}/cancel").json()
    assert canceled["status"] == JobStatus.CANCELED  # a waiting training stops at once


def test_the_openapi_document_describes_the_training_routes(api: TestClient) -> None:
    document = api.get("/openapi.json").json()
    start = document["paths"]["/trainings"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/TrainingIn")
    assert {"202", "404", "422"} <= set(start["responses"])
    assert {"influencer_id", "dataset_id", "preset", "overrides", "name", "hand_off"} <= set(
        document["components"]["schemas"]["TrainingIn"]["properties"])
    assert {"/trainings/presets", "/trainings/checkpoints", "/trainings/{job_id}/cancel",
            "/trainings/{job_id}/checkpoints"} <= set(document["paths"])
