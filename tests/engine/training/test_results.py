"""LoRA files read back (header, completeness, ss_* metadata) and checkpoints as LoraModel rows."""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from studio.engine.db.models import Influencer, LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.storage.local import LocalStore
from studio.engine.training.results import (
    TrainingRef,
    active_lora,
    checkpoint_kind,
    checkpoints_of,
    read_lora_file,
    register_checkpoint,
    set_active,
)
from tests.engine.training.helpers import Setup


def lora(path: Path, **meta: str) -> Path:
    tensors = {"lora_unet_x.lora_down.weight": np.ones((4, 8), np.float16),
               "lora_unet_x.lora_up.weight": np.ones((8, 4), np.float16),
               "lora_unet_x.alpha": np.array(2.0, np.float16)}
    save_file(tensors, str(path), metadata={"ss_network_dim": "4", **meta})
    return path


def test_the_header_reader_agrees_with_the_safetensors_library(tmp_path: Path) -> None:
    path = lora(tmp_path / "a.safetensors", ss_steps="40", ss_epoch="2")
    info = read_lora_file(path)
    with safe_open(str(path), framework="numpy") as reference:
        assert info.metadata == reference.metadata()
        assert info.tensors == len(list(reference.keys()))
    assert info.complete


def test_a_file_still_being_written_is_not_complete(tmp_path: Path) -> None:
    full = lora(tmp_path / "a.safetensors").read_bytes()
    part = tmp_path / "b.safetensors"
    for cut in (4, 20, len(full) - 1):
        part.write_bytes(full[:cut])
        assert not read_lora_file(part).complete
    (tmp_path / "c.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(InvalidInput, match="not a LoRA the studio can read"):
        read_lora_file(tmp_path / "c.safetensors")


@pytest.mark.parametrize(("name", "kind"), [
    ("mia-v1.safetensors", ("final", None)), ("mia-v1-step00000500.safetensors", ("step", 500)),
    ("mia-v1-000003.safetensors", ("epoch", 3)), ("other.safetensors", ("other", None))])
def test_checkpoint_names(name: str, kind: tuple[str, int | None]) -> None:
    assert checkpoint_kind(Path(name), "mia-v1") == kind


def test_checkpoints_become_rows_once_and_one_is_active(setup: Setup, tmp_path: Path) -> None:
    studio, ws = setup.studio, setup.workspace_id
    store = LocalStore(studio.paths.assets_dir)
    ref = TrainingRef(workspace_id=ws, job_id=None, influencer_id=setup.influencer.id,  # type: ignore[arg-type]
                      output_name="mia-v1", base_model="sd15.safetensors", config={"network_dim": 4},
                      dataset_id=str(setup.dataset.id), dataset_version="abc", preset="sd15-fast-test")
    step = lora(tmp_path / "mia-v1-step00000004.safetensors", ss_steps="4", ss_epoch="1")
    final = lora(tmp_path / "mia-v1.safetensors", ss_steps="12", ss_epoch="2",
                 ss_base_model_version="sd_v1")
    first = register_checkpoint(studio.db, store, ref, step)
    again = register_checkpoint(studio.db, store, ref, step)
    last = register_checkpoint(studio.db, store, ref, final)
    assert first is not None and again is not None and last is not None and first.id == again.id
    rows = checkpoints_of(studio.db, ws, influencer_id=setup.influencer.id)
    assert [r.id for r in rows] == [first.id, last.id]
    meta = last.meta
    assert meta["final"] and (meta["step"], meta["epoch"]) == (12, 2)
    assert meta["sha256"] == hashlib.sha256(final.read_bytes()).hexdigest()
    assert meta["size_bytes"] == final.stat().st_size and meta["dataset_version"] == "abc"
    assert meta["ss_metadata"]["ss_network_dim"] == "4" and meta["config"] == {"network_dim": 4}
    assert last.storage_key == f"loras/{ws}/mia-v1.safetensors"
    assert studio.asset_path(last.storage_key).read_bytes() == final.read_bytes()
    assert set_active(studio.db, ws, first.id).meta["active"]
    set_active(studio.db, ws, last.id)
    assert active_lora(studio.db, ws, setup.influencer.id).id == last.id  # type: ignore[union-attr]
    with studio.db.session() as session:
        assert not Repository(session, ws).get(LoraModel, first.id).meta.get("active")
        assert Repository(session, ws).get(Influencer, setup.influencer.id).name == "Mia"


def test_a_step_checkpoints_epoch_counts_from_one_as_the_others_do(setup: Setup, tmp_path: Path) -> None:
    # Real sd-scripts writes the running epoch's 0-based index into a step checkpoint's ss_epoch
    # and the 1-based epoch into epoch and final ones (seen in a CPU run of sd-scripts).
    store = LocalStore(setup.studio.paths.assets_dir)
    ref = TrainingRef(workspace_id=setup.workspace_id, job_id=None,  # type: ignore[arg-type]
                      influencer_id=setup.influencer.id, output_name="mia-v1",
                      base_model="sd15.safetensors", config={}, dataset_id=str(setup.dataset.id),
                      dataset_version="abc", preset="sd15-fast-test")
    files = [lora(tmp_path / "mia-v1-step00000003.safetensors", ss_steps="3", ss_epoch="0"),
             lora(tmp_path / "mia-v1-step00000015.safetensors", ss_steps="15", ss_epoch="1"),
             lora(tmp_path / "mia-v1-000002.safetensors", ss_steps="24", ss_epoch="2"),
             lora(tmp_path / "mia-v1.safetensors", ss_steps="30", ss_epoch="3")]
    rows = [register_checkpoint(setup.studio.db, store, ref, path) for path in files]
    assert [(r.meta["kind"], r.meta["epoch"]) for r in rows if r is not None] == [
        ("step", 1), ("step", 2), ("epoch", 2), ("final", 3)]


def test_a_finished_training_s_lora_takes_its_preset_s_family(setup: Setup, tmp_path: Path) -> None:
    # musubi-tuner names every Wan LoRA "wan2.1/lora": the preset that trained it knows better.
    store = LocalStore(setup.studio.paths.assets_dir)
    ref = TrainingRef(workspace_id=setup.workspace_id, job_id=None,  # type: ignore[arg-type]
                      influencer_id=setup.influencer.id, output_name="mia-wan",
                      base_model="wan.safetensors", config={"family": "wan22_5b"},
                      dataset_id=str(setup.dataset.id), dataset_version="abc", preset="wan22-fast-test")
    wan = register_checkpoint(setup.studio.db, store, ref, lora(
        tmp_path / "mia-wan.safetensors", **{"modelspec.architecture": "wan2.1/lora"}))
    assert wan is not None and wan.meta["family"] == "wan22_5b"
    # Without a family in its settings, the file's own header tells it.
    flux_ref = dataclasses.replace(ref, output_name="mia-flux", config={})
    flux = register_checkpoint(setup.studio.db, store, flux_ref, lora(
        tmp_path / "mia-flux.safetensors", **{"modelspec.architecture": "flux-1-dev/lora"}))
    assert flux is not None and flux.meta["family"] == "flux1"
    assert flux.meta["ss_metadata"]["modelspec.architecture"] == "flux-1-dev/lora"
