"""Cutting a video file into the pieces a platform's upload takes.

Both TikTok and YouTube take a video as byte ranges PUT in order with ``Content-Range``; only their
rules for the sizes differ. A piece is read from the file when it is sent, so a 4 GB upload never
sits in memory whole.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from studio.engine.errors import InvalidInput

MIB = 1024 * 1024
# TikTok's media transfer guide: each chunk at least 5 MB and at most 64 MB, except the final one,
# which takes the trailing bytes (up to 128 MB); a video under 5 MB goes whole; 1 to 1000 chunks;
# total_chunk_count = video_size // chunk_size (rounded down). "MB" is read strictly both ways:
# the minimum as 5 MiB, the maximum as 64,000,000 bytes, so either reading accepts our plan.
TIKTOK_MIN_CHUNK = 5 * MIB
TIKTOK_MAX_CHUNK = 64_000_000
TIKTOK_MAX_FINAL_CHUNK = 128_000_000
TIKTOK_MAX_CHUNKS = 1000
TIKTOK_CHUNK = 10 * MIB  # what we ask for: few requests, little memory
# YouTube's resumable upload: every chunk but the last a multiple of 256 KiB.
YOUTUBE_CHUNK_UNIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class Piece:
    index: int
    start: int  # first byte
    end: int  # last byte, inclusive (as Content-Range counts)

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def content_range(self, total: int) -> str:
        return f"bytes {self.start}-{self.end}/{total}"


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """TikTok's ``source_info`` numbers and the byte ranges that follow from them."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def pieces(self) -> Iterator[Piece]:
        """The last piece takes the trailing bytes, as TikTok's guide shows (50,000,123 bytes in
        10,000,000-byte chunks: five pieces, the last 10,000,123 bytes)."""
        for index in range(self.total_chunk_count):
            start = index * self.chunk_size
            last = index == self.total_chunk_count - 1
            end = self.video_size - 1 if last else start + self.chunk_size - 1
            yield Piece(index, start, end)


def tiktok_plan(video_size: int, preferred: int = TIKTOK_CHUNK) -> ChunkPlan:
    """The chunk size and count TikTok accepts for a file of ``video_size`` bytes."""
    if video_size <= 0:
        raise InvalidInput("The video file is empty.")
    if not TIKTOK_MIN_CHUNK <= preferred <= TIKTOK_MAX_CHUNK // 2:
        raise InvalidInput(f"A TikTok chunk must be {TIKTOK_MIN_CHUNK} to "
                           f"{TIKTOK_MAX_CHUNK // 2} bytes here, not {preferred}.")
    if video_size < 2 * preferred:
        # Under 5 MB it must go whole; up to twice the chunk it is one chunk of its own size
        # (the count rounds down to 1, and the final chunk may exceed chunk_size).
        return ChunkPlan(video_size, min(video_size, preferred), 1)
    chunk = max(preferred, -(-video_size // TIKTOK_MAX_CHUNKS))
    if chunk > TIKTOK_MAX_CHUNK:
        raise InvalidInput(f"The video is {video_size / 1e9:.1f} GB, more than TikTok's 1000 "
                           f"chunks of 64 MB can carry.")
    return ChunkPlan(video_size, chunk, video_size // chunk)


def youtube_chunk_size(requested: int) -> int:
    """``requested`` when YouTube takes it: a positive multiple of 256 KiB."""
    if requested <= 0 or requested % YOUTUBE_CHUNK_UNIT:
        raise InvalidInput(f"A YouTube upload chunk must be a multiple of 256 KiB "
                           f"({YOUTUBE_CHUNK_UNIT} bytes), not {requested}.")
    return requested


def youtube_piece(offset: int, chunk_size: int, total: int) -> Piece:
    """The next piece from ``offset`` (where the server says it stands), at most one chunk."""
    return Piece(offset // chunk_size, offset, min(offset + chunk_size, total) - 1)


def read_piece(path: Path, piece: Piece) -> bytes:
    with path.open("rb") as handle:
        handle.seek(piece.start)
        data = handle.read(piece.size)
    if len(data) != piece.size:
        raise InvalidInput(f"{path.name} changed while it was being uploaded.")
    return data


def video_mime(path: Path) -> str:
    """The MIME type the upload declares; the platforms take MP4, MOV and WebM."""
    return {".mov": "video/quicktime", ".webm": "video/webm"}.get(path.suffix.lower(), "video/mp4")
