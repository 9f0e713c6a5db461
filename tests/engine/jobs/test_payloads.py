"""Typed payloads and results: every registered class survives JSON; a row that does not fit
fails its job with one readable line; files are asset keys."""
from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.inputs import import_input
from studio.engine.jobs.payloads import AssetKey, asset_keys, decode, encode, result_of
from studio.engine.jobs.registry import all_types
from studio.engine.media.thumbnails import ThumbnailPayload, ThumbnailResult
from tests.conftest import run_next_task

CLASSES = sorted({(t.name, role, cls) for t in all_types()
                  for role, cls in (("payload", t.payload), ("result", t.result))},
                 key=lambda item: (item[0], item[1]))


def _sample(hint: Any) -> Any:
    """A value of the type ``hint`` that is not its default, to prove it makes the trip."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is AssetKey:
        return AssetKey("images/ws/job/a.png")
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in args if a is not type(None)))
    if origin is typing.Literal:
        return args[0]
    if origin is tuple:
        return tuple(_sample(a) for a in args) if args[-1] is not Ellipsis else (_sample(args[0]),)
    if origin in (dict, list):
        return {"k": _sample(args[1])} if origin is dict else [_sample(args[0])]
    if dataclasses.is_dataclass(hint):
        return _instance(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[-1]
    simple = {bool: True, int: 7, float: 1.5, str: "text", uuid.UUID: uuid.uuid4(),
              Path: Path("/desk/folder/file.mp4"), date: date(2025, 3, 1),
              datetime: datetime(2025, 3, 1, 9, 30, tzinfo=UTC), Any: {"any": [1]},
              object: "value"}
    return simple[hint]


def _instance(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    values = {f.name: _sample(hints[f.name]) for f in dataclasses.fields(cls)}
    try:
        return cls(**values)
    except InvalidInput:  # a class that checks its values (Finish): its defaults are valid
        return cls(**{f.name: v for f, v in zip(dataclasses.fields(cls), values.values(), strict=True)
                      if f.default is dataclasses.MISSING
                      and f.default_factory is dataclasses.MISSING})


@pytest.mark.parametrize(("job_type", "role", "cls"), CLASSES,
                         ids=[f"{name}-{role}" for name, role, _ in CLASSES])
def test_every_registered_payload_and_result_survives_json(job_type: str, role: str, cls: type) -> None:
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    value = _instance(cls)
    stored = json.loads(json.dumps(encode(value)))
    assert stored["version"] == 1
    assert decode(cls, stored) == value


def test_a_row_without_a_version_is_read_as_version_1() -> None:
    assert decode(ThumbnailPayload, {"files": ["/a.png"]}) == ThumbnailPayload(files=(Path("/a.png"),))


@pytest.mark.parametrize(("stored", "error"), [
    ({"version": 2, "files": []},
     "The job's payload has version 2, which this studio does not read (it reads ThumbnailPayload "
     "version 1)."),
    ({"files": "a.png"}, "The job's payload does not match ThumbnailPayload: expected a list, got "
                         "str at files."),
    ({"sizes": ["big"]}, "The job's payload does not match ThumbnailPayload: expected a whole "
                         "number, got str at sizes[0]."),
    ("not json", "The job's payload is not a JSON object."),
])
def test_a_payload_that_does_not_fit_is_one_line(stored: object, error: str) -> None:
    with pytest.raises(JobFailed) as caught:
        decode(ThumbnailPayload, stored)
    assert str(caught.value) == error


def test_a_missing_field_is_named() -> None:
    from studio.engine.sync.jobs import ConflictRow
    with pytest.raises(JobFailed, match=r"^The job's payload does not match ConflictRow: required "
                                        r"field missing at row_id; required field missing at mine"):
        decode(ConflictRow, {"table": "influencers", "theirs": {}})


def test_a_job_whose_stored_payload_does_not_fit_fails_at_once_with_that_line(studio: Studio) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
    with studio.db.session() as session:  # as an older or newer studio might have written it
        session.get(Job, job.id).payload = {"version": 3, "files": ["a.png"]}
    run_next_task(studio, "general")
    failed = studio.jobs.get(ws.id, job.id)
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.error.startswith("The job's payload has version 3") and "\n" not in failed.error


def test_submit_refuses_a_payload_of_another_class(studio: Studio) -> None:
    with pytest.raises(InvalidInput, match="A make-thumbnails job takes a ThumbnailPayload, not a dict"):
        studio.jobs.submit(studio.workspace().id, "make-thumbnails", {"files": []})


def test_results_are_read_typed(studio: Studio, tmp_path: Path) -> None:
    from PIL import Image
    picture = tmp_path / "p.png"
    Image.new("RGB", (40, 30), "red").save(picture)
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(picture,)))
    assert result_of(job, ThumbnailResult) is None  # nothing yet
    run_next_task(studio, "general")
    result = result_of(studio.jobs.get(ws.id, job.id), ThumbnailResult)
    assert result is not None and list(result.thumbnails) == [str(picture)] and not result.refused


def test_asset_keys_are_found_in_fields_tuples_and_nested_classes() -> None:
    from studio.engine.media.jobs import ExportPayload
    payload = ExportPayload(inputs=(AssetKey("videos/a.mp4"), AssetKey("images/b.png")),
                            preset="tiktok", name="x.mp4", soundtrack=AssetKey("inputs/s.m4a"))
    assert asset_keys(payload) == ["videos/a.mp4", "images/b.png", "inputs/s.m4a"]
    assert asset_keys(ThumbnailPayload(files=(Path("/a/b.png"),))) == []  # a path is not a key


def test_an_outside_file_is_copied_into_the_store_once_and_a_stored_one_keeps_its_key(
        studio: Studio, tmp_path: Path) -> None:
    ws = uuid.uuid4()
    outside = tmp_path / "desk" / "my clip (1).mp4"
    outside.parent.mkdir()
    outside.write_bytes(b"clip bytes")
    key = import_input(studio.paths.assets_dir, ws, outside)
    assert key.startswith(f"inputs/{ws}/") and key.endswith("/my clip (1).mp4")
    assert studio.asset_path(key).read_bytes() == b"clip bytes"
    assert import_input(studio.paths.assets_dir, ws, outside) == key  # same bytes, same copy
    assert import_input(studio.paths.assets_dir, ws, studio.asset_path(key)) == key
    with pytest.raises(InvalidInput, match="does not exist"):
        import_input(studio.paths.assets_dir, ws, tmp_path / "gone.png")
