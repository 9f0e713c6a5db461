"""``dataset analyze`` reports identity and ``influencer references`` lists and changes her
reference faces, end to end through the command line on real photographs."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.identity import model
from tests.cli.conftest import Cli, one_error_line
from tests.engine.datasets.corpus import save, scene
from tests.engine.identity.people import variant
from tests.photos import group

TARGET = ("--influencer", "Mia", "--dataset", "Set A")


@pytest.fixture
def analysed(cli: Cli, tmp_path: Path) -> Cli:
    """Mia's set: three pictures of her, one of someone else, the three together, a landscape."""
    drop = tmp_path / "drop"
    for kind in ("plain", "flip", "dark"):
        save(drop / f"her-{kind}.jpg", variant("astronaut", kind), quality=90)
    save(drop / "someone-else.jpg", variant("hopper", "plain"), quality=90)
    save(drop / "the-three.jpg", group(), quality=90)
    save(drop / "landscape.png", scene((400, 300), seed=4))
    assert cli("influencer", "create", "Mia").code == 0
    assert cli("dataset", "create", "--influencer", "Mia", "Set A").code == 0
    assert cli("dataset", "import", *TARGET, str(drop)).code == 0
    return cli


def test_analyze_prints_the_identity_counts_and_lists_each_picture(analysed: Cli) -> None:
    done = analysed("dataset", "analyze", *TARGET)
    assert done.code == 0, done.err
    assert "identity: different person 1, several people 1, no face 1" in done.out
    listed = analysed("dataset", "analyze", *TARGET, "--json").json()
    assert listed["status"] == "completed"
    images = {i["name"]: i for i in listed["images"]}
    assert images["someone-else.jpg"]["flags"] == ["different_person"]
    assert images["someone-else.jpg"]["identity_distance"] > 0.6
    assert images["the-three.jpg"]["flags"] == ["several_people"]
    assert images["landscape.png"] == {**images["landscape.png"], "flags": ["no_face"], "identity_score": None}
    assert all(images[f"her-{k}.jpg"]["identity_score"] > 0.6 for k in ("plain", "flip", "dark"))


def test_references_listed_added_removed_and_back_to_auto(analysed: Cli, tmp_path: Path) -> None:
    imported = analysed("influencer", "references", "--influencer", "Mia", "--json").json()
    assert (imported["revision"], len(imported["references"])) == (1, 4)  # the import judged them
    assert analysed("dataset", "analyze", *TARGET).code == 0
    shown = analysed("influencer", "references", "--influencer", "Mia")
    assert "auto (the largest cluster of faces in her datasets); centroid revision 1" in shown.out
    assert {r["name"] for r in analysed("influencer", "references", "--influencer", "Mia", "--json").json()[
        "references"]} == {"her-plain.jpg", "her-flip.jpg", "her-dark.jpg", "the-three.jpg"}
    crowd = save(tmp_path / "crowd.jpg", group(), quality=90)
    added = analysed("influencer", "references", "--influencer", "Mia", "--add", str(crowd))
    assert added.code == 0 and "3 faces in crowd.jpg: the biggest was taken" in added.err
    assert "chosen; centroid revision 2" in added.out and "crowd.jpg" in added.out
    removed = analysed("influencer", "references", "--influencer", "Mia", "--remove", "1", "--json").json()
    assert (removed["references"], removed["centroid"], removed["auto"]) == ([], False, False)
    chosen = analysed("influencer", "references", "--influencer", "Mia", "--from-dataset", "Set A", "--json").json()
    assert {r["source"] for r in chosen["references"]} == {"cluster"} and len(chosen["references"]) == 4
    back = analysed("influencer", "references", "--influencer", "Mia", "--auto", "--json").json()
    assert back["auto"] is True and back["centroid"] is True


def test_clear_one_line_errors(analysed: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blank = save(tmp_path / "blank.png", scene((300, 200), seed=1))
    refused = analysed("influencer", "references", "--influencer", "Mia", "--add", str(blank))
    assert refused.code == 2 and one_error_line(refused.err) == "error: No face found in blank.png."
    unknown = analysed("influencer", "references", "--influencer", "Nobody")
    assert unknown.code == 1 and "Nobody" in one_error_line(unknown.err)
    too_many = analysed("influencer", "references", "--influencer", "Mia", "--remove", "7")
    assert too_many.code == 2 and "no reference 7" in one_error_line(too_many.err)

    def missing() -> None:
        raise model.ModelUnavailable("the face model is not installed (pip install face-recognition-models)")
    monkeypatch.setattr(model, "load", missing)
    unavailable = analysed("influencer", "references", "--influencer", "Mia", "--add", str(blank))
    assert unavailable.code == 1 and one_error_line(unavailable.err) == (
        "error: Identity is not available: the face model is not installed (pip install face-recognition-models).")
