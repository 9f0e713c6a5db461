"""One window per data folder: a local socket named after the folder; a second launch knocks on it."""
from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

ACTIVATE = b"activate\n"


def server_name(data_dir: Path) -> str:
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8")).hexdigest()[:20]
    return f"influencerai-studio-{digest}"


class SingleInstance(QObject):
    activation_requested = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(data_dir)
        self._server: QLocalServer | None = None
        self._connections: set[QLocalSocket] = set()

    def notify_running(self, timeout_ms: int = 2000) -> bool:
        """True when another window already serves this folder; it has been asked to come forward."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(ACTIVATE)
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        # Nobody answered, so a leftover socket file is from a crashed run.
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._on_new_connection)
        self._server = server
        return server.listen(self.name)

    def close(self) -> None:
        for connection in list(self._connections):
            connection.abort()
        self._connections.clear()
        if self._server is not None:
            self._server.close()
            self._server = None

    def _on_new_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            connection = self._server.nextPendingConnection()
            self._connections.add(connection)
            connection.readyRead.connect(self._on_ready_read)
            connection.disconnected.connect(self._on_disconnected)
            if connection.bytesAvailable():
                self._read(connection)

    @Slot()
    def _on_ready_read(self) -> None:
        connection = self.sender()
        if isinstance(connection, QLocalSocket):
            self._read(connection)

    @Slot()
    def _on_disconnected(self) -> None:
        connection = self.sender()
        if isinstance(connection, QLocalSocket):
            self._read(connection)
            self._connections.discard(connection)
            connection.deleteLater()

    def _read(self, connection: QLocalSocket) -> None:
        if ACTIVATE.strip() in bytes(connection.readAll().data()):
            self.activation_requested.emit()
