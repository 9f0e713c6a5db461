"""A stand-in for ComfyUI's ``main.py``: parses ``--listen``/``--port`` like it, prints a few of its
startup lines and serves ``FakeComfyUI`` on that port until SIGTERM.

Tests copy it into a temporary "ComfyUI folder" as ``main.py``. Extra switches for tests:
``--spawn-child`` starts a sleeping child process (printing ``child pid N``) to check that the
whole process group is stopped; ``--ignore-sigterm`` makes it ignore SIGTERM (only SIGKILL ends it);
``--progress-bar`` ends its output, once ready and again when it stops, with a progress bar drawn
the way tqdm draws it in ComfyUI's console: after a carriage return, with no newline.
Other unknown arguments are accepted and echoed, as ComfyUI would reject none of the test ones.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

# The repository root, so ``tests.fakes.comfyui_server`` imports from a copy in any folder.
ROOT = Path(os.environ.get("FAKE_COMFYUI_REPO_ROOT") or Path(__file__).resolve().parents[2])
sys.path.insert(0, str(ROOT))

from tests.fakes.comfyui_server import FakeComfyUI  # noqa: E402 - after the sys.path line above


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", nargs="?", const="0.0.0.0", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--spawn-child", action="store_true")
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--progress-bar", action="store_true")
    args, extra = parser.parse_known_args()

    stop = threading.Event()
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

    print("Checkpoint files will always be loaded safely.")
    print("Total VRAM 24564 MB, total RAM 64215 MB")
    print("Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync")
    if extra:
        print(f"Extra arguments: {' '.join(extra)}")
    child = None
    if args.spawn_child:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        print(f"child pid {child.pid}")
    fake = FakeComfyUI(port=args.port)
    print("Starting server\n")
    print(f"To see the GUI go to: http://{args.listen}:{args.port}", flush=True)
    if args.progress_bar:
        print(_BAR_HALF, end="", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    fake.close()
    print(_BAR_FULL if args.progress_bar else "Stopped server\n", end="", flush=True)
    return 0


_BAR_HALF = "\r 50%|#####     | 1/2 [00:01<00:01,  1.00it/s]"
_BAR_FULL = "\r100%|##########| 2/2 [00:02<00:00,  1.00it/s]"


if __name__ == "__main__":
    sys.exit(main())
