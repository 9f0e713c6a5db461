"""Peak memory of a small PNG of huge dimensions, imported and exported, against a small picture.

    .venv/bin/python bench/image_memory.py             # 13000×13000 RGBA (the issue's file)
    .venv/bin/python bench/image_memory.py --side 8000 # the largest size the limits still take

Each measurement runs in a fresh process (import into a new studio, or ``export image`` to the
Instagram feed frame) and reports its peak resident memory (ru_maxrss); the baseline is the
import of a 1024×768 PNG in the same run. Issue 16 named 2.2 GB on import and 3.4 GB on export
for the 13000×13000 file; the goal is a peak within 100 MB of the baseline (it is refused with
a reason before anything is decoded). Cold: each process opens the studio afresh.
"""
from __future__ import annotations

import argparse
import os
import resource
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_MB = 100


def solid_png(path: Path, width: int, height: int) -> Path:
    """A valid RGBA PNG of one colour, written row by row (tiny on disk, huge decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    row = b"\x00" + bytes((200, 80, 40, 255)) * width
    packer = zlib.compressobj(9)
    data = b"".join([*(packer.compress(row) for _ in range(height)), packer.flush()])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def child(action: str, source: Path) -> None:
    """Runs in its own process: one import or one export, then prints the outcome and peak."""
    from studio.engine.core import Studio
    from studio.engine.datasets.importer import import_paths
    from studio.engine.datasets.service import create_dataset
    from studio.engine.errors import InvalidInput
    from studio.engine.influencers import Persona, create_influencer
    from studio.engine.media.presets import find_preset
    from studio.engine.media.still import export_still
    with tempfile.TemporaryDirectory() as folder:
        studio = Studio.open(Path(folder))
        try:
            if action == "import":
                workspace = studio.workspace()
                mia = create_influencer(studio, workspace.id, Persona(name="Mia"))
                row = import_paths(studio, create_dataset(studio, workspace.id, mia.id, "Main"),
                                   [source]).rows[0]
                outcome = f"{row.status} {row.reason}".strip()
            else:
                try:
                    export_still(source, find_preset("instagram-feed-4x5"), Path(folder) / "out.jpg")
                    outcome = "exported"
                except InvalidInput as exc:
                    outcome = f"refused: {exc}"
        finally:
            studio.close()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, outcome)


def measure(action: str, source: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, __file__, "--child", action, str(source)],
                          capture_output=True, text=True, check=True)
    peak, _, outcome = done.stdout.strip().partition(" ")
    return int(peak), outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=13_000)
    parser.add_argument("--child", nargs=2, metavar=("ACTION", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        small = solid_png(Path(folder) / "small.png", 1024, 768)
        huge = solid_png(Path(folder) / "huge.png", args.side, args.side)
        print(f"image_memory: {args.side}×{args.side} RGBA PNG of {huge.stat().st_size // 1024} KB "
              f"against a 1024×768 PNG; cold, one process each")
        base, _ = measure("import", small)
        print(f"  baseline: import 1024×768     peak {base} MB")
        worst, refused = 0, True
        for action in ("import", "export"):
            peak, outcome = measure(action, huge)
            worst, refused = max(worst, peak - base), refused and outcome.startswith("refused")
            print(f"  {action:6} {args.side}×{args.side}  peak {peak} MB  "
                  f"(ratio {peak / base:.2f}, +{peak - base} MB): {outcome}")
    decoded = args.side * args.side * 4 // 2**20
    if refused:
        print(f"  goal: a refused file within {GOAL_MB} MB of the baseline: "
              f"{'met' if worst <= GOAL_MB else 'NOT met'}")
    else:  # within the limits: one decoded copy plus one working copy
        print(f"  taken: +{worst} MB for {decoded} MB of decoded pixels "
              f"({worst / max(1, decoded):.1f}× the decoded size)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
