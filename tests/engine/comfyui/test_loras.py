"""LoRA hand-off: a trained LoRA the studio holds reaches ComfyUI's loras folder when a job needs it."""
from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.engine.comfyui.loras import hand_off
from studio.engine.core import Studio
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from studio.engine.loras.importing import import_lora
from studio.engine.storage.local import LocalStore
from tests.engine.comfyui.helpers import run_next, submit
from tests.engine.loras.files import write_lora
from tests.fakes.comfyui_server import FakeComfyUI


def _studio_lora(studio: Studio, name: str = "mia_v2.safetensors") -> Path:
    workspace = studio.workspace()
    key = f"loras/{workspace.id}/{name}"
    stored = LocalStore(studio.paths.assets_dir).put_bytes(b"\x00safetensors-bytes" * 1000, key)
    with studio.db.session() as session:
        Repository(session, workspace.id).add(LoraModel(name="Mia v2", storage_key=key, base_model="sd15"))
    return stored.path


@pytest.fixture
def loras_dir(studio: Studio, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ComfyUI" / "models" / "loras"
    with FakeComfyUI(loras_dir=folder) as server:
        studio.settings.comfyui.url = server.base_url
        studio.settings.comfyui.loras_dir = str(folder)
        yield folder


def test_a_job_with_a_lora_comfyui_lacks_places_the_studios_file_and_runs(studio: Studio,
                                                                          loras_dir: Path) -> None:
    source = _studio_lora(studio)
    [job] = submit(studio, lora_name="mia_v2.safetensors")
    placed = loras_dir / "mia_v2.safetensors"
    assert placed.read_bytes() == source.read_bytes()
    run_next(studio)
    assert studio.jobs.get(job.workspace_id, job.id).status == "completed"
    assert hand_off(studio, studio.workspace().id, "mia_v2.safetensors") == placed  # already there


def test_an_unknown_lora_is_still_refused_in_one_sentence(studio: Studio, loras_dir: Path) -> None:
    with pytest.raises(InvalidInput, match="mia_v9.safetensors"):
        submit(studio, lora_name="mia_v9.safetensors")
    assert not loras_dir.exists() or not any(loras_dir.iterdir())


def test_a_remote_comfyui_gets_a_plain_instruction(studio: Studio) -> None:
    source = _studio_lora(studio)
    studio.settings.comfyui.loras_dir = ""
    studio.settings.comfyui.url = "http://gpu-box.example:8188"
    with pytest.raises(InvalidInput) as caught:
        hand_off(studio, studio.workspace().id, "mia_v2.safetensors")
    message = str(caught.value)
    assert "runs elsewhere (http://gpu-box.example:8188)" in message
    assert str(source) in message and "models/loras" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_comfyui_on_this_machine_is_not_said_to_run_elsewhere(studio: Studio, host: str) -> None:
    source = _studio_lora(studio)
    studio.settings.comfyui.loras_dir = ""
    studio.settings.comfyui.url = f"http://{host}:1"  # never connected to
    with pytest.raises(InvalidInput) as caught:
        hand_off(studio, studio.workspace().id, "mia_v2.safetensors")
    message = str(caught.value)
    assert "elsewhere" not in message
    assert "does not know its folder" in message
    assert "comfyui.folder" in message and "comfyui.loras_dir" in message and str(source) in message


def test_a_library_lora_whose_file_is_gone_is_named_in_one_sentence(studio: Studio, loras_dir: Path) -> None:
    _studio_lora(studio).unlink()
    with pytest.raises(InvalidInput, match="'mia_v2.safetensors' is in the library but its file is missing"):
        hand_off(studio, studio.workspace().id, "mia_v2.safetensors")
    assert not (loras_dir / "mia_v2.safetensors").exists()


def test_on_the_same_disk_the_file_is_linked_not_copied(studio: Studio, loras_dir: Path) -> None:
    source = _studio_lora(studio)
    placed = hand_off(studio, studio.workspace().id, "mia_v2.safetensors")
    assert placed is not None and placed.samefile(source)


def test_across_disks_the_file_is_copied_whole(studio: Studio, loras_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    source = _studio_lora(studio)

    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    monkeypatch.setattr(os, "link", cross_device)  # what a ComfyUI folder on another disk answers
    placed = hand_off(studio, studio.workspace().id, "mia_v2.safetensors")
    assert placed is not None and placed.read_bytes() == source.read_bytes() and not placed.samefile(source)
    assert [p.name for p in loras_dir.iterdir()] == ["mia_v2.safetensors"]  # no temporary file left


def test_a_job_with_an_imported_lora_finds_it_in_comfyuis_folder(studio: Studio, loras_dir: Path,
                                                                  tmp_path: Path) -> None:
    workspace = studio.workspace()
    made_elsewhere = write_lora(tmp_path / "downloads" / "film_look.safetensors",
                                {"modelspec.architecture": "stable-diffusion-v1/lora"})
    import_lora(studio, workspace.id, made_elsewhere)
    assert not (loras_dir / "film_look.safetensors").exists()  # nothing copied by hand
    [job] = submit(studio, lora_name="film_look.safetensors")
    assert (loras_dir / "film_look.safetensors").read_bytes() == made_elsewhere.read_bytes()
    run_next(studio)
    assert studio.jobs.get(job.workspace_id, job.id).status == JobStatus.COMPLETED


def test_a_lora_removed_from_comfyuis_folder_after_submit_is_put_back_when_the_job_runs(
        studio: Studio, loras_dir: Path) -> None:
    source = _studio_lora(studio)
    [job] = submit(studio, lora_name="mia_v2.safetensors")
    (loras_dir / "mia_v2.safetensors").unlink()  # cleaned up by hand, or a worker beside another ComfyUI
    run_next(studio)
    assert studio.jobs.get(job.workspace_id, job.id).status == JobStatus.COMPLETED
    assert (loras_dir / "mia_v2.safetensors").read_bytes() == source.read_bytes()


def test_a_copy_already_in_place_is_known_without_reading_it_again(studio: Studio, loras_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _studio_lora(studio)

    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    monkeypatch.setattr(os, "link", cross_device)
    placed = hand_off(studio, studio.workspace().id, "mia_v2.safetensors")
    assert placed is not None
    first = placed.stat().st_ino
    monkeypatch.setattr("studio.engine.comfyui.loras.sha256_file", lambda path: pytest.fail("read again"))
    assert hand_off(studio, studio.workspace().id, "mia_v2.safetensors") == placed
    assert placed.stat().st_ino == first  # left as it was
