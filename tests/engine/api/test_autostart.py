"""``api.autostart``: a worker serves the API on a thread beside its queues, and stops it with
itself."""
from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from studio.engine.api.serve import URL_FILE
from studio.engine.core import Studio
from tests.conftest import WorkerProcess, wait_until
from tests.engine.api.conftest import Tokens, http


def test_a_worker_serves_the_api_when_the_settings_ask(studio: Studio, tokens: Tokens,
                                                       worker_factory: Callable[..., WorkerProcess]) -> None:
    studio.settings.api.autostart = True
    studio.settings.api.port = 0
    studio.save_settings()
    url_file = studio.paths.run_dir / URL_FILE
    worker = worker_factory()
    wait_until(url_file.exists, what="the worker's API")
    url = url_file.read_text(encoding="utf-8")
    assert url.startswith("http://127.0.0.1:")
    with http(url, tokens.writer) as client:
        assert client.post("/influencers", json={"name": "Mia"}).status_code == 201
        assert [i["name"] for i in client.get("/influencers").json()] == ["Mia"]
    assert worker.stop() == 0
    assert not url_file.exists()
    with pytest.raises(httpx.ConnectError):  # the port was closed with the worker
        httpx.get(f"{url}/openapi.json", timeout=5)

