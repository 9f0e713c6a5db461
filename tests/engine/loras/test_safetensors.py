"""Reading a LoRA file's header strictly, without torch: a file that is not a whole .safetensors
file is refused in one sentence."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.loras.safetensors import read_header
from tests.engine.loras.files import SDXL, write_lora


def test_the_header_gives_the_metadata_and_the_tensors(tmp_path: Path) -> None:
    path = write_lora(tmp_path / "mia_xl.safetensors", SDXL)
    header = read_header(path)
    assert header.metadata == SDXL
    assert header.tensors == 2 and header.size_bytes == path.stat().st_size


def test_a_file_without_metadata_is_read_with_none(tmp_path: Path) -> None:
    assert read_header(write_lora(tmp_path / "bare.safetensors")).metadata == {}


def _refusal(path: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_header(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_another_kind_of_file_is_refused_by_its_name(tmp_path: Path) -> None:
    path = write_lora(tmp_path / "mia.ckpt", SDXL)
    assert _refusal(path) == "mia.ckpt is not a .safetensors file; LoRAs are imported from .safetensors only."


@pytest.mark.parametrize(("damage", "why"), [
    (lambda raw: raw[:5], "its header is missing or cut short"),
    (lambda raw: struct.pack("<Q", 10**9) + raw[8:], "its header is missing or cut short"),
    (lambda raw: raw[:8] + b"\xff" + raw[9:], "its header is not JSON"),
    (lambda raw: raw[:-4], "where its header describes"),
    (lambda raw: raw + b"\x00" * 4, "where its header describes"),
])
def test_a_damaged_file_is_refused_in_one_sentence(tmp_path: Path, damage, why: str) -> None:
    path = write_lora(tmp_path / "mia.safetensors", SDXL)
    path.write_bytes(damage(path.read_bytes()))
    message = _refusal(path)
    assert message.startswith("mia.safetensors is not a LoRA the studio can read: ") and why in message


def test_a_json_header_that_is_no_table_of_tensors_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.safetensors"
    raw = b"[1, 2, 3]"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    assert "its header is not a JSON object" in _refusal(path)
    raw = b'{"__metadata__": {"a": "b"}}'
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    assert "it holds no tensors" in _refusal(path)
    raw = b'{"w": {"shape": [2]}}'
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    assert "its tensor 'w' is not described properly" in _refusal(path)
