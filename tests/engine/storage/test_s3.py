"""The S3 asset store against a real S3-speaking server (moto's server mode)."""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ConnectionClosedError

from studio.engine.errors import InvalidInput
from studio.engine.storage.local import sha256_file
from studio.engine.storage.policy import workspace_policy
from studio.engine.storage.s3 import MIN_PART, S3Config, S3Store, StorageDenied
from tests.servers import enable_moto_auth

ADMIN = ("testing", "testing")


def admin_client(endpoint: str, keys: tuple[str, str] = ADMIN):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=keys[0],
                        aws_secret_access_key=keys[1], region_name="us-east-1")


@pytest.fixture
def bucket(s3_server: str) -> str:
    name = f"b{uuid.uuid4().hex[:12]}"
    admin_client(s3_server).create_bucket(Bucket=name)
    return name


def make_store(endpoint: str, bucket: str, state_dir: Path, keys: tuple[str, str] = ADMIN) -> S3Store:
    return S3Store(S3Config(endpoint=endpoint, bucket=bucket, access_key=keys[0], secret_key=keys[1]),
                   state_dir=state_dir, part_size=MIN_PART)


def count_calls(store: S3Store, operation: str) -> list[str]:
    seen: list[str] = []
    store.client.meta.events.register(f"before-call.s3.{operation}",
                                      lambda **kw: seen.append(operation))
    return seen


def test_bytes_and_files_round_trip_under_the_shared_layout(s3_server: str, bucket: str,
                                                            tmp_path: Path) -> None:
    store = make_store(s3_server, bucket, tmp_path / "state")
    ws = uuid.uuid4()
    stored = store.put_bytes(b"a caption", f"datasets/{ws}/d1/img.txt")
    assert stored.sha256 == hashlib.sha256(b"a caption").hexdigest()
    assert store.exists(f"datasets/{ws}/d1/img.txt")
    assert not store.exists(f"datasets/{ws}/d1/other.txt")
    assert store.read_bytes(f"datasets/{ws}/d1/img.txt") == b"a caption"
    source = tmp_path / "img.png"
    source.write_bytes(os.urandom(3000))
    store.put_file(source, f"datasets/{ws}/d1/img.png")
    target = store.get_file(f"datasets/{ws}/d1/img.png", tmp_path / "down" / "img.png")
    assert target.read_bytes() == source.read_bytes()
    assert store.sha256(f"datasets/{ws}/d1/img.png") == sha256_file(source)
    assert sorted(store.keys(f"datasets/{ws}/")) == [f"datasets/{ws}/d1/img.png",
                                                     f"datasets/{ws}/d1/img.txt"]
    store.delete(f"datasets/{ws}/d1")
    assert store.keys(f"datasets/{ws}/") == []


def test_bad_keys_are_refused_before_any_request(s3_server: str, bucket: str, tmp_path: Path) -> None:
    store = make_store(s3_server, bucket, tmp_path / "state")
    for key in ("../escape", "/abs", "a/../../b", ""):
        with pytest.raises(InvalidInput):
            store.put_bytes(b"x", key)


def test_an_object_with_the_same_hash_is_not_uploaded_again(s3_server: str, bucket: str,
                                                            tmp_path: Path) -> None:
    store = make_store(s3_server, bucket, tmp_path / "state")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(MIN_PART + 1000))  # two parts
    parts = count_calls(store, "UploadPart")
    puts = count_calls(store, "PutObject")
    store.put_file(source, "loras/w/big.safetensors")
    store.put_bytes(b"small", "loras/w/small.txt")
    assert (len(parts), len(puts)) == (2, 1)
    store.put_file(source, "loras/w/big.safetensors")
    store.put_bytes(b"small", "loras/w/small.txt")
    assert (len(parts), len(puts)) == (2, 1)  # nothing sent again
    source.write_bytes(source.read_bytes()[:-1] + b"!")  # one byte changed: uploaded again
    store.put_file(source, "loras/w/big.safetensors")
    assert len(parts) == 4
    assert store.sha256("loras/w/big.safetensors") == sha256_file(source)


def test_a_cut_multipart_upload_resumes_with_the_parts_already_stored(
        s3_server: str, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(os.urandom(2 * MIN_PART + 12345))  # three parts
    first = make_store(s3_server, bucket, tmp_path / "state")

    def cut_after_first(number: int, total: int) -> None:
        if number == 1:
            raise ConnectionClosedError(endpoint_url=s3_server)

    with pytest.raises(Exception, match="cannot be reached"):
        first.put_file(source, "videos/w/j/video.mp4", on_part=cut_after_first)
    assert not first.exists("videos/w/j/video.mp4")

    again = make_store(s3_server, bucket, tmp_path / "state")  # as after a restart
    sent: list[int] = []
    again.put_file(source, "videos/w/j/video.mp4", on_part=lambda n, total: sent.append(n))
    assert sent == [2, 3]  # part 1 was not sent twice
    assert again.read_bytes("videos/w/j/video.mp4") == source.read_bytes()
    assert list((tmp_path / "state").iterdir()) == []  # state removed once complete


def test_an_upload_the_server_forgot_starts_again(s3_server: str, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(os.urandom(MIN_PART + 10))
    store = make_store(s3_server, bucket, tmp_path / "state")

    def cut(number: int, total: int) -> None:
        raise ConnectionClosedError(endpoint_url=s3_server)

    with pytest.raises(Exception, match="cannot be reached"):
        store.put_file(source, "videos/w/j/v.mp4", on_part=cut)
    state = json.loads(next((tmp_path / "state").iterdir()).read_text())
    admin_client(s3_server).abort_multipart_upload(Bucket=bucket, Key="videos/w/j/v.mp4",
                                                   UploadId=state["upload_id"])
    sent: list[int] = []
    store.put_file(source, "videos/w/j/v.mp4", on_part=lambda n, total: sent.append(n))
    assert sent == [1, 2]
    assert store.read_bytes("videos/w/j/v.mp4") == source.read_bytes()


def _workspace_user(iam, bucket: str, name: str, workspace: uuid.UUID) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-prefixes",
                        PolicyDocument=json.dumps(workspace_policy(bucket, workspace)))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_workspace_credentials_are_refused_outside_their_prefixes(s3_auth_server: str,
                                                                  tmp_path: Path) -> None:
    endpoint, bucket = s3_auth_server, "studio"
    iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="setup",
                       aws_secret_access_key="setup", region_name="us-east-1")
    ws_a, ws_b = uuid.uuid4(), uuid.uuid4()
    keys_a = _workspace_user(iam, bucket, "ws-a", ws_a)
    keys_b = _workspace_user(iam, bucket, "ws-b", ws_b)
    admin_client(endpoint).create_bucket(Bucket=bucket)
    enable_moto_auth(endpoint)

    store_a = make_store(endpoint, bucket, tmp_path / "a", keys_a)
    store_b = make_store(endpoint, bucket, tmp_path / "b", keys_b)
    store_a.put_bytes(b"mine", f"images/{ws_a}/job/1.png")
    store_b.put_bytes(b"theirs", f"images/{ws_b}/job/1.png")
    assert store_a.read_bytes(f"images/{ws_a}/job/1.png") == b"mine"
    with pytest.raises(StorageDenied):
        store_a.read_bytes(f"images/{ws_b}/job/1.png")
    with pytest.raises(StorageDenied):
        store_a.put_bytes(b"overwrite", f"images/{ws_b}/job/1.png")
    with pytest.raises(StorageDenied):
        store_a.put_bytes(b"outside", "elsewhere/file.bin")
    with pytest.raises(StorageDenied):
        store_a.delete(f"images/{ws_b}/job/1.png")
    assert store_b.read_bytes(f"images/{ws_b}/job/1.png") == b"theirs"  # untouched
    forged = make_store(endpoint, bucket, tmp_path / "f", (keys_a[0], "not-the-secret"))
    with pytest.raises(StorageDenied):
        forged.read_bytes(f"images/{ws_a}/job/1.png")
