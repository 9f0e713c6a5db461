"""Settings → Team server…: check and connect against real servers, off the UI thread."""
from __future__ import annotations

import uuid

import boto3

from studio.engine.config import load_settings
from studio.engine.core import Studio
from studio.engine.urls import split_password
from studio.ui.context import StudioContext
from studio.ui.widgets.server_dialog import ServerDialog


def fill(dialog: ServerDialog, database: str, redis: str, s3: str, bucket: str) -> None:
    dialog.database.setText(database)
    dialog.redis.setText(redis)
    dialog.s3_endpoint.setText(s3)
    dialog.bucket.setText(bucket)
    dialog.access_key.setText("team")
    dialog.secret_key.setText("team-secret")


def test_check_then_connect_keeping_the_local_database(
        qtbot, studio: Studio, context: StudioContext, postgres_url: str, redis_url: str,
        s3_server: str) -> None:
    bucket = f"ui{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    dialog = ServerDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    fill(dialog, "postgresql://postgres@127.0.0.1:1/none", redis_url, s3_server, bucket)
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled() and bool(dialog.report.toPlainText()),
                    timeout=20_000)
    lines = dialog.report.toPlainText().splitlines()
    assert lines[0].startswith("FAIL") and "PostgreSQL" in lines[0]
    assert lines[1].startswith("ok") and "Redis" in lines[1] and lines[2].startswith("ok")

    dialog.database.setText(postgres_url)
    dialog.keep_local.setChecked(True)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: "Remembered" in dialog.status.text(), timeout=30_000)
    assert "Migrations" in dialog.report.toPlainText()
    saved = load_settings(studio.paths.settings_file)
    bare, password = split_password(postgres_url)  # the password goes to the keyring
    assert saved.server.database_url == bare and saved.database.url == ""
    assert password and studio.secrets.get("server.postgres") == password
    assert "team-secret" not in studio.paths.settings_file.read_text()
    assert studio.secrets.get("server.s3") == "team-secret"
