"""trash list|restore|purge over the repository trash; purge removes avatar files too."""
from __future__ import annotations

from pathlib import Path

from studio.engine.core import Studio
from tests.cli.conftest import Cli, make_image, one_error_line


def test_restore(cli: Cli) -> None:
    cli("influencer", "create", "Nova")
    cli("influencer", "delete", "Nova")
    item = cli("trash", "list", "--json").json()[0]
    assert item["kind"] == "influencer" and item["name"] == "Nova" and item["deleted_at"]
    restored = cli("trash", "restore", item["id"][:8])
    assert restored.code == 0 and "restored influencer 'Nova'" in restored.out
    assert [i["name"] for i in cli("influencer", "list", "--json").json()] == ["Nova"]
    assert "is empty" in cli("trash", "list").out


def test_purge_removes_the_avatar_files(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    assert cli("influencer", "avatar", "Nova", str(make_image(tmp_path / "face.png"))).code == 0
    avatar = Path(cli("influencer", "show", "Nova", "--json").json()["avatar"])
    assert avatar.is_file()
    cli("influencer", "delete", "Nova")
    item_id = cli("trash", "list", "--json").json()[0]["id"]
    purged = cli("trash", "purge", item_id, "--json")
    assert purged.code == 0 and purged.json()["purged"][0]["id"] == item_id
    assert not avatar.exists() and not avatar.parent.exists()
    assert cli("trash", "list", "--json").json() == []
    assert cli("influencer", "show", "Nova").code == 1


def test_purge_all(cli: Cli) -> None:
    for name in ("A", "B", "C"):
        cli("influencer", "create", name)
    cli("influencer", "delete", "A")
    cli("influencer", "delete", "B")
    result = cli("trash", "purge", "--all")
    assert result.code == 0 and result.out.count("purged") == 2
    assert [i["name"] for i in cli("influencer", "list", "--json").json()] == ["C"]


def test_errors(cli: Cli) -> None:
    assert cli("trash", "purge").code == 2
    cli("influencer", "create", "Nova")
    cli("influencer", "delete", "Nova")
    item_id = cli("trash", "list", "--json").json()[0]["id"]
    assert cli("trash", "purge", item_id, "--all").code == 2
    unknown = cli("trash", "restore", "ffffffff")
    assert unknown.code == 1 and "No item with the id" in one_error_line(unknown.err)
