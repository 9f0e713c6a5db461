"""workspace list|create|use|rename, and that --data-dir keeps profiles apart."""
from __future__ import annotations

from pathlib import Path

from studio.cli.main import main
from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line


def test_create_list_marks_current(cli: Cli) -> None:
    assert cli("workspace", "create", "Alpha").code == 0
    assert cli("workspace", "create", "Beta").code == 0
    assert cli("workspace", "use", "Beta").out.strip() == "now using workspace 'Beta'"
    listing = cli("workspace", "list").out.splitlines()
    assert any(line.startswith("*") and "Beta" in line for line in listing)
    assert not any(line.startswith("*") and "Alpha" in line for line in listing)
    rows = cli("--json", "workspace", "list").json()
    assert {r["name"]: r["current"] for r in rows} == {"Alpha": False, "Beta": True}
    assert all(isinstance(r["id"], str) and isinstance(r["created_at"], str) for r in rows)


def test_use_is_saved_and_default_for_other_verbs(cli: Cli, data_dir: Path) -> None:
    cli("workspace", "create", "Alpha")
    cli("workspace", "create", "Beta")
    cli("workspace", "use", "Beta")
    assert Studio.open(data_dir).settings.general.current_workspace == "Beta"
    cli("influencer", "create", "Nova")
    assert [r["name"] for r in cli("influencer", "list", "--workspace", "Beta", "--json").json()] == ["Nova"]
    assert cli("influencer", "list", "--workspace", "Alpha", "--json").json() == []


def test_rename_follows_the_current_workspace(cli: Cli, data_dir: Path) -> None:
    cli("workspace", "create", "Alpha")
    cli("workspace", "use", "Alpha")
    result = cli("workspace", "rename", "Alpha", "Gamma")
    assert result.code == 0 and "Gamma" in result.out
    assert Studio.open(data_dir).settings.general.current_workspace == "Gamma"
    assert [r["name"] for r in cli("workspace", "list", "--json").json()] == ["Gamma"]


def test_duplicate_and_unknown_names_are_one_line_errors(cli: Cli) -> None:
    cli("workspace", "create", "Alpha")
    duplicate = cli("workspace", "create", "Alpha")
    assert duplicate.code == 1 and "already exists" in one_error_line(duplicate.err)
    unknown = cli("workspace", "use", "Nope")
    assert unknown.code == 1 and "Nope" in one_error_line(unknown.err)
    blank = cli("workspace", "create", "   ")
    assert blank.code == 2 and "needs a name" in one_error_line(blank.err)


def test_data_dir_isolates_profiles(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "one", tmp_path / "two"
    assert main(["--data-dir", str(first), "workspace", "create", "Only-in-one"]) == 0
    assert main(["workspace", "create", "Only-in-two", "--data-dir", str(second)]) == 0
    capsys.readouterr()
    assert main(["workspace", "list", "--json", "--data-dir", str(first)]) == 0
    assert "Only-in-one" in capsys.readouterr().out
    assert main(["--json", "--data-dir", str(second), "workspace", "list"]) == 0
    out = capsys.readouterr().out
    assert "Only-in-two" in out and "Only-in-one" not in out
