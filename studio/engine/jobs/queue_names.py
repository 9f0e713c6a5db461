"""The queue names, apart from the queues: the command line lists them without loading Huey."""
from __future__ import annotations

QUEUE_NAMES = ("generation", "video", "training", "general", "pipeline")
