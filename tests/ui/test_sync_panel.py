"""Team server dialog → Publish and sync: publish, list, open and sync run the sync job through
real workers against real PostgreSQL, Redis and S3 (moto); a conflict opens the conflicts dialog."""
from __future__ import annotations

import uuid
from pathlib import Path

import boto3

from studio.engine.config import save_settings
from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.server.connect import ServerTarget, connect
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.widgets.server_dialog import ServerDialog
from studio.ui.widgets.sync_conflicts import SyncConflictsDialog
from studio.ui.widgets.sync_panel import SyncPanel
from tests.conftest import WorkerProcess

TIMEOUT_MS = 40_000


def keep_local(folder: Path, target: ServerTarget) -> Studio:
    """A studio that keeps its database and remembers the server, saved so its worker knows it."""
    studio = Studio.open(folder)
    ws = studio.workspace("Scratch", create=True)
    report = connect(studio.settings, studio.secrets, target, workspace_id=ws.id, keep_local=True,
                     save=lambda new: save_settings(new, studio.paths.settings_file))
    assert report.ok, report.lines()
    studio.reload_settings()
    return studio


def set_notes(studio: Studio, ws_id: uuid.UUID, text: str) -> None:
    with studio.db.session() as session:
        repo = Repository(session, ws_id)
        repo.update(repo.find(Influencer, name="Mia"), notes=text)


def notes(studio: Studio, ws_id: uuid.UUID) -> str:
    with studio.db.session() as session:
        return Repository(session, ws_id).find(Influencer, name="Mia").notes


def panel_for(qtbot, studio: Studio, ws_name: str) -> SyncPanel:
    panel = SyncPanel(StudioContext(studio, WorkspaceRef.of(studio.workspace(ws_name))))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def wait_idle(qtbot, panel: SyncPanel) -> str:
    qtbot.waitUntil(lambda: panel.job_id is None and panel.publish_button.isEnabled(),
                    timeout=TIMEOUT_MS)
    return panel.status.text()


def test_publish_open_and_sync_from_the_dialog(qtbot, tmp_path: Path, postgres_url: str,
                                               redis_url: str, s3_server: str) -> None:
    bucket = f"ui{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    target = ServerTarget(database_url=postgres_url, redis_url=redis_url, s3_endpoint=s3_server,
                          s3_bucket=bucket, s3_access_key="team", s3_secret_key="team-secret")
    a = keep_local(tmp_path / "a", target)
    b = keep_local(tmp_path / "b", target)
    workers = [WorkerProcess(a.paths.data_dir), WorkerProcess(b.paths.data_dir)]
    try:
        ws = a.workspace("Agency", create=True)
        with a.db.session() as session:
            Repository(session, ws.id).add(Influencer(name="Mia", notes="first"))

        dialog = ServerDialog(StudioContext(a, WorkspaceRef.of(ws)))
        qtbot.addWidget(dialog)
        dialog.show()
        on_a = dialog.sync_panel
        on_a.publish_button.click()
        assert not on_a.sync_button.isEnabled()  # one action at a time
        assert wait_idle(qtbot, on_a).startswith("Publish done: pushed ")

        on_b = panel_for(qtbot, b, "Scratch")
        on_b.refresh_button.click()
        qtbot.waitUntil(lambda: on_b.server_list.count() == 1, timeout=TIMEOUT_MS)
        assert on_b.server_list.itemText(0) == "Agency"
        on_b.open_button.click()
        assert wait_idle(qtbot, on_b).startswith("Open done: pushed 0, pulled ")
        assert notes(b, ws.id) == "first"
        qtbot.waitUntil(lambda: on_b.context.workspace_id == ws.id, timeout=TIMEOUT_MS)
        assert b.settings.general.current_workspace == "Agency"

        set_notes(a, ws.id, "from A")
        set_notes(b, ws.id, "from B")
        on_a.sync_button.click()
        done = wait_idle(qtbot, on_a)
        assert done.startswith("Sync done: pushed ") and "conflict" not in done
        on_b.sync_button.click()  # syncs the workspace it opened and now shows
        assert wait_idle(qtbot, on_b).endswith("1 conflict to resolve.")
        qtbot.waitUntil(lambda: isinstance(on_b.conflicts_dialog, SyncConflictsDialog)
                        and on_b.conflicts_dialog.isVisible()
                        and on_b.conflicts_dialog.list.count() == 1, timeout=TIMEOUT_MS)
        assert notes(b, ws.id) == "from B"  # nothing overwritten until the user picks
    finally:
        for worker in workers:
            worker.stop()
        a.close()
        b.close()


def test_a_solo_studio_is_told_to_connect_first(qtbot, context: StudioContext) -> None:
    panel = SyncPanel(context)
    qtbot.addWidget(panel)
    assert not panel.publish_button.isEnabled() and not panel.open_button.isEnabled()
    assert panel.status.text().startswith("Connect to a server first")


def test_connecting_in_the_dialog_enables_sync_and_on_demand_pictures_at_once(
        qtbot, studio: Studio, context: StudioContext, postgres_url: str, redis_url: str,
        s3_server: str) -> None:
    from studio.ui import thumbnails
    bucket = f"ui{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    dialog = ServerDialog(context)
    qtbot.addWidget(dialog)
    assert not dialog.sync_panel.publish_button.isEnabled()
    for field, value in ((dialog.database, postgres_url), (dialog.redis, redis_url),
                         (dialog.s3_endpoint, s3_server), (dialog.bucket, bucket),
                         (dialog.access_key, "team"), (dialog.secret_key, "team-secret")):
        field.setText(value)
    dialog.keep_local.setChecked(True)
    try:
        dialog.connect_button.click()
        qtbot.waitUntil(lambda: "Remembered" in dialog.status.text(), timeout=TIMEOUT_MS)
        assert dialog.sync_panel.publish_button.isEnabled()
        assert dialog.sync_panel.sync_button.isEnabled()
        assert studio.paths.assets_dir in thumbnails._fetchers
    finally:
        thumbnails._fetchers.pop(studio.paths.assets_dir, None)
