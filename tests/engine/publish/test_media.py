"""The Post a produced item makes: its files, texts and the public URLs Instagram fetches."""
from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import httpx
import pytest

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.publish.media import post_for, produced, title_of
from studio.engine.server.assets import team_store
from studio.engine.storage.s3 import S3Store
from tests.engine.publish.produced import produced_item


def _team(studio: Studio, s3_server: str) -> S3Store:
    """The studio as a team member: a fresh bucket of the S3 stand-in is its asset store."""
    bucket = f"posts{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    for key, value in (("server.s3_endpoint", s3_server), ("server.s3_bucket", bucket),
                       ("server.s3_access_key", "team"), ("database.url", "postgresql://unused")):
        studio.settings.set(key, value)  # the database is open already: only team_store reads it
    studio.secrets.set("server.s3", "team-secret")
    store = team_store(studio.settings, studio.paths, studio.secrets)
    assert store is not None
    return store


def test_a_produced_still_is_an_image_post_from_its_publish_folder(studio: Studio) -> None:
    item = produced_item(studio)
    post = post_for(studio, item, ai_generated=False)
    folder = item.pipeline["publish"]["folder"]
    assert post.kind == "image" and [str(f.parent) for f in post.files] == [folder]
    assert post.caption == "Lisbon keeps its best light for last.\n\n#lisbon #goldenhour"
    assert post.tags == ("lisbon", "goldenhour") and post.ai_generated is False
    assert post.public_urls == () and post.cover is None  # no prefix, no team server: none


def test_the_url_prefix_names_each_file_by_its_place_in_the_publish_folder(studio: Studio) -> None:
    studio.settings.set("publish.public_url_prefix", "https://cdn.example.org/mira/")
    item = produced_item(studio)
    post = post_for(studio, item)
    folder = post.files[0].parent.name
    assert post.public_urls == (f"https://cdn.example.org/mira/{folder}/post.jpg",)


def test_a_video_takes_its_cover_and_both_get_urls(studio: Studio) -> None:
    studio.settings.set("publish.public_url_prefix", "https://cdn.example.org")
    item = produced_item(studio)
    folder = post_for(studio, item).files[0].parent
    (folder / "post.jpg").rename(folder / "post.mp4")
    (folder / "cover.jpg").write_bytes(b"\xff\xd8cover")
    post = post_for(studio, item)
    assert post.kind == "video" and post.cover == folder / "cover.jpg"
    assert post.public_urls == (f"https://cdn.example.org/{folder.name}/post.mp4",)
    assert post.cover_url == f"https://cdn.example.org/{folder.name}/cover.jpg"


def test_on_a_team_server_the_urls_are_pre_signed_urls_of_the_bucket(studio: Studio, s3_server: str) -> None:
    item = produced_item(studio)
    bucket = _team(studio, s3_server).bucket
    post = post_for(studio, item)
    [url] = post.public_urls
    assert url.startswith(f"{s3_server}/{bucket}/images/{item.workspace_id}/publish/{item.id}/post.jpg?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=86400" in url
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == post.files[0].read_bytes()


def test_a_post_made_on_another_machine_comes_from_the_team_bucket(studio: Studio, s3_server: str) -> None:
    item = produced_item(studio)
    exported = Path(item.pipeline["export"]["files"][0])
    key = exported.relative_to(studio.paths.assets_dir).as_posix()
    elsewhere = f"/srv/other-desk/assets/{key}"  # as the producing machine recorded it
    with studio.db.session() as session:
        repo = Repository(session, item.workspace_id)
        item = repo.update(repo.get(PlanItem, item.id), pipeline={"export": {"done": True, "files": [elsewhere]}})
    data = exported.read_bytes()
    exported.unlink()
    with pytest.raises(InvalidInput, match="on the machine that produced it"):
        post_for(studio, item)
    _team(studio, s3_server).put_bytes(data, key)
    post = post_for(studio, item)
    assert post.files == (exported,) and exported.read_bytes() == data
    [url] = post.public_urls
    assert httpx.get(url).content == data


def test_an_item_without_files_is_not_produced(studio: Studio) -> None:
    item = produced_item(studio)
    with studio.db.session() as session:
        repo = Repository(session, item.workspace_id)
        bare = repo.update(repo.get(PlanItem, item.id), pipeline={"image": {"done": True}})
    assert not produced(bare)
    with pytest.raises(InvalidInput, match="no finished files yet"):
        post_for(studio, bare)


def test_the_title_is_the_hook_cut_to_youtubes_limit(studio: Studio) -> None:
    item = produced_item(studio)
    assert title_of(item) == "Golden hour, no filter"
    item.hook = "word " * 40
    assert len(title_of(item)) == 100 and title_of(item).endswith("…")
