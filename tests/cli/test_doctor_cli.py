"""doctor prints one line per check plus its fix, exits 0 even when things are missing."""
from __future__ import annotations

from tests.cli.conftest import Cli

KEYS = ["python", "qt", "gpu", "comfyui", "sdscripts", "musubi", "ffmpeg", "faces", "keyring", "database",
        "disk", "worker"]


def test_text_report(cli: Cli) -> None:
    cli("settings", "set", "comfyui.url", "http://127.0.0.1:9")  # nothing listens on port 9
    result = cli("doctor")
    assert result.code == 0
    lines = result.out.splitlines()
    statuses = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert len(statuses) == len(KEYS) and set(statuses) <= {"ok", "missing", "problem"}
    comfy = next(i for i, line in enumerate(lines) if line.split()[:2] == ["missing", "ComfyUI"])
    assert lines[comfy + 1].strip() == "fix: Start ComfyUI or set comfyui.url in Settings."
    assert any(line.startswith("ok") and "Python" in line for line in lines)


def test_json_report(cli: Cli) -> None:
    cli("settings", "set", "comfyui.url", "http://127.0.0.1:9")
    checks = cli("doctor", "--json").json()
    assert [c["key"] for c in checks] == KEYS
    assert all(set(c) == {"key", "label", "status", "detail", "fix"} for c in checks)
    quick = cli("--json", "doctor", "--quick").json()
    assert "gpu" not in [c["key"] for c in quick]
