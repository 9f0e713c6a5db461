"""POST /datasets/{id}/export with a caption style: the same as `dataset export --caption-style`."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from studio.engine.core import Studio
from studio.engine.datasets.service import get_dataset
from tests.engine.datasets.caption_helpers import add_image


def test_export_in_sentences(client: TestClient, studio: Studio, tmp_path: Path) -> None:
    assert client.post("/influencers", json={"name": "Mia", "trigger_word": "mia"}).status_code == 201
    made = client.post("/datasets", json={"influencer": "Mia", "name": "main", "class_token": "woman"}).json()
    add_image(studio, get_dataset(studio, studio.workspace().id, "main", "Mia"), 1, caption="beach, mia, red_dress")
    out = tmp_path / "flux"
    done = client.post(f"/datasets/{made['id']}/export", json={"out": str(out), "caption_style": "sentences"})
    assert done.status_code == 200, done.text
    assert done.json()["caption_report"] == "captions as sentences: 1 joined from tags"
    (caption,) = (out / "img").glob("*/*.txt")
    assert caption.read_text(encoding="utf-8") == "mia, beach and red dress."
    wrong = client.post(f"/datasets/{made['id']}/export", json={"out": str(tmp_path / "x"), "caption_style": "prose"})
    assert wrong.status_code == 422
