"""A supervised local ComfyUI for CLI tests: the stand-in main.py in a temporary folder."""
from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.conftest import Cli
from tests.engine.comfyui.helpers import comfy_folder
from tests.servers import free_port


def use_local_comfyui(cli: Cli, root: Path) -> int:
    """Sets comfyui.folder to a stand-in ComfyUI on a free port; returns the port."""
    port = free_port()
    assert cli("settings", "set", "comfyui.folder", str(comfy_folder(root))).code == 0
    assert cli("settings", "set", "comfyui.port", str(port)).code == 0
    return port


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False
