"""Datasets: import, analysis, crops, captions and tags, export for training (no Qt)."""
