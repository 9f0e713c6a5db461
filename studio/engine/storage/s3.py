"""The S3/MinIO asset store for team mode: the same keys and calls as ``LocalStore``.

Uploads skip objects that already hold the same bytes (the sha256 rides in the object's
metadata), and files larger than one part go up as multipart uploads whose state is kept in a
small file, so an upload cut by a dropped connection or a killed process resumes with the parts
the server already has instead of starting again.

boto3 rather than the ``minio`` client: resuming needs ``ListParts`` and ``UploadPart`` on a
known upload id, which boto3 exposes as public calls and minio-py keeps private.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from studio.engine.errors import NotFound, ServiceUnavailable, StudioError
from studio.engine.fsutil import atomic_write_text, atomic_writer
from studio.engine.storage.local import CHUNK, StoredFile, check_key, sha256_file

log = logging.getLogger("studio.storage")

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
DEFAULT_PART = 8 * 1024 * 1024
SHA_META = "sha256"  # x-amz-meta-sha256

PartHook = Callable[[int, int], None]  # (part number, parts in all), after each part is stored


class StorageDenied(StudioError):
    """The server refused the credentials or the action (outside the workspace's prefix)."""


@dataclass(frozen=True, slots=True)
class S3Config:
    endpoint: str  # http(s)://host:port
    bucket: str
    access_key: str
    secret_key: str  # from the keyring (server.s3), never from settings
    region: str = "us-east-1"
    verify: bool | str = True  # False, True, or a CA bundle path for a private CA


def client_for(config: S3Config) -> Any:
    return boto3.client(
        "s3", endpoint_url=config.endpoint, aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key, region_name=config.region, verify=config.verify,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      connect_timeout=10, read_timeout=60, retries={"max_attempts": 3}))


def explain(exc: Exception, what: str) -> StudioError:
    """One readable line for a boto error."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                    "InvalidToken") or status == 403:
            return StorageDenied(f"The S3 server refused {what} ({code or status}).")
        if code in ("NoSuchKey", "NoSuchBucket", "NotFound", "404") or status == 404:
            return NotFound(f"S3 has no {what} ({code or status}).")
        return StudioError(f"S3 failed on {what}: {code or status}.")
    if isinstance(exc, (EndpointConnectionError, BotoCoreError, OSError)):
        return ServiceUnavailable(f"The S3 server cannot be reached for {what}: {exc}")
    return StudioError(f"S3 failed on {what}: {exc}")


class S3Store:
    def __init__(self, config: S3Config, *, state_dir: Path, part_size: int = DEFAULT_PART,
                 client: Any = None) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part_size must be at least {MIN_PART} bytes")
        self.config = config
        self.bucket = config.bucket
        self.part_size = part_size
        self.state_dir = state_dir  # resumable upload state, one small JSON file per upload
        self.client = client or client_for(config)

    # Reads ------------------------------------------------------------------------------------

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=check_key(key)))
        except ClientError as exc:
            error = explain(exc, f"'{key}'")
            if isinstance(error, NotFound):
                return None
            raise error from exc
        except (BotoCoreError, OSError) as exc:
            raise explain(exc, f"'{key}'") from exc

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def sha256(self, key: str) -> str | None:
        found = self.head(key)
        return (found.get("Metadata") or {}).get(SHA_META) if found else None

    def get_file(self, key: str, target: Path) -> Path:
        """Downloads ``key`` to ``target``; the file appears whole or not at all."""
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
            with atomic_writer(target) as out:
                while chunk := body.read(CHUNK):
                    out.write(chunk)
        except (ClientError, BotoCoreError) as exc:
            raise explain(exc, f"'{key}'") from exc
        return target

    def read_bytes(self, key: str) -> bytes:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read())
        except (ClientError, BotoCoreError) as exc:
            raise explain(exc, f"'{key}'") from exc

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                found.extend(item["Key"] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise explain(exc, f"the listing of '{prefix}'") from exc
        return found

    # Writes -----------------------------------------------------------------------------------

    def put_bytes(self, data: bytes, key: str) -> StoredFile:
        key = check_key(key)
        digest = hashlib.sha256(data).hexdigest()
        if self.sha256(key) != digest:
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                       Metadata={SHA_META: digest})
            except (ClientError, BotoCoreError) as exc:
                raise explain(exc, f"the upload of '{key}'") from exc
        return StoredFile(key=key, path=Path(key), sha256=digest, size_bytes=len(data))

    def put_file(self, source: Path, key: str, *, on_part: PartHook | None = None) -> StoredFile:
        """Uploads ``source`` to ``key`` unless the same bytes are there already; large files
        go up in parts and resume where a cut upload stopped."""
        key = check_key(key)
        size = source.stat().st_size
        digest = sha256_file(source)
        stored = StoredFile(key=key, path=source, sha256=digest, size_bytes=size)
        if self.sha256(key) == digest:
            log.info("skipped %s: already on S3 with the same sha256", key)
            return stored
        try:
            if size <= self.part_size:
                with source.open("rb") as handle:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=handle,
                                           Metadata={SHA_META: digest})
            else:
                self._multipart(source, key, digest, size, on_part)
        except (ClientError, BotoCoreError) as exc:
            raise explain(exc, f"the upload of '{key}'") from exc
        return stored

    def delete(self, key: str) -> None:
        """Deletes one object, or every object under ``key/`` (as LocalStore deletes a folder)."""
        key = check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
            for child in self.keys(key.rstrip("/") + "/"):
                self.client.delete_object(Bucket=self.bucket, Key=child)
        except (ClientError, BotoCoreError) as exc:
            raise explain(exc, f"the deletion of '{key}'") from exc

    # Multipart ----------------------------------------------------------------------------------

    def _state_file(self, key: str, digest: str) -> Path:
        name = hashlib.sha256(f"{self.config.endpoint}|{self.bucket}|{key}|{digest}".encode()).hexdigest()
        return self.state_dir / f"{name[:32]}.upload.json"

    def _multipart(self, source: Path, key: str, digest: str, size: int,
                   on_part: PartHook | None) -> None:
        state_file = self._state_file(key, digest)
        upload_id, done = self._resume(state_file, key)
        if upload_id is None:
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, Metadata={SHA_META: digest})["UploadId"]
            self.state_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(state_file, json.dumps({"key": key, "upload_id": upload_id,
                                                      "part_size": self.part_size}))
        parts_total = (size + self.part_size - 1) // self.part_size
        etags: dict[int, str] = {}
        with source.open("rb") as handle:
            for number in range(1, parts_total + 1):
                data = handle.read(self.part_size)
                md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
                if done.get(number) == md5:
                    etags[number] = f'"{md5}"'
                    continue  # the server has this part already
                answer = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                 PartNumber=number, Body=data)
                etags[number] = answer["ETag"]
                if on_part is not None:
                    on_part(number, parts_total)
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]})
        state_file.unlink(missing_ok=True)

    def _resume(self, state_file: Path, key: str) -> tuple[str | None, dict[int, str]]:
        """The upload id and the parts (number → md5) the server already holds, if any."""
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None, {}
        if state.get("part_size") != self.part_size or state.get("key") != key:
            return None, {}
        upload_id = str(state["upload_id"])
        done: dict[int, str] = {}
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id)
            for page in pages:
                for part in page.get("Parts", []):
                    done[int(part["PartNumber"])] = str(part["ETag"]).strip('"')
        except ClientError:
            state_file.unlink(missing_ok=True)  # the server forgot it (expired or aborted)
            return None, {}
        log.info("resuming upload of %s: %d part(s) already stored", key, len(done))
        return upload_id, done
