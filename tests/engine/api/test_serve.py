"""Acceptance: ``api serve`` in a child process, driven over HTTP with httpx as n8n or a script
would — the document, the tokens, the walls between workspaces, the limits, a whole import."""
from __future__ import annotations

import io
import random
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from studio.engine import influencers
from studio.engine.core import Studio
from studio.engine.datasets import service
from studio.engine.jobs.status import JobStatus
from tests.conftest import WorkerProcess
from tests.engine.api.conftest import ApiProcess, SharedApi, Tokens, http, self_signed


def png(seed: int) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", (256, 256))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(256 * 256)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        own = [schema["$ref"]] if isinstance(schema.get("$ref"), str) else []
        return own + [r for v in schema.values() for r in _refs(v)]
    if isinstance(schema, list):
        return [r for v in schema for r in _refs(v)]
    return []


def test_the_openapi_document_is_valid_and_complete(shared_api: SharedApi) -> None:
    server = shared_api.server
    doc = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    from openapi_spec_validator import validate

    validate(doc)
    assert doc["openapi"].startswith("3.")
    for path in ("/influencers", "/datasets/{dataset}/upload", "/jobs/{job}/wait", "/spend"):
        assert path in doc["paths"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], f"{method} {path} documents no answers"
    schemas = doc["components"]["schemas"]
    assert {"JobOut", "InfluencerOut", "DatasetOut", "SpendOut"} <= set(schemas)
    # two route modules with a model of one name get module-qualified names: each keeps its own
    assert [name for name in schemas if name.startswith("studio__")] == []
    for ref in _refs(doc):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_tokens_are_checked_and_say_only_why(shared_api: SharedApi) -> None:
    server, tokens = shared_api.server, shared_api.tokens
    missing = httpx.get(f"{server.url}/influencers", timeout=30)
    wrong = httpx.get(f"{server.url}/influencers", headers={"Authorization": "Bearer isk_nope"}, timeout=30)
    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.json() == {"detail": "A valid API token is needed (Authorization: Bearer …)."}
        assert answer.headers["www-authenticate"] == "Bearer"
    with http(server.url, tokens.reader) as reader:
        assert reader.get("/influencers").status_code == 200
        refused = reader.post("/influencers", json={"name": "Mia"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "The token 'ro' is read-only."}
        assert reader.get("/influencers").json() == []  # nothing was made


def test_another_workspace_s_things_are_not_found(shared_api: SharedApi) -> None:
    studio, server, tokens = shared_api.studio, shared_api.server, shared_api.tokens
    theirs = influencers.create_influencer(studio, tokens.other_workspace_id, influencers.Persona(name="Zoe"))
    dataset = service.create_dataset(studio, tokens.other_workspace_id, theirs.id, "set")
    with http(server.url, tokens.other) as other:
        job = other.post(f"/datasets/{dataset.id}/analyse").json()
    with http(server.url, tokens.writer) as mine:
        for path in (f"/influencers/{theirs.id}", f"/datasets/{dataset.id}", f"/jobs/{job['id']}"):
            answer = mine.get(path)
            assert answer.status_code == 404, path
            assert "in this workspace" in answer.json()["detail"]
        missing = mine.get(f"/influencers/{theirs.id.hex[::-1]}")  # an id nobody has
        assert missing.status_code == 404
        # a missing id and another workspace's id read alike, so ids cannot be probed
        gone = mine.get(f"/influencers/{theirs.id}").json()["detail"].replace(str(theirs.id), "ID")
        assert gone == mine.get("/influencers/" + "1" * 32).json()["detail"].replace("1" * 32, "ID")


def test_requests_over_the_limit_get_429_with_retry_after(api_factory: Callable[..., ApiProcess],
                                                          studio: Studio, tokens: Tokens) -> None:
    studio.settings.api.requests_per_minute = 5
    server = api_factory()
    with http(server.url, tokens.writer) as client:
        codes = [client.get("/spend").status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        late = client.get("/spend")
        assert late.status_code == 429 and 0 < int(late.headers["retry-after"]) <= 60
        assert "Too many requests" in late.json()["detail"]
    with http(server.url, tokens.reader) as other_token:  # the limit is per token
        assert other_token.get("/spend").status_code == 200


def test_a_body_over_the_limit_gets_413(api_factory: Callable[..., ApiProcess], studio: Studio,
                                        tokens: Tokens) -> None:
    studio.settings.api.max_body_mb = 1
    server = api_factory()
    big = b"x" * (1024 * 1024 + 10)
    with http(server.url, tokens.writer) as client:
        declared = client.post("/influencers", content=big, headers={"Content-Type": "application/json"})
        streamed = client.post("/influencers", content=iter([big[:600_000], big[600_000:]]),
                               headers={"Content-Type": "application/json"})
        small = client.post("/influencers", json={"name": "Mia"})
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert "over the limit of 1 MB" in answer.json()["detail"]
    assert small.status_code == 201


def test_an_upload_is_imported_through_the_api(api_factory: Callable[..., ApiProcess], studio: Studio,
                                               worker: WorkerProcess, tokens: Tokens) -> None:
    with http(api_factory().url, tokens.writer) as client:
        assert client.post("/influencers", json={"name": "Mia", "trigger_word": "mia"}).status_code == 201
        dataset = client.post("/datasets", json={"influencer": "Mia", "name": "main"}).json()
        files = [("files", (f"p{i}.png", png(i), "image/png")) for i in range(3)]
        queued = client.post(f"/datasets/{dataset['id']}/upload", files=files)
        assert queued.status_code == 202
        job = queued.json()
        assert job["status"] in (JobStatus.PENDING, JobStatus.PROCESSING)
        while (waited := client.get(f"/jobs/{job['id']}/wait", params={"timeout": 20})).status_code == 202:
            pass  # still running after 20 s: ask again, as a client would
        done = waited.json()
        assert done["status"] == JobStatus.COMPLETED, done["error"]
        assert done["result"]["imported"] == 3
        assert str(studio.paths.data_dir) not in waited.text  # paths read relative to it
        images = client.get(f"/datasets/{dataset['id']}/images").json()
        assert sorted(i["name"] for i in images) == ["p0.png", "p1.png", "p2.png"]
        assert client.get(f"/datasets/{dataset['id']}").json()["images"] == 3


def test_sigterm_stops_it_cleanly(api_factory: Callable[..., ApiProcess]) -> None:
    server = api_factory()
    assert httpx.get(f"{server.url}/openapi.json", timeout=30).status_code == 200
    code, err = server.stop()
    assert code == 0
    assert "API stopped" in err and "Traceback" not in err


def test_with_tls_files_it_serves_https(api_factory: Callable[..., ApiProcess], studio: Studio,
                                        tokens: Tokens, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path / "tls")
    studio.settings.api.tls_cert, studio.settings.api.tls_key = str(cert), str(key)
    server = api_factory()
    assert server.url.startswith("https://127.0.0.1:")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens.reader}"},
                      verify=ssl.create_default_context(cafile=str(cert)), timeout=30) as client:
        assert client.get("/spend").status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):  # plain HTTP is not answered
        httpx.get(server.url.replace("https://", "http://") + "/spend", timeout=10)
