"""Team mode: a thumbnail or preview of an asset file this machine lacks fetches the file from
the server's bucket on a loader thread and keeps it; solo mode fails plainly, as before."""
from __future__ import annotations

import hashlib
import threading
import uuid
from io import BytesIO
from pathlib import Path

import boto3
from PIL import Image

from studio.engine.core import Studio
from studio.engine.server.assets import team_store
from studio.ui import thumbnails
from studio.ui.thumbnails import ThumbnailCache, load_preview, use_team_assets


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def with_bucket(studio: Studio, s3_server: str) -> Studio:
    bucket = f"thumbs{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    for key, value in (("server.s3_endpoint", s3_server), ("server.s3_bucket", bucket),
                       ("server.s3_access_key", "team")):
        studio.settings.set(key, value)
    studio.secrets.set("server.s3", "team-secret")
    return studio


def test_missing_files_come_from_the_bucket_off_the_ui_thread(
        qtbot, studio: Studio, s3_server: str, monkeypatch) -> None:
    with_bucket(studio, s3_server)
    studio.settings.set("database.url", "postgresql://unused")  # team_store wants a server db
    store = team_store(studio.settings, studio.paths, studio.secrets)
    studio.settings.set("database.url", "")
    assert store is not None
    photo, big = png(300, 200, (200, 40, 90)), png(900, 600, (20, 140, 90))
    store.put_bytes(photo, "gallery/ws/photo.png")
    store.put_bytes(big, "gallery/ws/big.png")
    fetched_on: list[str] = []
    real_get = type(store).get_file

    def recording_get(self, key: str, target: Path) -> Path:  # type: ignore[no-untyped-def]
        fetched_on.append(threading.current_thread().name)
        return real_get(self, key, target)
    monkeypatch.setattr(type(store), "get_file", recording_get)

    use_team_assets(studio)
    try:
        source = studio.asset_path("gallery/ws/photo.png")
        assert not source.exists()
        cache = ThumbnailCache(studio.paths.cache_dir)
        sha = hashlib.sha256(photo).hexdigest()
        assert cache.request(sha, 128, source) is None  # queued; the UI thread never waits
        qtbot.waitUntil(lambda: cache.get(sha, 128) is not None or bool(cache.failed(sha, 128)),
                        timeout=20_000)
        assert cache.failed(sha, 128) is None
        assert cache.get(sha, 128).width() == 128
        assert source.read_bytes() == photo  # kept: the next look needs no download
        assert fetched_on and threading.main_thread().name not in fetched_on

        preview = load_preview(studio.asset_path("gallery/ws/big.png"), 450)
        assert (preview.width(), preview.height()) == (450, 300)
        assert len(fetched_on) == 2
        load_preview(studio.asset_path("gallery/ws/big.png"), 450)
        assert len(fetched_on) == 2  # cached locally, not fetched again
    finally:
        thumbnails._fetchers.pop(studio.paths.assets_dir, None)
        thumbnails.wait_until_idle()


def test_a_file_the_bucket_lacks_fails_with_a_reason(qtbot, studio: Studio, s3_server: str) -> None:
    with_bucket(studio, s3_server)
    use_team_assets(studio)
    try:
        cache = ThumbnailCache(studio.paths.cache_dir)
        cache.request("0" * 64, 128, studio.asset_path("gallery/ws/never.png"))
        qtbot.waitUntil(lambda: cache.failed("0" * 64, 128) is not None, timeout=20_000)
        assert not studio.asset_path("gallery/ws/never.png").exists()
    finally:
        thumbnails._fetchers.pop(studio.paths.assets_dir, None)
        thumbnails.wait_until_idle()


def test_solo_mode_registers_nothing(studio: Studio) -> None:
    use_team_assets(studio)
    assert studio.paths.assets_dir not in thumbnails._fetchers
