"""The request limits, the upload folder and the serving plan, each on its own."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from studio.engine.api.limits import RateWindow
from studio.engine.api.serve import address, bind, insecure_warning, is_loopback, plan_for
from studio.engine.api.uploads import KEEP_S, store_uploads, uploads_dir
from studio.engine.core import Studio
from studio.engine.errors import InvalidInput


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_window_slides_per_key() -> None:
    clock = Clock()
    window = RateWindow(3, clock)
    assert [window.wait_s("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 10
    assert window.wait_s("a") == pytest.approx(50.0)  # the first request leaves the window in 50 s
    assert window.wait_s("b") == 0.0  # another token has its own
    clock.now += 50
    assert window.wait_s("a") == 0.0


class Part:
    def __init__(self, filename: str | None, data: bytes) -> None:
        self.filename = filename
        self.file: BinaryIO = io.BytesIO(data)


def test_uploads_keep_only_file_names_and_never_collide(tmp_path: Path) -> None:
    parts = [Part("../../etc/passwd", b"1"), Part("C:\\Users\\mia\\a.png", b"2"), Part("a.png", b"3"),
             Part(None, b"4"), Part(".hidden", b"5")]
    folder = store_uploads(tmp_path, parts)
    assert folder.parent == uploads_dir(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["2-a.png", "a.png", "hidden", "passwd", "upload-3"]
    assert (folder / "a.png").read_bytes() == b"2" and (folder / "2-a.png").read_bytes() == b"3"
    with pytest.raises(InvalidInput, match="at least one"):
        store_uploads(tmp_path, [])


def test_old_upload_folders_are_cleared_by_a_later_upload(tmp_path: Path) -> None:
    old = store_uploads(tmp_path, [Part("a.png", b"1")])
    os.utime(old, (0, 0))
    fresh = store_uploads(tmp_path, [Part("b.png", b"2")], now=KEEP_S + 10)
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("[::1]", True),
                                                ("localhost", True), ("0.0.0.0", False),
                                                ("192.168.1.5", False), ("studio.lan", False)])
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_off_loopback_needs_tls_or_insecure(studio: Studio, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--insecure"):
        plan_for(studio, host="0.0.0.0")
    plan = plan_for(studio, host="0.0.0.0", insecure=True)
    assert insecure_warning(plan) == ("warning: the API on 0.0.0.0 is plain HTTP; tokens cross the "
                                      "network unencrypted")
    studio.settings.api.tls_cert = str(tmp_path / "cert.pem")
    with pytest.raises(InvalidInput, match="both"):
        plan_for(studio, host="0.0.0.0")
    studio.settings.api.tls_key = str(tmp_path / "key.pem")
    with pytest.raises(InvalidInput, match="does not exist"):
        plan_for(studio, host="0.0.0.0")
    (tmp_path / "cert.pem").write_text("x")
    (tmp_path / "key.pem").write_text("x")
    tls = plan_for(studio, host="0.0.0.0")
    assert tls.scheme == "https" and insecure_warning(tls) is None


def test_the_settings_give_the_defaults_and_port_0_a_free_port(studio: Studio) -> None:
    assert (plan_for(studio).host, plan_for(studio).port) == ("127.0.0.1", 8765)
    with pytest.raises(InvalidInput, match="not a port"):
        plan_for(studio, port=70000)
    plan = plan_for(studio, port=0)
    sock = bind(plan)
    try:
        port = sock.getsockname()[1]
        assert port > 0 and address(plan, sock) == f"http://127.0.0.1:{port}"
        with pytest.raises(InvalidInput, match="Could not listen"):  # the port is taken now
            bind(plan_for(studio, port=port))
    finally:
        sock.close()
