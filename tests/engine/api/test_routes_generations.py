"""/generations over the real app (TestClient) against the ComfyUI stand-in: templates, a
generation driven to completion by a real worker process, the gallery with recipes and the
picture's download; refusals before queueing, validation and workspace walls."""
from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from studio.engine.api.app import create_app
from studio.engine.api.tokens import create_token
from studio.engine.core import Studio
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.status import FINISHED, JobStatus
from tests.conftest import WorkerProcess
from tests.fakes.comfyui_server import FakeComfyUI

MODELS = {"checkpoint": "sd15.safetensors", "steps": 3}


@pytest.fixture
def api(studio: Studio) -> Iterator[TestClient]:
    token = create_token(studio.db, studio.workspace().id, "tests")
    with TestClient(create_app(studio), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def comfy(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        studio.settings.comfyui.url = server.base_url
        studio.save_settings()  # the worker process reads it from the data folder
        yield server


def stranger(studio: Studio) -> dict[str, str]:
    other = studio.workspace("Elsewhere", create=True)
    return {"Authorization": f"Bearer {create_token(studio.db, other.id, 'theirs')}"}


def finished(api: TestClient, studio: Studio, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The job once it is done: GET /jobs/{id} where that route answers, else the job row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = api.get(f"/jobs/{job_id}")
        job = answer.json() if answer.status_code == 200 else {
            "status": studio.jobs.get(studio.workspace().id, job_id).status}
        if job["status"] in FINISHED:
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_a_generation_driven_to_completion_through_the_api(
        api: TestClient, studio: Studio, comfy: FakeComfyUI,
        worker_factory: Callable[..., WorkerProcess]) -> None:
    mia = create_influencer(studio, studio.workspace().id, Persona(name="Mia", trigger_word="mia"))
    worker_factory("--queues", "generation")
    answer = api.post("/generations", json={
        "template": "txt2img-sd15-lora", "prompt": "mia, portrait", "negative": "blurry",
        "influencer_id": str(mia.id), "lora": "mia_v1.safetensors", "params": {**MODELS, "seed": 42}})
    assert answer.status_code == 202, answer.text
    [job] = answer.json()["jobs"]
    assert (job["type"], job["status"]) == ("generate-image", JobStatus.PENDING)
    done = finished(api, studio, job["id"])
    assert done["status"] == JobStatus.COMPLETED, done
    sent = comfy.requests("POST", "/prompt")[0].body["prompt"]
    assert (sent["3"]["inputs"]["seed"], sent["6"]["inputs"]["text"]) == (42, "mia, portrait")

    [image] = api.get("/generations/gallery", params={"influencer_id": str(mia.id)}).json()
    assert (image["job_id"], image["seed"], image["lora"], image["prompt"]) == (
        job["id"], 42, "mia_v1.safetensors", "mia, portrait")
    assert image["recipe"]["template"] == "txt2img-sd15-lora" and "graph" not in image["recipe"]
    assert image["recipe"]["values"]["negative"] == "blurry"
    assert "graph" in api.get(f"/generations/gallery/{image['id']}").json()["recipe"]
    picture = api.get(image["file_url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(picture.content)).size == (image["width"], image["height"])
    assert str(studio.paths.data_dir) not in picture.headers["content-disposition"]
    assert str(studio.paths.data_dir) not in api.get("/generations/gallery").text


def test_templates_are_listed_with_their_parameters(api: TestClient) -> None:
    answer = api.get("/generations/templates").json()
    by_name = {t["name"]: t for t in answer["templates"]}
    assert by_name["txt2img-sdxl-lora"]["base"] == "sdxl" and by_name["img2img-sd15-lora"]["kind"] == "img2img"
    parameters = {p["name"]: p for p in by_name["txt2img-sd15-lora"]["parameters"]}
    assert {"positive", "negative", "seed", "steps", "lora_name"} <= set(parameters)
    assert parameters["steps"]["type"] == "int" and parameters["steps"]["minimum"] is not None
    assert answer["errors"] == []


def test_a_problem_comfyui_finds_is_422_and_nothing_is_queued(api: TestClient, studio: Studio,
                                                              comfy: FakeComfyUI) -> None:
    answer = api.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x",
                                            "params": {"checkpoint": "sd3.safetensors"}})
    assert answer.status_code == 422
    assert answer.json()["detail"] == ("The checkpoint 'sd3.safetensors' is not in ComfyUI's checkpoints "
                                       "folder; it has: sd15.safetensors, sdxl_base.safetensors.")
    unknown = api.post("/generations", json={"template": "no-such-template", "prompt": "x"})
    assert unknown.status_code == 422 and "There is no workflow template 'no-such-template'" in unknown.text
    assert studio.jobs.list(studio.workspace().id) == []
    assert comfy.requests("POST", "/prompt") == []


def test_count_queues_one_job_per_image_with_its_own_seed(api: TestClient, comfy: FakeComfyUI) -> None:
    answer = api.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x",
                                            "params": {**MODELS, "seed": 7}, "count": 3})
    assert answer.status_code == 202, answer.text
    assert [j["payload"]["values"]["seed"] for j in answer.json()["jobs"]] == [7, 8, 9]


def test_bad_input_is_422_with_the_field_names(api: TestClient) -> None:
    answer = api.post("/generations", json={"template": "", "count": 0, "influencer_id": "x",
                                            "params": {"seed": {"nested": 1}}})
    assert answer.status_code == 422
    fields = {e["loc"][1] for e in answer.json()["detail"]}
    assert fields >= {"template", "count", "influencer_id", "params"}
    assert api.get("/generations/gallery/not-an-id").status_code == 422


def test_another_workspace_gets_404_for_the_images_and_the_influencer(
        api: TestClient, studio: Studio, comfy: FakeComfyUI) -> None:
    from tests.conftest import run_next_task
    mia = create_influencer(studio, studio.workspace().id, Persona(name="Mia", trigger_word="mia"))
    answer = api.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x",
                                            "influencer_id": str(mia.id), "params": MODELS})
    assert answer.status_code == 202, answer.text
    run_next_task(studio, "generation")
    [image] = api.get("/generations/gallery").json()
    theirs = stranger(studio)
    assert api.get("/generations/gallery", headers=theirs).json() == []
    for path in (f"/generations/gallery/{image['id']}", image["file_url"]):
        assert api.get(path, headers=theirs).status_code == 404
    refused = api.post("/generations", headers=theirs, json={"template": "txt2img-sd15-lora", "prompt": "x",
                                                             "influencer_id": str(mia.id), "params": MODELS})
    assert refused.status_code == 404
    assert api.get(f"/generations/gallery/{uuid.uuid4()}/file").status_code == 404
