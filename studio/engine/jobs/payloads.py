"""Typed job payloads and results: frozen dataclasses stored as versioned JSON (Decision 14).

Each job type names a payload class and a result class (``@job_type(..., payload=P,
result=R)``). What is stored is the dataclass's fields as JSON plus ``"version"``; field names
are the ones readers already use. Files inside the studio are ``AssetKey`` values (keys of the
asset store, e.g. ``videos/<workspace>/<job>/clip.mp4``), resolved on the machine that reads
them, so team mode moves files by key and never rewrites path strings.

cattrs does the (un)structuring: it understands dataclasses, tuples, unions, enums and nested
classes from the type hints, and names the field at fault when data does not fit, which is
what a hand-written walker would have to grow into.
"""
from __future__ import annotations

import dataclasses
import typing
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import cattrs
from cattrs import cols
from cattrs.v import format_exception

from studio.engine.errors import InvalidInput
from studio.engine.jobs.errors import JobFailed
from studio.engine.storage.local import check_key

VERSION_FIELD = "version"
T = TypeVar("T")
# Field metadata for a path that no worker reads as the job's input: where the submitting desk
# wants a copy (``origin`` says which desk), or a folder each machine replaces with its own.
LOCAL_ONLY: dict[str, bool] = {"local_only": True}


class AssetKey(str):
    """A file in the studio's asset store, by its workspace-relative storage key."""

    __slots__ = ()

    def __new__(cls, key: str) -> AssetKey:
        return super().__new__(cls, check_key(str(key)))


@dataclasses.dataclass(frozen=True, slots=True)
class Empty:
    """The payload or result of a job that takes or gives nothing."""


def _converter() -> cattrs.Converter:
    # Tuples are stored as JSON arrays; old rows may carry keys a class no longer has.
    converter = cattrs.Converter(forbid_extra_keys=False, unstruct_collection_overrides={tuple: list})
    converter.register_structure_hook_func(lambda cls: cls is object, lambda value, _: value)
    converter.register_structure_hook_factory(_homogeneous, lambda cls: _only_arrays(cls, converter))
    converter.register_structure_hook(AssetKey, lambda value, _: AssetKey(_text(value)))
    converter.register_unstructure_hook(AssetKey, str)
    converter.register_structure_hook(uuid.UUID, lambda value, _: uuid.UUID(_text(value)))
    converter.register_unstructure_hook(uuid.UUID, str)
    converter.register_structure_hook(Path, lambda value, _: Path(_text(value)))
    converter.register_unstructure_hook(Path, str)
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(_text(value)))
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(date, lambda value, _: date.fromisoformat(_text(value)))
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(str, lambda value, _: _text(value))
    converter.register_structure_hook(bool, _boolean)
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook(float, _number)
    return converter


def _homogeneous(cls: Any) -> bool:
    """``tuple[X, ...]`` and ``list[X]``: what a JSON array is read into."""
    args = typing.get_args(cls)
    return cols.is_sequence(cls) and (typing.get_origin(cls) is list
                                      or (len(args) == 2 and args[1] is Ellipsis))


def _only_arrays(cls: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """cattrs' own hook, less its habit of reading a string as a sequence of characters."""
    if typing.get_origin(cls) is list:
        build = cols.list_structure_factory(cls, converter)
    else:
        build = cols.homogenous_tuple_structure_factory(cls, converter)

    def structure(value: Any, kind: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch(f"expected a list, got {type(value).__name__}")
        return build(value, kind)
    return structure


class _Mismatch(ValueError):
    """A stored value of the wrong kind; its message names what was expected."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Mismatch(f"expected text, got {type(value).__name__}")
    return value


def _boolean(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise _Mismatch(f"expected true or false, got {type(value).__name__}")
    return value


def _integer(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Mismatch(f"expected a whole number, got {type(value).__name__}")
    return value


def _number(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Mismatch(f"expected a number, got {type(value).__name__}")
    return float(value)


CONVERTER = _converter()


def version_of(cls: type) -> int:
    return int(getattr(cls, "VERSION", 1))


def encode(value: object) -> dict[str, Any]:
    """The JSON object stored for a payload or result: its fields and its class's version."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise InvalidInput(f"A job payload must be a dataclass, not {type(value).__name__}.")
    data = CONVERTER.unstructure(value)
    return {**data, VERSION_FIELD: version_of(type(value))}


def decode(cls: type[T], data: object, *, what: str = "payload") -> T:
    """The dataclass stored in ``data``; JobFailed with one line when it does not fit.

    A row queued by a version of the studio from before payloads carried a version has none:
    it is read as version 1, which is the shape those rows had where the field names match."""
    if not isinstance(data, dict):
        raise JobFailed(f"The job's {what} is not a JSON object.")
    fields = dict(data)
    version = fields.pop(VERSION_FIELD, 1)
    if not isinstance(version, int) or isinstance(version, bool) or version != version_of(cls):
        raise JobFailed(f"The job's {what} has version {version!r}, which this studio does not "
                        f"read (it reads {cls.__name__} version {version_of(cls)}).")
    try:
        return CONVERTER.structure(fields, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, InvalidInput) as exc:
        raise JobFailed(f"The job's {what} does not match {cls.__name__}: {_reason(exc)}.") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        lines = cattrs.transform_error(exc, path="", format_exception=_fault)
        text = "; ".join(line.replace(" @ .", " at ").replace(" @ ", " at ") for line in lines[:3])
        return text + (f" (and {len(lines) - 3} more)" if len(lines) > 3 else "")
    return str(exc).rstrip(".")


def _fault(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, (InvalidInput, _Mismatch)):
        return str(exc).rstrip(".")
    return format_exception(exc, type_)


def asset_keys(value: object) -> list[AssetKey]:
    """Every asset key a payload or result names, in its fields, tuples and nested classes."""
    return list(dict.fromkeys(_keys(value)))


def _keys(value: object) -> Iterator[AssetKey]:
    if isinstance(value, AssetKey):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _keys(getattr(value, item.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _keys(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _keys(item)


def input_paths(value: object, where: str = "") -> list[tuple[str, Path]]:
    """The paths a payload names outside ``LOCAL_ONLY`` fields, with the field that names each:
    files a worker on another machine could not read."""
    if isinstance(value, Path):
        return [(where, value)]
    found: list[tuple[str, Path]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            if not item.metadata.get("local_only"):
                found += input_paths(getattr(value, item.name), f"{where}.{item.name}".lstrip("."))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found += input_paths(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            found += input_paths(item, f"{where}.{name}".lstrip("."))
    return found


def result_of(job: Any, cls: type[T]) -> T | None:
    """A finished job's typed result; None while it has none (pending, failed, canceled)."""
    if not job.result:
        return None
    return decode(cls, job.result, what="result")


def payload_of(job: Any, cls: type[T]) -> T:
    """A job's typed payload (a reader such as resume or the test grid reads its training's)."""
    return decode(cls, job.payload)
