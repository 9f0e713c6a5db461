"""A plain-text report for a bug report or a support question: versions, folders, the doctor's
findings. Secrets never appear: the log redactor runs over the whole text."""
from __future__ import annotations

import platform
import re
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from studio import __version__
from studio.engine.core import Studio
from studio.engine.doctor import Check, find_ffmpeg
from studio.engine.redact import redact
from studio.engine.tools import first_line, run_tool

MARKS = {"ok": "ok", "missing": "MISSING", "problem": "PROBLEM"}


def diagnostics_text(studio: Studio, checks: Sequence[Check], *, qt_version: str = "") -> str:
    paths = studio.paths
    lines = [
        f"InfluencerAI Studio {__version__}",
        f"System: {platform.platform()} ({platform.machine()})",
        f"Python: {sys.version.split()[0]}" + (f", Qt {qt_version}" if qt_version else ""),
        f"Data folder: {paths.data_dir}",
        f"Logs: {paths.logs_dir}",
        f"Database: {_database(studio.settings.database.url)}",
        f"Queue: {studio.settings.queue.backend}",
        "",
        "System check:",
    ]
    for check in checks:
        lines.append(f"  [{MARKS.get(check.status, check.status)}] {check.label}: {check.detail}")
        if check.fix:
            lines.append(f"      fix: {check.fix}")
    return redact("\n".join(lines)) + "\n"


def _database(url: str) -> str:
    """The kind of database and its host, never the credentials in its URL."""
    if not url:
        return "SQLite in the data folder"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "unreadable database URL"
    return f"{parsed.get_backend_name()} at {parsed.host or 'a local socket'}"


def ffmpeg_licence(studio: Studio) -> str:
    """The licence the chosen FFmpeg build states itself (``ffmpeg -L``), in a sentence."""
    exe, source = find_ffmpeg(studio)
    if exe is None:
        return "No FFmpeg was found."
    result = run_tool([exe, "-hide_banner", "-L"])
    if result.returncode != 0:
        return f"FFmpeg ({exe}) did not say its licence: {first_line(result.stderr, 'no output')}."
    text = " ".join(result.stdout.split())
    for name, version in ((r"GNU Lesser General Public License", "LGPL"),
                          (r"GNU General Public License", "GPL")):
        if name in text:
            found = re.search(r"either version ([\d.]+)", text)
            return (f"FFmpeg from {source} is licensed under the {version}"
                    + (f" v{found.group(1)} or later" if found else "") + " (as `ffmpeg -L` states).")
    return f"FFmpeg from {source}: {text[:200] or 'no licence text'}."
