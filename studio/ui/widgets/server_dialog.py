"""Connect to a team server from the Settings page: the same checks and switch as the
``server connect`` command, run off the UI thread, with the plain report shown."""
from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.config import save_settings
from studio.engine.server.connect import Report, ServerTarget, check_server, connect
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import use_team_assets
from studio.ui.widgets.sync_panel import SyncPanel


class ServerDialog(QDialog):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Connect to a team server")
        form = self._build_form()
        self.report = QPlainTextEdit(self)
        self.report.setReadOnly(True)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report.setPlaceholderText("Check shows each service's version and permissions here.")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        buttons = self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.status)
        self.sync_panel = SyncPanel(context, self)
        layout.addWidget(self.sync_panel)
        layout.addWidget(buttons)
        self.resize(720, 620)

    def _build_form(self) -> QFormLayout:
        """The server's addresses and keys, as saved; the secret key is never shown."""
        server = self.context.studio.settings.server
        self.database = QLineEdit(server.database_url, self)
        self.database.setPlaceholderText("postgresql://studio:PASSWORD@server:5432/studio")
        self.redis = QLineEdit(server.redis_url, self)
        self.redis.setPlaceholderText("redis://:PASSWORD@server:6379/0  (rediss:// for TLS)")
        self.s3_endpoint = QLineEdit(server.s3_endpoint, self)
        self.s3_endpoint.setPlaceholderText("http(s)://server:9000")
        self.bucket = QLineEdit(server.s3_bucket, self)
        self.access_key = QLineEdit(server.s3_access_key, self)
        self.secret_key = QLineEdit(self)
        self.secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_key.setPlaceholderText("kept in the keyring, never shown again")
        self.ca_bundle = QLineEdit(server.s3_ca_bundle, self)
        self.ca_bundle.setPlaceholderText("optional: CA file for a private https endpoint")
        self.keep_local = QCheckBox("Keep working on this computer's database; only publish and "
                                    "sync workspaces (works offline)", self)
        form = QFormLayout()
        for label, field in (("Database URL", self.database), ("Redis URL", self.redis),
                             ("S3 endpoint", self.s3_endpoint), ("Bucket", self.bucket),
                             ("Access key", self.access_key), ("Secret key", self.secret_key),
                             ("S3 CA bundle", self.ca_bundle)):
            form.addRow(label, field)
        form.addRow("", self.keep_local)
        return form

    def _build_buttons(self) -> QDialogButtonBox:
        self.check_button = QPushButton("Check", self)
        self.connect_button = QPushButton("Connect", self)
        self.conflicts_button = QPushButton("Sync conflicts…", self)
        self.conflicts_button.clicked.connect(self.show_conflicts)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.check_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.connect_button, QDialogButtonBox.ButtonRole.ApplyRole)
        buttons.addButton(self.conflicts_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.check_button.clicked.connect(self.check)
        self.connect_button.clicked.connect(self.connect_server)
        return buttons

    def target(self) -> ServerTarget:
        return ServerTarget(
            database_url=self.database.text().strip(), redis_url=self.redis.text().strip(),
            s3_endpoint=self.s3_endpoint.text().strip(), s3_bucket=self.bucket.text().strip(),
            s3_access_key=self.access_key.text().strip(), s3_secret_key=self.secret_key.text(),
            s3_ca_bundle=self.ca_bundle.text().strip())

    def check(self) -> None:
        target, workspace_id = self.target(), self.context.workspace_id
        self._busy("Checking…")
        run_in_background(lambda: check_server(target, workspace_id), receiver=self,
                          on_done=lambda report: self._shown(report, "Every service answered."),
                          on_error=self._failed, lane="io")

    def connect_server(self) -> None:
        studio, target, keep_local = self.context.studio, self.target(), self.keep_local.isChecked()
        workspace_id = self.context.workspace_id
        self._busy("Checking, then connecting…")

        def work() -> Report:
            report = connect(studio.settings, studio.secrets, target, workspace_id=workspace_id,
                             keep_local=keep_local,
                             save=lambda new: save_settings(new, studio.paths.settings_file))
            if report.ok and keep_local:
                studio.reload_settings()  # publish and sync work at once, no restart
                use_team_assets(studio)  # and pictures synced from others show up when wanted
            return report

        done = ("Remembered for publish and sync; this studio keeps its own database." if keep_local
                else "Connected. Restart the studio to work on the server's records and queues.")
        run_in_background(work, receiver=self, on_done=lambda r: self._shown(r, done),
                          on_error=self._failed, lane="io")

    def show_conflicts(self) -> None:
        from studio.ui.widgets.sync_conflicts import SyncConflictsDialog
        SyncConflictsDialog(self.context, self).exec()

    def _busy(self, text: str) -> None:
        self.status.setText(text)
        self.check_button.setEnabled(False)
        self.connect_button.setEnabled(False)

    def _shown(self, report: Report, success: str) -> None:
        self.report.setPlainText("\n".join(report.lines()))
        self.status.setText(success if report.ok else
                            "Not connected: fix what failed above. Nothing here was changed.")
        self.check_button.setEnabled(True)
        self.connect_button.setEnabled(True)
        self.sync_panel.update_enabled()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Not connected: {one_line(exc)}")
        self.check_button.setEnabled(True)
        self.connect_button.setEnabled(True)
