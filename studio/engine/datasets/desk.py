"""Team mode: what a user picked to import on a desk, sent to a worker on another machine.

The desk walks the picked files and folders as the importer would (links are not followed)
and names each file it would read by asset key (content-addressed, so the same photo sent twice
is uploaded once), with its path relative to the pick. The worker lays those files out again
in a scratch folder of the same shape, so captions beside images and folder names read as they
did on the desk, and imports from there. Files the importer would refuse by their kind stay on
the desk and are reported as refused.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from studio.engine.datasets.importer import ImportRow
from studio.engine.datasets.sources import classify
from studio.engine.jobs.inputs import input_key
from studio.engine.jobs.payloads import AssetKey
from studio.engine.storage.local import LocalStore, sha256_file

_SENT = ("image", "caption", "archive")


@dataclass(frozen=True, slots=True)
class DeskFile:
    key: AssetKey  # inputs/<workspace>/<sha256>/<name>
    name: str  # "<pick number>/<picked name>[/<path inside the picked folder>]"


@dataclass(frozen=True, slots=True)
class DeskPick:
    """Picked paths sent by key: the files, the picks as the desk showed them, and refusals."""

    files: tuple[DeskFile, ...]
    shown: tuple[str, ...]
    refused: tuple[ImportRow, ...]
    sources: tuple[Path, ...]  # the desk file of each entry of ``files``, for the upload


def pick(workspace_id: uuid.UUID, paths: Sequence[Path]) -> DeskPick:
    files: list[DeskFile] = []
    sources: list[Path] = []
    refused: list[ImportRow] = []
    for index, path in enumerate(paths):
        for source, relative, reason in _walk(path, path.name):
            if reason:
                refused.append(ImportRow(str(source), "refused", reason))
                continue
            files.append(DeskFile(input_key(workspace_id, sha256_file(source), source.name),
                                  f"{index}/{relative}"))
            sources.append(source)
    return DeskPick(tuple(files), tuple(str(p) for p in paths), tuple(refused), tuple(sources))


def _walk(path: Path, relative: str) -> Iterator[tuple[Path, str, str]]:
    """(file, its name relative to the pick's parent, why it is not sent or "")."""
    if path.is_symlink():
        yield path, relative, "symbolic link"
    elif path.is_dir():
        try:
            with os.scandir(path) as scan:
                children = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield path, relative, f"folder cannot be read ({exc.strerror or exc})"
            return
        for child in children:
            yield from _walk(Path(child.path), f"{relative}/{child.name}")
    elif not path.is_file():
        yield path, relative, "not a regular file"
    elif classify(path.name) not in _SENT:
        yield path, relative, classify(path.name)
    else:
        yield path, relative, ""
        caption = path.with_name(PurePosixPath(path.name).stem + ".txt")
        if "/" not in relative and classify(path.name) == "image" and caption.is_file() \
                and not caption.is_symlink():  # a picked image brings its caption along
            yield caption, caption.name, ""


def lay_out(local: LocalStore, files: Sequence[DeskFile], folder: Path) -> list[Path]:
    """The picks rebuilt under ``folder`` from this machine's copies; returns the picks' paths."""
    root = folder.resolve()
    picks: dict[str, Path] = {}
    for item in files:
        target = (root / item.name).resolve()
        top = PurePosixPath(item.name).parts[:2]
        if not target.is_relative_to(root) or len(top) < 2 or target == root:
            raise ValueError(f"'{item.name}' is not a name inside the import")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(local.path(item.key), target)
            except OSError:  # another file system: a copy then
                shutil.copyfile(local.path(item.key), target)
        picks.setdefault("/".join(top), root.joinpath(*top))
    return list(picks.values())


def desk_names(rows: Sequence[ImportRow], folder: Path, shown: Sequence[str]) -> tuple[ImportRow, ...]:
    """The report's rows with the scratch folder's paths turned back into the desk's."""
    root = str(folder.resolve())
    named = []
    for row in rows:
        source = row.source
        if source.startswith(root + os.sep):
            index, _, rest = source[len(root) + 1:].partition(os.sep)
            if index.isdigit() and int(index) < len(shown):
                base = Path(shown[int(index)])
                tail = rest.partition(os.sep)[2]
                source = str(base / tail) if tail else str(base)
        named.append(replace(row, source=source))
    return tuple(named)
