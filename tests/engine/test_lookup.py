"""Rows by the names people type: Decision 5's workspace rule, LoRAs, id prefixes."""
from __future__ import annotations

import uuid

import pytest

from studio.engine import lookup
from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.influencers import Persona, create_influencer


def _influencer(studio: Studio, workspace: str, name: str) -> uuid.UUID:
    return create_influencer(studio, studio.workspace(workspace, create=True).id, Persona(name=name)).id


def test_an_influencer_in_the_current_workspace_wins(studio: Studio) -> None:
    studio.use_workspace(studio.workspace("Home", create=True).name)
    here = _influencer(studio, "Home", "Mia")
    _influencer(studio, "Other", "Mia")
    found = lookup.find_influencer(studio, name="  Mia ")
    assert (found.workspace.name, found.influencer.id) == ("Home", here)


def test_a_name_unique_in_the_data_folder_needs_no_workspace(studio: Studio) -> None:
    studio.use_workspace(studio.workspace("Home", create=True).name)
    elsewhere = _influencer(studio, "Agency", "Nova")
    found = lookup.find_influencer(studio, name="Nova")
    assert (found.workspace.name, found.influencer.id) == ("Agency", elsewhere)


def test_a_name_in_several_other_workspaces_asks_which(studio: Studio) -> None:
    studio.use_workspace(studio.workspace("Home", create=True).name)
    _influencer(studio, "A", "Nova")
    _influencer(studio, "B", "Nova")
    with pytest.raises(InvalidInput, match="'A', 'B'.*--workspace"):
        lookup.find_influencer(studio, name="Nova")
    assert lookup.find_influencer(studio, name="Nova", workspace="B").workspace.name == "B"


def test_a_named_workspace_is_the_only_place_looked(studio: Studio) -> None:
    _influencer(studio, "A", "Nova")
    studio.workspace("B", create=True)
    with pytest.raises(NotFound, match="in workspace 'B'"):
        lookup.find_influencer(studio, name="Nova", workspace="B")
    with pytest.raises(NotFound, match="No influencer named 'Zed'"):
        lookup.find_influencer(studio, name="Zed")


def test_a_dataset_by_influencer_and_name(studio: Studio) -> None:
    _influencer(studio, "Agency", "Nova")
    workspace = studio.workspace("Agency")
    made = create_dataset(studio, workspace.id, "Nova", "faces v1")
    found = lookup.find_dataset(studio, influencer="Nova", dataset="faces  v1")
    assert (found.workspace.id, found.influencer.name, found.dataset.id) == (workspace.id, "Nova", made.id)
    with pytest.raises(NotFound):
        lookup.find_dataset(studio, influencer="Nova", dataset="other")


def test_a_lora_by_id_file_name_or_stem(studio: Studio) -> None:
    workspace_id = studio.workspace().id
    with studio.db.session() as session:
        lora = Repository(session, workspace_id).add(
            LoraModel(name="mia v3", storage_key=f"loras/{workspace_id}/mia_v3.safetensors"))
    for ref in (str(lora.id), "mia_v3.safetensors", "mia_v3", "mia v3"):
        assert lookup.find_lora(studio, workspace_id=workspace_id, ref=ref).id == lora.id
    with pytest.raises(NotFound, match="No saved LoRA 'mia_v4'"):
        lookup.find_lora(studio, workspace_id=workspace_id, ref="mia_v4")


def test_an_id_from_a_unique_prefix() -> None:
    ids = [uuid.UUID("12345678-0000-0000-0000-000000000000"),
           uuid.UUID("12349999-0000-0000-0000-000000000000")]
    assert lookup.id_from_prefix(ids=ids, text=" 123456 ", what="job", where="here") == ids[0]
    assert lookup.id_from_prefix(ids=ids, text=str(ids[1]).upper(), what="job", where="here") == ids[1]
    with pytest.raises(InvalidInput, match="too short"):
        lookup.id_from_prefix(ids=ids, text="123", what="job", where="here")
    with pytest.raises(InvalidInput, match="matches 2"):
        lookup.id_from_prefix(ids=ids, text="1234", what="job", where="here")
    with pytest.raises(NotFound, match="No job with the id 'ffff' here"):
        lookup.id_from_prefix(ids=ids, text="ffff", what="job", where="here")


def test_the_current_workspace_name_creates_nothing(studio: Studio) -> None:
    assert lookup.current_workspace_name(studio) is None
    assert studio.workspaces() == []
    studio.workspace("B", create=True)
    studio.use_workspace(studio.workspace("A", create=True).name)
    assert lookup.current_workspace_name(studio) == "A"
