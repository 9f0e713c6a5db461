"""Datasets benchmark: import + analysis speed and the thumbnail stage against plain Pillow (the
grid of a large dataset is measured by bench/grid.py).

    .venv/bin/python bench/datasets.py            # N = 2,000 photos of 3000×4000
    .venv/bin/python bench/datasets.py --n 100    # a quick run

Every figure's baseline is measured in the same run. "Cold" here means files not read before in
this run and an empty thumbnail cache: each stage reads its own copy of the photos (the page
cache cannot be dropped without root, so every copy was freshly written and may be in memory;
the studio and the baseline are on equal terms, interleaved file by file).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from io import BytesIO
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 3000, 4000
TARGETS = {"import + analysis /s": 50.0, "thumbnail ratio": 0.6}


# Photos ----------------------------------------------------------------------------------------

def make_photo(index: int) -> bytes:
    """Gradients, coarse blobs and fine grain: each photo distinct, JPEG quality 90."""
    rng = np.random.default_rng(index)
    coarse = Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).resize(
        (WIDTH, HEIGHT), Image.Resampling.BILINEAR)
    pixels = np.asarray(coarse, dtype=np.int16)
    ramp_y = np.linspace(-60, 60, HEIGHT, dtype=np.float32)[:, None, None]
    ramp_x = np.linspace(40, -40, WIDTH, dtype=np.float32)[None, :, None] * rng.uniform(0.5, 1.5)
    grain = rng.integers(-6, 7, (HEIGHT, WIDTH, 1), dtype=np.int16)
    pixels = np.clip(pixels + (ramp_y + ramp_x).astype(np.int16) + grain, 0, 255).astype(np.uint8)
    buffer = BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_photos(n: int, root: Path, copies: tuple[str, ...]) -> dict[str, list[Path]]:
    folders = {c: root / c for c in copies}
    for folder in folders.values():
        folder.mkdir(parents=True)
    paths: dict[str, list[Path]] = {c: [] for c in copies}
    with ProcessPoolExecutor(max_workers=max(os.cpu_count() or 1, 1)) as pool:
        for index, data in enumerate(pool.map(make_photo, range(n), chunksize=4)):
            for copy, folder in folders.items():
                path = folder / f"photo-{index:05d}.jpg"
                path.write_bytes(data)
                paths[copy].append(path)
    return paths


# (1) import + analysis -------------------------------------------------------------------------

def bench_import(studio, workspace_id: uuid.UUID, paths: list[Path]) -> dict[str, float]:
    """Import (one pass per file: a 1/8 decode that checks the file, thumbnails and analysis, on
    every core), the analysis after it (near-duplicate groups; nothing read again), and the
    analysis forced to read every stored file again."""
    from studio.engine.datasets import pool
    from studio.engine.datasets.analysis import analyze_dataset
    from studio.engine.datasets.importer import import_paths
    from studio.engine.datasets.service import create_dataset
    from studio.engine.influencers import Persona, create_influencer
    influencer = create_influencer(studio, workspace_id, Persona(name="Bench", trigger_word="bench_v1"))
    dataset = create_dataset(studio, workspace_id, influencer.id, "Bench")
    start = time.perf_counter()  # once per app session: the forkserver and its workers start
    list(pool.map_ordered(range(4 * pool.cores()), lambda i: i, abs))
    pool_s = time.perf_counter() - start
    workers = pool.worker_ids()
    before = [scheduled(pid) for pid in workers]
    start, cpu = time.perf_counter(), time.process_time()
    report = import_paths(studio, dataset, paths)
    imported_s = time.perf_counter() - start
    parent_ms = (time.process_time() - cpu) / len(paths) * 1000  # this process's threads, no worker
    ran, waited = (sum(a[i] - b[i] for a, b in zip(map(scheduled, workers), before, strict=True))
                   for i in (0, 1))
    start = time.perf_counter()
    summary = analyze_dataset(studio, dataset)
    analysed_s = time.perf_counter() - start
    start = time.perf_counter()
    forced = analyze_dataset(studio, dataset, force=True)
    forced_s = time.perf_counter() - start
    return {"imported": report.imported, "import_s": imported_s, "analysis_s": analysed_s,
            "forced_s": forced_s, "forced": forced.analyzed, "pool_s": pool_s, "parent_ms": parent_ms,
            "workers": len(workers),
            "workers_ms": ran / len(paths) * 1000, "workers_ran": ran / (imported_s * max(len(workers), 1)),
            "workers_waited": waited / (imported_s * max(len(workers), 1)),
            "faces": sum(summary.faces[k] for k in ("one", "several")), "groups": summary.near_duplicate_groups}


def scheduled(pid: int) -> tuple[float, float]:
    """Seconds a process has run and has waited, runnable, for a CPU (Linux; zeros elsewhere)."""
    try:
        ran, waited = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(ran) / 1e9, int(waited) / 1e9


def bench_baselines(paths: list[Path], cache_dir: Path) -> dict[str, float]:
    """One core, in this process, on freshly written copies: a full 12 MP decode (what checking
    a file by decoding it whole costs), the studio's one pass without the pool, and a plain
    Pillow open + thumbnail."""
    import hashlib

    from studio.engine.datasets.ingest import IngestTask, ingest
    def full(path: Path) -> None:
        with Image.open(path) as image:
            image.load()

    def one_pass(path: Path) -> None:  # the worker's part: read the staged copy, one pass
        with path.open("rb") as handle:
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
        ingest(IngestTask(path, sha, cache_dir, ("JPEG",)))

    def plain(path: Path) -> None:
        with Image.open(path) as image:
            image.thumbnail((256, 256))

    rates = {}
    for name, one in (("full decode", full), ("one pass, no pool", one_pass), ("plain Pillow loop", plain)):
        start = time.perf_counter()
        for path in paths:
            one(path)
        rates[name] = len(paths) / (time.perf_counter() - start)
    return rates


def bench_stages(paths: list[Path], cache_dir: Path) -> dict[str, float]:
    """Where one file's pass spends its time, one core: ms per file for each stage."""
    import cv2
    import imagehash

    from studio.engine.datasets.analysis import exposure, sharpness
    from studio.engine.datasets.faces import detect_faces
    from studio.engine.media.thumbnails import decode_image, write_thumbnails
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # as in a worker
    spent = dict.fromkeys(("decode at 1/8", "thumbnails", "faces", "hash, blur, exposure"), 0.0)
    for index, path in enumerate(paths):
        clock = time.perf_counter()
        image = decode_image(path.read_bytes(), reduce_to=256).image
        spent["decode at 1/8"] += time.perf_counter() - clock
        clock = time.perf_counter()
        write_thumbnails(image, cache_dir, f"{index:064x}")
        spent["thumbnails"] += time.perf_counter() - clock
        grey_image = image.convert("L")
        grey = np.asarray(grey_image)
        clock = time.perf_counter()
        detect_faces(np.asarray(image.convert("RGB")))  # as analyze_decoded does
        spent["faces"] += time.perf_counter() - clock
        clock = time.perf_counter()
        imagehash.phash(grey_image), sharpness(grey), exposure(grey)  # as analyze_decoded does
        spent["hash, blur, exposure"] += time.perf_counter() - clock
    cv2.setNumThreads(threads)
    return {name: seconds / len(paths) * 1000 for name, seconds in spent.items()}



def bench_portrait_faces(repeats: int) -> tuple[float, int]:
    """Face detection on a real portrait (skimage's astronaut, a 12 MP JPEG) beside the
    synthetic photos' busy texture (the old Haar cascade's worst case); ms per call and faces
    found."""
    import cv2
    from skimage import data

    from studio.engine.datasets.faces import detect_faces
    from studio.engine.media.thumbnails import decode_image
    big = Image.fromarray(data.astronaut()).resize((HEIGHT, HEIGHT), Image.Resampling.BICUBIC)
    buffer = BytesIO()
    big.crop(((HEIGHT - WIDTH) // 2, 0, (HEIGHT + WIDTH) // 2, HEIGHT)).save(buffer, format="JPEG", quality=90)
    rgb = np.asarray(decode_image(buffer.getvalue(), reduce_to=256).image.convert("RGB"))
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    found = len(detect_faces(rgb))
    start = time.perf_counter()
    for _ in range(repeats):
        detect_faces(rgb)
    cv2.setNumThreads(threads)
    return (time.perf_counter() - start) / repeats * 1000, found

# (2) the thumbnail stage against plain Pillow ---------------------------------------------------

def bench_thumbnails(studio_paths: list[Path], plain_paths: list[Path], cache_dir: Path) -> dict[str, float]:
    """The studio's batch (every core, a few files in flight) against a plain one-core Pillow
    loop, in halves ordered plain, studio, studio, plain so that load drifting evens out."""
    from studio.engine.media.thumbnails import make_thumbnails_many
    half = len(studio_paths) // 2
    studio_s = plain_s = 0.0
    refused = 0
    first, second = slice(0, half), slice(half, None)
    for part, chunk in (("plain", first), ("studio", first), ("studio", second), ("plain", second)):
        start = time.perf_counter()
        if part == "studio":  # read, hash, decode at reduced size, write the 256 and 128 px thumbnails
            refused += sum(isinstance(o, str) for _, o in make_thumbnails_many(studio_paths[chunk], cache_dir))
            studio_s += time.perf_counter() - start
        else:
            for path in plain_paths[chunk]:
                with Image.open(path) as im:
                    im.thumbnail((256, 256))
            plain_s += time.perf_counter() - start
    return {"studio_s": studio_s, "plain_s": plain_s, "ratio": studio_s / plain_s, "refused": refused}


# Main --------------------------------------------------------------------------------------------

BASELINE_N = 24  # files each one-core baseline reads: enough for a steady rate, quick at 8/s


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def print_import(imported: dict[str, float], base: dict[str, float], base_n: int) -> None:
    from studio.engine.datasets.pool import cores
    n = imported["imported"]
    rate, after = n / imported["import_s"], n / imported["analysis_s"]
    both = n / (imported["import_s"] + imported["analysis_s"])
    target = TARGETS["import + analysis /s"]
    print(f"import              {rate:8.1f} images/s   ({n} in {imported['import_s']:.1f} s; one pass per file: "
          f"1/8 decode that checks it, thumbnails, analysis; {imported['workers']} worker processes, started "
          f"before timing in {imported['pool_s']:.1f} s, once per session)")
    print(f"  the importing process itself: {imported['parent_ms']:.1f} ms of CPU per file (read, hash, "
          "stage, send to a worker, keep, commit; on all its threads)")
    if imported["workers_ms"]:
        ran, waited = imported["workers_ran"], imported["workers_waited"]
        print(f"  the workers: {imported['workers_ms']:.1f} ms of CPU per file; each ran {ran:.0%} of the "
              f"import's time, waited for a CPU {waited:.0%} (other processes, this one), had no work "
              f"or waited on the disk {max(0.0, 1 - ran - waited):.0%}")
    print(f"analysis after it   {after:8.1f} images/s   ({imported['analysis_s']:.2f} s: near-duplicate groups, "
          f"crops; {imported['faces']} with faces, {imported['groups']} groups; no file read again)")
    print(f"import + analysis   {both:8.1f} images/s   target ≥ {target:.0f}/s  {verdict(both >= target)}")
    print(f"analysis, forced    {imported['forced'] / imported['forced_s']:8.1f} images/s   (every stored file "
          f"read and decoded at 1/8 again, {imported['workers']} processes on {cores()} cores)")
    print(f"baselines, one core, this process, first {base_n} files (fresh copies):")
    for name, value in base.items():
        print(f"  {name:17s} {value:8.1f} images/s")
    print(f"  import + analysis is {both / base['one pass, no pool']:.2f}× the one pass without the pool "
          f"and {both / base['full decode']:.1f}× a full decode")


def print_thumbnails(thumbs: dict[str, float], n: int) -> None:
    print(f"thumbnail stage     {thumbs['studio_s'] / n * 1000:8.1f} ms/image  (read, hash, reduced "
          f"decode, 256 + 128 px JPEGs; make_thumbnails_many on {os.cpu_count()} CPUs, {thumbs['refused']} refused)")
    print(f"plain Pillow loop   {thumbs['plain_s'] / n * 1000:8.1f} ms/image  (open + thumbnail 256, "
          "one core; halves interleaved plain, studio, studio, plain)")
    print(f"ratio               {thumbs['ratio']:8.2f}×         target ≤ {TARGETS['thumbnail ratio']}×  "
          f"{verdict(thumbs['ratio'] <= TARGETS['thumbnail ratio'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="photos of 3000×4000 to make (default 2000)")
    args = parser.parse_args()
    from studio.engine.core import Studio
    began = time.perf_counter()
    base_n = min(args.n, BASELINE_N)
    print(f"datasets benchmark: N={args.n} JPEGs {WIDTH}×{HEIGHT} q90, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="bench-datasets-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        photos = write_photos(args.n, root / "photos", ("import", "studio", "plain"))
        (root / "photos" / "base").mkdir()
        base_paths = [Path(shutil.copyfile(p, root / "photos" / "base" / p.name)) for p in photos["import"][:base_n]]
        size_mb = sum(p.stat().st_size for p in photos["plain"]) / 1e6
        print(f"made {args.n} photos ({size_mb / args.n:.1f} MB each) in {time.perf_counter() - start:.0f} s; "
              "cold = separate, freshly written copies per stage (the page cache is not dropped)")
        studio = Studio.open(root / "data")
        workspace = studio.workspace()
        try:
            imported = bench_import(studio, workspace.id, photos["import"])
            base = bench_baselines(base_paths, root / "base-cache")
            stages = bench_stages(base_paths, root / "stage-cache")
            portrait_ms, portrait_faces = bench_portrait_faces(base_n)
            thumbs = bench_thumbnails(photos["studio"], photos["plain"], root / "thumb-cache")
        finally:
            studio.close()
    print()
    print(f"== summary == (load average {os.getloadavg()[0]:.2f} at the end)")
    print_import(imported, base, base_n)
    print("  one file's pass by stage, one core: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in stages.items())
          + f" (the floor on {os.cpu_count()} cores: {(os.cpu_count() or 1) * 1000 / sum(stages.values()):.0f}/s)")
    real = sum(stages.values()) - stages["faces"] + portrait_ms
    print(f"  faces on a real portrait (skimage's astronaut as a 12 MP JPEG): {portrait_ms:.1f} ms, "
          f"{portrait_faces} found; with it in place of the synthetic photos' faces: "
          f"{(os.cpu_count() or 1) * 1000 / real:.0f}/s on {os.cpu_count()} cores")
    print_thumbnails(thumbs, args.n)
    print(f"run took {time.perf_counter() - began:.0f} s")
    from studio.engine.datasets import pool
    pool.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
