"""The API's shared views: a job as every route shows it, with nothing of the machine in it."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from studio.engine.api.sanitize import MASK, clean_text, clean_value
from studio.engine.api.schemas import JobOut, job_view
from studio.engine.db.models import Job
from studio.engine.jobs.status import JobStatus

DATA = Path("/home/mia/.local/share/studio")


def test_paths_under_the_data_folder_read_relative_to_it() -> None:
    text = f"could not read {DATA}/assets/datasets/w/d/a.png: gone"
    assert clean_text(text, DATA) == "could not read assets/datasets/w/d/a.png: gone"
    assert clean_text(f"in {DATA}", DATA) == "in ."


def test_other_absolute_paths_are_cut_to_their_file_name() -> None:
    assert "/srv" not in clean_text("no such file /srv/photos/set 1/x.zip here", DATA)
    assert clean_text("opened /srv/photos/x.zip", DATA) == "opened x.zip"
    assert clean_text(r"opened C:\Users\mia\x.zip", None) == "opened x.zip"
    assert clean_text(f"{DATA}x/y.png", DATA) == "y.png"  # a sibling folder is not under it


def test_urls_and_relative_paths_are_left_alone() -> None:
    text = "asked http://gpu-box.lan:9100/prompt for datasets/a.png"
    assert clean_text(text, DATA) == text


def test_values_under_secret_keys_are_masked_all_the_way_down() -> None:
    value = {"source": f"{DATA}/in/a.png", "nested": [{"api_key": "sk-1", "password": ""}], "n": 3}
    assert clean_value(value, DATA) == {"source": "in/a.png", "nested": [{"api_key": MASK, "password": ""}],
                                        "n": 3}


def test_job_view_cleans_the_payload_result_and_error() -> None:
    now = datetime.now(UTC)
    job = Job(id=uuid.uuid4(), workspace_id=uuid.uuid4(), type="dataset.import", queue="content",
              status=JobStatus.FAILED.value, title="Import /srv/in", progress=0.5, stage="", message="",
              error=f"Could not open {DATA}/assets/x.png", cost_usd=0.0, attempts=1, max_attempts=4,
              priority=0, created_at=now, started_at=now, finished_at=None, parent_id=None,
              payload={"sources": ["/srv/in/a.png"], "token": "t"}, result={"kept": f"{DATA}/k.png"})
    view = job_view(job, DATA)
    assert isinstance(view, JobOut)
    assert view.status is JobStatus.FAILED
    assert (view.title, view.error) == ("Import in", "Could not open assets/x.png")
    assert view.payload == {"sources": ["a.png"], "token": MASK}
    assert view.result == {"kept": "k.png"}
    assert "/srv" not in view.model_dump_json() and str(DATA) not in view.model_dump_json()
