"""``server publish|workspaces|open|sync|conflicts|resolve`` between two studios on one server."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.sync.records import SyncState
from tests.cli.conftest import cli_here, make_bucket


def keep_local(data_dir: Path, postgres_url: str, redis_url: str, s3: str, bucket: str) -> None:
    done = cli_here(data_dir, "server", "connect", "--keep-local", "--database", postgres_url,
                   "--redis", redis_url, "--s3-endpoint", s3, "--bucket", bucket,
                   "--access-key", "team", input="team-secret\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "keeps its local database" in done.stdout


def set_notes(data_dir: Path, text: str) -> None:
    studio = Studio.open(data_dir)
    try:
        ws = studio.workspace("Agency")
        with studio.db.session() as session:
            repo = Repository(session, ws.id)
            repo.update(repo.find(Influencer, name="Mia"), notes=text)
    finally:
        studio.close()


def test_publish_open_sync_and_resolve_from_the_command_line(
        tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    bucket = make_bucket(s3_server)
    keep_local(a, postgres_url, redis_url, s3_server, bucket)
    keep_local(b, postgres_url, redis_url, s3_server, bucket)
    studio = Studio.open(a)
    try:
        with studio.db.session() as session:
            Repository(session, studio.workspace("Agency", create=True).id).add(Influencer(name="Mia"))
    finally:
        studio.close()

    published = cli_here(a, "server", "publish", "--workspace", "Agency")
    assert published.returncode == 0, published.stderr
    assert "pushed 2, pulled 0" in published.stdout
    listed = json.loads(cli_here(b, "server", "workspaces", "--json").stdout)
    assert "Agency" in [w["name"] for w in listed]
    opened = cli_here(b, "server", "open", "Agency")
    assert opened.returncode == 0, opened.stderr
    assert "Mia" in cli_here(b, "influencer", "list", "--workspace", "Agency").stdout

    set_notes(a, "notes from A")
    set_notes(b, "notes from B")
    assert cli_here(a, "server", "sync", "--workspace", "Agency").returncode == 0
    clash = cli_here(b, "server", "sync", "--workspace", "Agency")
    assert clash.returncode == 0 and "conflict: influencers" in clash.stdout
    shown = cli_here(b, "server", "conflicts", "--workspace", "Agency")
    assert "mine:   'notes from B'" in shown.stdout and "theirs: 'notes from A'" in shown.stdout
    row_id = shown.stdout.split()[1]
    uuid.UUID(row_id)
    assert cli_here(b, "server", "resolve", row_id, "--keep", "theirs",
                   "--workspace", "Agency").returncode == 0
    studio = Studio.open(b)
    try:
        ws_id = studio.workspace("Agency").id
        with studio.db.session() as session:
            mia = Repository(session, ws_id).find(Influencer, name="Mia")
            assert mia is not None and mia.notes == "notes from A"
        assert SyncState(studio.paths.data_dir / "sync", ws_id).conflicts == {}  # settled
    finally:
        studio.close()


def test_sync_needs_a_server_and_names_the_problem(tmp_path: Path) -> None:
    unlinked = cli_here(tmp_path / "p", "server", "sync")
    assert unlinked.returncode == 2 and "does not know a server" in unlinked.stderr


def test_a_worker_process_knows_the_sync_job() -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT
    listed = subprocess.run([sys.executable, "-c", "from studio.engine.jobs.registry import known_types;"
                             "print(known_types())"], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert "'sync-workspace'" in listed.stdout
