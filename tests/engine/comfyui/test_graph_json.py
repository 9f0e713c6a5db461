"""Workflow JSON nested past any real graph's depth is refused as bad input, not a RecursionError."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.comfyui import graph_json
from studio.engine.comfyui.workflows import load_templates, read_graph
from studio.engine.errors import InvalidInput


def nested(levels: int) -> str:
    """A one-node API graph whose input value is ``levels`` lists deep."""
    return '{"1": {"class_type": "KSampler", "inputs": {"seed": ' + "[" * levels + "]" * levels + "}}}"


@pytest.mark.parametrize("levels", [100_000, 900, 62])  # 62 lists in 3 objects: 65 levels
def test_a_graph_nested_too_deep_is_one_plain_refusal(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text(nested(levels))
    with pytest.raises(InvalidInput) as refused:
        read_graph(path)
    assert str(refused.value) == "The workflow deep.json cannot be read: nested more than 64 levels deep"


def test_a_real_graph_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(nested(3))
    assert read_graph(path)["1"]["inputs"]["seed"] == [[[]]]
    assert graph_json.depth({"a": [1, {"b": []}]}) == 4 and graph_json.depth(5) == 0


def test_a_deep_user_file_is_listed_as_broken_while_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(nested(5000))
    (tmp_path / "fine.json").write_text(json.dumps(json.loads(nested(2))))
    loaded = load_templates(tmp_path)
    assert "fine" in loaded.templates and "deep" not in loaded.templates
    assert loaded.errors == ["The workflow deep.json cannot be read: nested more than 64 levels deep"]
