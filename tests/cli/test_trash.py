"""trash list|restore|purge over the repository trash; purge removes avatar files too."""
from __future__ import annotations

from pathlib import Path

from studio.engine.core import Studio
from studio.engine.datasets.export import export_kohya
from studio.engine.datasets.service import get_dataset, list_images
from studio.engine.db.models import Dataset
from studio.engine.db.repositories import Repository
from studio.engine.media.thumbnails import thumbnail_path
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


def _import(cli: Cli, tmp_path: Path, dataset: str, *pictures: Path) -> None:
    cli("dataset", "create", "--influencer", "Nova", dataset)
    done = cli("dataset", "import", "--influencer", "Nova", "--dataset", dataset, *map(str, pictures))
    assert done.code == 0, done.err


def _trash_dataset(studio: Studio, name: str) -> None:
    """As the Datasets page does (the CLI has no verb for it)."""
    workspace = studio.workspace()
    with studio.db.session() as session:
        repo = Repository(session, workspace.id)
        repo.trash(repo.find(Dataset, name=name))


def test_purging_a_dataset_removes_its_originals_thumbnails_and_training_copies(
        cli: Cli, studio: Studio, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    shared = make_image(tmp_path / "shared.png", (320, 240))
    own = make_image(tmp_path / "own.png", (300, 200))
    _import(cli, tmp_path, "Old", shared, own)
    _import(cli, tmp_path, "Kept", shared)
    workspace = studio.workspace()
    old = get_dataset(studio, workspace.id, "Old", influencer_ref="Nova")
    images = {Path(i.original_name).stem: i for i in list_images(studio, old)}
    stored = [studio.paths.assets_dir / i.storage_key for i in images.values()]
    training = studio.paths.data_dir / "training" / str(workspace.id) / "nova-v1" / "dataset"
    export_kohya(studio, old, training)
    assert all(p.is_file() for p in stored) and (training / "manifest.json").is_file()

    _trash_dataset(studio, "Old")
    item = next(i for i in cli("trash", "list", "--json").json() if i["kind"] == "dataset")
    assert cli("trash", "purge", item["id"]).code == 0
    assert not any(p.exists() for p in stored)
    assert not (studio.paths.assets_dir / "datasets" / str(workspace.id) / str(old.id)).exists()
    assert not training.exists() and training.parent.is_dir()  # the run's own files stay
    own_thumbs = thumbnail_path(studio.paths.cache_dir, images["own"].sha256, 256)
    shared_thumbs = thumbnail_path(studio.paths.cache_dir, images["shared"].sha256, 256)
    assert not own_thumbs.exists() and shared_thumbs.is_file()  # "Kept" still shows that one
    kept = get_dataset(studio, workspace.id, "Kept", influencer_ref="Nova")
    assert all((studio.paths.assets_dir / i.storage_key).is_file() for i in list_images(studio, kept))


def test_purging_an_influencer_removes_the_files_of_its_datasets(
        cli: Cli, studio: Studio, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    _import(cli, tmp_path, "Main", make_image(tmp_path / "a.png"))
    dataset_dir = studio.paths.assets_dir / "datasets" / str(studio.workspace().id)
    assert len(list(dataset_dir.rglob("*.png"))) == 1
    cli("influencer", "delete", "Nova")
    assert cli("trash", "purge", "--all").code == 0
    assert list(dataset_dir.rglob("*")) == []


def test_a_trashed_name_is_freed_by_restore_or_purge(cli: Cli, studio: Studio) -> None:
    cli("influencer", "create", "Nova")
    cli("influencer", "delete", "Nova")
    item_id = cli("trash", "list", "--json").json()[0]["id"]
    again = cli("influencer", "create", "Nova")
    assert again.code == 1
    assert one_error_line(again.err) == (
        f"error: An influencer named 'Nova' is in the trash: restore it (`trash restore "
        f"{item_id[:8]}`) or purge it (`trash purge {item_id[:8]}`) to use the name again.")
    assert cli("trash", "purge", item_id[:8]).code == 0
    assert cli("influencer", "create", "Nova").code == 0

    assert cli("dataset", "create", "--influencer", "Nova", "Main").code == 0
    _trash_dataset(studio, "Main")
    refused = cli("dataset", "create", "--influencer", "Nova", "Main")
    assert refused.code == 1 and "dataset named 'Main' is in the trash" in one_error_line(refused.err)
    dataset_id = cli("trash", "list", "--json").json()[0]["id"]
    assert cli("trash", "restore", dataset_id).code == 0
    assert [d["name"] for d in cli("dataset", "list", "--json").json()] == ["Main"]
