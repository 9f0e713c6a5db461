from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import create_dataset, list_images
from studio.engine.fsutil import atomic_write_text, atomic_writer
from studio.engine.influencers import Persona, create_influencer
from studio.engine.media.presets import load_presets
from studio.engine.media.still import export_still
from studio.engine.media.thumbnails import thumbnail_path


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "settings.toml"
    atomic_write_text(target, "old = 1\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"new = ")
        raise RuntimeError("killed half way")
    assert target.read_text() == "old = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.toml"]


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask_027")
def test_written_files_follow_the_umask_unless_a_mode_is_asked(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "plain.txt", "x")
    atomic_write_text(tmp_path / "secret.json", "{}", mode=0o600)
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o640  # not mkstemp's 0600
    assert stat.S_IMODE((tmp_path / "secret.json").stat().st_mode) == 0o600
    os.umask(0o002)
    atomic_write_text(tmp_path / "shared.txt", "x")
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o664


@pytest.mark.usefixtures("umask_027")
def test_stored_originals_thumbnails_and_exported_pictures_follow_the_umask(
        studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia"))
    dataset = create_dataset(studio, workspace.id, mia.id, "Main")
    source = tmp_path / "in.png"
    Image.new("RGB", (400, 300), "teal").save(source)
    report = import_paths(studio, dataset, [source])
    [image] = list_images(studio, dataset)
    assert report.imported == 1
    stored = studio.paths.assets_dir / image.storage_key
    thumb = thumbnail_path(studio.paths.cache_dir, image.sha256, 256)
    exported = export_still(source, load_presets()["tiktok"], tmp_path / "out" / "post.jpg").path
    for path in (stored, thumb, exported):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
