"""Why a training stopped, in words a creator can act on, with the last log lines attached."""
from __future__ import annotations

import re
from collections.abc import Sequence

_MISSING_MODULE = re.compile(r"No module named '([^']+)'")
_NO_FILE = re.compile(r"No such file or directory: '([^']+)'")
TAIL_LINES = 15


def explain(returncode: int, tail: Sequence[str], *, no_data: bool = False,
            saved_model: bool = True) -> str:
    """One headline, then the log's last lines."""
    return f"{headline(returncode, tail, no_data=no_data, saved_model=saved_model)}\n" \
           f"Last lines of the log:\n" + "\n".join(list(tail)[-TAIL_LINES:])


def headline(returncode: int, tail: Sequence[str], *, no_data: bool = False,
             saved_model: bool = True) -> str:
    text = "\n".join(tail)
    if "OutOfMemoryError" in text or "CUDA out of memory" in text:
        return ("CUDA ran out of GPU memory: lower train_batch_size or resolution, turn on "
                "gradient_checkpointing, or choose a preset for less VRAM.")
    if found := _MISSING_MODULE.search(text):
        return (f"sd-scripts is missing the Python module '{found.group(1)}': install its "
                "requirements into the Python it runs with (pip install -r requirements.txt), "
                "or set sdscripts.python.")
    if no_data:
        return "sd-scripts found no training images in the exported dataset folder."
    if found := _NO_FILE.search(text):
        return f"sd-scripts could not find {found.group(1)}: check the base model and folders."
    if "MultipleInvalid" in text or "Invalid user config" in text:
        return "sd-scripts refused the dataset_config.toml."
    if "AssertionError" in text:
        last = next((line for line in reversed(tail) if "AssertionError" in line), "")
        return f"sd-scripts refused the settings: {last.split('AssertionError:', 1)[-1].strip()}"
    if returncode == 2 and any("error: " in line for line in tail[-3:]):
        return "sd-scripts refused its command line (an option this version does not know?)."
    if returncode < 0:
        return (f"sd-scripts was killed by signal {-returncode} (the system may have run out of "
                "memory).")
    if returncode != 0:
        return f"sd-scripts stopped with exit code {returncode}."
    if not saved_model:
        return "sd-scripts ended without saving a LoRA."
    return "sd-scripts stopped."
