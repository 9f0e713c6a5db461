"""ComfyUI's /object_info kept per server start: the pre-check of generate against FakeComfyUI."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from studio.engine.comfyui import node_cache
from studio.engine.comfyui.client import ComfyClient
from studio.engine.comfyui.generation import check_on_comfyui, fetch_object_info
from studio.engine.comfyui.validation import WorkflowInvalid, choices
from studio.engine.core import Studio
from studio.engine.jobs.status import JobStatus
from tests.engine.comfyui.helpers import TXT2IMG, reload, run_next, submit
from tests.fakes.comfyui_nodes import REAL_SYSTEM_STATS
from tests.fakes.comfyui_server import FakeComfyUI


def full_fetches(fake: FakeComfyUI) -> int:
    return len(fake.requests("GET", "/object_info"))


def cache_files(studio: Studio) -> list[Path]:
    return sorted((studio.paths.cache_dir / node_cache.FOLDER).glob("object_info-*.json"))


def with_node(graph_node: str) -> dict[str, object]:
    return {**copy.deepcopy(TXT2IMG), "99": {"class_type": graph_node, "inputs": {}}}


def test_the_second_check_asks_for_no_object_info(studio: Studio, fake: FakeComfyUI) -> None:
    submit(studio)
    submit(studio, checkpoint="sdxl_base.safetensors")
    assert full_fetches(fake) == 1
    # Only the folder-listing node types of the template are read again, a few KB each.
    asked = {r.path for r in fake.received if r.path.startswith("/object_info/")}
    assert asked == {"/object_info/CheckpointLoaderSimple", "/object_info/LoraLoader"}
    assert len(cache_files(studio)) == 1


def test_a_new_command_line_run_reads_the_map_from_disk(studio: Studio, fake: FakeComfyUI) -> None:
    submit(studio)
    node_cache.clear()  # what a new process starts with
    [job] = submit(studio)
    assert full_fetches(fake) == 1
    assert job.payload["values"]["checkpoint"] == "sd15.safetensors"
    kept = json.loads(cache_files(studio)[0].read_text())
    assert kept["url"] == fake.base_url and "KSampler" in kept["object_info"]


def test_a_checkpoint_added_while_comfyui_runs_is_seen(studio: Studio, fake: FakeComfyUI) -> None:
    submit(studio)
    with pytest.raises(WorkflowInvalid, match="The checkpoint 'fresh.safetensors' is not in"):
        submit(studio, checkpoint="fresh.safetensors")
    fake.models["checkpoints"].append("fresh.safetensors")
    [job] = submit(studio, checkpoint="fresh.safetensors")
    assert job.payload["values"]["checkpoint"] == "fresh.safetensors"
    # The refusal was checked against a fresh map (one more fetch), the success needed none.
    assert full_fetches(fake) == 2
    info = fetch_object_info(fake.base_url, classes={"CheckpointLoaderSimple"})
    assert "fresh.safetensors" in (choices(info, "CheckpointLoaderSimple", "ckpt_name") or [])


def test_comfyui_started_with_other_options_is_asked_again(studio: Studio, fake: FakeComfyUI) -> None:
    submit(studio)
    restarted = copy.deepcopy(REAL_SYSTEM_STATS)
    restarted["system"]["argv"] = [*restarted["system"]["argv"], "--lowvram"]
    fake.override("GET /system_stats", 200, json.dumps(restarted))
    submit(studio)
    assert full_fetches(fake) == 2
    submit(studio)  # the stamp is the recorded one again: that map was dropped for the new one
    assert full_fetches(fake) == 3


def test_a_restart_on_the_same_port_with_a_new_node_pack_is_found(studio: Studio) -> None:
    with FakeComfyUI() as before:
        url, port = before.base_url, int(before.base_url.rsplit(":", 1)[1])
        studio.settings.comfyui.url = url
        info = fetch_object_info(url, cache_dir=studio.paths.cache_dir)
        with pytest.raises(WorkflowInvalid, match="no node type FaceFixer"):
            check_on_comfyui(studio, [with_node("FaceFixer")], info)
    with FakeComfyUI(port=port, extra_nodes=("FaceFixer",)) as after:
        # Same version and options, so the same stamp: the kept map lacks the node; the check
        # asks once more before it refuses, and the new map is kept.
        info = fetch_object_info(url, cache_dir=studio.paths.cache_dir)
        assert "FaceFixer" not in info
        check_on_comfyui(studio, [with_node("FaceFixer")], info)
        assert full_fetches(after) == 1
        assert "FaceFixer" in fetch_object_info(url, cache_dir=studio.paths.cache_dir)
        assert full_fetches(after) == 1


def test_a_prompt_comfyui_refuses_drops_the_kept_map(studio: Studio, fake: FakeComfyUI) -> None:
    [job] = submit(studio)
    assert len(cache_files(studio)) == 1
    refusal = {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs "
               "failed validation", "details": ""}, "node_errors": {}}
    fake.override("POST /prompt", 400, json.dumps(refusal))
    run_next(studio)
    assert reload(studio, job).status == JobStatus.FAILED
    assert cache_files(studio) == []
    submit(studio)
    assert full_fetches(fake) == 2


def test_forget_and_age_make_the_next_ask_fetch(studio: Studio, fake: FakeComfyUI,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cache = studio.paths.cache_dir
    fetch_object_info(fake.base_url, cache_dir=cache)
    node_cache.forget(fake.base_url + "/", cache)
    assert cache_files(studio) == []
    fetch_object_info(fake.base_url, cache_dir=cache)
    monkeypatch.setattr(node_cache, "MAX_AGE_S", 0)
    fetch_object_info(fake.base_url, cache_dir=cache)
    assert full_fetches(fake) == 3


def test_an_unreadable_disk_copy_is_fetched_again(studio: Studio, fake: FakeComfyUI) -> None:
    cache = studio.paths.cache_dir
    fetch_object_info(fake.base_url, cache_dir=cache)
    cache_files(studio)[0].write_text('{"format": 1, "url": ')
    node_cache.clear()
    assert "KSampler" in fetch_object_info(fake.base_url, cache_dir=cache)
    assert full_fetches(fake) == 2
    assert json.loads(cache_files(studio)[0].read_text())["format"] == 1


def test_the_stamp_ignores_free_memory_and_follows_the_start_options() -> None:
    stats = copy.deepcopy(REAL_SYSTEM_STATS)
    stamp = node_cache.server_stamp(stats)
    stats["system"]["ram_free"] = 1
    stats["devices"][0]["vram_free"] = 2
    stats["devices"][0]["torch_vram_free"] = 3
    assert node_cache.server_stamp(stats) == stamp
    stats["system"]["comfyui_version"] = "0.3.65"
    assert node_cache.server_stamp(stats) != stamp


def test_loaders_and_uploads_are_the_live_node_types(fake: FakeComfyUI) -> None:
    with ComfyClient(fake.base_url) as client:
        info = client.object_info()
        live = node_cache.live_classes(info)
        # What a check reads afresh is the very entry of the whole map.
        assert client.object_info("LoraLoader") == {"LoraLoader": info["LoraLoader"]}
        assert client.object_info("NoSuchNode") == {}
    assert {"CheckpointLoaderSimple", "LoraLoader", "LoadImage", "ControlNetLoader"} <= live
    assert not {"KSampler", "CLIPTextEncode", "SaveImage", "EmptyLatentImage"} & live
