"""Light image rows made in the test, for the filter and curation tests."""
from __future__ import annotations

from datetime import UTC, datetime

from studio.engine.datasets.filters import ImageRow

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def row(name: str, **fields: object) -> ImageRow:
    values: dict[str, object] = {
        "id": None, "version": 1, "name": name, "storage_key": f"k/{name}", "sha256": name,
        "width": 512, "height": 512, "created_at": T0, "caption": "", "excluded": False,
        "near_dup_group": None, "analyzed": True, "sharpness": None, "blurry": False, "dark": False,
        "bright": False, "faces": (), "crop": None, "crop_manual": False}
    values.update(fields)
    return ImageRow(**values)  # type: ignore[arg-type]
