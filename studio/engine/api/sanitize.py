"""What leaves the API never shows a secret or where things sit on this machine: paths under the
data folder are shown relative to it, any other absolute path by its file name alone, and values
under secret-sounding keys are masked. Job payloads, results and error texts pass through here."""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

MASK = "***"
_SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey", "authorization", "credential")
# An absolute path inside a text: POSIX (/…, not the path part of a URL) or Windows (C:\… or C:/…).
_POSIX = re.compile(r"(?<![\w.:/~\\-])/[^\s'\"<>|,;()\[\]{}]+")
_WINDOWS = re.compile(r"\b[A-Za-z]:[\\/][^\s'\"<>|,;()\[\]{}]+")


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_KEYS)


def file_name(path: str) -> str:
    """The last part of a POSIX or Windows path ("" stays "")."""
    name = PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name
    return name or path.strip("/\\")


def clean_text(text: str, data_dir: Path | None = None) -> str:
    """``text`` with the data folder's prefix dropped and other absolute paths cut to a name."""
    if data_dir is not None:
        for prefix in {str(data_dir), data_dir.as_posix()}:
            text = text.replace(prefix.rstrip("/\\") + "/", "").replace(prefix.rstrip("/\\") + "\\", "")
            text = re.sub(re.escape(prefix.rstrip("/\\")) + r"(?![\w.-])", ".", text)
    text = _WINDOWS.sub(lambda m: file_name(m.group(0)), text)
    return _POSIX.sub(lambda m: file_name(m.group(0)), text)


def clean_value(value: Any, data_dir: Path | None = None) -> Any:
    """A JSON value (dicts, lists, strings, numbers) cleaned all the way down."""
    if isinstance(value, str):
        return clean_text(value, data_dir)
    if isinstance(value, dict):
        # keys too: a result may be keyed by source file (make-thumbnails: path → thumbnails)
        return {clean_text(str(k), data_dir): MASK if is_secret_key(str(k)) and v not in (None, "")
                else clean_value(v, data_dir)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_value(v, data_dir) for v in value]
    return value
