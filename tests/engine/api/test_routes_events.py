"""/events over real HTTP: ``api serve`` in a child process, the stream read with httpx as an
SSE client reads it; a job driven in this process shows up as progress, then its outcome."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from studio.engine.api import routes_events
from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_COMPLETED, JOB_PROGRESS, Event
from studio.engine.jobs.payloads import Empty
from tests.conftest import run_next_task
from tests.engine.api.conftest import ApiProcess, Tokens, bearer
from tests.engine.webhooks.helpers import DONE_JOB


@dataclass(frozen=True, slots=True)
class Sse:
    id: str
    type: str
    data: dict[str, Any]


def sse_events(lines: Iterator[str], comments: list[str] | None = None) -> Iterator[Sse]:
    """Server-sent events as the EventSource spec parses them (comments start with ':')."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            if comments is not None:
                comments.append(line)
            continue
        if line == "":
            if "data" in fields:
                yield Sse(fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"]))
            fields = {}
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")


def _until(events: Iterator[Sse], job_id: uuid.UUID, kind: str, seen: list[Sse]) -> Sse:
    for event in events:
        seen.append(event)
        if event.type == kind and event.data["data"]["id"] == str(job_id):
            return event
    raise AssertionError(f"the stream ended before {kind} of {job_id}")


def test_a_job_streams_its_progress_then_its_outcome_and_nothing_of_another_workspace(
        api_factory: Callable[..., ApiProcess], studio: Studio, tokens: Tokens) -> None:
    server = api_factory()
    seen: list[Sse] = []
    with httpx.Client(base_url=server.url, headers=bearer(tokens.writer), timeout=30) as http, \
            http.stream("GET", "/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        mine = studio.jobs.submit(tokens.workspace_id, DONE_JOB, Empty(), title="Mine")
        theirs = studio.jobs.submit(tokens.other_workspace_id, DONE_JOB, Empty(), title="Theirs")
        events = sse_events(lines)
        waiting = _until(events, mine.id, JOB_PROGRESS, seen)
        assert waiting.data["data"]["status"] == "pending"
        run_next_task(studio, "general")
        run_next_task(studio, "general")
        done = _until(events, mine.id, JOB_COMPLETED, seen)
    assert done.data["data"]["status"] == "completed" and done.data["data"]["progress"] == 1.0
    assert done.data["workspace_id"] == str(tokens.workspace_id)
    assert done.data["id"].startswith(f"job-{mine.id.hex}-") and done.id.endswith(done.data["id"])
    assert all(e.data["workspace_id"] == str(tokens.workspace_id) for e in seen)
    assert str(theirs.id) not in json.dumps([e.data for e in seen])

    # A client that comes back with Last-Event-ID gets what came after, not the same again.
    with httpx.Client(base_url=server.url, headers={**bearer(tokens.reader), "Last-Event-ID": waiting.id},
                      timeout=30) as http, http.stream("GET", "/events") as stream:
        again: list[Sse] = []
        _until(sse_events(stream.iter_lines()), mine.id, JOB_COMPLETED, again)
    assert waiting.id not in [e.id for e in again]
    assert [e.type for e in again if e.data["data"]["id"] == str(mine.id)][-1] == JOB_COMPLETED


def test_without_a_token_the_stream_is_refused(client: TestClient) -> None:
    assert client.get("/events", headers={"Authorization": ""}).status_code == 401


class _Feed:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def poll(self) -> list[Event]:
        found, self.events = self.events, []
        return found


async def _first(count: int, feed: _Feed) -> list[str]:
    stream = routes_events._stream(feed)  # type: ignore[arg-type]
    chunks = [chunk async for chunk in _take(stream, count)]
    await stream.aclose()
    return chunks


async def _take(stream: Any, count: int) -> Any:
    for _ in range(count):
        yield await stream.__anext__()


def test_each_event_is_one_frame_and_a_comment_keeps_the_line_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_events, "HEARTBEAT_S", 0.0)
    monkeypatch.setattr(routes_events, "POLL_S", 0.0)
    event = Event("job-ab-3", JOB_COMPLETED, utcnow(), uuid.uuid4(), {"note": "two\nlines"})
    connected, frame, beat = asyncio.run(_first(3, _Feed([event])))
    assert connected == ": connected\n\n" and beat == ": keep-alive\n\n"
    head, kind, data, end = frame.split("\n", 3)
    assert head.startswith("id: ") and head.endswith(".job-ab-3") and kind == f"event: {JOB_COMPLETED}"
    assert json.loads(data.removeprefix("data: ")) == event.as_dict() and end == "\n"
