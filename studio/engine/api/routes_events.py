"""/events: the caller's workspace's events as server-sent events (``text/event-stream``).

Each event is ``id: <time>.<event id>``, ``event: <type>`` and one ``data:`` line holding the
same JSON a webhook receives (studio/engine/events.py): ``job.progress`` while a job is active,
``job.completed``/``job.failed``/``job.canceled`` at its end, ``plan.item.ready`` when a plan
item's production finished. A client that reconnects with ``Last-Event-ID`` (browsers and SSE
libraries do) or ``?since=`` (that id, or an ISO time) gets what happened after it; without
either, the stream starts now. A comment line every 15 s keeps proxies from closing it.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from studio.engine.api.deps import Reader, StudioDep
from studio.engine.api.schemas import Responses
from studio.engine.db.types import utcnow
from studio.engine.events import Event, EventFeed, resume_point, sse_id

router = APIRouter(tags=["events"])
POLL_S = 0.5
HEARTBEAT_S = 15.0
_STREAM: Responses = {200: {"content": {"text/event-stream": {}},
                 "description": "Server-sent events: job.progress, job.completed, job.failed, "
                                "job.canceled, plan.item.ready"}}


@router.get("/events", response_class=StreamingResponse, responses=_STREAM)
async def events(studio: StudioDep, who: Reader,
                 since: Annotated[str | None, Query(description="an event's SSE id or an ISO time: "
                                                                "resume after it")] = None,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                 ) -> StreamingResponse:
    start = resume_point(last_event_id or since) or utcnow()
    feed = EventFeed(studio.db, who.workspace_id, start, studio.paths.data_dir)
    return StreamingResponse(_stream(feed), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _stream(feed: EventFeed) -> AsyncGenerator[str, None]:
    """Polls the feed until the client goes (Starlette then cancels this generator)."""
    yield ": connected\n\n"  # the headers and a first line at once, before any event
    beat = time.monotonic()
    while True:
        for event in await run_in_threadpool(feed.poll):
            yield frame(event)
        if time.monotonic() - beat >= HEARTBEAT_S:
            beat = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)


def frame(event: Event) -> str:
    return f"id: {sse_id(event)}\nevent: {event.type}\ndata: {event.body()}\n\n"
