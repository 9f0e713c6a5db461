"""A multipart upload through a real TCP connection that is cut mid-part, then resumed."""
from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from studio.engine.errors import ServiceUnavailable
from studio.engine.storage.s3 import MIN_PART, S3Config, S3Store


class CuttableProxy:
    """Forwards TCP to the S3 server until ``budget`` bytes went up; then the line is down
    (every connection dropped, new ones closed at once) until ``heal``."""

    def __init__(self, target_port: int, budget: int) -> None:
        self.target_port = target_port
        self.budget = budget
        self.sent = 0
        self.down = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def heal(self) -> None:
        with self._lock:
            self.down, self.budget = False, 1 << 62

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        try:
            while data := source.recv(65536):
                if counted:
                    with self._lock:
                        self.sent += len(data)
                        if self.sent > self.budget:
                            self._cut()
                            return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _cut(self) -> None:
        self.down = True
        for sock in self._open:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._open.clear()


@pytest.fixture
def proxy(s3_server: str) -> Iterator[CuttableProxy]:
    port = int(s3_server.rsplit(":", 1)[1])
    cut = CuttableProxy(port, budget=MIN_PART + MIN_PART // 2)  # the line drops inside part 2
    yield cut
    cut.close()


def test_an_upload_cut_by_a_dropped_connection_resumes_without_resending_stored_parts(
        s3_server: str, proxy: CuttableProxy, tmp_path: Path) -> None:
    bucket = f"cut{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    config = S3Config(endpoint=f"http://127.0.0.1:{proxy.port}", bucket=bucket,
                      access_key="k", secret_key="s")
    source = tmp_path / "lora.safetensors"
    source.write_bytes(os.urandom(2 * MIN_PART + 4321))
    key = f"loras/{uuid.uuid4()}/mia.safetensors"

    stored: list[int] = []
    with pytest.raises(ServiceUnavailable, match="cannot be reached"):
        S3Store(config, state_dir=tmp_path / "state", part_size=MIN_PART).put_file(
            source, key, on_part=lambda n, total: stored.append(n))
    assert proxy.down and stored == [1]  # part 1 made it, part 2 was cut mid-way

    proxy.heal()  # the line is back; a new process picks the upload up
    sent: list[int] = []
    store = S3Store(config, state_dir=tmp_path / "state", part_size=MIN_PART)
    store.put_file(source, key, on_part=lambda n, total: sent.append(n))
    assert sent == [2, 3]
    assert store.read_bytes(key) == source.read_bytes()
