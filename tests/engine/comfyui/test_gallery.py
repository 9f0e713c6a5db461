"""The gallery of generated images: filters, rating, favourite, re-run, input for img2img, trash."""
from __future__ import annotations

from datetime import timedelta

import pytest

from studio.engine.comfyui import gallery
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound
from tests.engine.comfyui.helpers import reload, run_next, submit
from tests.fakes.comfyui_server import FakeComfyUI


def generate(studio: Studio, **values: object) -> tuple[Job, list[Asset]]:
    [job] = submit(studio, **values)
    run_next(studio)
    assert reload(studio, job).status == "completed", reload(studio, job).error
    return job, gallery.list_generated(studio, studio.workspace().id, job_id=job.id)


def test_filters_and_newest_first(studio: Studio, fake: FakeComfyUI, mia: Influencer) -> None:
    ws = studio.workspace().id
    first, [plain] = generate(studio, lora_name="")
    _, pair = generate(studio, influencer=mia, batch_size=2)
    everything = gallery.list_generated(studio, ws)
    assert [a.id for a in everything][-1] == plain.id and len(everything) == 3
    assert {a.id for a in gallery.list_generated(studio, ws, influencer_id=mia.id)} == {a.id for a in pair}
    assert [a.id for a in gallery.list_generated(studio, ws, lora="mia_v1.safetensors")] == [
        a.id for a in pair]
    assert gallery.recipe(plain)["lora"] is None  # the LoRA was bypassed, not used
    assert [a.id for a in gallery.list_generated(studio, ws, job_id=first.id)] == [plain.id]
    assert gallery.list_generated(studio, ws, since=utcnow() + timedelta(minutes=1)) == []

    rated = gallery.set_rating(studio, ws, pair[0].id, 4)
    assert rated.meta["rating"] == 4 and rated.meta["recipe"] == pair[0].meta["recipe"]
    gallery.set_favourite(studio, ws, pair[1].id, True)
    assert [a.id for a in gallery.list_generated(studio, ws, min_rating=3)] == [pair[0].id]
    assert [a.id for a in gallery.list_generated(studio, ws, favourites_only=True)] == [pair[1].id]
    assert gallery.set_favourite(studio, ws, pair[1].id, False).meta["favourite"] is False
    with pytest.raises(InvalidInput, match="from 0 to 5, not 6"):
        gallery.set_rating(studio, ws, pair[0].id, 6)

    gallery.trash_image(studio, ws, plain.id)
    assert plain.id not in {a.id for a in gallery.list_generated(studio, ws)}
    with pytest.raises(NotFound):
        gallery.set_rating(studio, ws, plain.id, 1)


def test_rerun_with_a_new_seed_or_the_same_one(studio: Studio, fake: FakeComfyUI,
                                               mia: Influencer) -> None:
    ws = studio.workspace().id
    _, [image] = generate(studio, influencer=mia, seed=777, cfg=5.5)
    same = gallery.rerun(studio, ws, image.id, new_seed=False)
    fresh = gallery.rerun(studio, ws, image.id)
    assert same.payload["values"] == image.meta["recipe"]["values"]
    assert same.payload["influencer_id"] == str(mia.id)
    assert fresh.payload["values"]["seed"] != 777
    assert {k: v for k, v in fresh.payload["values"].items() if k != "seed"} == {
        k: v for k, v in same.payload["values"].items() if k != "seed"}
    run_next(studio)
    [again] = gallery.list_generated(studio, ws, job_id=same.id)
    # Same seed, same graph: the same picture (ComfyUI even answers from its cache).
    assert again.meta["recipe"]["graph"] == image.meta["recipe"]["graph"]
    assert again.sha256 == image.sha256


def test_use_as_input_feeds_image_to_image(studio: Studio, fake: FakeComfyUI) -> None:
    ws = studio.workspace().id
    _, [image] = generate(studio)
    path = gallery.use_as_input(image)
    assert path == gallery.asset_path(studio, image) == gallery.use_as_input(image, studio)
    assert path.read_bytes().startswith(b"\x89PNG")
    job, [redrawn] = generate(studio, template="img2img-sd15-lora", input_image=str(path))
    assert gallery.recipe(redrawn)["values"]["input_image"] == image.storage_key  # its own key
    sent = gallery.recipe(redrawn)["graph"]["11"]["inputs"]["image"]
    assert fake.files[("input", "", sent)] == path.read_bytes()
    assert gallery.preview_path(studio, job.id) == studio.paths.cache_dir / "previews" / f"{job.id}.jpg"
    studio.asset_path(image.storage_key).unlink()
    with pytest.raises(NotFound, match="missing from the asset store"):
        gallery.use_as_input(image)
    assert len(gallery.list_generated(studio, ws)) == 2


def test_rows_read_the_recipe_the_same_way_the_lora_filter_does(studio: Studio, fake: FakeComfyUI,
                                                                 mia: Influencer) -> None:
    ws = studio.workspace().id
    job, pair = generate(studio, influencer=mia, batch_size=2, seed=4242)
    gallery.set_rating(studio, ws, pair[0].id, 3)
    rows = gallery.gallery_rows(studio, workspace_id=ws, spec=gallery.GalleryFilter(job_id=job.id))
    assert {r.id for r in rows} == {a.id for a in pair}
    row = next(r for r in rows if r.id == pair[0].id)
    assert (row.rating, row.favourite, row.influencer_id, row.job_id) == (3, False, mia.id, job.id)
    assert row.lora == "mia_v1.safetensors" and row.seed == gallery.recipe(pair[0])["seed"]
    assert row.template and row.prompt and row.width > 0 and row.name.endswith(".png")
    for lora in {r.lora for r in rows}:  # every LoRA a row shows finds that row again
        spec = gallery.GalleryFilter(lora=lora, min_rating=3)
        assert [r.id for r in gallery.gallery_rows(studio, workspace_id=ws, spec=spec)] == [pair[0].id]


def test_an_older_recipe_names_its_lora_among_the_values() -> None:
    made = {"template": {"name": "txt2img"}, "params": {"lora_name": "old.safetensors", "seed": 5,
                                                         "positive": "a cat"}}
    asset = Asset(kind="image", storage_key="images/w/j/a.png", meta={"recipe": made, "rating": 2})
    row = gallery.gallery_row(asset)
    assert (row.lora, row.seed, row.prompt, row.template, row.rating) == (
        "old.safetensors", 5, "a cat", "txt2img", 2)
    assert row.sha256  # a stand-in from the key when the file's hash is unknown
