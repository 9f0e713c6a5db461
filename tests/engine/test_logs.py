from __future__ import annotations

import json
import logging
import logging.handlers
from pathlib import Path

from studio.engine.logs import redact, register_secret, setup_logging


def test_log_lines_are_json_with_fields_and_exceptions(tmp_path: Path) -> None:
    path = setup_logging(tmp_path, process="unit")
    log = logging.getLogger("studio.unit")
    log.info("job %s done", "abc", extra={"fields": {"job_id": "abc", "seconds": 1.5}})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    done = next(e for e in entries if e["message"] == "job abc done")
    assert done["job_id"] == "abc" and done["seconds"] == 1.5 and done["level"] == "info"
    failed = next(e for e in entries if e["message"] == "failed")
    assert "RuntimeError: boom" in failed["exception"]


def test_rotation_keeps_files_bounded(tmp_path: Path) -> None:
    path = setup_logging(tmp_path, process="rot")
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler))
    handler.maxBytes = 2000
    for i in range(200):
        logging.getLogger("studio.rot").info("line %d %s", i, "x" * 50)
    rotated = sorted(p.name for p in tmp_path.iterdir())
    assert "rot.jsonl.1" in rotated and len(rotated) <= 6
    assert path.stat().st_size <= 2200


def test_registered_secrets_are_redacted_everywhere() -> None:
    register_secret("hunter2-secret")
    assert redact("password=hunter2-secret;") == "password=***;"
