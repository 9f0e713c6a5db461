"""Importing a LoRA made elsewhere: read, copied whole into the studio's storage, recorded with
its family; a broken file leaves nothing behind."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.influencers import Persona, create_influencer
from studio.engine.loras.importing import import_lora
from studio.engine.loras.library import offer
from tests.engine.loras.files import SDXL, write_lora


def test_an_imported_lora_is_copied_and_recorded_with_its_family(studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    source = write_lora(tmp_path / "downloads" / "mia_xl.safetensors", SDXL)
    lora = import_lora(studio, workspace.id, source, influencer_id=mia.id)
    stored = studio.paths.assets_dir / lora.storage_key
    assert stored.read_bytes() == source.read_bytes() and not stored.samefile(source)
    assert lora.name == "Mia XL" and lora.influencer_id == mia.id
    meta = lora.meta
    assert meta["family"] == "sdxl" and meta["file_name"] == "mia_xl.safetensors" and meta["kind"] == "imported"
    assert meta["ss_metadata"]["ss_network_dim"] == "16" and meta["size_bytes"] == source.stat().st_size
    assert offer(studio, workspace.id, "sdxl").names == ["mia_xl.safetensors"]
    assert offer(studio, workspace.id, "sd15").names == []
    assert not list(stored.parent.glob("*.tmp*"))  # nothing half-written left next to it


def test_the_same_file_twice_is_one_lora_and_another_of_the_same_name_gets_a_number(
        studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    first = import_lora(studio, workspace.id, write_lora(tmp_path / "a" / "mia.safetensors", SDXL))
    again = import_lora(studio, workspace.id, tmp_path / "a" / "mia.safetensors")
    other = import_lora(studio, workspace.id, write_lora(tmp_path / "b" / "mia.safetensors", {}, values=4))
    assert again.id == first.id
    assert other.meta["file_name"] == "mia-2.safetensors" and other.meta["family"] is None
    assert other.name == "mia"  # no title in the file: its name
    with studio.db.session() as session:  # a trashed LoRA keeps its file's name
        repo = Repository(session, workspace.id)
        repo.trash(repo.get(LoraModel, other.id))
    third = import_lora(studio, workspace.id, write_lora(tmp_path / "c" / "mia.safetensors", {}, values=2))
    assert third.meta["file_name"] == "mia-3.safetensors"


def test_a_corrupt_file_is_refused_and_nothing_is_stored(studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    source = write_lora(tmp_path / "broken.safetensors", SDXL)
    source.write_bytes(source.read_bytes()[:-10])
    with pytest.raises(InvalidInput, match=r"^broken.safetensors is not a LoRA the studio can read: "):
        import_lora(studio, workspace.id, source)
    assert offer(studio, workspace.id, None).names == []
    assert not (studio.paths.assets_dir / "loras").exists()
