"""/generations against the ComfyUI stand-in: a generation driven to completion through ``api
serve`` (a child process, real HTTP) and a real worker; the rest in-process (TestClient):
templates, the gallery with recipes and the picture's download, refusals before queueing,
validation and workspace walls."""
from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from studio.engine.core import Studio
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.status import FINISHED, JobStatus
from tests.conftest import WorkerProcess, run_next_task
from tests.engine.api.conftest import ApiProcess, Tokens, bearer, http
from tests.fakes.comfyui_server import FakeComfyUI

MODELS = {"checkpoint": "sd15.safetensors", "steps": 3}


@pytest.fixture
def comfy(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        studio.settings.comfyui.url = server.base_url
        studio.save_settings()  # the worker process reads it from the data folder
        yield server


def finished(client: httpx.Client, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The job once it is done, as a client polls it: GET /jobs/{id} a few times a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").raise_for_status().json()
        if job["status"] in FINISHED:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_a_generation_driven_to_completion_through_the_api(
        api_factory: Callable[..., ApiProcess], studio: Studio, comfy: FakeComfyUI, tokens: Tokens,
        worker_factory: Callable[..., WorkerProcess]) -> None:
    mia = create_influencer(studio, tokens.workspace_id, Persona(name="Mia", trigger_word="mia"))
    worker_factory("--queues", "generation")
    with http(api_factory().url, tokens.writer) as client:
        answer = client.post("/generations", json={
            "template": "txt2img-sd15-lora", "prompt": "mia, portrait", "negative": "blurry",
            "influencer_id": str(mia.id), "lora": "mia_v1.safetensors", "params": {**MODELS, "seed": 42}})
        assert answer.status_code == 202, answer.text
        [job] = answer.json()["jobs"]
        assert (job["type"], job["status"]) == ("generate-image", JobStatus.PENDING)
        done = finished(client, job["id"])
        assert done["status"] == JobStatus.COMPLETED, done["error"]
        sent = comfy.requests("POST", "/prompt")[0].body["prompt"]
        assert (sent["3"]["inputs"]["seed"], sent["6"]["inputs"]["text"]) == (42, "mia, portrait")

        listed = client.get("/generations/gallery", params={"influencer_id": str(mia.id)})
        [image] = listed.json()
        assert (image["job_id"], image["seed"], image["lora"], image["prompt"]) == (
            job["id"], 42, "mia_v1.safetensors", "mia, portrait")
        assert image["recipe"]["template"] == "txt2img-sd15-lora" and "graph" not in image["recipe"]
        assert image["recipe"]["values"]["negative"] == "blurry"
        assert "graph" in client.get(f"/generations/gallery/{image['id']}").json()["recipe"]
        picture = client.get(image["file_url"])
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(picture.content)).size == (image["width"], image["height"])
        assert picture.headers["content-disposition"] == f"attachment; filename=\"{image['name']}\""
        for text in (listed.text, str(done)):
            assert str(studio.paths.data_dir) not in text


def test_templates_are_listed_with_their_parameters(client: TestClient) -> None:
    answer = client.get("/generations/templates").json()
    by_name = {t["name"]: t for t in answer["templates"]}
    assert by_name["txt2img-sdxl-lora"]["base"] == "sdxl" and by_name["img2img-sd15-lora"]["kind"] == "img2img"
    parameters = {p["name"]: p for p in by_name["txt2img-sd15-lora"]["parameters"]}
    assert {"positive", "negative", "seed", "steps", "lora_name"} <= set(parameters)
    assert parameters["steps"]["type"] == "int" and parameters["steps"]["minimum"] is not None
    assert answer["errors"] == []


def test_a_problem_comfyui_finds_is_422_and_nothing_is_queued(client: TestClient, studio: Studio,
                                                              comfy: FakeComfyUI, tokens: Tokens) -> None:
    answer = client.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x",
                                               "params": {"checkpoint": "sd3.safetensors"}})
    assert answer.status_code == 422
    assert answer.json()["detail"] == ("The checkpoint 'sd3.safetensors' is not in ComfyUI's checkpoints "
                                       "folder; it has: sd15.safetensors, sdxl_base.safetensors.")
    unknown = client.post("/generations", json={"template": "no-such-template", "prompt": "x"})
    assert unknown.status_code == 422 and "There is no workflow template 'no-such-template'" in unknown.text
    assert studio.jobs.list(tokens.workspace_id) == []
    assert comfy.requests("POST", "/prompt") == []


def test_count_queues_one_job_per_image_with_its_own_seed(client: TestClient, comfy: FakeComfyUI) -> None:
    answer = client.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x",
                                               "params": {**MODELS, "seed": 7}, "count": 3})
    assert answer.status_code == 202, answer.text
    assert [j["payload"]["values"]["seed"] for j in answer.json()["jobs"]] == [7, 8, 9]


def test_bad_input_is_422_with_the_field_names(client: TestClient) -> None:
    answer = client.post("/generations", json={"template": "", "count": 0, "influencer_id": "x",
                                               "params": {"seed": {"nested": 1}}})
    assert answer.status_code == 422
    fields = {e["loc"][1] for e in answer.json()["detail"]}
    assert fields >= {"template", "count", "influencer_id", "params"}
    assert client.get("/generations/gallery/not-an-id").status_code == 422


def test_another_workspace_gets_404_for_the_images_and_the_influencer(
        client: TestClient, studio: Studio, comfy: FakeComfyUI, tokens: Tokens) -> None:
    mia = create_influencer(studio, tokens.workspace_id, Persona(name="Mia", trigger_word="mia"))
    answer = client.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x",
                                               "influencer_id": str(mia.id), "params": MODELS})
    assert answer.status_code == 202, answer.text
    run_next_task(studio, "generation")
    [image] = client.get("/generations/gallery").json()
    theirs = bearer(tokens.other)
    assert client.get("/generations/gallery", headers=theirs).json() == []
    assert client.get("/generations/gallery", params={"influencer_id": str(mia.id)}, headers=theirs).status_code == 404
    for path in (f"/generations/gallery/{image['id']}", image["file_url"]):
        assert client.get(path, headers=theirs).status_code == 404
    mine = {"template": "txt2img-sd15-lora", "prompt": "x", "influencer_id": str(mia.id), "params": MODELS}
    assert client.post("/generations", headers=theirs, json=mine).status_code == 404
    assert client.post("/generations", headers=bearer(tokens.reader), json=mine).status_code == 403
    assert client.get(f"/generations/gallery/{uuid.uuid4()}/file").status_code == 404


def test_a_gallery_picture_is_an_input_by_its_id(client: TestClient, studio: Studio, comfy: FakeComfyUI,
                                                 tokens: Tokens) -> None:
    first = client.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "x", "params": MODELS})
    assert first.status_code == 202, first.text
    run_next_task(studio, "generation")
    [image] = client.get("/generations/gallery").json()
    wanted = {"template": "img2img-sd15-lora", "prompt": "x, watercolour",
              "params": {**MODELS, "input_image": image["id"]}}
    answer = client.post("/generations", json=wanted)
    assert answer.status_code == 202, answer.text
    [job] = answer.json()["jobs"]
    assert job["payload"]["images"]["input_image"] == f"images/{tokens.workspace_id}/{image['job_id']}/{image['name']}"
    run_next_task(studio, "generation")
    assert studio.jobs.get(tokens.workspace_id, job["id"]).status == JobStatus.COMPLETED
    assert len(comfy.requests("POST", "/upload/image")) == 1
    theirs = client.post("/generations", json=wanted, headers=bearer(tokens.other))
    assert theirs.status_code == 404 and image["id"] in theirs.json()["detail"]


def test_the_openapi_document_describes_the_generation_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    submit = document["paths"]["/generations"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/GenerationIn")
    assert {"202", "404", "422"} <= set(submit["responses"])
    fields = document["components"]["schemas"]["GenerationIn"]["properties"]
    assert {"template", "prompt", "params", "influencer_id", "lora", "count"} <= set(fields)
    assert {"/generations/templates", "/generations/gallery", "/generations/gallery/{asset_id}/file"} <= set(
        document["paths"])
