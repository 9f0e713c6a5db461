"""Import of files, folders and zips: bad input is refused with a reason, never a crash."""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import studio.engine.datasets.recorder as recorder
import studio.engine.datasets.sources as sources
from studio.engine.core import Studio
from studio.engine.datasets.importer import ImportReport, accepted_formats, import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from studio.engine.media.thumbnails import thumbnail_path
from tests.engine.datasets.corpus import bad_input_corpus, jpeg_bytes, noise, save


def _by_source(report: ImportReport, root: Path) -> dict[str, tuple[str, str]]:
    prefix = str(root) + "/"
    return {row.source.removeprefix(prefix): (row.status, row.reason) for row in report.rows}


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def test_bad_input_corpus_imports_without_a_crash_and_reports_every_file(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = bad_input_corpus(tmp_path / "corpus")
    drop = tmp_path / "corpus" / "drop"
    if os.geteuid() == 0:  # root reads a mode-000 file anyway; make the refusal what a user sees
        real = sources.read_source

        def locked(path: Path) -> bytes:
            if path.name == "locked.jpg":
                raise ValueError("permission denied")
            return real(path)
        monkeypatch.setattr(sources, "read_source", locked)
    outside_before = _files_under(tmp_path / "corpus")

    report = import_paths(studio, dataset, [drop])

    got = _by_source(report, drop)
    assert set(got) == set(expected)
    for source, (status, reason) in expected.items():
        assert got[source][0] == status, (source, got[source])
        assert reason in got[source][1], (source, got[source])
    statuses = [status for status, _ in expected.values()]
    assert (report.imported, report.duplicates, report.refused) == (
        statuses.count("imported"), statuses.count("duplicate"), statuses.count("refused"))
    images = list_images(studio, dataset)
    assert len(images) == statuses.count("imported") >= 9
    for image in images:  # keyed by content, with the extension of what was decoded
        assert image.storage_key.endswith(f"/{image.sha256}{accepted_formats()[image.format]}")
    assert {i.format for i in images} >= {"JPEG", "PNG", "WEBP", "BMP", "TIFF"}
    assert _files_under(tmp_path / "corpus") == outside_before  # nothing written beside the input
    assert not [p for p in _files_under(studio.paths.assets_dir) if ".staging" in p.parts]  # none left
    json.dumps(report.to_dict())  # the job result must be plain JSON
    assert ImportReport.from_dict(report.to_dict()) == report


def test_imported_rows_record_the_original_untouched(studio: Studio, dataset: Dataset,
                                                     tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    source = save(drop / "sub" / "Mia at the beach.JPG", noise((90, 60), seed=3), quality=85)
    (drop / "sub" / "Mia at the beach.txt").write_text("\ufeffmia, beach,  sunset \n", encoding="utf-8")
    report = import_paths(studio, dataset, [drop])
    assert [row.status for row in report.rows] == ["imported"]
    [image] = list_images(studio, dataset)
    assert str(image.id) == report.rows[0].image_id
    assert image.storage_key == f"datasets/{dataset.workspace_id}/{dataset.id}/{image.sha256}.jpg"
    assert studio.asset_path(image.storage_key).read_bytes() == source.read_bytes()
    assert (image.original_name, image.source_name) == ("Mia at the beach.JPG", "sub/Mia at the beach.JPG")
    assert (image.width, image.height, image.format) == (90, 60, "JPEG")
    assert image.size_bytes == source.stat().st_size
    assert image.caption == "mia, beach,  sunset"
    assert image.tags == ["mia", "beach", "sunset"]
    for size in (128, 256):
        assert thumbnail_path(studio.paths.cache_dir, image.sha256, size).stat().st_size > 0


def test_what_is_kept_and_decoded_is_what_was_hashed_even_if_the_source_changes(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file is read once and its copy is what the workers decode and what is kept: a file
    rewritten right after it was read (an editor saving over it) cannot mix two contents."""
    drop = tmp_path / "drop"
    for seed in range(4):  # enough to go through the worker processes
        save(drop / f"{seed}.png", noise((40 + seed, 30), seed=seed))
    archive = drop / "more.zip"
    member = _png(noise((33, 22), seed=9))
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("in/zipped.png", member)
    originals = {p.name: p.read_bytes() for p in drop.glob("*.png")}
    real = sources.read_source

    def then_rewritten(path: Path) -> bytes:
        data = real(path)
        save(path, noise((200, 100), seed=99))  # another picture, another size
        return data
    monkeypatch.setattr(sources, "read_source", then_rewritten)

    report = import_paths(studio, dataset, [drop])

    assert report.imported == 5 and report.refused == 0
    images = {image.original_name: image for image in list_images(studio, dataset)}
    for name, data in {**originals, "zipped.png": member}.items():
        image = images[name]
        kept = studio.asset_path(image.storage_key).read_bytes()
        assert kept == data and hashlib.sha256(kept).hexdigest() == image.sha256, name
        with Image.open(BytesIO(data)) as picture:
            assert (image.width, image.height, image.size_bytes) == (*picture.size, len(data)), name
    assert all(p.read_bytes() != originals[p.name] for p in drop.glob("*.png"))  # they did change
    folder = studio.paths.assets_dir / "datasets" / str(dataset.workspace_id) / str(dataset.id)
    assert not (folder / ".staging").exists()  # no staged copy left behind


def test_files_a_killed_import_staged_are_removed_a_day_later(studio: Studio, dataset: Dataset,
                                                              tmp_path: Path) -> None:
    staging = studio.paths.assets_dir / "datasets" / str(dataset.workspace_id) / str(dataset.id) / ".staging"
    staging.mkdir(parents=True)
    old, recent = staging / ".old.tmp", staging / ".recent.tmp"  # killed; another import's
    for path in (old, recent):
        path.write_bytes(b"partial")
    two_days_ago = old.stat().st_mtime - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    report = import_paths(studio, dataset, [save(tmp_path / "a.png", noise(seed=3))])
    assert report.imported == 1 and not old.exists() and recent.read_bytes() == b"partial"


def test_reimport_is_a_no_op(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    for seed in range(3):
        save(drop / f"{seed}.png", noise(seed=seed))
    first = import_paths(studio, dataset, [drop])
    stored = _files_under(studio.paths.assets_dir)
    again = import_paths(studio, dataset, [drop, drop / "1.png"])
    assert first.imported == 3
    assert [r.status for r in again.rows] == ["duplicate"] * 4
    assert {r.image_id for r in again.rows} == {r.image_id for r in first.rows}
    assert len(list_images(studio, dataset)) == 3
    assert _files_under(studio.paths.assets_dir) == stored



def test_the_same_picture_twice_in_one_import_is_kept_once(studio: Studio, dataset: Dataset,
                                                           tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    for seed in range(recorder.BATCH + 3):  # rows committed in more than one batch
        save(drop / f"{seed:02d}.png", noise(seed=seed))
    (drop / "00b.png").write_bytes((drop / "00.png").read_bytes())  # in the same batch
    (drop / "zz.png").write_bytes((drop / "01.png").read_bytes())  # in a later one
    report = import_paths(studio, dataset, [drop])
    statuses = {Path(r.source).name: r.status for r in report.rows}
    assert [n for n, s in statuses.items() if s != "imported"] == ["00b.png", "zz.png"]
    by_name = {Path(r.source).name: r.image_id for r in report.rows}
    assert (by_name["00b.png"], by_name["zz.png"]) == (by_name["00.png"], by_name["01.png"])
    assert {str(i.id) for i in list_images(studio, dataset)} == {r.image_id for r in report.rows}
    assert report.imported == recorder.BATCH + 3 and report.duplicates == 2

def test_an_import_killed_half_way_can_simply_run_again(studio: Studio, dataset: Dataset,
                                                        tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    for seed in range(6):
        save(drop / f"{seed}.jpg", noise(seed=seed), quality=90)
    calls = 0

    def killed_after_three() -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt  # the app dies: nothing after this point runs

    with pytest.raises(KeyboardInterrupt):
        import_paths(studio, dataset, [drop], check_canceled=killed_after_three)
    assert len(list_images(studio, dataset)) == 3
    rerun = import_paths(studio, dataset, [drop])
    assert [r.status for r in rerun.rows] == ["duplicate"] * 3 + ["imported"] * 3
    images = list_images(studio, dataset)
    assert len(images) == 6 and len({i.sha256 for i in images}) == 6
    stored = _files_under(studio.paths.assets_dir)
    assert {studio.asset_path(i.storage_key) for i in images} == stored  # no orphan, no row without file


def test_a_file_stored_before_a_kill_without_its_row_is_reused(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = save(tmp_path / "one.png", noise(seed=1))

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt
    monkeypatch.setattr(recorder.Repository, "add_all", crash)
    with pytest.raises(KeyboardInterrupt):
        import_paths(studio, dataset, [source])
    assert list_images(studio, dataset) == [] and len(_files_under(studio.paths.assets_dir)) == 1
    monkeypatch.undo()
    report = import_paths(studio, dataset, [source])
    assert report.imported == 1 and len(_files_under(studio.paths.assets_dir)) == 1


@pytest.mark.parametrize("name,make,size,fmt", [
    ("rotated.jpg", lambda p: noise((80, 40), 1).save(p, exif=_exif(6), quality=90), (40, 80), "JPEG"),
    ("cmyk.jpg", lambda p: noise((70, 30), 2, "CMYK").save(p, quality=90), (70, 30), "JPEG"),
    ("palette.png", lambda p: noise((50, 20), 3).convert("P").save(p, transparency=0), (50, 20), "PNG"),
    ("deep.png", lambda p: Image.fromarray(np.full((25, 60), 40000, np.uint16)).save(p), (60, 25), "PNG"),
    ("alpha.webp", lambda p: noise((33, 44), 4, "RGBA").save(p, lossless=True), (33, 44), "WEBP"),
    ("grey.tiff", lambda p: noise((21, 12), 5, "L").save(p), (21, 12), "TIFF"),
])
def test_every_kind_of_image_imports_with_its_upright_size(
        studio: Studio, dataset: Dataset, tmp_path: Path, name: str, make: object, size: tuple[int, int],
        fmt: str) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    report = import_paths(studio, dataset, [path])
    assert report.rows[0].status == "imported", report.rows
    [image] = list_images(studio, dataset)
    assert (image.width, image.height, image.format) == (*size, fmt)
    thumb = Image.open(thumbnail_path(studio.paths.cache_dir, image.sha256, 128))
    assert (thumb.width > thumb.height) == (size[0] > size[1])


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def test_zip_slip_entries_write_nothing_outside(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    archive = work / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, name in enumerate(["../../slip.jpg", "/tmp/absolute-slip.jpg", "a/../../b.jpg",
                                  "..\\windows.jpg", "C:/drive.jpg", "fine/./ok.jpg"]):
            zf.writestr(name, jpeg_bytes(noise(seed=40 + i)))
    before = _files_under(tmp_path)
    report = import_paths(studio, dataset, [archive])
    statuses = {r.source.removeprefix(str(archive) + "/"): (r.status, r.reason) for r in report.rows}
    assert statuses.pop("fine/./ok.jpg") == ("imported", "")
    assert all(s == "refused" and r.startswith("unsafe path in archive") for s, r in statuses.values())
    assert len(statuses) == 5
    new_files = _files_under(tmp_path) - before
    assets = studio.paths.assets_dir / "datasets" / str(dataset.workspace_id) / str(dataset.id)
    assert all(assets in f.parents or studio.paths.cache_dir in f.parents for f in new_files)
    assert not Path("/tmp/absolute-slip.jpg").exists() and not (tmp_path / "slip.jpg").exists()
    [image] = list_images(studio, dataset)
    assert image.source_name == "fine/ok.jpg"


def test_a_zip_bomb_stops_at_the_unpacked_size_cap(studio: Studio, dataset: Dataset, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_ARCHIVE_BYTES", 200_000)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("small.png", _png(noise(seed=1)))
        zf.writestr("zeros.bmp", b"BM" + b"\x00" * 5_000_000)  # 5 MB that deflate to a few KB
        zf.writestr("after.png", _png(noise(seed=2)))
    assert archive.stat().st_size < 50_000
    report = import_paths(studio, dataset, [archive])
    rows = {r.source.rsplit("/", 1)[1]: r for r in report.rows}
    assert rows["small.png"].status == "imported" and rows["after.png"].status == "imported"
    assert rows["zeros.bmp"].status == "refused"
    assert "the archive unpacks to more than" in rows["zeros.bmp"].reason


def test_a_zip_member_whose_header_lies_about_its_size_is_refused(studio: Studio, dataset: Dataset,
                                                                  tmp_path: Path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("liar.png", _png(noise(seed=5)))
    data = bytearray(archive.read_bytes())
    info = zipfile.ZipFile(archive).infolist()[0]
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # claims 10 bytes unpacked
    archive.write_bytes(bytes(data))
    assert info.file_size > 10
    [row] = import_paths(studio, dataset, [archive]).rows
    assert row.status == "refused"
    assert "possible zip bomb" in row.reason or "damaged archive entry" in row.reason


def test_missing_paths_and_captions_beside_dropped_files(studio: Studio, dataset: Dataset,
                                                         tmp_path: Path) -> None:
    image = save(tmp_path / "solo.webp", noise(seed=8), lossless=True)
    (tmp_path / "solo.txt").write_text("mia, studio light", encoding="utf-8")
    report = import_paths(studio, dataset, [image, tmp_path / "gone.jpg"])
    assert [(r.status, r.reason) for r in report.rows] == [("imported", ""), ("refused", "not found")]
    assert list_images(studio, dataset)[0].caption == "mia, studio light"


def _png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
