"""Structured JSON-lines logs in the data folder, rotated, with every secret redacted (engine/redact.py)."""
from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import UTC, datetime
from pathlib import Path

from studio.engine.redact import redact, redact_value, register_secret

__all__ = ["JsonFormatter", "redact", "register_secret", "setup_logging"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = redact_value(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StudioLogFile(logging.handlers.RotatingFileHandler):
    """The studio's own handler, told apart so that setting logging up again replaces it."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """A log that cannot be written (read-only or full data folder) stays quiet: the
        command's own error says so in one line, and logging's traceback would bury it."""


def setup_logging(logs_dir: Path, *, process: str, level: int = logging.INFO) -> Path:
    """Sends the root logger to ``logs_dir/<process>.jsonl`` (rotated at 5 MB, 5 files kept)."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / f"{process}.jsonl"  # one file per process kind: rotation is not multi-process safe
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StudioLogFile):
            root.removeHandler(handler)
            handler.close()
    handler = _StudioLogFile(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8", delay=True)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces its context and plugins on every revision check; the studio logs real
    # upgrades itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("studio").info("logging started", extra={"fields": {"component": process}})
    return path
