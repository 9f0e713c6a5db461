"""Queue messages as data: the JSON every queue carries instead of Huey's pickles.

Anyone who may push to a queue (every desk in team mode) could otherwise make a worker unpickle,
and so run, whatever they like. A message names a registered task and at most one job id; the
worker loads the job from the database. Anything else is refused, logged as one line and dropped.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from huey.registry import Message
from huey.serializer import Serializer

log = logging.getLogger("studio.jobs")
VERSION = 1
MAX_BYTES = 2048  # a real message is ~300 bytes; a bigger one is not the studio's
TASK_FIELDS = frozenset({"v", "id", "task", "job", "priority", "retries", "retry_delay",
                         "retry_backoff", "eta"})
REVOKE_FIELDS = frozenset({"v", "revoke_until", "once"})
MAX_RETRIES = 10
MAX_DELAY_S = 24 * 3600.0
# A UUID as str(uuid.UUID(...)) writes it, and no other spelling (read on every message).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class RefusedMessage(ValueError):
    """Bytes on a queue that are not a message this studio wrote."""


@dataclass(frozen=True, slots=True)
class Revocation:
    """Huey's revoke record for one task: (revoke_until, revoke_once) as it unpacks it."""
    until: datetime | None
    once: bool


class StudioSerializer(Serializer):  # type: ignore[misc]  # huey ships no type information
    """Writes and reads the studio's JSON messages; knows only the tasks registered with it."""

    def __init__(self) -> None:
        super().__init__()
        self._wire_to_registry: dict[str, str] = {}
        self._registry_to_wire: dict[str, str] = {}
        self._takes_job: set[str] = set()

    def allow(self, wire_name: str, task_class: type, *, takes_job: bool) -> None:
        """``wire_name`` (e.g. studio.run_job) travels; Huey's own name for the class (module
        included, so it changes with the code) stays here. ``takes_job``: one job id argument."""
        registry_name = f"{task_class.__module__}.{task_class.__name__}"
        self._wire_to_registry[wire_name] = registry_name
        self._registry_to_wire[registry_name] = wire_name
        if takes_job:
            self._takes_job.add(wire_name)

    def serialize(self, data: object) -> bytes:
        if isinstance(data, Message):
            return _dump(self._task_fields(data))
        if isinstance(data, tuple) and len(data) == 2 and isinstance(data[1], bool):
            until, once = data  # a revoke record
            return _dump({"v": VERSION, "revoke_until": _iso(until), "once": once})
        raise TypeError(f"The studio's queues carry job messages only, not {type(data).__name__}.")

    def deserialize(self, data: object) -> Message | Revocation:
        fields = _load(data)
        if fields.keys() == REVOKE_FIELDS:
            return _revocation(fields)
        if fields.keys() != TASK_FIELDS:
            raise RefusedMessage(f"unexpected fields {_short(sorted(fields))}")
        return self._message(fields)

    def _task_fields(self, message: Message) -> dict[str, object]:
        wire = self._registry_to_wire.get(message.name)
        extra = (message.kwargs, message.on_complete, message.on_error, message.chord_config,
                 message.expires, message.timeout)
        if wire is None or any(extra) or len(message.args) != (wire in self._takes_job):
            raise TypeError(f"Task {message.name} is not a studio job message.")
        return {"v": VERSION, "id": message.id, "task": wire,
                "job": message.args[0] if message.args else None,
                "priority": message.priority, "retries": message.retries,
                "retry_delay": message.retry_delay, "retry_backoff": message.retry_backoff,
                "eta": _iso(message.eta)}

    def _message(self, fields: dict[str, object]) -> Message:
        _check_version(fields)
        task = fields["task"]
        registry_name = self._wire_to_registry.get(task) if isinstance(task, str) else None
        if registry_name is None:
            raise RefusedMessage(f"task {_short(task)} is not one the studio runs")
        job = fields["job"]
        if (task in self._takes_job) != (job is not None):
            raise RefusedMessage(f"task {task} with job {_short(job)}")
        return Message(
            id=_uuid(fields["id"], "task id"), name=registry_name, eta=_time(fields["eta"]),
            retries=_number(fields["retries"], "retries", MAX_RETRIES, whole=True),
            retry_delay=_number(fields["retry_delay"], "retry_delay", MAX_DELAY_S),
            priority=_priority(fields["priority"]), args=(_uuid(job, "job id"),) if job else (),
            kwargs={}, retry_backoff=_number(fields["retry_backoff"], "retry_backoff", 100))


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # json.dumps would build one per message


def _dump(fields: dict[str, object]) -> bytes:
    return _ENCODER.encode(fields).encode("utf-8")


def _load(data: object) -> dict[str, object]:
    if not isinstance(data, bytes | str) or len(data) > MAX_BYTES:
        raise RefusedMessage("not a short JSON message")
    try:
        fields = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RefusedMessage("not JSON (a pickle or other bytes)") from None
    if not isinstance(fields, dict):
        raise RefusedMessage("not a JSON object")
    return fields


def _check_version(fields: dict[str, object]) -> None:
    if fields.get("v") != VERSION:
        raise RefusedMessage(f"message version {_short(fields.get('v'))}, not {VERSION}")


def _revocation(fields: dict[str, object]) -> Revocation:
    _check_version(fields)
    if not isinstance(fields["once"], bool):
        raise RefusedMessage("a revoke record whose 'once' is not true or false")
    return Revocation(_time(fields["revoke_until"]), fields["once"])


def _uuid(value: object, what: str) -> str:
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value
    raise RefusedMessage(f"{what} {_short(value)} is not a UUID")


def _number(value: object, what: str, highest: float, *, whole: bool = False) -> float:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 <= value <= highest:
        raise RefusedMessage(f"{what} {_short(value)} is out of range")
    return value


def _priority(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)
                         and abs(value) <= 1_000_000):
        return value
    raise RefusedMessage(f"priority {_short(value)} is not a whole number")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:  # Huey keeps naive UTC times
        raise RefusedMessage(f"time {_short(value)} is not a naive ISO time")
    return moment


def _short(value: object) -> str:
    """A value for a log line: escaped (no newlines or control codes), at most 60 characters."""
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."


def log_refused(queue: str, exc: RefusedMessage) -> None:
    log.warning("refused a queue message that is not the studio's: %s (queue %s); dropped",
                exc, queue)
