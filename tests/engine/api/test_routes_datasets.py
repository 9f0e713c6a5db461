"""/datasets: the dataset verbs over HTTP, in-process; jobs are run here, as a worker would."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from studio.engine.core import Studio
from studio.engine.jobs.status import JobStatus
from tests.conftest import run_next_task
from tests.engine.api.conftest import Tokens, bearer


def _pictures(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (320, 240), ((i * 70) % 256, (i * 30) % 256, 200)).save(folder / f"s{i}.png")
        Image.effect_noise((320, 240), 40 + i).save(folder / f"n{i}.png")
    return folder


def _dataset(client: TestClient) -> dict[str, object]:
    assert client.post("/influencers", json={"name": "Mia", "trigger_word": "mia"}).status_code == 201
    made = client.post("/datasets", json={"influencer": "Mia", "name": "main", "class_token": "woman"})
    assert made.status_code == 201
    return dict(made.json())


def test_create_list_and_show(client: TestClient) -> None:
    dataset = _dataset(client)
    assert (dataset["name"], dataset["influencer"], dataset["images"], dataset["folder"]) == (
        "main", "Mia", 0, "10_mia woman")
    assert [d["id"] for d in client.get("/datasets").json()] == [dataset["id"]]
    assert [d["id"] for d in client.get("/datasets", params={"influencer": "Mia"}).json()] == [dataset["id"]]
    assert client.get(f"/datasets/{dataset['id']}").json() == dataset
    assert client.get("/datasets", params={"influencer": "Nobody"}).status_code == 404


def test_import_from_a_path_on_this_machine_then_analyse(client: TestClient, studio: Studio,
                                                         tmp_path: Path) -> None:
    dataset = _dataset(client)
    folder = _pictures(tmp_path / "in", 2)
    queued = client.post(f"/datasets/{dataset['id']}/import", json={"paths": [str(folder)]})
    assert queued.status_code == 202
    assert queued.json()["type"] == "import-dataset" and queued.json()["status"] == JobStatus.PENDING
    assert queued.json()["payload"]["paths"] == ["in"]  # a path outside the data folder: its name only
    run_next_task(studio, queued.json()["queue"])
    assert client.get(f"/jobs/{queued.json()['id']}").json()["status"] == JobStatus.COMPLETED
    images = client.get(f"/datasets/{dataset['id']}/images", params={"sort": "name"}).json()
    assert [i["name"] for i in images] == ["n0.png", "n1.png", "s0.png", "s1.png"]
    analysed = client.post(f"/datasets/{dataset['id']}/analyse", json={"force": True})
    assert analysed.status_code == 202 and analysed.json()["type"] == "analyze-dataset"
    run_next_task(studio, analysed.json()["queue"])
    assert client.get(f"/jobs/{analysed.json()['id']}").json()["status"] == JobStatus.COMPLETED
    assert client.post(f"/datasets/{dataset['id']}/analyse").status_code == 202  # a body is optional


def test_a_missing_path_is_refused_without_showing_where(client: TestClient, tmp_path: Path) -> None:
    dataset = _dataset(client)
    refused = client.post(f"/datasets/{dataset['id']}/import", json={"paths": [str(tmp_path / "nope.zip")]})
    assert refused.status_code == 422
    assert refused.json() == {"detail": "Not found: nope.zip."}


def test_images_are_filtered_as_the_cli_filters_them(client: TestClient, studio: Studio, tmp_path: Path) -> None:
    dataset = _dataset(client)
    job = client.post(f"/datasets/{dataset['id']}/import", json={"paths": [str(_pictures(tmp_path / "in", 1))]})
    run_next_task(studio, job.json()["queue"])
    assert [i["name"] for i in client.get(f"/datasets/{dataset['id']}/images", params={"text": "n0"}).json()] == [
        "n0.png"]
    assert client.get(f"/datasets/{dataset['id']}/images", params={"caption": "maybe"}).status_code == 422


def test_export_writes_the_kohya_folder_and_shows_no_machine_path(client: TestClient, studio: Studio,
                                                                 tmp_path: Path) -> None:
    dataset = _dataset(client)
    job = client.post(f"/datasets/{dataset['id']}/import", json={"paths": [str(_pictures(tmp_path / "in", 1))]})
    run_next_task(studio, job.json()["queue"])
    out = tmp_path / "kohya"
    done = client.post(f"/datasets/{dataset['id']}/export", json={"out": str(out)})
    assert done.status_code == 200
    assert done.json()["images"] == 2
    assert (out / "img" / "10_mia woman").is_dir()
    assert str(tmp_path) not in done.text
    assert done.json()["image_dir"] == "10_mia woman"


def test_writes_need_a_read_write_token(client: TestClient, tokens: Tokens) -> None:
    dataset = _dataset(client)
    reader = bearer(tokens.reader)
    assert client.get(f"/datasets/{dataset['id']}/images", headers=reader).status_code == 200
    for path, body in (("import", {"paths": ["/x"]}), ("analyse", {}), ("export", {"out": "/tmp/x"})):
        assert client.post(f"/datasets/{dataset['id']}/{path}", json=body, headers=reader).status_code == 403
    files = [("files", ("a.png", b"not really", "image/png"))]
    assert client.post(f"/datasets/{dataset['id']}/upload", files=files, headers=reader).status_code == 403
    assert client.post("/datasets", json={"influencer": "Mia", "name": "b"}, headers=reader).status_code == 403
