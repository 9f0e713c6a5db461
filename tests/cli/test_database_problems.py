"""A damaged, emptied or newer database: one plain line from every verb, and the doctor's line
says what to do. Real SQLite files, damaged as tests/engine/db/damage.py does it."""
from __future__ import annotations

from pathlib import Path

from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line
from tests.conftest import run_cli
from tests.engine.db.damage import corrupt_an_index, make_newer


def doctor_line(cli: Cli) -> dict[str, str]:
    return next(c for c in cli("doctor", "--json").json() if c["key"] == "database")


def test_a_newer_database_says_update_the_studio(cli: Cli, studio: Studio, data_dir: Path) -> None:
    assert cli("workspace", "create", "Main").code == 0
    studio.close()
    make_newer(studio.paths.database_file, "0099_later")
    result = cli("workspace", "list")
    assert result.code == 1
    assert "made by a newer version of the studio (revision 0099_later); update the studio" in \
        one_error_line(result.err)
    found = doctor_line(cli)
    assert found["status"] == "problem" and "(revision 0099_later)" in found["detail"]
    done = run_cli(data_dir, "influencer", "list")  # a real process: no traceback either
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_zero_byte_database_with_assets_is_reported_not_replaced(cli: Cli, studio: Studio) -> None:
    assert cli("workspace", "create", "Main").code == 0
    studio.close()
    (studio.paths.assets_dir / "loras").mkdir(parents=True)
    (studio.paths.assets_dir / "loras" / "mia.safetensors").write_bytes(b"weights")
    for suffix in ("-wal", "-shm"):
        studio.paths.database_file.with_name(f"studio.sqlite3{suffix}").unlink(missing_ok=True)
    studio.paths.database_file.write_bytes(b"")
    result = cli("workspace", "list")
    assert result.code == 1
    line = one_error_line(result.err)
    assert "is empty (0 bytes) but the assets folder" in line and "will not start a new empty studio" in line
    assert studio.paths.database_file.stat().st_size == 0
    found = doctor_line(cli)
    assert found["status"] == "problem" and found["fix"].startswith("Restore studio.sqlite3 from a backup")


def test_doctor_reports_damage_quick_check_finds(cli: Cli, studio: Studio) -> None:
    assert cli("workspace", "create", "Main").code == 0
    studio.close()
    corrupt_an_index(studio.paths.database_file)
    found = doctor_line(cli)
    assert found["status"] == "problem" and "is damaged: quick_check says" in found["detail"]
    text = cli("doctor").out
    assert "fix: Restore studio.sqlite3 from a backup" in text
