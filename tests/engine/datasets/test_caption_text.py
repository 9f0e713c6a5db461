"""Caption files on import: control characters cleaned with a note, over-long ones reported and
left out (never cut), from folders and from zip archives alike."""
from __future__ import annotations

import zipfile
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.datasets.caption_text import MAX_CAPTION_BYTES, caption_from_bytes
from studio.engine.datasets.importer import ImportReport, import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from tests.engine.datasets.corpus import noise, save


def test_a_clean_caption_is_kept_as_it_is() -> None:
    caption = caption_from_bytes("\ufeffmia, café,\tbeach \r\nsecond line\n".encode())
    assert (caption.text, caption.note) == ("mia, café,\tbeach \nsecond line", "")


def test_control_characters_are_removed_and_named() -> None:
    caption = caption_from_bytes(b"mia\x00, beach\x1b[31m red\x7f\x07 dress\xe2\x80\xae")
    assert caption.text == "mia, beach[31m red dress"
    assert caption.note == "caption cleaned: 5 control characters (BEL, DEL, ESC, NUL, U+202E) removed"


def test_bytes_that_are_not_utf8_are_said() -> None:
    caption = caption_from_bytes(b"mia, caf\xe9")
    assert caption.text == "mia, caf\ufffd" and "not UTF-8" in caption.note


def test_a_caption_over_the_limit_is_left_out_and_reported() -> None:
    at_limit = caption_from_bytes(b"a" * MAX_CAPTION_BYTES)
    assert len(at_limit.text) == MAX_CAPTION_BYTES and at_limit.note == ""
    over = caption_from_bytes(b"a" * (MAX_CAPTION_BYTES + 1))
    assert over.text == ""
    assert over.note == "caption left out: 64 KB is more than the 64 KB a caption may have"
    declared = caption_from_bytes(b"short", size=3 * 2**20)  # a zip member's stated size
    assert declared.text == "" and "3.0 MB" in declared.note


def _notes(report: ImportReport) -> dict[str, str]:
    return {Path(row.source).name: row.note for row in report.rows if row.status == "imported"}


def test_import_reports_what_it_did_to_captions(studio: Studio, dataset: Dataset,
                                                tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    for seed, name in enumerate(("clean", "dirty", "huge")):
        save(drop / f"{name}.png", noise(seed=seed))
    (drop / "clean.txt").write_text("mia, beach", encoding="utf-8")
    (drop / "dirty.txt").write_bytes(b"mia\x00, red\x1b[2J dress")
    (drop / "huge.txt").write_bytes(b"mia, " * (MAX_CAPTION_BYTES // 4))
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        archive.write(save(tmp_path / "z" / "zipped.png", noise(seed=7)), "zipped.png")
        archive.writestr("zipped.txt", b"mia\x00 zipped")

    report = import_paths(studio, dataset, [drop, tmp_path / "set.zip"])

    assert report.imported == 4
    notes = _notes(report)
    assert notes["clean.png"] == ""
    assert notes["dirty.png"] == "caption cleaned: 2 control characters (ESC, NUL) removed"
    assert notes["huge.png"].startswith("caption left out: 80 KB is more than the 64 KB")
    assert notes["zipped.png"] == "caption cleaned: 1 control character (NUL) removed"
    captions = {i.original_name: i.caption for i in list_images(studio, dataset)}
    assert captions == {"clean.png": "mia, beach", "dirty.png": "mia, red[2J dress",
                        "huge.png": "", "zipped.png": "mia zipped"}
    assert ImportReport.from_dict(report.to_dict()) == report  # the note survives the job result
