"""/jobs: being written in this session (see the issue's API section)."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["jobs"])
